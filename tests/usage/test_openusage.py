# ruff: noqa: E501  (openusage's DDL is copied verbatim, long lines included)
"""openusage's ``telemetry.db``: read as openusage reads it, never written; and tokentop's
own store stays readable by openusage.

The openusage database is built with openusage's own DDL, copied verbatim from
janekbaraniewski/openusage internal/telemetry/store.go (``Store.Init``, commit fb1bc96),
its ``_migrations`` table from ``Store.RunMigrations`` in the same file and its WAL mode
from internal/telemetry/sqlite.go (``configureSQLiteConnection``). Rows are written as
its providers write them: internal/providers/codex/telemetry_usage.go (provider_id
``codex``, account ``codex-cli``, ``input_tokens`` = Codex's input INCLUDING the cached
input, ``cache_read_tokens`` = the cached input, no cost) and
internal/providers/claude_code/telemetry_usage.go (provider_id ``anthropic``, account
``claude-code``, Anthropic's input without the cache, ``cost_usd`` computed by openusage).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.store.usage import reports, schema
from tokentop.store.usage.db import ForeignStoreError, UsageStore, is_own_store
from tokentop.store.usage.reports import ReportOptions
from tokentop.tui.commands.db import db
from tokentop.tui.commands.ingest import ingest
from tokentop.tui.commands.report import report
from tokentop.tui.run import usage_store

OPENUSAGE_INIT = """
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS usage_raw_events (
  raw_event_id TEXT PRIMARY KEY,
  ingested_at TEXT NOT NULL,
  source_system TEXT NOT NULL,
  source_channel TEXT NOT NULL,
  source_schema_version TEXT NOT NULL,
  source_payload TEXT NOT NULL,
  source_payload_hash TEXT NOT NULL,
  workspace_id TEXT,
  agent_session_id TEXT
);
CREATE INDEX IF NOT EXISTS idx_usage_raw_events_ingested_at ON usage_raw_events(ingested_at);
CREATE INDEX IF NOT EXISTS idx_usage_raw_events_source ON usage_raw_events(source_system, source_channel);
CREATE TABLE IF NOT EXISTS usage_events (
  event_id TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  provider_id TEXT,
  agent_name TEXT NOT NULL,
  account_id TEXT,
  workspace_id TEXT,
  session_id TEXT,
  turn_id TEXT,
  message_id TEXT,
  tool_call_id TEXT,
  event_type TEXT NOT NULL,
  model_raw TEXT,
  model_canonical TEXT,
  model_lineage_id TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  reasoning_tokens INTEGER,
  cache_read_tokens INTEGER,
  cache_write_tokens INTEGER,
  total_tokens INTEGER,
  cost_usd REAL,
  requests INTEGER,
  tool_name TEXT,
  status TEXT NOT NULL,
  dedup_key TEXT NOT NULL UNIQUE,
  raw_event_id TEXT NOT NULL,
  normalization_version TEXT NOT NULL,
  FOREIGN KEY(raw_event_id) REFERENCES usage_raw_events(raw_event_id)
);
CREATE INDEX IF NOT EXISTS idx_usage_events_occurred_at ON usage_events(occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_raw_event_id ON usage_events(raw_event_id);
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_window ON usage_events(provider_id, account_id, occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_account_type_occurred ON usage_events(provider_id, account_id, event_type, occurred_at DESC);
CREATE INDEX IF NOT EXISTS idx_usage_events_type_provider ON usage_events(event_type, provider_id);
CREATE INDEX IF NOT EXISTS idx_usage_raw_events_source_system ON usage_raw_events(source_system);
CREATE TABLE IF NOT EXISTS usage_reconciliation_windows (
  recon_id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL,
  account_id TEXT,
  window_start TEXT NOT NULL,
  window_end TEXT NOT NULL,
  authoritative_cost_usd REAL,
  authoritative_tokens INTEGER,
  authoritative_requests INTEGER,
  event_sum_cost_usd REAL,
  event_sum_tokens INTEGER,
  event_sum_requests INTEGER,
  delta_cost_usd REAL,
  delta_tokens INTEGER,
  delta_requests INTEGER,
  resolution TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_usage_recon_provider_window ON usage_reconciliation_windows(provider_id, account_id, window_start, window_end);
CREATE TABLE IF NOT EXISTS balance_observations (
  provider_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  metric_key TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  used REAL,
  limit_val REAL,
  remaining REAL,
  unit TEXT,
  semantics TEXT NOT NULL,
  PRIMARY KEY (provider_id, account_id, metric_key, observed_at)
);
CREATE INDEX IF NOT EXISTS idx_balance_obs_lookup ON balance_observations(provider_id, account_id, metric_key, observed_at);
CREATE TABLE IF NOT EXISTS usage_rollup_daily (
  day TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  account_id TEXT NOT NULL DEFAULT '',
  model_canonical TEXT NOT NULL DEFAULT '',
  tool_name TEXT NOT NULL DEFAULT '',
  project TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0,
  event_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, provider_id, account_id, model_canonical, tool_name, project, status)
);
CREATE INDEX IF NOT EXISTS idx_rollup_daily_window ON usage_rollup_daily(provider_id, account_id, day);
CREATE TABLE IF NOT EXISTS daemon_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
OPENUSAGE_MIGRATIONS = ("CREATE TABLE IF NOT EXISTS _migrations"
                        " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")

CODEX, SONNET = "gpt-5", "claude-sonnet-4-5-20250929"
# (event_id, occurred_at, provider, agent, account, session, turn, event_type, model,
#  input, output, reasoning, cache_read, cache_write, total, cost, status, source_system)
ROWS = [
    # Codex turn: 10,000 input of which 6,000 cached; total = input + output (Codex's).
    ("e1", "2026-03-01T10:00:00.123456789Z", "codex", "codex", "codex-cli", "s-codex", "t1",
     "message_usage", CODEX, 10_000, 500, 200, 6_000, None, 10_500, None, "ok", "codex"),
    # Codex turn whose input was all cached.
    ("e2", "2026-03-01T10:05:00Z", "codex", "codex", "codex-cli", "s-codex", "t2",
     "message_usage", CODEX, 2_000, 100, 0, 2_000, None, 2_100, None, "ok", "codex"),
    # A failed request: openusage's read model leaves it out of every sum.
    ("e3", "2026-03-01T10:06:00Z", "codex", "codex", "codex-cli", "s-codex", "t3",
     "message_usage", CODEX, 50_000, 0, 0, 0, None, 50_000, None, "error", "codex"),
    # A tool call (no tokens).
    ("e4", "2026-03-01T10:07:00Z", "codex", "codex", "codex-cli", "s-codex", "t2",
     "tool_usage", None, None, None, None, None, None, None, None, "ok", "codex"),
    # Claude Code message, priced by openusage itself.
    ("e5", "2026-03-01T11:00:00Z", "anthropic", "claude_code", "claude-code", "s-claude",
     "m1", "message_usage", SONNET, 100, 200, 0, 5_000, 1_000, 6_300, 0.012345, "ok",
     "claude_code"),
]
# Hand-checked: Codex input without the cache 4,000 + 0, Claude 100; cache read 6,000 +
# 2,000 + 5,000; Codex cost at gpt-5's $1.25 / $10 / $0.125 per M: 4,000 x 1.25 + 600 x
# 10 + 8,000 x 0.125 = $0.012; Claude's as openusage wrote it.
EXPECTED = {"inputTokens": 4_100, "outputTokens": 800, "cacheCreationTokens": 1_000,
            "cacheReadTokens": 13_000, "totalTokens": 18_900, "totalCost": 0.024345}


def openusage_db(path: Path, rows: list[tuple] = ROWS) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(OPENUSAGE_INIT)
    conn.execute(OPENUSAGE_MIGRATIONS)
    conn.execute("INSERT INTO _migrations VALUES ('repair_codex_provider_id', '2026-03-01')")
    insert(conn, rows)
    conn.commit()
    conn.close()  # the last connection: SQLite removes -wal and -shm
    return path


def insert(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    for (eid, ts, prov, agent, acct, sess, turn, etype, model, i, o, r, cr, cw, tot, cost,
         status, system) in rows:
        conn.execute("INSERT INTO usage_raw_events VALUES (?,?,?,?,?,?,?,?,?)",
                     (f"r-{eid}", ts, system, "jsonl", f"{system}_v1", "{}", "h",
                      "app", sess))
        conn.execute(
            "INSERT INTO usage_events (event_id, occurred_at, provider_id, agent_name,"
            " account_id, workspace_id, session_id, turn_id, message_id, event_type,"
            " model_raw, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,"
            " cache_write_tokens, total_tokens, cost_usd, status, dedup_key, raw_event_id,"
            " normalization_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (eid, ts, prov, agent, acct, "app", sess, turn, turn, etype, model, i, o, r, cr,
             cw, tot, cost, status, f"k-{eid}", f"r-{eid}", "v1"))


def snapshot(path: Path) -> tuple:
    """Everything a write would change: bytes, mtime, side files."""
    st = path.stat()
    side = sorted(p.name for p in path.parent.iterdir() if p.name != path.name)
    return path.read_bytes(), st.st_mtime_ns, side


@pytest.fixture
def ou(tmp_path: Path) -> Path:
    d = tmp_path / "openusage"
    d.mkdir()
    return openusage_db(d / "telemetry.db")


def test_an_openusage_db_is_not_ours(ou: Path, tmp_path: Path) -> None:
    before = snapshot(ou)
    assert not is_own_store(ou)
    assert usage_store(str(ou)) == (ou, False)  # the dashboard reads, never collects
    with pytest.raises(ForeignStoreError):
        UsageStore.open(ou)
    ro = UsageStore.open(ou, read_only=True)
    assert ro.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (5,)
    with pytest.raises(sqlite3.OperationalError):
        ro.conn.execute("CREATE TABLE x (a)")
    ro.close()
    assert snapshot(ou) == before
    assert is_own_store(UsageStore.open(tmp_path / "mine.db").path)


@pytest.mark.parametrize("args", [["ingest"], ["db", "prune"], ["db", "vacuum"]])
def test_writers_refuse_it_and_write_nothing(ou: Path, tmp_path: Path,
                                             args: list[str]) -> None:
    before = snapshot(ou)
    empty = tmp_path / "empty"
    empty.mkdir()
    if args[0] == "ingest":
        out = CliRunner().invoke(ingest, ["--store", str(ou), "--codex-dir", str(empty),
                                          "--claude-dir", str(empty)])
    else:
        out = CliRunner().invoke(db, ["--store", str(ou), *args[1:]])
    assert out.exit_code == 2, out.output
    assert "not tokentop's store" in out.output
    assert out.output.count("\n") == 1 and "Traceback" not in out.output
    assert snapshot(ou) == before
    conn = sqlite3.connect(f"file:{ou}?mode=ro&immutable=1", uri=True)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "collector_offsets" not in tables and "tokentop_meta" not in tables


def test_report_gives_openusages_numbers_and_writes_nothing(ou: Path) -> None:
    before = snapshot(ou)
    # without --no-ingest: a foreign store is not collected into
    out = CliRunner().invoke(report, ["daily", "--json", "--timezone", "UTC",
                                      "--store", str(ou)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    totals = doc["totals"]
    assert {k: totals[k] for k in EXPECTED if k != "totalCost"} == {
        k: v for k, v in EXPECTED.items() if k != "totalCost"}
    assert totals["totalCost"] == pytest.approx(EXPECTED["totalCost"], abs=1e-9)
    assert [d["date"] for d in doc["daily"]] == ["2026-03-01"]
    assert snapshot(ou) == before
    # openusage's own sums over the same file (usage_view_query_aggregates.go: message
    # rows, status != 'error'): its input (Codex's, with the cache) is our input + cache
    conn = sqlite3.connect(f"file:{ou}?mode=ro&immutable=1", uri=True)
    (ou_input,) = conn.execute(
        "SELECT SUM(COALESCE(input_tokens, 0)) FROM usage_events"
        " WHERE event_type = 'message_usage' AND status != 'error'"
        " AND provider_id = 'codex'").fetchone()
    conn.close()
    assert ou_input == 12_000 == 4_000 + 8_000


def test_one_rule_for_old_tokentop_rows_and_codex_rows(tmp_path: Path) -> None:
    """tokentop's older Codex rows (provider 'openai', input without the cache) read as
    before; Codex rows written the openusage way (provider 'codex') read the same,
    through the events and through the rollup."""
    path = tmp_path / "usage.db"
    UsageStore.open(path).close()
    conn = sqlite3.connect(path)
    old = ("o1", "2026-03-01T10:00:00Z", "openai", "codex", "codex", "s-old", "t1",
           "message_usage", CODEX, 4_000, 600, 0, 8_000, None, 12_600, None, "ok", "codex")
    new = [r for r in ROWS if r[2] == "codex"]
    insert(conn, [old, *new])
    schema.rollup.rebuild(conn, schema.rollup_threshold(conn) or 200_000)
    conn.commit()
    d = reports.daily(conn, ReportOptions(tz=reports.ZoneInfo("UTC")))
    conn.close()
    t = d["totals"]
    assert (t["inputTokens"], t["cacheReadTokens"], t["outputTokens"]) == (
        4_000 + 4_000, 8_000 + 8_000, 600 + 600)
    assert t["totalCost"] == pytest.approx(2 * 0.012, abs=1e-9)


def test_a_wal_db_read_while_its_writer_runs_leaves_the_writers_files(ou: Path) -> None:
    writer = sqlite3.connect(ou)  # openusage running: its -wal and -shm exist
    writer.execute("INSERT INTO daemon_meta VALUES ('k', 'v')")
    writer.commit()
    ro = UsageStore.open(ou, read_only=True)
    before = ro.data_version()
    insert(writer, [("e9", "2026-03-02T10:00:00Z", "anthropic", "claude_code", "claude-code",
                     "s2", "m9", "message_usage", SONNET, 1, 1, 0, 0, 0, 2, 0.0, "ok",
                     "claude_code")])
    writer.commit()
    assert ro.data_version() != before  # it sees the writer's commits
    assert ro.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (6,)
    ro.close()
    writer.close()
    assert sorted(p.name for p in ou.parent.iterdir()) == ["telemetry.db"]


def test_tokentop_store_is_readable_by_openusage(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    UsageStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(OPENUSAGE_INIT)  # openusage opening tokentop's store
    conn.execute(OPENUSAGE_MIGRATIONS)
    assert conn.execute("SELECT COUNT(*) FROM _migrations WHERE name = ?",
                        ("repair_codex_provider_id",)).fetchone() == (0,)
    # no index twice under two names
    defs = [(*(r[2] for r in conn.execute(f"PRAGMA index_info({name})")), tbl)
            for name, tbl in conn.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
                " AND sql IS NOT NULL")]
    assert len(defs) == len(set(defs))
    conn.commit()
    conn.close()
    assert is_own_store(path)  # still tokentop's after openusage added its tables
    with UsageStore.open(path) as s:
        assert schema.version(s.conn) == schema.SCHEMA_VERSION


def test_an_old_store_moves_its_bookkeeping_off_openusages_name(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    UsageStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE tokentop_migrations RENAME TO _migrations")
    conn.execute("DELETE FROM tokentop_meta WHERE key = 'store_owner'")  # before the mark
    # before migration 9 the store had openusage's name for these columns; an older one
    # had tokentop's own name instead
    conn.execute("DROP INDEX IF EXISTS idx_usage_events_provider_window")
    conn.execute("CREATE INDEX idx_usage_events_provider_account_time"
                 " ON usage_events(provider_id, account_id, occurred_at)")
    conn.commit()
    conn.close()
    assert is_own_store(path)  # collector_offsets, none of openusage's tables
    with UsageStore.open(path) as s:
        names = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
        assert "_migrations" not in names
        assert "idx_usage_events_provider_account_time" not in names
        # not recreated under openusage's name: no query of tokentop's uses it (schema 9)
        assert "idx_usage_events_provider_window" not in names
        assert [r[0] for r in s.conn.execute("SELECT version FROM tokentop_migrations")] == (
            list(range(1, schema.SCHEMA_VERSION + 1)))
        assert schema.is_owned(s.conn)


def test_an_openusage_db_an_old_tokentop_wrote_into_stays_foreign(ou: Path) -> None:
    conn = sqlite3.connect(ou)
    conn.executescript(schema.TOKENTOP)  # what `tokentop ingest` used to add
    conn.commit()
    conn.close()
    assert not is_own_store(ou)
    with pytest.raises(ForeignStoreError):
        UsageStore.open(ou)


def test_rollup_deltas_follow_the_same_rule(tmp_path: Path) -> None:
    """The rollup's per-batch deltas (Python) and its rebuild (SQL) agree on Codex rows
    and error rows, so tokentop's store reads the same through either."""
    path = tmp_path / "usage.db"
    UsageStore.open(path).close()
    conn = sqlite3.connect(path)
    insert(conn, ROWS)
    threshold = schema.rollup_threshold(conn) or 200_000
    schema.rollup.rebuild(conn, threshold)
    deltas = schema.rollup.Deltas(threshold)
    for row in conn.execute("SELECT * FROM usage_events"):
        deltas.add(row)
    table = schema.rollup.TABLE
    built = conn.execute(f"SELECT SUM(input), SUM(cache_read), SUM(events) FROM {table}"
                         " WHERE event_type = 'message_usage'").fetchone()
    conn.close()
    summed = [0, 0, 0]
    for key, acc in deltas.rows.items():
        if key[1] == "message_usage":
            summed = [summed[0] + acc[0], summed[1] + acc[3], summed[2] + acc[5]]
    assert tuple(summed) == built == (4_100, 13_000, 3)  # e3 (error, 50k tokens) left out
