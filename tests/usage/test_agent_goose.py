"""Goose (``store/usage/agents/goose.py``): one cumulative row per session in a live
SQLite database.

Fixtures (tests/usage/fixtures/goose, sources in its README.md): ``schema_v13.sql`` is
Goose's own schema (block/goose ``crates/goose/src/session/session_manager.rs`` and
``migrations.rs`` v6-v13); ``sessions.sql`` generated rows in Goose's shapes (every
rule of ccusage's parser: accumulated and last-turn columns, a provider guessed from
the model, total beyond input + output, RFC 3339 and epoch times, rows left out);
``ccusage_schema.sql`` ccusage's own adapter test (ccusage/ccusage
``rust/crates/ccusage/src/adapter/goose/loader.rs``), verbatim.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents.goose import GOOSE, parse_created, roots
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "goose"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")


def make_db(path: Path, *scripts: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # as Goose (sqlx) runs it
    for name in scripts:
        conn.executescript((FIXTURES / name).read_text())
    conn.commit()
    conn.close()
    return path


def collect(store: UsageStore, tmp: Path, *dbs: Path):  # type: ignore[no-untyped-def]
    agent = dataclasses.replace(GOOSE, roots=lambda: list(dbs))
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT session_id, substr(occurred_at, 1, 19), model_raw, provider_id,"
        " input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,"
        " cache_write_tokens, cost_usd IS NOT NULL AND tokentop_cost_computed = 0"
        " FROM usage_events WHERE agent_name = 'goose'")}


@pytest.fixture
def goose_db(tmp_path: Path) -> Iterator[Path]:
    """The database as a running Goose keeps it: WAL mode, a connection open (so its
    ``-wal`` and ``-shm`` exist, as they do while Goose runs)."""
    path = make_db(tmp_path / "goose" / "data" / "sessions" / "sessions.db",
                   "schema_v13.sql", "sessions.sql")
    goose = sqlite3.connect(path)
    goose.execute("SELECT COUNT(*) FROM sessions").fetchall()
    yield path
    goose.close()


def test_paths_as_ccusage_resolves_them(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    monkeypatch.setenv("GOOSE_PATH_ROOT", str(tmp_path / "g"))
    assert roots() == [tmp_path / "g" / "data" / "sessions" / "sessions.db"]
    monkeypatch.setenv("GOOSE_PATH_ROOT", "  ")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert roots() == [tmp_path / ".local/share/goose/sessions/sessions.db",
                       tmp_path / "Library/Application Support/goose/sessions/sessions.db",
                       tmp_path / ".local/share/Block/goose/sessions/sessions.db"]


def test_created_at_is_read_as_ccusage_reads_it() -> None:
    assert parse_created("2026-05-01 01:02:03").isoformat() == "2026-05-01T01:02:03+00:00"
    assert parse_created(1778000000).isoformat() == "2026-05-05T16:53:20+00:00"
    assert parse_created("1778000000123").isoformat() == "2026-05-05T16:53:20.123000+00:00"
    assert parse_created("2026-05-04").isoformat() == "2026-05-04T00:00:00+00:00"
    assert parse_created("2026-05-04T23:30:00.000+02:00").isoformat() == \
        "2026-05-04T21:30:00+00:00"
    # sqlx's DateTime<Utc> text (nanoseconds): ccusage cannot read it, nor does tokentop
    assert parse_created("2026-05-04 21:30:00.123456789+00:00") is None
    assert parse_created("yesterday") is None and parse_created(1.5) is None


def test_one_event_per_session(goose_db: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, goose_db)
        got = rows(store)
    assert got == {
        "20260502_1": ("2026-05-02T09:15:00", "claude-sonnet-4-5-20250929", "anthropic",
                       45210, 3120, 0, 0, 0, 0),
        "20260502_2": ("2026-05-02T09:40:00", "gpt-4o", "openai", 900, 100, 0, 0, 0, 0),
        "20260503_1": ("2026-05-03T23:59:59", "gemini-2.5-pro", "google",
                       10000, 2000, 1500, 0, 0, 0),
        "20260504_2": ("2026-05-04T21:30:00", "claude-sonnet-4-5-20250929", "anthropic",
                       2000, 500, 0, 0, 0, 0),
        "20260505_1": ("2026-05-05T16:53:20", "gpt-4o", "openai", 700, 300, 0, 0, 0, 0),
    }
    assert report.agents["goose"].skipped == {
        "no tokens": 1, "created_at not understood": 1, "no model_name": 1}


def test_a_growing_session_replaces_its_total_and_nothing_else_is_read(
        goose_db: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, goose_db)
        again = collect(store, tmp_path, goose_db)
        assert again.bytes_read == 0 and again.ingest.inserted == 0

        db = sqlite3.connect(goose_db)  # Goose's next turn: UPDATE ... updated_at = now
        db.execute("UPDATE sessions SET accumulated_input_tokens = 60000,"
                   " accumulated_output_tokens = 4000, accumulated_total_tokens = 64000,"
                   " updated_at = '2026-05-06 08:30:00' WHERE id = '20260502_1'")
        db.execute("INSERT INTO sessions (id, working_dir, created_at, updated_at,"
                   " accumulated_input_tokens, accumulated_output_tokens, provider_name,"
                   " model_config_json) VALUES ('20260506_1', '/x', '2026-05-06 08:00:00',"
                   " '2026-05-06 08:00:00', 10, 5, 'openai', '{\"model_name\":\"gpt-4o\"}')")
        db.commit()
        db.close()
        third = collect(store, tmp_path, goose_db)
        # only rows updated at or after the watermark (2026-05-05 17:00), and of those
        # only the two that changed: the last one read (the same second again) is
        # unchanged, its row mark says so, and it is not parsed again
        assert third.agents["goose"].lines == 2 and third.ingest.duplicates == 0
        assert third.ingest.inserted == 1 and third.ingest.enriched == 1
        got = rows(store)
        assert got["20260502_1"][3:5] == (60000, 4000)
        assert store.conn.execute("SELECT COUNT(*), SUM(input_tokens) FROM usage_events"
                                  " WHERE session_id = '20260502_1'").fetchone() == (1, 60000)
        assert len(got) == 6


def test_ccusage_schema_without_updated_at_is_read_whole(tmp_path: Path) -> None:
    db = make_db(tmp_path / "sessions.db", "ccusage_schema.sql")
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, db)
        assert rows(store) == {"session-a": ("2026-05-01T01:02:03", "claude-sonnet-4-20250514",
                                             "anthropic", 100, 80, 30, 0, 0, 0)}
        con = sqlite3.connect(db)
        con.execute("UPDATE sessions SET accumulated_total_tokens = 400,"
                    " accumulated_input_tokens = 300")
        con.commit()
        con.close()
        collect(store, tmp_path, db)
        assert rows(store)["session-a"][3:6] == (300, 100, 50)


def test_an_old_or_foreign_database_is_skipped_not_fatal(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    con = sqlite3.connect(old)  # Goose before schema v6: no model_config_json
    con.execute("CREATE TABLE sessions (id TEXT, created_at TEXT, accumulated_input_tokens"
                " INTEGER)")
    con.commit()
    con.close()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, old, other, tmp_path / "missing.db")
        assert rows(store) == {}
    skipped = report.agents["goose"].skipped
    assert skipped["no sessions table"] == 1
    assert any(k.startswith("sessions table without model_config_json") for k in skipped)


def test_gooses_database_is_never_written(goose_db: Path, tmp_path: Path) -> None:
    """The database and its WAL stay byte for byte (``-shm`` is SQLite's shared lock
    memory, which every reader of a WAL database uses)."""
    files = [goose_db, Path(f"{goose_db}-wal")]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, goose_db)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


# --- parity with the pinned ccusage: ``ccusage goose daily`` on the same database


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("goose-parity")
    make_db(tmp / "goose" / "data" / "sessions" / "sessions.db",
            "schema_v13.sql", "sessions.sql")
    env = env_for(tmp, tmp / "no-claude")
    env = {k: v for k, v in env.items() if not k.startswith("GOOSE_")}
    env["GOOSE_PATH_ROOT"] = str(tmp / "goose")
    theirs = run_json([str(ccusage_bin()), "goose", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "goose", "--timezone", "UTC",
                                 "--store", str(tmp / "usage.db")), env, ROOT)
    assert os.path.exists(tmp / "usage.db")
    return ours, theirs


def test_parity_days_and_tokens_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens per day exactly ccusage's. ccusage's
    ``outputTokens`` leaves out the total beyond input + output (it adds it to the total
    and prices it as output); tokentop's output includes it: 1,500 on 2026-05-03."""
    ours, theirs = both
    assert [d["date"] for d in ours["daily"]] == \
        ["2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"]
    assert [d["date"] for d in ours["daily"]] == [d["date"] for d in theirs["daily"]]
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, a["date"]
        assert a["outputTokens"] == b["totalTokens"] - b["inputTokens"], a["date"]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]
    assert {k: ours["totals"][k] for k in TOKEN_KEYS} == \
        {k: theirs["totals"][k] for k in TOKEN_KEYS}
    assert theirs["totals"]["totalTokens"] == 64830
    assert ours["totals"]["outputTokens"] - theirs["totals"]["outputTokens"] == 1500


def test_parity_cost_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = both
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), a["date"]
    assert ours["totals"]["totalCost"] == pytest.approx(0.23643, rel=0.005)
