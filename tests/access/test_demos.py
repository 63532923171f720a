"""The demo's airstore log and gateway store: real files, deterministic, live, removed."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tokentop.tui.demo.access as access_demo
import tokentop.tui.demo.traces as traces_demo
from tokentop.store.access import AccessLog
from tokentop.tui.demo.access import build_demo_access, sample_lines
from tokentop.tui.demo.traces import build_demo_traces

NOW = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)

GATEWAY_COLUMNS = [  # DESIGN 2.5, in the gateway's order (gateway_key_id added by 002)
    "id", "trace_group_id", "org_id", "workspace_id", "timestamp", "provider", "model",
    "request_method", "request_path", "request_headers", "request_body", "response_status",
    "response_headers", "response_body", "input_tokens", "output_tokens", "total_tokens",
    "latency_ms", "time_to_first_token_ms", "time_to_first_token_us", "api_key_hash",
    "estimated_cost_usd", "metadata", "created_at", "gateway_key_id"]
GATEWAY_INDEXES = {
    "idx_traces_timestamp": ["timestamp"], "idx_traces_provider": ["provider"],
    "idx_traces_model": ["model"], "idx_traces_api_key_hash": ["api_key_hash"],
    "idx_traces_org_workspace_created_at_id": ["org_id", "workspace_id", "created_at", "id"],
    "idx_traces_org_workspace_timestamp": ["org_id", "workspace_id", "timestamp"],
    "idx_traces_created_at_id": ["created_at", "id"],
    "idx_traces_provider_created_at_id": ["provider", "created_at", "id"],
    "idx_traces_model_created_at_id": ["model", "created_at", "id"],
    "idx_traces_api_key_hash_created_at_id": ["api_key_hash", "created_at", "id"],
    "idx_traces_response_status_created_at_id": ["response_status", "created_at", "id"],
    "idx_traces_provider_timestamp": ["provider", "timestamp"],
    "idx_traces_model_timestamp": ["model", "timestamp"],
    "idx_traces_api_key_hash_timestamp": ["api_key_hash", "timestamp"],
    "idx_traces_response_status_timestamp": ["response_status", "timestamp"],
    "idx_traces_gateway_key_id": ["gateway_key_id"],
    "idx_traces_org_workspace_gateway_key_timestamp": ["org_id", "workspace_id",
                                                       "gateway_key_id", "timestamp"],
}


def wait(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_access_sample_is_deterministic_and_readable(tmp_path: Path) -> None:
    lines = sample_lines(NOW.timestamp(), 7)
    assert lines == sample_lines(NOW.timestamp(), 7)
    assert lines != sample_lines(NOW.timestamp(), 8)
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(lines) + "\n")
    log = AccessLog(p)
    snap = log.read_all()
    assert log.stats.malformed == 1  # the one torn line, on purpose
    assert snap.duplicates == 1  # one event re-sent, on purpose: counted once
    assert snap.reads == len(lines) - 2 > 500
    assert {g.name for g in snap.by_origin} == {"mount", "gateway"}
    assert snap.failed_reads > 0 and all(e.message for e in snap.errors)
    outcomes = {g.name for g in snap.by_outcome}
    assert outcomes == {"compressed", "cache_hit", "passthrough", "skipped", "timeout", "error"}
    assert 0 < snap.cache_served_reads < snap.reads and 0.05 < (snap.ratio or 0) < 0.6
    assert snap.last_ts is not None and snap.last_ts <= NOW.timestamp() * 1000


def test_access_demo_appends_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_demo, "LIVE_RATE", 1200)  # the thread, not the pace
    demo = build_demo_access(seed=7)
    root = demo.path.parent
    try:
        demo.start()
        size = demo.path.stat().st_size
        assert size > 0
        wait(lambda: demo.path.stat().st_size > size)
    finally:
        demo.stop()
    assert not root.exists()


def _schema(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(traces)")]
        idx = {name: [r[2] for r in conn.execute(f"PRAGMA index_info({name})")]
               for (name,) in conn.execute(
                   "SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'idx_%'")}
        return cols, idx
    finally:
        conn.close()


def test_traces_demo_has_the_gateway_schema_and_realistic_rows(tmp_path: Path) -> None:
    demo = build_demo_traces(seed=7, now=NOW, root=tmp_path / "gw")
    cols, idx = _schema(demo.path)
    assert cols == GATEWAY_COLUMNS
    assert idx == GATEWAY_INDEXES
    conn = sqlite3.connect(demo.path)
    try:
        n, providers, errors, nulls, first, last = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT provider), SUM(response_status >= 400), "
            "SUM(latency_ms IS NULL), MIN(timestamp), MAX(timestamp) FROM traces").fetchone()
        assert n == 3000 and providers == 3 and 50 < errors < 400 and nulls > 0
        assert first.startswith("2026-05-02") and last.endswith(" +0000 UTC")  # Go time.String
        assert conn.execute("SELECT COUNT(DISTINCT gateway_key_id) FROM traces").fetchone()[0] == 4
        assert conn.execute("SELECT COUNT(*) FROM traces WHERE response_status >= 500"
                            ).fetchone()[0] > 0
        headers = [json.loads(h) for (h,) in conn.execute(
            "SELECT request_headers FROM traces LIMIT 200")]
        names = {k.lower() for h in headers for k in h}
        assert {"authorization", "x-api-key", "api-key", "cookie"} <= names
        body = json.loads(conn.execute("SELECT response_body FROM traces WHERE "
                                       "response_status = 200 LIMIT 1").fetchone()[0])
        assert body
    finally:
        conn.close()
    doc = json.loads(demo.diagnostics_path.read_text())
    assert doc["schema_version"] == "trace-pipeline-diagnostics.v1"
    assert doc["diagnostics"]["queue_capacity"] == 1000
    assert doc["diagnostics"]["queue_pressure_state"] in ("ok", "elevated", "high", "saturated")
    again = build_demo_traces(seed=7, now=NOW, root=tmp_path / "gw2")
    rows = [sqlite3.connect(p).execute("SELECT * FROM traces ORDER BY id").fetchall()
            for p in (demo.path, again.path)]
    assert rows[0] == rows[1]
    demo.stop()
    again.stop()


def test_traces_demo_inserts_live_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(traces_demo, "live_rate", lambda *_: 600.0)  # the thread, not the pace
    demo = build_demo_traces(seed=7, count=50)
    root = demo.path.parent
    try:
        demo.start()

        def count() -> int:
            conn = sqlite3.connect(demo.path)
            try:
                return int(conn.execute("SELECT COUNT(*) FROM traces").fetchone()[0])
            finally:
                conn.close()

        wait(lambda: count() > 50)
        assert json.loads(demo.diagnostics_path.read_text())["diagnostics"][
            "enqueue_accepted_total"] >= 50
    finally:
        demo.stop()
    assert not root.exists()
