"""The hourly rollup kept by ingest, the v1 -> v2 migration, and durable quota snapshots.

The rollup is only useful if it always equals what the events say: every test here
compares the rollup ingest maintained with one recomputed from ``usage_events``.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import read, retention, rollup, schema
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "mystery", None)


def table(conn: sqlite3.Connection) -> list[tuple]:
    """Every rollup grain, floats rounded (sums in another order differ in the last bit)."""
    out: list[tuple] = []
    for name in rollup.TABLES:
        out.append((name,))
        for r in conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2, 3, 4"):
            out.append(tuple(round(v, 9) if isinstance(v, float) else v for v in r))
    return sorted(out, key=repr)


def rebuilt(conn: sqlite3.Connection) -> list[tuple]:
    """The rollup recomputed from the events, in a throwaway copy of the table."""
    conn.execute("SAVEPOINT check_rollup")
    try:
        rollup.rebuild(conn, PriceTable.load().tier_threshold)
        return table(conn)
    finally:
        conn.execute("ROLLBACK TO check_rollup")
        conn.execute("RELEASE check_rollup")


def random_request(rng: random.Random) -> IngestRequest:
    return IngestRequest(
        source_system=rng.choice(["claude_code", "codex"]),
        source_channel=rng.choice(["jsonl", "jsonl", "hook", "api"]),
        occurred_at=T0 + timedelta(seconds=rng.randrange(0, 30 * 3600)),  # over midnight
        message_id=f"m{rng.randrange(60)}", session_id=f"s{rng.randrange(4)}",
        workspace_id=rng.choice(["/a", "/b", None]), provider_id="anthropic",
        model_raw=rng.choice(MODELS),
        event_type=rng.choice(["message_usage"] * 4 + ["tool_usage"]),
        tool_name=rng.choice([None, None, "bash"]),
        input_tokens=rng.choice([None, rng.randrange(0, 300_000)]),
        output_tokens=rng.randrange(0, 5000), cache_read_tokens=rng.randrange(0, 250_000),
        cost_usd=rng.choice([None, None, round(rng.random(), 4)]),
    )


@pytest.mark.parametrize("seed", range(8))
def test_ingest_keeps_the_rollup_equal_to_the_events(store: UsageStore, seed: int) -> None:
    """Inserts, duplicates and enrichments (an event moving to another model, hour or
    priced-by-source bucket) in random batches: the rollup stays exact."""
    rng = random.Random(seed)
    totals = {"inserted": 0, "enriched": 0}
    for _ in range(12):
        res = store.ingest([random_request(rng) for _ in range(rng.randrange(1, 40))])
        totals["inserted"] += res.inserted
        totals["enriched"] += res.enriched
        assert table(store.conn) == rebuilt(store.conn)
    assert totals["enriched"] > 0  # the interesting path ran
    events = store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    assert store.conn.execute(
        f"SELECT SUM(events) FROM {rollup.TABLE}").fetchone()[0] == events
    assert not store.conn.execute(f"SELECT 1 FROM {rollup.TABLE} WHERE events <= 0").fetchall()
    assert not store.conn.execute(
        f"SELECT 1 FROM {rollup.SESSIONS} WHERE events <= 0").fetchall()


def test_reads_through_the_rollup_equal_reads_of_the_events(store: UsageStore) -> None:
    rng = random.Random(42)
    for _ in range(10):
        store.ingest([random_request(rng) for _ in range(50)])
    assert read.uses_rollup(store.conn)
    for minutes in range(0, 8 * 60, 37):
        now = T0 + timedelta(minutes=minutes, seconds=13)
        for window in read.WINDOWS:
            a = read.read_usage(store.conn, window, now, rolled=True)
            b = read.read_usage(store.conn, window, now, rolled=False)
            assert (a.totals.tokens, a.sessions, a.totals.messages) == (
                b.totals.tokens, b.sessions, b.totals.messages)
            assert a.totals.cost == pytest.approx(b.totals.cost)
            assert (a.block and a.block.tokens) == (b.block and b.block.tokens)


def v1_store(path: Path) -> None:
    """A store as tokentop 0.1 left it: schema v1, no rollup, nothing in _migrations."""
    with UsageStore.open(path) as s:
        s.ingest([random_request(random.Random(3)) for _ in range(30)])
        conn = s.conn
        for name in rollup.TABLES:
            conn.execute(f"DROP TABLE {name}")
        conn.execute("DROP TABLE tokentop_meta")
        conn.execute("DROP TABLE usage_limit_snapshots")
        conn.execute("ALTER TABLE tokentop_migrations RENAME TO _migrations")  # its old name
        conn.execute("DELETE FROM _migrations")
        conn.execute("CREATE INDEX idx_usage_events_message_id ON usage_events(message_id)")


def test_a_v1_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    v1_store(path)
    ro = UsageStore.open(path, read_only=True)
    assert not read.uses_rollup(ro.conn)  # read-only never migrates; reads the events
    events_view = read.read_usage(ro.conn, "all", T0 + timedelta(hours=7))
    ro.close()
    with UsageStore.open(path) as s:
        conn = s.conn
        assert schema.version(conn) == schema.SCHEMA_VERSION == 9
        assert [r[0] for r in conn.execute(
            "SELECT version FROM tokentop_migrations")] == list(range(1, schema.SCHEMA_VERSION + 1))
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "idx_usage_events_message_id" not in names
        assert table(conn) and table(conn) == rebuilt(conn)
        assert read.uses_rollup(conn)
        view = read.read_usage(conn, "all", T0 + timedelta(hours=7))
        assert view.totals.tokens == events_view.totals.tokens
    # Opening again finds it current: no write transaction (works while locked).
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        UsageStore.open(path, busy_timeout_ms=0).close()
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_a_v2_store_gains_the_coarser_grains(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as s:
        rng = random.Random(5)
        s.ingest([random_request(rng) for _ in range(60)])
        for grain in (rollup.DAY, rollup.HOUR_MODEL, rollup.SESSION_DAY):
            s.conn.execute(f"DROP TABLE {grain.table}")
        s.conn.execute("DELETE FROM tokentop_migrations WHERE version >= 3")  # as v2 left it
        s.conn.execute(f"UPDATE {rollup.TABLE} SET events = events + 1")  # rebuilt too
    with UsageStore.open(path) as s:
        assert schema.version(s.conn) == schema.SCHEMA_VERSION
        days = s.conn.execute(f"SELECT COUNT(*) FROM {rollup.DAY.table}").fetchone()[0]
        assert days >= 2  # the events span midnight
        assert table(s.conn) == rebuilt(s.conn)


def test_a_new_price_tier_rebuilds_the_rollup(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as s:
        s.ingest([random_request(random.Random(5)) for _ in range(30)])
        s.conn.execute("UPDATE tokentop_meta SET value = '1' WHERE key = ?",
                       (schema.THRESHOLD_KEY,))
        s.conn.execute(f"UPDATE {rollup.TABLE} SET input_over = -7")
        assert not read.uses_rollup(s.conn)  # readers fall back to the events meanwhile
    with UsageStore.open(path) as s:
        assert read.uses_rollup(s.conn)
        assert table(s.conn) == rebuilt(s.conn)


def snapshot(used: int, at: datetime) -> IngestRequest:
    return IngestRequest(
        source_system="provider_poller", source_channel="api", occurred_at=at,
        event_type="limit_snapshot", provider_id="anthropic", account_id="acct",
        payload={"snapshot": {"provider_id": "anthropic", "account_id": "acct",
                              "metrics": {"5h_tokens": {"limit": 1000, "used": used,
                                                        "unit": "tokens", "window": "5h"}}}})


def test_quota_snapshots_outlive_the_raw_payloads(store: UsageStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store.ingest([snapshot(300, now - timedelta(hours=3))])
    store.ingest([snapshot(500, now - timedelta(hours=2))])
    # Retention blanks raw payloads an hour after ingest (pretend it is 3 h later).
    cleared = retention.clear_raw_payloads(store, now=datetime.now(UTC) + timedelta(hours=3))
    assert cleared >= 2
    assert store.conn.execute(
        "SELECT COUNT(*) FROM usage_raw_events WHERE source_payload != '{}'").fetchone()[0] == 0
    (q,) = read.quotas(store.conn)
    assert (q.provider, q.account, q.metric, q.used, q.limit) == (
        "anthropic", "acct", "5h_tokens", 500, 1000)
    assert q.full_at == now - timedelta(hours=2) + timedelta(hours=2.5)  # 200/h, 500 left


def test_retention_keeps_the_rollup_exact(store: UsageStore) -> None:
    rng = random.Random(9)
    store.ingest([random_request(rng) for _ in range(200)])
    store.ingest([snapshot(1, T0 + timedelta(hours=1, minutes=30))])
    cutoff_now = T0 + timedelta(days=1, hours=2, minutes=30)  # cut mid-hour 02:30
    deleted = retention.prune_old_events(store, days=1, now=cutoff_now)
    assert deleted > 0
    assert table(store.conn) == rebuilt(store.conn)
    assert store.conn.execute("SELECT COUNT(*) FROM usage_limit_snapshots").fetchone()[0] == 0


@pytest.mark.parametrize(("tz", "since", "until", "source"), [
    ("UTC", None, None, "all"), ("America/New_York", None, None, "all"),
    ("Asia/Tokyo", "20261120", "20261120", "claude"), ("UTC", "20261121", None, "codex"),
])
def test_daily_and_monthly_reports_from_the_rollup_equal_those_from_the_events(
        store: UsageStore, tz: str, since: str | None, until: str | None, source: str) -> None:
    """``report daily|monthly`` read whole hours from the rollup when the store has a
    current one; every key and figure equals the per-event GROUP BY."""
    from zoneinfo import ZoneInfo

    from tokentop.store.usage import reports

    rng = random.Random(7)
    for _ in range(8):
        store.ingest([random_request(rng) for _ in range(40)])
    store.ingest([IngestRequest(  # a long-context message priced whole at its tier
        source_system="codex", source_channel="jsonl", occurred_at=T0 + timedelta(hours=3),
        turn_id="big", session_id="s9", provider_id="openai", model_raw="gpt-5.4",
        input_tokens=300_000, output_tokens=1000)])
    opts = reports.ReportOptions(
        tz=ZoneInfo(tz), source=source,
        since=reports.parse_day(since) if since else None,
        until=reports.parse_day(until) if until else None)
    assert reports._rollup_current(store.conn)
    for kind in (reports.daily, reports.monthly):
        rolled = kind(store.conn, opts, rolled=True)
        events = kind(store.conn, opts, rolled=False)
        assert json.dumps(rolled, sort_keys=True) == json.dumps(events, sort_keys=True) or (
            _approx_equal(rolled, events))
        assert rolled["totals"]["totalTokens"] > 0 or source == "codex"


def _approx_equal(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_approx_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_approx_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


def test_a_running_total_replaced_in_place_keeps_first_and_last_without_a_rescan(
        store: UsageStore) -> None:
    """Droid, Goose and Hermes rewrite one event per session as its total grows: the
    same key and time come back, so the rollup needs no first/last recomputed from the
    events (a scan of the hour and day per replaced event)."""
    def total(n: int) -> IngestRequest:
        return IngestRequest(source_system="droid", source_channel="jsonl",
                             occurred_at=T0 + timedelta(hours=2), message_id="droid:s1",
                             session_id="s1", model_raw="claude-sonnet-4-5",
                             input_tokens=n, output_tokens=10)

    store.ingest([total(100)])
    spans: list[str] = []
    store.conn.set_trace_callback(lambda sql: spans.append(sql) if "first_at = (" in sql
                                  else None)
    res = store.ingest([total(500)])
    store.conn.set_trace_callback(None)
    assert res.enriched == 1 and spans == []
    assert table(store.conn) == rebuilt(store.conn)
