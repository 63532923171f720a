"""ZCode (``store/usage/agents/zcode.py``): one ``model_usage`` row per model call in
``$ZCODE_HOME/cli/db/db.sqlite``, and against the pinned ccusage.

Fixtures (tests/usage/fixtures/zcode, README.md there): a schema and rows generated in the
shape public readers of real ZCode databases describe (codez-yydd/zai-floating-monitor
and others); no real database or ZCode DDL was found public. ccusage 20.0.24 reads them
(``ccusage zcode daily --json --offline --timezone UTC``; the parity test runs it again).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents import zcode as zcode_mod
from tokentop.store.usage.agents.zcode import ZCODE
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "zcode"
SAME = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
# (input, output, cache write, cache read, total) per UTC day in tokentop; ccusage's
# outputTokens leave out the reasoning beyond the columns (310, 2890, 500).
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "2026-06-10": (5980, 2538, 2048, 105472, 116038),
    "2026-06-11": (6444, 4424, 0, 24576, 35444),
    "2026-06-12": (7016, 3100, 1024, 40960, 52100),
}
CCUSAGE_OUTPUT = {"2026-06-10": 2228, "2026-06-11": 1534, "2026-06-12": 2600}


def make_db(home: Path, *extra: str) -> Path:
    path = home / "cli" / "db" / "db.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript((FIXTURES / "schema.sql").read_text()
                       + (FIXTURES / "rows.sql").read_text() + "".join(extra))
    conn.commit()
    conn.close()
    return path


def collect(store: UsageStore, tmp: Path, *dbs: Path) -> Any:
    agent = dataclasses.replace(ZCODE, roots=lambda: list(dbs))
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, session_id, workspace_id, provider_id, model_raw,"
        " substr(occurred_at, 1, 23), input_tokens, output_tokens, reasoning_tokens,"
        " cache_read_tokens, cache_write_tokens,"
        " CASE WHEN tokentop_cost_computed >= 1 THEN NULL ELSE cost_usd END"
        " FROM usage_events WHERE agent_name = 'zcode'")}


def test_homes_and_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ZCODE_HOME", raising=False)
    assert zcode_mod.roots() == [tmp_path / ".zcode" / "cli" / "db" / "db.sqlite"]
    monkeypatch.setenv("ZCODE_HOME", f"{tmp_path}/a, ~/b,,{tmp_path}/a")
    assert zcode_mod.roots() == [tmp_path / "a" / "cli" / "db" / "db.sqlite",
                                 tmp_path / "b" / "cli" / "db" / "db.sqlite"]


def test_one_event_per_completed_call(tmp_path: Path) -> None:
    db = make_db(tmp_path / "zc")
    live = sqlite3.connect(db)  # ZCode running: its -wal is there
    live.execute("SELECT 1 FROM model_usage").fetchall()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in db.parent.iterdir()}
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, db)
        got = rows(store)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in db.parent.iterdir()}
    live.close()
    assert after == before  # nothing written next to ZCode's database
    shop, docs = "/Users/dev/shop", "/Users/dev/docs"
    assert got == {
        "zcode:mu_0001": ("sess_01JZ8K1", shop, "zai-coding-plan", "glm-4.6",
                          "2026-06-10T10:00:12.345", 3972, 1250, 310, 48128, 0, None),
        "zcode:mu_0002": ("sess_01JZ8K1", shop, "zai-coding-plan", "glm-4.6",
                          "2026-06-10T10:00:40.002", 2008, 1288, 0, 57344, 2048, None),
        "zcode:mu_0005": ("sess_01JZ8K1", shop, "builtin:zai-coding-plan", "glm-4.6",
                          "2026-06-11T10:00:00.000", 820, 24, 0, 0, 0, None),
        "zcode:mu_0006": ("sess_01JZ8K2", docs, "zai", "glm-5",
                          "2026-06-11T10:33:20.500", 5624, 4400, 2890, 24576, 0, None),
        "zcode:mu_0007": ("sess_01JZ8K2", docs, "6f1c2e0a-3b7d-4e59-9a21-0c8d7e6f5a41",
                          "glm-4.6", "2026-06-12T10:00:00.000", 3136, 2500, 500, 36864, 0,
                          None),
        "zcode:mu_0008": ("sess_orphan", None, "zai", "glm-4.6",
                          "2026-06-12T11:00:00.000", 3880, 600, 0, 4096, 1024, None),
    }
    assert report.agents["zcode"].skipped == {"not completed": 2, "no id or session": 1}


def test_incremental_by_rowid_and_a_call_completed_later(tmp_path: Path) -> None:
    db = make_db(tmp_path / "zc", "INSERT INTO model_usage (id, session_id, model_id,"
                 " provider_id, status, started_at, input_tokens, output_tokens)"
                 " VALUES ('mu_0010', 'sess_01JZ8K2', 'glm-5', 'zai', 'streaming',"
                 " 1781265000000, 0, 0);")
    with UsageStore.open(tmp_path / "usage.db") as store:
        first = collect(store, tmp_path, db)
        assert first.agents["zcode"].skipped["in flight"] == 1
        again = collect(store, tmp_path, db)
        assert again.ingest.inserted == 0
        con = sqlite3.connect(db)
        con.execute("UPDATE model_usage SET status = 'completed', input_tokens = 7000,"
                    " output_tokens = 300, cache_read_input_tokens = 6144,"
                    " computed_total_tokens = 7300 WHERE id = 'mu_0010'")
        con.execute("INSERT INTO model_usage (id, session_id, model_id, provider_id, status,"
                    " started_at, input_tokens, output_tokens) VALUES ('mu_0011',"
                    " 'sess_01JZ8K2', 'glm-5', 'zai', 'completed', 1781265100000, 100, 10)")
        con.commit()
        con.close()
        third = collect(store, tmp_path, db)
        assert third.ingest.inserted == 2
        assert third.agents["zcode"].lines == 2  # read from the call that was in flight
        assert rows(store)["zcode:mu_0010"][5:9] == (856, 300, 0, 6144)
        fourth = collect(store, tmp_path, db)
        assert fourth.ingest.inserted == 0 and fourth.agents["zcode"].lines == 0


def test_a_copied_database_in_a_second_home_counts_once(tmp_path: Path) -> None:
    a, b = make_db(tmp_path / "a"), make_db(tmp_path / "b")
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, a, b)
        assert store.conn.execute("SELECT COUNT(*), SUM(input_tokens) FROM usage_events"
                                  " WHERE agent_name = 'zcode'").fetchone() == (6, 19440)


def test_other_layouts(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    con = sqlite3.connect(path)
    con.executescript(  # no optional columns, no session table, odd values
        "CREATE TABLE model_usage (id TEXT, session_id TEXT, started_at, model_id TEXT,"
        " input_tokens, output_tokens, status TEXT);"
        "INSERT INTO model_usage VALUES ('x1', 's', 1781085612345.9, 'glm-4.6', 100.7, -3,"
        " 'completed'), ('x2', 's', '2026-06-10T12:00:00Z', 'glm-4.6', 5, 5, 'completed'),"
        " ('x3', 's', 1781085612345, '  ', 5, 5, 'completed'),"
        " ('x4', 's', 1781085612345, 'glm-4.6', 0, 0, 'completed');")
    con.commit()
    con.close()
    bad = tmp_path / "bad.sqlite"
    sqlite3.connect(bad).executescript("CREATE TABLE model_usage (id TEXT, model_id TEXT);")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, path, bad, tmp_path / "missing.sqlite")
        assert rows(store) == {"zcode:x1": ("s", None, None, "glm-4.6",
                                            "2026-06-10T10:00:12.345", 100, 0, 0, 0, 0, None)}
    assert report.agents["zcode"].skipped == {
        "started_at not epoch milliseconds": 1, "no model": 1, "no tokens": 1,
        "model_usage table without session_id, started_at, input_tokens, output_tokens,"
        " status": 1}


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("zcode-parity")
    make_db(tmp / "zcode")
    env = env_for(tmp, tmp / "no-claude")
    env["ZCODE_HOME"] = str(tmp / "zcode")
    theirs = run_json([str(ccusage_bin()), "zcode", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "zcode", "--timezone", "UTC",
                                 "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_tokens_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens per day exactly ccusage's; output differs by the
    reasoning beyond the columns, which ccusage counts in the total but not the output."""
    ours, theirs = both
    assert [d["date"] for d in theirs["daily"]] == list(EXPECTED)
    assert [d["date"] for d in ours["daily"]] == list(EXPECTED)
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}, a["date"]
        assert tuple(a[k] for k in ("inputTokens", "outputTokens", "cacheCreationTokens",
                                    "cacheReadTokens", "totalTokens")) == EXPECTED[a["date"]]
        assert b["outputTokens"] == CCUSAGE_OUTPUT[a["date"]]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]


@pytest.mark.parametrize("day", ["2026-06-10", "2026-06-11"])
def test_parity_cost_per_day(both: tuple[dict, dict], day: str) -> None:
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == day)
    b = next(d for d in theirs["daily"] if d["date"] == day)
    assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), day


def test_parity_cost_of_a_third_party_channel(both: tuple[dict, dict]) -> None:
    """2026-06-12: ccusage gives the call through a third-party channel (provider a UUID)
    $0 and prices only the Z.ai row ($0.004713, its 1,024 cache writes at glm-4.6's
    $0.60/M input rate as ccusage prices ZCode's writes); tokentop prices both by model:
    $0.011437 more for the channel's 3,136 in, 36,864 cached, 2,500 out: $0.016150."""
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == "2026-06-12")
    b = next(d for d in theirs["daily"] if d["date"] == "2026-06-12")
    assert b["totalCost"] == pytest.approx(0.00471296, rel=0.005)
    assert a["totalCost"] == pytest.approx(0.00471296 + 0.01143664, rel=0.005)
