"""store/tail/follower on real files: the tail -F follower of one path and its hooks."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.tail.follower import FileFollower


@dataclass
class Status:
    state: str = "connecting"
    last_error: str | None = None


class Lines(FileFollower):
    def __init__(self, path: Path | str, **kw) -> None:
        super().__init__(path, Status(), **kw)
        self.lines: list[bytes] = []
        self.events: list[str] = []

    def _publish(self, lines: list[bytes]) -> int:
        self._lineno += len(lines)
        self.lines.extend(lines)
        return len(lines)

    def _rotated(self) -> None:
        self.events.append("rotated")

    def _rewritten(self) -> None:
        self.events.append("rewritten")


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def test_follows_appends_partial_lines_rotation_and_rewrites(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    src = Lines(f, follow=True)
    assert src.check() == 0 and src.status.state == "connecting"
    f.write_bytes(b"one\ntw")
    assert src.check() == 1 and src.status.state == "connected"
    append(f, b"o\n")
    assert src.check() == 1 and src.lines == [b"one", b"two"]
    os.rename(f, tmp_path / "a.1.jsonl")
    append(tmp_path / "a.1.jsonl", b"last")  # written before the writer reopened
    f.write_bytes(b"new\n")
    assert src.check() == 2
    assert src.lines[-2:] == [b"last", b"new"] and src.events == ["rotated"]
    f.write_bytes(b"NEW\n")  # rewritten, same size
    assert src.check() == 1 and src.lines[-1] == b"NEW" and src.events[-1] == "rewritten"
    with open(f, "r+b") as fh:
        fh.truncate(0)
    append(f, b"x\n")
    assert src.check() == 1 and src.lines[-1] == b"x" and src.events[-1] == "rewritten"
    src._close()


def test_read_once_ends_with_the_unterminated_line_or_fails_cleanly(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"one\ntwo")
    src = Lines(f)
    src.run(threading.Event())
    assert src.lines == [b"one", b"two"] and src.status.state == "ended"
    gone = Lines(tmp_path / "missing.jsonl")
    gone.run(threading.Event())
    assert gone.status.state == "failed" and "missing.jsonl" in (gone.status.last_error or "")


def test_stdin_is_read_to_eof(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.write(w, b"a\nb\nc")
    os.close(w)
    src = Lines("-", stdin=r)
    try:
        src.run(threading.Event())
    finally:
        os.close(r)
    assert src.lines == [b"a", b"b", b"c"] and src.status.state == "ended"
