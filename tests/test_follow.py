"""Following metrics files live: every byte read once through appends, rotation, wipe."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from metrics_files import append, metrics_line, rotate, server_dir, write

from tokentop.store.metrics import MetricsSource
from tokentop.store.metrics.source import MetricsSource as _Source
from tokentop.store.tail.family import Rotation

SERVER = "stack-a/github"


def line(minute: int, inp: int) -> str:
    return metrics_line(f"2026-05-05T12:{minute:02d}:00Z", diff=(inp, 0), total=(inp, 0))


def tokens(src: MetricsSource, server: str | None = SERVER) -> int:
    ring = src.ring
    head = ring.head or 0
    return sum(p.input_tokens for p in ring.buckets(server, head - 10_000, head))


@pytest.fixture
def active(tmp_path: Path) -> Path:
    d = server_dir(tmp_path)
    return write(d / "metrics.jsonl", [line(0, 1)])


@pytest.fixture
def src(tmp_path: Path, active: Path) -> MetricsSource:
    s = MetricsSource(tmp_path)
    s.replay()
    assert tokens(s) == 1
    return s


def test_append_is_read_once(src: MetricsSource, active: Path) -> None:
    append(active, line(1, 10) + "\n")
    assert src.rescan() == 1
    assert src.rescan() == 0
    assert tokens(src) == 11


def test_partial_line_waits_for_its_newline(src: MetricsSource, active: Path) -> None:
    text = line(1, 10) + "\n"
    append(active, text[:25])
    assert src.rescan() == 0
    assert tokens(src) == 1
    append(active, text[25:])
    assert src.rescan() == 1
    assert tokens(src) == 11
    assert src.state.stats.malformed == 0


def test_rotation_finishes_old_file_before_new(src: MetricsSource, active: Path) -> None:
    append(active, line(1, 10) + "\n")  # written but not yet read when rotation happens
    rotate(active, "2026-05-05T12-02-00.000")
    write(active, [line(2, 100)])
    src.rescan()
    assert tokens(src) == 111
    # lumberjack then compresses the rotated file: same bytes, already consumed
    rotated = active.with_name("metrics-2026-05-05T12-02-00.000.jsonl")
    rotated.unlink()
    rotate_src = active.with_name("metrics-2026-05-05T12-02-00.000.jsonl.gz")
    import gzip

    rotate_src.write_bytes(gzip.compress((line(0, 1) + "\n" + line(1, 10) + "\n").encode()))
    assert src.rescan() == 0
    assert tokens(src) == 111
    assert src.state.totals[SERVER].tokens.input_tokens == 100


def test_rotation_already_compressed_is_resumed_inside_the_gz(
    src: MetricsSource, active: Path
) -> None:
    append(active, line(1, 10) + "\n" + line(2, 20) + "\n")
    rotate(active, "2026-05-05T12-03-00.000", compress=True)
    write(active, [line(3, 300)])
    src.rescan()
    assert tokens(src) == 331  # 1 once, 10 and 20 from the gz tail, 300 from the new file


def test_several_rotations_between_scans(src: MetricsSource, active: Path) -> None:
    append(active, line(1, 10) + "\n")
    rotate(active, "2026-05-05T12-02-00.000", compress=True)
    write(active, [line(2, 100)])
    rotate(active, "2026-05-05T12-03-00.000")
    write(active, [line(3, 1000)])
    src.rescan()
    assert tokens(src) == 1111


def test_truncation_reads_from_start(src: MetricsSource, active: Path) -> None:
    append(active, line(1, 10) + "\n")
    src.rescan()
    with open(active, "w") as fh:  # truncated in place (same inode)
        fh.write(line(5, 7) + "\n")
    src.rescan()
    assert tokens(src) == 18
    assert src.state.stats.truncations == 1


def test_replaced_in_place_with_more_bytes_is_noticed(src: MetricsSource, active: Path) -> None:
    # Truncated and refilled past the old offset before we looked: the head differs.
    ino = os.stat(active).st_ino
    with open(active, "w") as fh:
        fh.write(line(7, 5) + "\n" + line(8, 6) + "\n")
    assert os.stat(active).st_ino == ino
    src.rescan()
    assert tokens(src) == 12


def test_wipe_then_recreate(src: MetricsSource, active: Path) -> None:
    active.unlink()
    assert src.rescan() == 0
    write(active, [line(9, 50)])
    assert src.rescan() == 1
    assert tokens(src) == 51


def test_vanished_rotation_is_skipped_or_falls_back_to_gz(
    src: MetricsSource, tmp_path: Path
) -> None:
    tail = src.tails[SERVER]
    gone = tmp_path / "stack-a" / "github" / "metrics-2026-05-05T12-09-00.000.jsonl"
    assert tail._read_finished(Rotation("x", plain=gone), 0, None) == 0
    gz = write(gone.with_suffix(".tmp"), [line(4, 40)])
    import gzip

    gz_path = Path(str(gone) + ".gz")
    gz_path.write_bytes(gzip.compress(gz.read_bytes()))
    assert tail._read_finished(Rotation("x", plain=gone, gz=gz_path), 0, None) == 1
    assert tokens(src) == 41


def test_new_servers_and_stacks_appear(src: MetricsSource, tmp_path: Path) -> None:
    d = server_dir(tmp_path, "stack-new", "slack")
    write(d / "metrics.jsonl", [line(3, 5)])
    src.rescan()
    assert "stack-new/slack" in src.ring.servers()
    assert tokens(src, "stack-new/slack") == 5


def test_missing_root_is_not_an_error(tmp_path: Path) -> None:
    s = _Source(tmp_path / "nope")
    assert s.replay() == 0
    assert s.ring.servers() == []
    (tmp_path / "nope").mkdir()
    write(server_dir(tmp_path / "nope") / "metrics.jsonl", [line(0, 3)])
    s.rescan()
    assert tokens(s) == 3


class Following:
    """Run ``follow`` in a thread; let tests wait on a condition it makes true."""

    def __init__(self, src: MetricsSource, poll: bool) -> None:
        self.src = src
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.thread = threading.Thread(
            target=src.follow, args=(self.stop,), kwargs={"poll": poll, "on_change": self._on},
            daemon=True,
        )

    def _on(self, _n: int) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


@pytest.fixture(params=[False, True], ids=["events", "polling"])
def following(request: pytest.FixtureRequest, src: MetricsSource) -> Iterator[Following]:
    f = Following(src, poll=request.param)
    f.thread.start()
    yield f
    f.stop.set()
    f.thread.join(timeout=10)
    assert not f.thread.is_alive()


def test_follow_picks_up_appends_rotation_and_new_servers(
    following: Following, src: MetricsSource, active: Path, tmp_path: Path
) -> None:
    append(active, line(1, 10) + "\n")
    assert following.wait_for(lambda: tokens(src) == 11)
    rotate(active, "2026-05-05T12-05-00.000", compress=True)
    write(active, [line(5, 100)])
    assert following.wait_for(lambda: tokens(src) == 111)
    d = server_dir(tmp_path, "stack-z", "linear")
    write(d / "metrics.jsonl", [line(6, 7)])
    assert following.wait_for(lambda: tokens(src, "stack-z/linear") == 7)
    assert tokens(src) == 111


def test_replay_stops_when_asked(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [line(i % 60, 1) for i in range(50_000)])
    s = MetricsSource(tmp_path)
    stop = threading.Event()
    stop.set()
    s.replay(stop)
    assert s.state.stats.lines == 0
    assert not s.progress.replayed and not s.progress.replaying


def test_follow_tool_only_line_is_no_activity(
    following: Following, src: MetricsSource, active: Path
) -> None:
    """gridctl writes a zero-diff line when only ``tool_usage`` changed (flushOnce's
    ``toolChanged``, pkg/telemetry/metrics.go); followed live it updates the tools and
    adds no point, as SeedFromFile skips it."""
    head, version = src.ring.head, src.ring.version
    tool_only = metrics_line("2026-05-05T12:09:00.5Z", diff=(0, 0), total=(1, 0),
                             tool_usage={"create_issue": {
                                 "calls": 1, "last_called_at": "2026-05-05T12:09:00.5Z"}})
    append(active, tool_only + "\n")
    assert following.wait_for(lambda: "stack-a/github" in src.tools_snapshot())
    assert src.tools_snapshot()["stack-a/github"]["create_issue"].calls == 1
    assert (src.ring.head, src.ring.version, tokens(src)) == (head, version, 1)


def test_a_line_written_while_the_watch_is_being_set_up_is_read(
    tmp_path: Path, active: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``follow`` rescans, then sets up its watcher: a line appended in between shows in
    no event. It is read on the watcher's first wake-up (within a second), not at the
    next full rescan (the safety net, made a minute here so only the fix can pass)."""
    from tokentop.store.metrics import source as source_mod

    monkeypatch.setattr(source_mod, "FULL_RESCAN_S", 60.0)
    s = MetricsSource(tmp_path)
    s.replay()
    real = s.rescan
    calls = 0

    def rescan_then_append(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        n = real(*args, **kwargs)
        calls += 1
        if calls == 1:  # the rescan before the watch: the append lands in the gap
            append(active, line(1, 10) + "\n")
        return n

    monkeypatch.setattr(s, "rescan", rescan_then_append)
    f = Following(s, poll=False)
    f.thread.start()
    try:
        assert f.wait_for(lambda: tokens(s) == 11, timeout=20.0)
    finally:
        f.stop.set()
        f.thread.join(timeout=10)
