"""Hermes Agent (``store/usage/agents/hermes.py``): one cumulative row per session in
``$HERMES_HOME/state.db``.

Fixtures (tests/usage/fixtures/hermes, sources in its README.md): ccusage's own adapter
test schema and row (ccusage/ccusage ``rust/crates/ccusage/src/adapter/hermes/
loader.rs``), verbatim, and generated rows in Hermes's shapes (NousResearch/
hermes-agent ``hermes_state_usage.py``).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents.hermes import HERMES, roots, started
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "hermes"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")


def make_db(path: Path, *extra: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # as Hermes runs it
    conn.executescript((FIXTURES / "ccusage_schema.sql").read_text()
                       + (FIXTURES / "sessions.sql").read_text() + "".join(extra))
    conn.commit()
    conn.close()
    return path


def collect(store: UsageStore, tmp: Path, *dbs: Path):  # type: ignore[no-untyped-def]
    agent = dataclasses.replace(HERMES, roots=lambda: list(dbs))
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT session_id, substr(occurred_at, 1, 23), model_raw, provider_id,"
        " input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,"
        " cache_write_tokens, CASE WHEN tokentop_cost_computed >= 1 THEN NULL"
        " ELSE cost_usd END FROM usage_events WHERE agent_name = 'hermes'")}


def test_homes_as_ccusage_reads_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HERMES_HOME", f"{tmp_path}/a, {tmp_path}/b,,{tmp_path}/a")
    assert roots() == [tmp_path / "a" / "state.db", tmp_path / "b" / "state.db"]
    monkeypatch.delenv("HERMES_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert roots() == [tmp_path / ".hermes" / "state.db"]


def test_started_at_seconds_or_milliseconds() -> None:
    assert started(1750000000.25).isoformat() == "2025-06-15T15:06:40.250000+00:00"
    assert started(1777795200123).isoformat() == "2026-05-03T08:00:00.123000+00:00"
    assert started(None) is None and started(0.0) is None and started("x") is None


def test_one_event_per_session(tmp_path: Path) -> None:
    db = make_db(tmp_path / "h" / "state.db")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, db)
        got = rows(store)
    assert got == {
        "session-1": ("2025-06-15T15:06:40.250", "claude-sonnet-4-20250514", "anthropic",
                      1200, 310, 10, 50, 20, 0.34),
        "20260502_101500_a1b2c3": ("2026-05-02T10:15:00.500", "claude-sonnet-4-5-20250929",
                                   "anthropic", 8000, 900, 0, 120000, 6000, None),
        "20260502_220000_d4e5f6": ("2026-05-02T22:00:00.000", "gpt-5", "openai",
                                   20000, 2200, 700, 64000, 0, None),
        "20260503_080000_0a0b0c": ("2026-05-03T08:00:00.123", "gpt-5", "openai",
                                   3000, 200, 0, 0, 0, None),
    }
    assert report.agents["hermes"].skipped == {"no tokens": 1}  # the blank model: not selected


def test_a_growing_session_is_one_event_and_a_second_home_copy_counts_once(
        tmp_path: Path) -> None:
    db = make_db(tmp_path / "h" / "state.db")
    backup = make_db(tmp_path / "backup" / "state.db")
    # running Hermes processes hold both open (so their -wal and -shm exist)
    live = [sqlite3.connect(p) for p in (db, backup)]
    for con in live:
        con.execute("SELECT 1 FROM sessions").fetchall()
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, db, backup)
        again = collect(store, tmp_path, db, backup)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        con = sqlite3.connect(db)  # Hermes's CLI path: col = col + delta
        con.execute("UPDATE sessions SET input_tokens = input_tokens + 500,"
                    " output_tokens = output_tokens + 50 WHERE id = '20260503_080000_0a0b0c'")
        con.commit()
        con.close()
        third = collect(store, tmp_path, db, backup)
        assert third.ingest.inserted == 0 and third.ingest.enriched == 1
        # of the changed database only the changed row is parsed (its row mark moved)
        assert third.agents["hermes"].lines == 1 and third.agents["hermes"].requests == 1
        assert rows(store)["20260503_080000_0a0b0c"][3:5] == (3500, 250)
        assert store.conn.execute(
            "SELECT COUNT(*), SUM(input_tokens) FROM usage_events WHERE agent_name = 'hermes'"
        ).fetchone() == (4, 1200 + 8000 + 20000 + 3500)
    for con in live:
        con.close()


def test_a_replaced_database_is_read_whole_again(tmp_path: Path) -> None:
    """Row marks belong to the file they were read from: a database restored from a
    backup (a new inode under the same name) is read whole, its copies counted once."""
    db = make_db(tmp_path / "h" / "state.db")
    with UsageStore.open(tmp_path / "usage.db") as store:
        first = collect(store, tmp_path, db)
        assert first.agents["hermes"].lines == 5  # 4 sessions and one without tokens
        marks = store.conn.execute("SELECT COUNT(*) FROM tokentop_row_marks"
                                   " WHERE collector = 'agent:hermes'").fetchone()[0]
        # every row read, and their one block, with the events, in the same transaction
        assert marks == 5 + 1
        restored = make_db(tmp_path / "restore" / "state.db")
        for extra in ("-wal", "-shm"):
            Path(f"{db}{extra}").unlink(missing_ok=True)
        os.replace(restored, db)  # renamed over it: a new inode (the old file exists)
        again = collect(store, tmp_path, db)
        assert again.agents["hermes"].lines == 5 and again.ingest.inserted == 0
        assert len(rows(store)) == 4


def test_a_database_without_the_columns_is_skipped(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE sessions (id TEXT, source TEXT, started_at REAL)")
    con.commit()
    con.close()
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, db, tmp_path / "missing" / "state.db")
        assert rows(store) == {}
    assert list(report.agents["hermes"].skipped) == [
        "sessions table without model, billing_provider, message_count, input_tokens,"
        " output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,"
        " estimated_cost_usd, actual_cost_usd"]


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("hermes-parity")
    make_db(tmp / "hermes" / "state.db")
    env = env_for(tmp, tmp / "no-claude")
    env = {k: v for k, v in env.items() if not k.startswith("HERMES_")}
    env["HERMES_HOME"] = str(tmp / "hermes")
    theirs = run_json([str(ccusage_bin()), "hermes", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "hermes", "--timezone", "UTC",
                                 "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_days_and_tokens_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens per day exactly ccusage's; output differs by the
    reasoning tokens (10 on 2025-06-15, 700 on 2026-05-02), which ccusage leaves out of
    ``outputTokens`` but counts in the total and prices as output."""
    ours, theirs = both
    assert [d["date"] for d in ours["daily"]] == ["2025-06-15", "2026-05-02", "2026-05-03"]
    assert [d["date"] for d in ours["daily"]] == [d["date"] for d in theirs["daily"]]
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, a["date"]
        assert a["outputTokens"] == b["totalTokens"] - b["inputTokens"] \
            - b["cacheCreationTokens"] - b["cacheReadTokens"], a["date"]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]
    assert ours["totals"]["outputTokens"] - theirs["totals"]["outputTokens"] == 710


@pytest.mark.parametrize("day", [
    "2025-06-15",
    "2026-05-02", "2026-05-03",
])
def test_parity_cost_per_day(both: tuple[dict, dict], day: str) -> None:
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == day)
    b = next(d for d in theirs["daily"] if d["date"] == day)
    assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), day


def test_parity_recorded_cost_and_the_estimate_left_alone(both: tuple[dict, dict]) -> None:
    """Hermes's recorded 0.34 is taken as is; the row with only an estimate (0.1234) is
    priced from its tokens by both tools (0.096)."""
    ours, theirs = both
    for doc in (ours, theirs):
        day = {d["date"]: d for d in doc["daily"]}
        assert day["2025-06-15"]["totalCost"] == pytest.approx(0.34)
        sonnet = next(m for m in day["2026-05-02"]["modelBreakdowns"]
                      if m["modelName"] == "claude-sonnet-4-5-20250929")
        assert sonnet["cost"] == pytest.approx(0.096, rel=0.005)
