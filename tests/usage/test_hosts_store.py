"""Schema 8: the host an event was read on (``tokentop_host``), the index the Usage
screen reads it through, and a store of schema 7 read before and after migrating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokentop.store.usage import schema
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.read import host_rows, read_usage
from tokentop.store.usage.reports import ReportOptions, hosts

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def message(mid: str, host: str | None, tokens: int) -> IngestRequest:
    return IngestRequest(source_system="claude_code", source_channel="jsonl",
                         occurred_at=NOW - timedelta(minutes=10), message_id=mid,
                         session_id="s1", agent_name="claude_code", provider_id="anthropic",
                         model_raw="claude-sonnet-4-5", input_tokens=tokens, output_tokens=0,
                         cost_usd=0.1, host=host)


def by_host(conn) -> dict[str, int]:
    return {r["host"]: r["inputTokens"] for r in hosts(conn, ReportOptions(now=NOW))["hosts"]}


def test_events_keep_their_host_and_reports_and_the_screen_break_down_by_it(tmp_path):
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([message("a", None, 100), message("b", "u@gpu1", 20),
                      message("c", "gpu2", 3)])
        assert by_host(store.conn) == {"local": 100, "u@gpu1": 20, "gpu2": 3}
        view = read_usage(store.conn, "1d", NOW)
        rows = {r.key: r.sums.input for r in view.breakdowns["host"]}
        assert rows == {"local": 100, "u@gpu1": 20, "gpu2": 3}
        # the remote events are found through the partial index, not a scan
        plan = " ".join(str(r) for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM usage_events"
            " WHERE tokentop_host IS NOT NULL AND occurred_at >= '2026'"))
        assert schema.HOST_INDEX in plan


def test_one_host_has_no_host_breakdown(tmp_path):
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([message("a", None, 100)])
        assert "host" not in read_usage(store.conn, "1d", NOW).breakdowns
        assert host_rows(store.conn, None, NOW, read_usage(store.conn, "1d", NOW).totals) == []


def test_a_schema_7_store_is_read_then_migrated(tmp_path: Path):
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as store:
        store.ingest([message("a", None, 100)])
        conn = store.conn
        conn.execute(f"DROP INDEX {schema.HOST_INDEX}")
        conn.execute("ALTER TABLE usage_events DROP COLUMN tokentop_host")
        conn.execute("DELETE FROM tokentop_migrations WHERE version >= 8")
    with UsageStore.open(path, read_only=True) as ro:  # no migration while read-only
        assert schema.version(ro.conn) == 7
        assert by_host(ro.conn) == {"local": 100}
        assert "host" not in read_usage(ro.conn, "1d", NOW).breakdowns
    with UsageStore.open(path) as store:
        conn = store.conn
        assert schema.version(conn) == schema.SCHEMA_VERSION == 9
        assert conn.execute("SELECT tokentop_host FROM usage_events").fetchall() == [(None,)]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert schema.HOST_INDEX in names
        store.ingest([message("b", "gpu1", 5)])
        assert by_host(conn) == {"local": 100, "gpu1": 5}
