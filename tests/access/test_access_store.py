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

from tokentop.store.access import (
    AccessLog,
    AccessPageFile,
    decode_line,
    is_cache_served,
    open_source,
)
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
    """GetSummary's arithmetic (beam-cloud/airstore pkg/api/v1/access_log.go) on the fixture:
    backend = cache_source "backend_rpc" only, compressed tokens a plain sum, an empty
    cache source bucketed as "unknown", top paths by original tokens with source_uri."""
    p = tmp_path / "access.jsonl"
    write(p, fixture_events())
    log = AccessLog(p)
    snap = log.read_all()
    assert snap.reads == 6
    assert snap.backend_reads == 1 and snap.cache_served_reads == 5
    assert snap.original_tokens == 1000 + 1000 + 400 + 600 + 100 + 500
    assert snap.compressed_tokens == 250 + 200 + 100 + 0 + 100 + 50  # airstore's plain sum
    assert snap.ratio == pytest.approx(700 / 3600)
    # tokentop's: delivered 250 + 200 + 100 + 600 (error: the original) + 100 + 50
    assert snap.delivered_tokens == 1300 and snap.tokens_saved == 2300
    assert [(g.name, g.reads, g.original_tokens, g.compressed_tokens)
            for g in snap.by_integration] == [("github", 4, 2600, 600), ("slack", 2, 1000, 100)]
    assert {g.name: g.reads for g in snap.by_outcome} == {
        "compressed": 2, "cache_hit": 2, "error": 1, "passthrough": 1}
    assert {g.name: g.reads for g in snap.by_cache_source} == {
        "backend_rpc": 1, "content_cache": 1, "prefetch": 1, "unknown": 2, "dirty_buffer": 1}
    assert [(p.path, p.source_uri, p.events, p.total_tokens) for p in snap.top_paths] == [
        ("/github/a.go", "github://x", 4, 2600), ("/slack/x.md", "github://x", 2, 1000)]
    minute0 = T0 // 60_000
    assert [(p.minute - minute0, p.reads, p.tokens_saved) for p in snap.per_minute] == [
        (0, 2, 1550), (1, 2, 300), (2, 2, 450)]
    doc = log.document()
    assert doc["total_reads"] == 6 and doc["malformed"] == 0
    assert doc["total_compressed_tokens"] == 700
    assert doc["compression_ratio"] == round(700 / 3600, 6)
    assert doc["by_outcome"] == {"compressed": 2, "cache_hit": 2, "error": 1, "passthrough": 1}
    assert doc["by_integration"] == {
        "github": {"events": 4, "original_tokens": 2600, "compressed_tokens": 600},
        "slack": {"events": 2, "original_tokens": 1000, "compressed_tokens": 100}}
    assert doc["top_paths"] == [  # type: ignore[comparison-overlap]
        {"path": "/github/a.go", "source_uri": "github://x", "events": 4, "total_tokens": 2600},
        {"path": "/slack/x.md", "source_uri": "github://x", "events": 2, "total_tokens": 1000}]
    assert doc["tokentop_delivered_tokens"] == 1300 and doc["tokentop_tokens_saved"] == 2300
    assert doc["first"] == "2026-05-05T12:00:00.001Z"
    assert log.stats.state == "ended"


def test_empty_integration_outcome_and_path_are_not_bucketed(tmp_path: Path) -> None:
    """GetSummary skips an empty integration, outcome or path; the interceptor's events
    (pkg/instrumentation/access_interceptor.go) carry no integration nor cache source."""
    p = tmp_path / "access.jsonl"
    write(p, [ev(1), ev(2, integration="", outcome="", cache_source="", path="")])
    snap = AccessLog(p).read_all()
    assert snap.reads == 2
    assert [g.name for g in snap.by_integration] == ["github"]
    assert [g.name for g in snap.by_outcome] == ["compressed"]
    assert {g.name: g.reads for g in snap.by_cache_source} == {"backend_rpc": 1, "unknown": 1}
    assert [p.path for p in snap.top_paths] == ["/github/a.go"] and snap.paths == 1


def test_top_paths_are_the_twenty_with_most_original_tokens(tmp_path: Path) -> None:
    """Sorted by total original tokens, not by reads; at most 20 (GetSummary's cut); the
    source_uri is the first read's."""
    events = [ev(i, path=f"/p{i:02d}", original=100 + i, source_uri=f"github://{i}")
              for i in range(25)]
    events += [ev(100 + i, path="/p00", original=0, source_uri="github://later")
               for i in range(10)]  # the most reads, the fewest tokens
    p = tmp_path / "access.jsonl"
    write(p, events)
    snap = AccessLog(p).read_all()
    assert len(snap.top_paths) == 20 and snap.paths == 25
    assert [t.path for t in snap.top_paths[:3]] == ["/p24", "/p23", "/p22"]
    assert "/p00" not in [t.path for t in snap.top_paths]
    assert snap.top_paths[0].source_uri == "github://24"
    small = AccessLog(p)
    small.read_all()
    assert [t["path"] for t in small.document(top=2)["top_paths"]] == [  # type: ignore[attr-defined]
        "/p24", "/p23"]


def test_what_get_summary_ignores_is_kept(tmp_path: Path) -> None:
    """Latency, fetch and compression times (0 = not recorded: airstore omits them),
    strategies, errors with their messages, sessions (empty = the workspace, as
    accessEventInScope defaults it) and mount (access_origin "fuse") vs gateway."""
    events = [
        ev(1, latency_ms=10, fetch_ms=200, compression_ms=40, strategy="summarize",
           access_origin="fuse", session_id="s1"),
        ev(2, latency_ms=30, compression_ms=0, strategy="auto", session_id="s1",
           access_origin="fuse"),
        ev(3, outcome="timeout", error_msg="compression timed out after 2000ms",
           strategy="auto", session_id="", compression_ms=2000),
        ev(4, outcome="error", error_msg="upstream 502", session_id="s2", path="/x"),
        ev(5, outcome="error", error_msg="upstream 502", session_id="s2", path="/y"),
        ev(6, outcome="error", session_id="s2"),
    ]
    p = tmp_path / "access.jsonl"
    write(p, events)
    log = AccessLog(p)
    snap = log.read_all()
    lat, fetch, comp = (snap.timing(n) for n in ("latency_ms", "fetch_ms", "compression_ms"))
    assert (lat.count, lat.mean, lat.max) == (2, 20.0, 30)
    assert (fetch.count, fetch.mean, fetch.max) == (1, 200.0, 200)
    # ev() gives compression_ms=5 by default: 40, 5 (ev 4), 5, 5, 2000; ev 2 gives 0
    assert (comp.count, comp.max) == (5, 2000)
    assert {g.name: g.reads for g in snap.by_strategy} == {"auto": 5, "summarize": 1}
    assert {g.name: g.reads for g in snap.by_origin} == {"mount": 2, "gateway": 4}
    assert {g.name: g.reads for g in snap.sessions} == {"s1": 2, "w": 1, "s2": 3}
    assert snap.failed_reads == 4
    assert [(e.outcome, e.message, e.count, e.last_path) for e in snap.errors] == [
        ("error", "upstream 502", 2, "/y"), ("error", "", 1, "/github/a.go"),
        ("timeout", "compression timed out after 2000ms", 1, "/github/a.go")]
    doc = log.document()
    assert doc["timings"]["latency_ms"] == {"count": 2, "mean": 20.0, "max": 30}  # type: ignore[index]
    assert doc["by_origin"]["mount"]["events"] == 2  # type: ignore[index]
    assert doc["errors"][0]["message"] == "upstream 502"  # type: ignore[index]
    assert doc["sessions"]["s2"]["events"] == 3  # type: ignore[index]


def test_duplicates_are_skipped_on_event_id(tmp_path: Path) -> None:
    """A batch re-sent (airstore's AccessService dedupes on event_id with Redis: its
    access_test.go) counts once; events without an id (the interceptor's) all count."""
    events = fixture_events()
    no_id = {k: v for k, v in ev(50).items() if k != "event_id"}
    p = tmp_path / "access.jsonl"
    write(p, events + events[:3] + [no_id, no_id])
    log = AccessLog(p)
    snap = log.read_all()
    assert snap.reads == 8 and snap.duplicates == 3
    assert snap.original_tokens == 3600 + 2000
    assert log.stats.duplicates == 3 and log.document()["duplicates"] == 3
    assert [e.event_id for e in log.recent(3)] == ["e6", "", ""]


def test_a_saved_api_page_is_read_as_a_file(tmp_path: Path) -> None:
    """``curl .../access-log`` output: on one line (a JSONL line of its own, several
    pages appended) or indented by echo's ?pretty (one document)."""
    events = fixture_events()

    def page(reads: list[dict[str, Any]], cursor: str) -> dict[str, Any]:
        return {"success": True, "data": {"reads": reads, "next_cursor": cursor,
                                          "has_more": False}}

    one_line = tmp_path / "pages.jsonl"
    one_line.write_text(json.dumps(page(events[:4], "4")) + "\n"
                        + json.dumps(page(events[4:], "6")) + "\n"
                        + json.dumps(page(events[4:], "6")) + "\n")  # saved twice
    snap = AccessLog(one_line).read_all()
    assert snap.reads == 6 and snap.duplicates == 2 and snap.tokens_saved == 2300
    pretty = tmp_path / "page.json"
    pretty.write_text(json.dumps(page(events, "6"), indent=2))
    reader = open_source(str(pretty))
    assert isinstance(reader, AccessPageFile)
    reader.read_all()
    assert reader.snapshot().reads == 6 and reader.stats.state == "ended"
    broken = tmp_path / "error.json"
    broken.write_text(json.dumps({"success": False, "error": "invalid token"}, indent=2))
    reader = open_source(str(broken))
    assert isinstance(reader, AccessPageFile)
    reader.read_all()
    assert reader.stats.state == "failed" and "invalid token" in (reader.stats.last_error or "")


def test_cache_served_rule() -> None:
    """GetSummary: BackendReads counts cache_source == "backend_rpc"; the rest is
    cache-served, an empty source (the interceptor's) included."""
    assert not is_cache_served("backend_rpc")
    for source in ("", "open_content", "content_cache", "prefetch", "dirty_buffer", "new"):
        assert is_cache_served(source)


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
    assert snap.reads == 1 and snap.backend_reads == 0 and snap.original_tokens == 0
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
    assert snap.reads == 1 and [g.path for g in snap.top_paths] == ["/new"]
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
    assert [(g.path, g.events) for g in snap.top_paths] == [("/bbbb", 2)]
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
