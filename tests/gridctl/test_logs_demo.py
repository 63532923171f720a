"""The demo's logs.jsonl and traces.jsonl: gridctl's shapes, readable, deterministic, live."""

from __future__ import annotations

import json
from pathlib import Path

from tokentop.store.gridctl.follow import SignalFollower
from tokentop.store.gridctl.logs import parse_lines as parse_logs
from tokentop.store.gridctl.spans import group_traces, waterfall
from tokentop.store.gridctl.spans import parse_lines as parse_spans
from tokentop.tui.demo import build_demo
from tokentop.tui.demo.gridlogs import go_local_time, local_offset_min
from tokentop.tui.demo.live import LiveWriter

NOW = 1_777_995_000.0  # 2026-05-05T15:30:00Z
NS = 1_000_000_000


def test_demo_logs_and_traces_parse_cleanly(tmp_path: Path) -> None:
    tree = build_demo(tmp_path / "t", now=NOW, seed=7)
    try:
        logs = SignalFollower(tree.root, "logs", parse_logs)
        records = logs.load()
        assert len(records) > 1000 and logs.stats.malformed == 0
        assert {r.badge for r in records} == {"DEBUG", "INFO", "WARN", "ERROR"}
        assert len({r.server for r in records}) == 9
        # staging runs the old gateway: ``server`` instead of ``component``
        staging = next(r for r in records if r.server.startswith("staging/"))
        assert "server" in staging.attrs and "component" not in staging.attrs
        assert all(r.ts[-6] in "+-" or r.ts.endswith("Z") for r in records)
        assert any(isinstance(r.duration_ns, int) for r in records)

        traces = SignalFollower(tree.root, "traces", parse_spans)
        spans = traces.load()
        assert traces.stats.malformed == 0 and len(spans) > 1000
        assert {s.server.split("/")[0] for s in spans} == {"prod"}  # staging exports none
        # gridctl's three spans per call (pkg/mcp/gateway.go): root, routing, client call
        calls = [s for s in spans if s.name == "mcp.client.call_tool"]
        assert len(calls) * 3 == len(spans) and all(s.tool for s in spans)
        ok = [s for s in calls if not s.is_error]
        assert all(s.client and s.tokens.get("input_tokens", 0) > 0 for s in ok)
        failed = [s for s in calls if s.is_error]
        assert failed and all(
            "mcp.tool.name" not in s.attrs and s.tool and s.status_message
            and [e.name for e in s.events] == ["exception"] for s in failed)
        assert all(s.tool == s.attrs["tool.name"].split("__", 1)[1]
                   for s in spans if s.name == "mcp.routing")
        # every log line that names a trace points at a trace on disk (prod servers)
        ids = {s.trace_id for s in spans}
        linked = [r.trace_id for r in records if r.trace_id and r.server.startswith("prod/")]
        assert linked and all(t in ids for t in linked[-200:])
        trace = next(iter(group_traces(spans).values()))
        rows = list(waterfall(trace.spans))
        assert rows[0].depth == 0 and max(r.depth for r in rows) >= 1
        # prod/github's logs and traces were rotated once (gzipped backups)
        gh = tree.root / "prod" / "github"
        assert list(gh.glob("logs-*.jsonl.gz")) and list(gh.glob("traces-*.jsonl.gz"))
        # a line may hold several resourceSpans (one batch split in two)
        text = (gh / "traces.jsonl").read_text()
        assert any(len(json.loads(line)["resourceSpans"]) > 1 for line in text.splitlines())
    finally:
        tree.stop()


def test_live_writer_appends_logs_and_traces(tmp_path: Path) -> None:
    tree = build_demo(tmp_path / "t", now=NOW, seed=7, history_minutes=60)
    try:
        logs = SignalFollower(tree.root, "logs", parse_logs)
        traces = SignalFollower(tree.root, "traces", parse_spans)
        logs.load()
        traces.load()
        live = LiveWriter(tree.writer, tree.servers, seed=3)
        new_logs, new_spans = [], []
        for i in range(40):
            live.tick(int((NOW + i + 1) * NS))
            new_logs += logs.rescan()
            new_spans += traces.rescan()
        assert new_logs and new_spans
        assert logs.stats.malformed == 0 and traces.stats.malformed == 0
        # A live call is logged when it ends, having started up to 1.5 s before the
        # tick (``live_tick``); the first tick is at NOW + 1 s.
        assert all(r.ns >= NOW * NS + NS - 1_500_000_000 for r in new_logs)
    finally:
        tree.stop()


def test_offsets_are_real_zones() -> None:
    assert local_offset_min(3 * 3600 + 29 * 60) == 210
    assert local_offset_min(86400 - 3600) == -60
    assert go_local_time(1_777_982_460 * NS + 482_130_000, 120) == \
        "2026-05-05T14:01:00.48213+02:00"
    assert go_local_time(1_777_982_460 * NS, 0) == "2026-05-05T12:01:00Z"
    assert go_local_time(1_777_982_460 * NS, -270) == "2026-05-05T07:31:00-04:30"
