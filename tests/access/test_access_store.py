"""tokentop.store.access on real files: decoding, the summary's numbers, following, rotation.

Following is driven two ways, as for the events file source: deterministically with
``AccessLog.check()`` (what the watcher calls on every change) between writes, and
live with ``run()`` on a thread and watchfiles, waiting on the summary with a deadline.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tokentop.store.access import AccessLog, decode_line, is_cache_served
from tokentop.store.access.event import AccessEvent

T0 = 1_777_982_400_000  # 2026-05-05 12:00:00 UTC, in ms


def ev(i: int, *, path: str = "/github/a.go", outcome: str = "compressed",
       cache_source: str = "backend_rpc", integration: str = "github",
       original: int = 1000, compressed: int = 250, minute: int = 0,
       **extra: Any) -> dict[str, Any]:
    return {"event_id": f"e{i}", "ts": T0 + minute * 60_000 + i, "workspace_id": "w",
            "session_id": "s", "path": path, "cache_source": cache_source,
            "integration": integration, "source_uri": "github://x", "query_path": "/",
            "result_id": "r", "original_bytes": original * 4,
            "compressed_bytes": compressed * 4, "original_tokens": original,
            "compressed_tokens": compressed, "strategy": "auto", "outcome": outcome,
            "compression_ms": 5, **extra}


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\n"


def fixture_events() -> list[dict[str, Any]]:
    """Six reads whose summary is worked out by hand below."""
    return [
        ev(1, minute=0),                                           # backend, saves 750
        ev(2, minute=0, outcome="cache_hit", cache_source="content_cache",
           compressed=200),                                        # cache, saves 800
        ev(3, minute=1, path="/slack/x.md", integration="slack",
           cache_source="prefetch", original=400, compressed=100),  # cache, saves 300
        ev(4, minute=1, path="/slack/x.md", integration="slack", outcome="error",
           cache_source="", original=600, compressed=0,
           error_msg="boom"),                                      # backend, saves 0
        ev(5, minute=2, outcome="passthrough", original=100, compressed=100,
           cache_source="dirty_buffer"),                           # cache, saves 0
        ev(6, minute=2, outcome="cache_hit", cache_source="", original=500,
           compressed=50),                                         # cache (outcome), 450
    ]


def write(path: Path, events: list[dict[str, Any]], extra: bytes = b"") -> None:
    path.write_bytes(b"".join(line(e) for e in events) + extra)


def test_summary_numbers_by_hand(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p, fixture_events())
    log = AccessLog(p)
    snap = log.read_all()
    assert snap.reads == 6
    assert snap.cache_served_reads == 4 and snap.backend_reads == 2
    assert snap.original_tokens == 1000 + 1000 + 400 + 600 + 100 + 500
    # delivered: 250 + 200 + 100 + 600 (error: the original) + 100 + 50
    assert snap.compressed_tokens == 1300
    assert snap.tokens_saved == 3600 - 1300
    assert snap.ratio == pytest.approx(1300 / 3600)
    assert [(g.name, g.reads, g.tokens_saved) for g in snap.by_integration] == [
        ("github", 4, 750 + 800 + 0 + 450), ("slack", 2, 300)]
    assert {g.name: g.reads for g in snap.by_outcome} == {
        "compressed": 2, "cache_hit": 2, "error": 1, "passthrough": 1}
    assert {g.name: g.reads for g in snap.by_cache_source} == {
        "backend_rpc": 1, "content_cache": 1, "prefetch": 1, "(none)": 2, "dirty_buffer": 1}
    assert [(g.name, g.reads) for g in snap.top_paths] == [("/github/a.go", 4),
                                                           ("/slack/x.md", 2)]
    minute0 = T0 // 60_000
    assert [(p.minute - minute0, p.reads, p.tokens_saved) for p in snap.per_minute] == [
        (0, 2, 1550), (1, 2, 300), (2, 2, 450)]
    doc = log.document()
    assert doc["reads"] == 6 and doc["malformed"] == 0
    assert doc["first"] == "2026-05-05T12:00:00.001Z"
    assert doc["by_outcome"]["error"]["tokens_saved"] == 0  # type: ignore[index]
    assert log.stats.state == "ended"


def test_cache_served_rule() -> None:
    assert not is_cache_served("backend_rpc", "compressed")
    assert not is_cache_served("", "passthrough")  # the interceptor's own reads
    assert is_cache_served("", "cache_hit")
    for source in ("open_content", "content_cache", "prefetch", "dirty_buffer", "new_tier"):
        assert is_cache_served(source, "compressed")


def test_malformed_lines_are_counted_never_raised(tmp_path: Path) -> None:
    bad = [b"not json", b"[1,2]", b'{"path": "/no-ts"}', b'{"ts": "soon"}',
           b'{"ts": 1, "original_tokens": "many"}', b"\xff\xfe"]
    p = tmp_path / "access.jsonl"
    p.write_bytes(line(ev(1)) + b"\n".join(bad) + b"\n\n  \n" + line(ev(2)))
    log = AccessLog(p)
    snap = log.read_all()
    assert snap.reads == 2
    assert log.stats.malformed == len(bad)  # blank lines are not malformed
    assert log.stats.last_malformed is not None
    assert log.stats.last_malformed.startswith(f"{p}:7: ")
    for b in bad:
        assert isinstance(decode_line(b), str)


def test_unknown_fields_and_missing_optional_ones(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    p.write_bytes(b'{"ts": 5, "path": "/a", "brand_new": {"x": 1}}\n')
    snap = AccessLog(p).read_all()
    assert snap.reads == 1 and snap.backend_reads == 1 and snap.original_tokens == 0
    assert snap.ratio is None


def test_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    full = line(ev(2))
    p.write_bytes(line(ev(1)) + full[:30])
    log = AccessLog(p, follow=True)
    log.check()
    assert log.snapshot().reads == 1 and log.stats.malformed == 0
    with p.open("ab") as f:
        f.write(full[30:])
    log.check()
    assert log.snapshot().reads == 2 and log.stats.malformed == 0
    log._close()


class CountingLog(AccessLog):
    """Counts the lines handed to the summary: each line of the file exactly once."""

    lines_seen = 0

    def _publish(self, lines: list[bytes]) -> int:
        self.lines_seen += len(lines)
        return super()._publish(lines)


def test_appends_update_the_summary_without_rereading(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    events = fixture_events()
    write(p, events[:3])
    log = CountingLog(p, follow=True)
    log.check()
    first = log.snapshot()
    assert first.reads == 3 and log.lines_seen == 3
    with p.open("ab") as f:
        f.write(b"".join(line(e) for e in events[3:]))
    log.check()
    snap = log.snapshot()
    assert snap.reads == 6 and log.lines_seen == 6
    assert snap.version > first.version
    assert snap.tokens_saved == 2300  # the same as reading the whole file at once
    assert [e.event_id for e in log.recent(2)] == ["e5", "e6"]
    log._close()


def test_truncation_resets_the_summary(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p, fixture_events())
    log = AccessLog(p, follow=True)
    log.check()
    assert log.snapshot().reads == 6
    with p.open("r+b") as f:  # truncated in place (same inode), then new events
        f.truncate(0)
        f.write(line(ev(9, path="/new")))
    log.check()
    snap = log.snapshot()
    assert snap.reads == 1 and [g.name for g in snap.top_paths] == ["/new"]
    assert log.resets == 1
    assert [e.event_id for e in log.recent(10)] == ["e9"]
    log._close()


def test_rewritten_with_the_same_size_is_read_again(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p, [ev(1, path="/aaaa")])
    log = AccessLog(p, follow=True)
    log.check()
    with p.open("r+b") as f:  # same length, other first bytes
        f.write(line(ev(1, path="/bbbb")))
    with p.open("ab") as f:
        f.write(line(ev(2, path="/bbbb")))
    log.check()
    snap = log.snapshot()
    assert [(g.name, g.reads) for g in snap.top_paths] == [("/bbbb", 2)]
    log._close()


def test_rotation_finishes_the_old_file_and_keeps_counting(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    events = fixture_events()
    write(p, events[:2])
    log = AccessLog(p, follow=True)
    log.check()
    # The writer appends a last line without its newline, then the file is rotated.
    with p.open("ab") as f:
        f.write(line(events[2]).rstrip(b"\n"))
    os.rename(p, tmp_path / "access.jsonl.1")
    write(p, events[3:])
    log.check()
    snap = log.snapshot()
    assert snap.reads == 6 and log.resets == 0
    assert snap.tokens_saved == 2300
    log._close()


def test_live_follow_with_watchfiles(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    log = AccessLog(p, follow=True)
    stop = threading.Event()
    thread = threading.Thread(target=log.run, args=(stop,), daemon=True)
    thread.start()
    try:
        _wait(lambda: log.stats.state == "connecting")  # the file does not exist yet
        events = fixture_events()
        write(p, events[:1])
        _wait(lambda: log.snapshot().reads == 1)
        for e in events[1:]:
            with p.open("ab") as f:
                f.write(line(e))
        _wait(lambda: log.snapshot().reads == 6)
        assert log.snapshot().tokens_saved == 2300
        assert log.stats.state == "connected"
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_unreadable_file_fails_cleanly(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "missing.jsonl")
    snap = log.read_all()
    assert snap.reads == 0 and log.stats.state == "failed"
    assert log.stats.last_error is not None and "missing.jsonl" in log.stats.last_error


def test_delivered_tokens() -> None:
    e = AccessEvent(ts=1, outcome="timeout", original_tokens=900, compressed_tokens=0)
    assert e.delivered_tokens == 900 and e.tokens_saved == 0
    e = AccessEvent(ts=1, outcome="compressed", original_tokens=900, compressed_tokens=90)
    assert e.tokens_saved == 810


def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
