"""Kilo (``tokentop.store.usage.agents.kilo``): ``kilo.db``, OpenCode's schema and message
JSON, read from its watermark, one event per assistant message, by ccusage's Kilo rules.

Fixtures (tests/usage/fixtures/kilo, see its README.md): the ``message`` table of Kilo's
CLI (OpenCode's drizzle schema: anomalyco/opencode
``packages/opencode/migration/20260127222353_familiar_lady_ursula/migration.sql``), rows
from ccusage's Kilo adapter tests (ccusage/ccusage
``rust/crates/ccusage/src/adapter/kilo/loader.rs``, ``parser.rs``), plus generated edge
cases: a time in seconds, a cost of 0, no cost, reasoning, a total only, no time, a
malformed row.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest
from opencode_support import (
    COST_TOLERANCE,
    TOKEN_KEYS,
    both_daily,
    build_db,
    by_date,
    isolated_env,
)

from tokentop.store.usage.agents import AGENTS, by_name
from tokentop.store.usage.agents.kilo import AGENT
from tokentop.store.usage.agents.paths import kilo_dirs
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

# message id -> (input, output, cache read, cache write, reasoning, total, cost)
EXPECTED = {
    "msg-1": (100, 55, 10, 20, 5, 185, 0.02),  # the JSON's id; reasoning in output
    "msg_k3": (700, 120, 5000, 800, 0, 6620, 0.0),  # a cost of 0 is Kilo's cost
    "msg_k4": (300, 120, 9000, 0, 40, 9420, None),  # no cost: tokentop prices it
    "msg-6": (0, 234, 0, 0, 0, 234, 0.01),  # only a total: it is the output
}


def collect(store: UsageStore, tmp: Path, data_dir: Path):  # type: ignore[no-untyped-def]
    agent = dataclasses.replace(AGENT, roots=lambda: [data_dir / "kilo.db"])
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def events(store: UsageStore) -> dict[str, tuple]:
    rows = store.conn.execute(
        "SELECT message_id, input_tokens, output_tokens, cache_read_tokens,"
        " cache_write_tokens, reasoning_tokens, total_tokens,"
        " CASE WHEN tokentop_cost_computed = 1 THEN NULL ELSE cost_usd END"
        " FROM usage_events WHERE agent_name = 'kilo'")
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "kilo"
    conn = build_db(data / "kilo.db", "kilo")
    yield data, conn
    conn.close()


def test_the_fixture_numbers_and_fields(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, data)
        assert events(store) == EXPECTED
        c = r.agents["kilo"]
        assert c.malformed == 1 and c.lines == 7 and c.usage_lines == 4
        row = store.conn.execute(
            "SELECT agent_name, session_id, workspace_id, provider_id, model_raw,"
            " occurred_at FROM usage_events WHERE message_id = 'msg_k3'").fetchone()
        assert row[:5] == ("kilo", "ses_k", "/home/u/kilo-app", "anthropic",
                           "claude-sonnet-4-20250514")
        assert row[5].startswith("2026-01-03T00:00:00")  # seconds read as seconds


def test_a_second_run_reads_nothing_new_and_an_update_is_picked_up_once(
        tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, conn = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        again = collect(store, tmp_path, data)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        conn.execute("UPDATE message SET time_updated = ?, data = json_set(data,"
                     " '$.tokens.output', 500, '$.cost', 0.3) WHERE id = 'msg_k3'",
                     (int(time.time() * 1000),))
        conn.execute(
            "INSERT INTO message VALUES('msg_k8','ses_k',1767405700000,1767405700000,"
            "'{\"role\":\"assistant\",\"modelID\":\"gpt-5\",\"providerID\":\"openai\","
            "\"time\":{\"created\":1767405700000},\"tokens\":{\"input\":4,\"output\":2,"
            "\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}},\"cost\":0.001}')")
        conn.commit()
        third = collect(store, tmp_path, data)
        assert third.ingest.inserted == 1 and third.ingest.enriched == 1
        got = events(store)
        assert got["msg_k3"] == (700, 500, 5000, 800, 0, 7000, 0.3)
        assert got["msg_k8"] == (4, 2, 0, 0, 0, 6, 0.001)
        assert len(got) == len(EXPECTED) + 1


def test_a_copy_of_the_database_in_a_second_directory_counts_once(tmp_path: Path,
                                                                   home) -> None:  # type: ignore[no-untyped-def]
    """ccusage keys a message without a JSON ``id`` by ``<db path>:<row id>`` and counts
    the copy twice (msg_k3 and msg_k4 here); tokentop keys it by the row's id."""
    data, _ = home
    second = tmp_path / "kilo2"
    build_db(second / "kilo.db", "kilo").close()
    agent = dataclasses.replace(AGENT, roots=lambda: [data / "kilo.db", second / "kilo.db"])
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "none",
                         hook_spool=tmp_path / "none", agents=[agent])
        assert r.ingest.inserted == len(EXPECTED)
        assert events(store) == EXPECTED


def test_nothing_is_written_to_kilo_files(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    files = [data / "kilo.db", data / "kilo.db-wal"]
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
    assert {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in files} == before


def test_a_missing_directory_is_no_error(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "absent")
        assert r.ingest.inserted == 0 and r.agents["kilo"].files == 0


def test_where_kilo_keeps_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KILO_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert kilo_dirs() == [tmp_path / "xdg" / "kilo"]
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kilo_dirs() == [tmp_path / ".local" / "share" / "kilo"]
    monkeypatch.setenv("KILO_DATA_DIR", f"{tmp_path}/a,{tmp_path}/b")
    assert AGENT.roots() == [tmp_path / "a" / "kilo.db", tmp_path / "b" / "kilo.db"]
    assert AGENT in [a.load() for a in AGENTS]
    ref = by_name("kilo")
    assert ref is not None and ref.load() is AGENT


# --- parity with the pinned ccusage (tests/support/install_ccusage.sh)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("kilo-parity")
    data = tmp / "kilo"
    build_db(data / "kilo.db", "kilo").close()
    return both_daily(tmp, "kilo", isolated_env(tmp, KILO_DATA_DIR=str(data)))


# Kilo's tokens.reasoning is ccusage's "extra" (in its totalTokens, priced as output);
# tokentop's output holds it: 2026-01-02 msg-1's 5, 2026-01-03 msg_k4's 40.
EXTRA = {"2026-01-02": 5, "2026-01-03": 40}


def test_parity_tokens_per_day_equal_ccusage(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    assert list(by_date(ours)) == list(by_date(theirs)) == ["2026-01-02", "2026-01-03"]
    same = [k for k in TOKEN_KEYS if k != "outputTokens"] + ["totalTokens"]
    for day, t in by_date(theirs).items():
        o = by_date(ours)[day]
        assert {k: o[k] for k in same} == {k: t[k] for k in same}, day
        assert o["outputTokens"] == t["outputTokens"] + EXTRA[day], day
        assert sorted(o["modelsUsed"]) == sorted(t["modelsUsed"]), day


def test_parity_cost_of_messages_with_kilo_s_own_cost(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    o, t = by_date(ours)["2026-01-02"]["totalCost"], by_date(theirs)["2026-01-02"]["totalCost"]
    assert o == pytest.approx(t, rel=COST_TOLERANCE)


def test_parity_cost_of_a_message_priced_with_reasoning(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    o, t = by_date(ours)["2026-01-03"]["totalCost"], by_date(theirs)["2026-01-03"]["totalCost"]
    assert o == pytest.approx(t, rel=COST_TOLERANCE), (o, t)
