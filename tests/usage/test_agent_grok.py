"""The Grok Build CLI collector (``store/usage/agents/grok.py``) on ``updates.jsonl``
files, and against the pinned ccusage.

Fixtures (tests/usage/fixtures/grok/README.md): generated in Grok Build's own format
(xai-org/grok-build ``xai-grok-shell/src/extensions/notification.rs``,
``session/storage/mod.rs``, ``session/storage/jsonl/copy.rs``): no real session was
found in a public repository. ccusage 20.0.24 reads them (checked with
``ccusage grok daily --json --offline --timezone UTC``; the parity test runs it again).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents import grok as grok_mod
from tokentop.store.usage.agents.grok import GROK
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "grok"
API = "%2Fhome%2Fdev%2Fapi"
SESSION = "019a2f10-7c3e-7a51-9d2e-4b1c0e8f0001"
FORK = "019a2f10-7c3e-7a51-9d2e-4b1c0e8f0002"
OTHER = "019a2f10-7c3e-7a51-9d2e-4b1c0e8f0003"
FIRST_EVENT = "019a2f11-0b6d-7e20-8a3f-5d0c1e9a1001"
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens",
          "totalTokens")

# (input, output, cache write, cache read, total) per UTC day; the fork's copies of the
# session's three turns once (both tools).
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "2026-07-21": (18036, 5994, 1024, 141312, 166366),
    "2026-07-22": (16748, 7530, 0, 253952, 278230),
    "2026-07-23": (4096, 700, 0, 16384, 21180),
}


def grok_home(tmp: Path) -> Path:
    shutil.copytree(FIXTURES, tmp / "grok", ignore=shutil.ignore_patterns("README.md"))
    return tmp / "grok"


def collect(store: UsageStore, tmp: Path, home: Path) -> Any:
    agent = dataclasses.replace(GROK, roots=lambda: [home / "sessions"])
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def events(store: UsageStore) -> list[tuple]:
    return store.conn.execute(
        "SELECT message_id, session_id, workspace_id, model_raw, provider_id,"
        " substr(occurred_at, 1, 23), input_tokens, output_tokens, reasoning_tokens,"
        " cache_read_tokens, cache_write_tokens,"
        " CASE WHEN tokentop_cost_computed = 1 THEN NULL ELSE cost_usd END"
        " FROM usage_events WHERE agent_name = 'grok' ORDER BY occurred_at, model_raw"
    ).fetchall()


def per_day(store: UsageStore) -> dict[str, tuple[int, ...]]:
    return {r[0]: tuple(r[1:]) for r in store.conn.execute(
        "SELECT substr(occurred_at, 1, 10), SUM(input_tokens), SUM(output_tokens),"
        " SUM(cache_write_tokens), SUM(cache_read_tokens), SUM(input_tokens + output_tokens"
        " + cache_write_tokens + cache_read_tokens) FROM usage_events"
        " WHERE agent_name = 'grok' GROUP BY 1")}


def test_home_and_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GROK_HOME", raising=False)
    assert grok_mod.roots() == [tmp_path / ".grok" / "sessions"]
    monkeypatch.setenv("GROK_HOME", "~/g")
    assert grok_mod.roots() == [tmp_path / "g" / "sessions"]


def test_turns_models_costs_and_the_fork_once(tmp_path: Path) -> None:
    home = grok_home(tmp_path)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in home.rglob("*") if p.is_file()}
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, home)
        got = events(store)
        assert per_day(store) == EXPECTED
    counts = report.agents["grok"]
    assert counts.malformed == 1  # the torn append in the session's file
    assert counts.skipped == {"no tokens": 1}  # the incomplete turn without usage
    api, cli = "/home/dev/api", "/home/dev/cli"
    conv = FIRST_EVENT  # the session and its fork: one conversation
    assert got == [
        ("grok:" + FIRST_EVENT + "#grok-4.3", conv, api, "grok-4.3", "xai",
         "2026-07-21T09:15:02.481", 7250, 1830, 412, 40960, 0, pytest.approx(0.016325)),
        ("grok:019a2f11-0b6d-7e20-8a3f-5d0c1e9a1002#grok-4.3", conv, api, "grok-4.3", "xai",
         "2026-07-21T23:58:40.120", 8192, 3204, 1190, 81920, 0, pytest.approx(0.03116)),
        ("grok:019a2f11-0b6d-7e20-8a3f-5d0c1e9a1002#grok-code-fast-1", conv, api,
         "grok-code-fast-1", "xai", "2026-07-21T23:58:40.120", 2594, 960, 0, 18432, 1024,
         pytest.approx(0.000987)),
        # costIsPartial: Grok dropped the ticks, so tokentop prices the tokens
        ("grok:019a2f11-0b6d-7e20-8a3f-5d0c1e9a1003#grok-4.3", conv, api, "grok-4.3", "xai",
         "2026-07-22T10:02:11.904", 7620, 2410, 655, 122880, 0, None),
        ("grok:019a2f11-0b6d-7e20-8a3f-5d0c1e9a2001#grok-4.3", conv, api, "grok-4.3", "xai",
         "2026-07-22T14:41:27.350", 9128, 5120, 2048, 131072, 0, pytest.approx(0.04029)),
        # no modelUsage: ccusage's "unknown"; project from the directory name
        ("grok:019a2f11-0b6d-7e20-8a3f-5d0c1e9a3001", "019a2f11-0b6d-7e20-8a3f-5d0c1e9a3001",
         cli, "unknown", "xai", "2026-07-23T08:05:59.001", 4096, 700, 120, 16384, 0,
         pytest.approx(0.0052)),
    ]
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in home.rglob("*") if p.is_file()}
    assert after == before  # nothing written to Grok's files


def test_second_run_reads_nothing_and_an_appended_turn_once(tmp_path: Path) -> None:
    home = grok_home(tmp_path)
    path = home / "sessions" / API / FORK / "updates.jsonl"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, home)
        again = collect(store, tmp_path, home)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        line = {"timestamp": 1784818000, "method": "_x.ai/session/update", "params": {
            "sessionId": FORK, "update": {"sessionUpdate": "turn_completed",
                                          "prompt_id": "p-1002", "usage": {
                "inputTokens": 5000, "outputTokens": 100, "cachedReadTokens": 4096,
                "modelUsage": {"grok-4.3": {"inputTokens": 5000, "outputTokens": 100,
                                            "cachedReadTokens": 4096,
                                            "costUsdTicks": 12_000_000}}}},
            "_meta": {"eventId": "ev-new", "agentTimestampMs": 1784818000123}}}
        with open(path, "a") as fh:
            fh.write(json.dumps(line) + "\n")
        third = collect(store, tmp_path, home)  # resumes mid-file: prime() finds the conv
        assert third.ingest.inserted == 1
        row = store.conn.execute(
            "SELECT session_id, input_tokens, cache_read_tokens, cost_usd FROM usage_events"
            " WHERE message_id = 'grok:ev-new#grok-4.3'").fetchone()
        assert row == (FIRST_EVENT, 904, 4096, pytest.approx(0.0012))
        with open(path, "a") as fh:  # the same turn written again: still one event
            fh.write(json.dumps(line) + "\n")
        fourth = collect(store, tmp_path, home)
        assert fourth.ingest.inserted == 0
        assert store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE message_id ="
                                  " 'grok:ev-new#grok-4.3'").fetchone() == (1,)


def test_lines_without_event_id_or_timestamp(tmp_path: Path) -> None:
    session = tmp_path / "grok" / "sessions" / "plain" / "s1"
    session.mkdir(parents=True)
    usage = {"inputTokens": 300, "outputTokens": 20, "cachedReadTokens": 500,
             "cacheCreationTokens": 9}

    def turn(**extra: Any) -> str:
        return json.dumps({"method": "_x.ai/session/update", "params": {
            "update": {"sessionUpdate": "turn_completed", "usage": usage}}, **extra})

    (session / "updates.jsonl").write_text("\n".join([
        turn(timestamp=1784764800), turn(timestamp=1784764800),  # a repeat: once
        turn(),  # no time at all: skipped (ccusage dates it 1970-01-01)
        json.dumps({"update": {"sessionUpdate": "turn_completed", "usage": usage}}),  # bare
        '["turn_completed"]', '{"turn_completed": ',
    ]) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, tmp_path / "grok")
        got = events(store)
    assert got == [("grok:s1|1784764800000|300|20|300|0", "s1", "plain", "unknown", "xai",
                    "2026-07-23T00:00:00.000", 0, 20, 0, 300, 0, None)]
    assert report.agents["grok"].malformed == 1
    assert report.agents["grok"].skipped == {"no timestamp": 1, "not a JSON object": 1}


def test_a_missing_home_is_no_error(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, tmp_path / "nowhere")
        assert events(store) == []
    assert report.agents["grok"].files == 0


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("grok-parity")
    home = grok_home(tmp)
    env = env_for(tmp, tmp / "no-claude")
    env["GROK_HOME"] = str(home)
    theirs = run_json([str(ccusage_bin()), "grok", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "grok", "--timezone", "UTC",
                                 "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_tokens_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = both
    assert [d["date"] for d in theirs["daily"]] == list(EXPECTED)
    assert [d["date"] for d in ours["daily"]] == list(EXPECTED)
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKENS} == {k: b[k] for k in TOKENS}, a["date"]
        assert tuple(a[k] for k in ("inputTokens", "outputTokens", "cacheCreationTokens",
                                    "cacheReadTokens", "totalTokens")) == EXPECTED[a["date"]]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]


@pytest.mark.parametrize("day", [
    "2026-07-21",
    "2026-07-22",
    "2026-07-23",
])
def test_parity_cost_per_day(both: tuple[dict, dict], day: str) -> None:
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == day)
    b = next(d for d in theirs["daily"] if d["date"] == day)
    assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), day


def test_parity_recorded_costs_are_grok_ticks(both: tuple[dict, dict]) -> None:
    """2026-07-21: 163,250,000 + 311,600,000 + 9,870,000 ticks = $0.048472 in both."""
    for doc in both:
        day = next(d for d in doc["daily"] if d["date"] == "2026-07-21")
        assert day["totalCost"] == pytest.approx(0.048472)


def test_fixture_readme_exists() -> None:
    assert (FIXTURES / "README.md").is_file()
    assert os.path.isdir(FIXTURES / "sessions" / API / FORK)
