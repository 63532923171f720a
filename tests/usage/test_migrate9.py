"""Schema migration 9: a store of schema 8 holding events is rebuilt in place without
openusage's UNIQUE ``dedup_key`` index, and reads exactly as before.

The schema 8 store is made as schema 8 made it: openusage's ``usage_events`` DDL
verbatim (``schema.CORE``: ``dedup_key TEXT NOT NULL UNIQUE`` and openusage's five
indexes), tokentop's columns added by ALTER TABLE, the team cache's outbox triggers on
it, and migrations 1-8 recorded. Every read is taken from it before the migration
(read-only, so not migrated) and again after; the rollup must be untouched and still
equal a rebuild from the events, and dedup must still hold across the migration.
"""

from __future__ import annotations

import dataclasses
import math
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from test_rollup import snapshot

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import glance, read, reports, rollup, schema, sessions
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.ingest import COLUMNS
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.reports import ReportOptions
from tokentop.store.usage.team import outbox

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=31)
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "mystery", None)
UNUSED = ("idx_usage_events_provider_window",
          "idx_usage_events_provider_account_type_occurred", "idx_usage_events_type_provider")


def request(rng: random.Random, i: int) -> IngestRequest:
    """Claude messages (keys without session), Codex turns, tools, hosts, fast mode,
    the 1-hour cache split, costs given and not: every column ingest writes."""
    system = rng.choice(["claude_code", "claude_code", "codex"])
    return IngestRequest(
        source_system=system, source_channel=rng.choice(["jsonl", "jsonl", "hook"]),
        occurred_at=T0 + timedelta(seconds=rng.randrange(0, 30 * 3600)),
        message_id=f"msg_{rng.randrange(400)}" if system == "claude_code" else None,
        turn_id=None if system == "claude_code" else f"turn-{i}",
        session_id=f"s{rng.randrange(6)}", workspace_id=rng.choice(["/a", "/b", None]),
        provider_id="anthropic" if system == "claude_code" else "openai",
        model_raw=rng.choice(MODELS),
        event_type=rng.choice(["message_usage"] * 5 + ["tool_usage"]),
        tool_name=rng.choice([None, None, "bash"]),
        input_tokens=rng.choice([None, rng.randrange(0, 300_000)]),
        output_tokens=rng.randrange(0, 5000), cache_read_tokens=rng.randrange(0, 250_000),
        cache_write_tokens=4000, cache_write_1h_tokens=rng.choice([None, 1000]),
        speed=rng.choice([None, None, "fast"]), is_sidechain=rng.choice([None, True]),
        cost_usd=rng.choice([None, None, round(rng.random(), 4)]),
        host=rng.choice([None, None, "gpu1"]),
    )


def batches() -> list[list[IngestRequest]]:
    rng = random.Random(19)
    out = [[request(rng, i + 100 * b) for i in range(100)] for b in range(6)]
    out.append([snapshot(300, T0 + timedelta(hours=3)), snapshot(500, T0 + timedelta(hours=4))])
    return out


def v8_store(path: Path) -> None:
    """Events ingested, then ``usage_events`` laid out as schema 8 had it."""
    with UsageStore.open(path) as s:
        for batch in batches():
            s.ingest(batch)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(usage_events)")]
    conn.execute("ALTER TABLE usage_events RENAME TO v9_events")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"
                                " AND tbl_name = 'v9_events' AND sql IS NOT NULL").fetchall():
        conn.execute(f"DROP INDEX {name}")
    ddl = schema.CORE[schema.CORE.index("CREATE TABLE IF NOT EXISTS usage_events"):]
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)
    for name, kind in schema.TOKENTOP_COLUMNS:
        conn.execute(f"ALTER TABLE usage_events ADD COLUMN {name} {kind}")
    names = ", ".join(cols)
    conn.execute(f"INSERT INTO usage_events (rowid, {names}) SELECT rowid, {names}"
                 " FROM v9_events")
    conn.execute("DROP TABLE v9_events")
    # a column tokentop does not know (another tool's, a later version's) is kept too
    conn.execute("ALTER TABLE usage_events ADD COLUMN other_tool_note TEXT")
    conn.execute("UPDATE usage_events SET other_tool_note = 'n' || rowid WHERE rowid % 3 = 0")
    schema._details_index(conn)
    schema._host_index(conn)
    conn.execute("DELETE FROM tokentop_migrations WHERE version >= 9")
    conn.execute("COMMIT")
    outbox.attach(conn)  # the team cache's triggers, which must survive the rebuild
    conn.execute("DELETE FROM tokentop_team_outbox")
    assert schema.has_unique_dedup_key(conn)
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} >= set(UNUSED)
    conn.close()


def reads(conn: sqlite3.Connection) -> dict[str, Any]:
    """Every read the dashboard, the reports and the statusline make."""
    out: dict[str, Any] = {}
    for window in read.WINDOWS:
        for rolled in (False, True):
            out[f"usage {window} {rolled}"] = read.read_usage(conn, window, NOW, rolled=rolled)
        out[f"sessions {window}"] = sessions.session_list(conn, window, NOW)
        out[f"session s1 {window}"] = sessions.session_detail(conn, "s1", window, NOW)
    opts = ReportOptions(now=NOW)
    one_day = ReportOptions(since=date(2026, 11, 21), until=date(2026, 11, 21), now=NOW)
    for name, o in (("all", opts), ("day", one_day)):
        for rolled in (False, True):
            out[f"daily {name} {rolled}"] = reports.daily(conn, o, rolled=rolled)
            out[f"monthly {name} {rolled}"] = reports.monthly(conn, o, rolled=rolled)
        out[f"session {name}"] = reports.session(conn, o)
        out[f"blocks {name}"] = reports.blocks(conn, o)
        out[f"hosts report {name}"] = reports.hosts(conn, o)
    out["glance"] = glance.read_glance(conn, NOW, UTC)
    out["quotas"] = read.quotas(conn)
    out["series"] = read.series(conn, T0, NOW, 60)
    out["spend"] = read.spend(conn, T0, NOW, rolled=True)
    return out


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 (a sum over another index may add in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def rows(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT rowid, * FROM usage_events ORDER BY rowid").fetchall()


def content(conn: sqlite3.Connection) -> list[tuple]:
    """The events without the ids drawn at ingest (two stores draw different ones)."""
    cols = [c for c in COLUMNS if c not in ("event_id", "raw_event_id")]
    return conn.execute(f"SELECT {', '.join(cols)} FROM usage_events"
                        " ORDER BY dedup_key").fetchall()


def rollup_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall()
            for t in rollup.TABLES}


def rounded(grains: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Costs to 9 places: a rebuild sums them in another order (as test_rollup does)."""
    return {t: [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rs]
            for t, rs in grains.items()}


def test_a_v8_store_is_rebuilt_and_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    v8_store(path)
    with UsageStore.open(path, read_only=True) as ro:  # read-only never migrates
        assert schema.version(ro.conn) == 8
        events, rolled = rows(ro.conn), rollup_rows(ro.conn)
        before = plain(reads(ro.conn))
    assert len(events) > 400  # 600 requests, Claude messages seen twice merged
    assert any(v for k, v in before.items() if k.startswith("quotas"))

    with UsageStore.open(path) as s:
        conn = s.conn
        assert schema.version(conn) == schema.SCHEMA_VERSION == 9
        assert not schema.has_unique_dedup_key(conn)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {schema.DEDUP_INDEX, schema.LIMITS_INDEX} <= names
        assert not names & set(UNUSED)
        assert {"tokentop_team_outbox_insert", "tokentop_team_outbox_update"} <= names
        assert rows(conn) == events  # every rowid, column and value
        assert rollup_rows(conn) == rolled  # untouched by the migration
        s.conn.execute("SAVEPOINT undo")
        rollup.rebuild(conn, PriceTable.load().tier_threshold)
        assert rounded(rollup_rows(conn)) == rounded(rolled)
        s.conn.execute("ROLLBACK TO undo")
        s.conn.execute("RELEASE undo")
        after = plain(reads(conn))
        for key in before:
            assert_same(after[key], before[key], key)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

        # dedup holds across the migration: the same events again add no row and merge
        # exactly as in a store that never was schema 8; a bigger copy of one message
        # enriches it, and the trigger still marks it for a push
        results = [s.ingest(batch) for batch in batches()]
        assert sum(r.inserted for r in results) == 0
        assert len(rows(conn)) == len(events)
        with UsageStore.open(tmp_path / "fresh.db") as fresh:
            for batch in batches():
                fresh.ingest(batch)
            assert [fresh.ingest(batch) for batch in batches()] == results
            assert content(fresh.conn) == content(conn)
        conn.execute("DELETE FROM tokentop_team_outbox")
        first = batches()[0][0]
        bigger = IngestRequest(**{f: getattr(first, f) for f in first.__struct_fields__})
        bigger.output_tokens = (bigger.output_tokens or 0) + 7
        bigger.source_channel = "jsonl"
        bigger.is_sidechain = None
        res = s.ingest([bigger])
        assert (res.inserted, res.enriched) == (0, 1)
        assert outbox.pending(conn) == 1
        assert len(rows(conn)) == len(events)
        s.conn.execute("SAVEPOINT undo")
        mine = rounded(rollup_rows(conn))
        rollup.rebuild(conn, PriceTable.load().tier_threshold)
        assert rounded(rollup_rows(conn)) == mine
        s.conn.execute("ROLLBACK TO undo")
        s.conn.execute("RELEASE undo")


def test_a_suffix_two_keys_share_finds_each_its_own_event(tmp_path: Path) -> None:
    """The dedup index holds the keys' last 8 digits only: two events whose keys end
    alike must stay two, and each must still find its own stored copy."""
    path = tmp_path / "usage.db"

    def req(message: str, output: int) -> IngestRequest:
        return IngestRequest(source_system="claude_code", source_channel="jsonl",
                             occurred_at=T0, message_id=message, session_id="s",
                             model_raw="claude-haiku-4-5", output_tokens=output)

    with UsageStore.open(path) as s:
        s.ingest([req("a", 1), req("b", 2)])
        # give b's stored key a's suffix, as a collision would
        (ka,), (kb,) = s.conn.execute(
            "SELECT dedup_key FROM usage_events ORDER BY message_id").fetchall()
        twin = kb[:-schema.DEDUP_SUFFIX] + ka[-schema.DEDUP_SUFFIX:]
        s.conn.execute("UPDATE usage_events SET dedup_key = ? WHERE message_id = 'b'", (twin,))
        assert s.conn.execute(f"SELECT COUNT(*) FROM usage_events WHERE"
                              f" {schema.DEDUP_SUFFIX_SQL} = ?",
                              (schema.dedup_suffix(ka),)).fetchone() == (2,)
        res = s.ingest([req("a", 1)])  # a again: found, not confused with b's row
        assert (res.inserted, res.enriched, res.duplicates) == (0, 0, 1)
        res = s.ingest([req("a", 5)])  # a bigger copy of a enriches a, not b
        assert (res.inserted, res.enriched) == (0, 1)
        got = dict(s.conn.execute("SELECT message_id, output_tokens FROM usage_events"))
        assert got == {"a": 5, "b": 2}
        plan = " ".join(r[3] for r in s.conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM usage_events e WHERE"
            f" {schema.DEDUP_SUFFIX_SQL.replace('dedup_key', 'e.dedup_key')} IN (?, ?)",
            ("x", "y")))
        assert schema.DEDUP_INDEX in plan
