"""OpenClaw (``store/usage/agents/openclaw.py``): per-message usage in session JSONL,
archives renamed ``.jsonl.reset.<t>`` / ``.jsonl.deleted.<t>``.

Fixtures (tests/usage/fixtures/openclaw, sources in its README.md): ccusage's own
adapter tests (ccusage/ccusage ``rust/crates/ccusage/src/adapter/openclaw/loader.rs``)
and generated sessions in pi's session format (badlogic/pi-mono ``session-manager.ts``).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents.openclaw import OPENCLAW, is_session_file, roots
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "openclaw"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
LIVE = "openclaw/agents/main/sessions/4f1c2a9e-7d3b-4e8a-9c10-2b5d6e7f8a90.jsonl"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "data", ignore=shutil.ignore_patterns("*.md"))
    return tmp_path / "data"


def collect(store: UsageStore, tmp: Path, monkeypatch: pytest.MonkeyPatch, *bases: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENCLAW_DIR", ",".join(str(b) for b in bases))
    agent = dataclasses.replace(OPENCLAW, roots=lambda: roots())
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, session_id, substr(occurred_at, 1, 19), model_raw, provider_id,"
        " input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,"
        " cache_write_tokens, CASE WHEN tokentop_cost_computed = 1 THEN NULL ELSE cost_usd END"
        " FROM usage_events WHERE agent_name = 'openclaw'")}


def test_session_file_names() -> None:
    assert is_session_file("a.jsonl") and is_session_file("a.jsonl.deleted.1700000000000")
    assert is_session_file("a.jsonl.reset.2026-03-20T06-34-44.520Z")
    assert not is_session_file("a.json") and not is_session_file("sessions.json")
    assert not is_session_file("a.jsonl.bak")


def test_roots(monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENCLAW_DIR", f"{data}/openclaw, {tmp_path}/missing")
    assert roots() == [data / "openclaw/agents/coder/sessions",
                       data / "openclaw/agents/main/sessions"]
    monkeypatch.delenv("OPENCLAW_DIR")
    monkeypatch.setenv("HOME", str(data))
    shutil.copytree(data / "ccusage", data / ".clawdbot")
    assert roots() == [data / ".clawdbot/agents/main/sessions"]


def test_one_event_per_assistant_message(data: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, monkeypatch, data / "ccusage", data / "openclaw")
        got = rows(store)
    s = "4f1c2a9e-7d3b-4e8a-9c10-2b5d6e7f8a90"
    assert got["openclaw:a1000003"] == (s, "2026-05-16T08:00:09", "claude-sonnet-4-5",
                                        "anthropic", 1200, 340, 0, 18000, 2500, 0.023475)
    # model and provider from the snapshot; output 0 with a total beyond the parts
    assert got["openclaw:a1000005"][2:10] == ("gpt-5.2", "openai-codex", 900, 200, 0, 4000,
                                              0, 0.0)
    # no message time: the line's; total beyond the parts with output: extra output
    assert got["openclaw:a1000006"][1:8] == ("2026-05-16T23:59:59", "gpt-5.2",
                                             "openai-codex", 10, 30, 10, 0)
    assert got["openclaw:b2000002"][0] == "9b2e4d6f-1a3c-4b5d-8e7f-0a1b2c3d4e5f"  # archive
    assert got["openclaw:c3000001"][2] == "claude-haiku-4-5"
    abc = [v for k, v in got.items() if v[0] == "abc"]
    assert abc == [("abc", "2026-01-30T06:18:55", "gpt-5.2", "openai-codex", 1660, 55, 0,
                    108928, 0, 0.02)]
    assert [v[0] for v in got.values()].count("session") == 1  # the repeated line: once
    assert len(got) == 7
    counts = report.agents["openclaw"]
    assert counts.malformed == 1 and counts.skipped == {"no tokens": 1}


def test_appended_lines_resume_with_the_model_in_force_and_renames_add_nothing(
        data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = data / LIVE
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, monkeypatch, data / "openclaw")
        again = collect(store, tmp_path, monkeypatch, data / "openclaw")
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        with live.open("a") as fh:  # after the snapshot to gpt-5.2, read from the offset
            fh.write('{"type":"message","id":"a1000009","message":{"role":"assistant",'
                     '"usage":{"input":5,"output":5,"cost":{"total":0.0001}},'
                     '"timestamp":1778990000000}}\n')
        third = collect(store, tmp_path, monkeypatch, data / "openclaw")
        assert third.ingest.inserted == 1
        assert rows(store)["openclaw:a1000009"][2:4] == ("gpt-5.2", "openai-codex")
        # OpenClaw resets the session: the file is renamed, the same bytes
        live.rename(live.with_name(live.name + ".reset.1779000000000"))
        fourth = collect(store, tmp_path, monkeypatch, data / "openclaw")
        assert fourth.ingest.inserted == 0 and fourth.bytes_read > 0
        assert len(rows(store)) == 6


def test_nothing_is_written_to_openclaws_files(data: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    files = [p for p in data.rglob("*") if p.is_file()]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, monkeypatch, data / "ccusage", data / "openclaw")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("openclaw-parity")
    shutil.copytree(FIXTURES, tmp / "data", ignore=shutil.ignore_patterns("*.md"))
    env = env_for(tmp, tmp / "no-claude")
    env = {k: v for k, v in env.items() if not k.startswith("OPENCLAW_")}
    env["OPENCLAW_DIR"] = f"{tmp}/data/ccusage,{tmp}/data/openclaw"
    theirs = run_json([str(ccusage_bin()), "openclaw", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "openclaw", "--timezone",
                                 "UTC", "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_tokens_and_cost_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens and cost per day as ccusage's. Deliberate
    differences: output includes the 10 tokens of a1000006's total beyond its parts
    (ccusage counts them in the total only), and models are named as the log names them
    (ccusage: ``[openclaw] <model>``)."""
    ours, theirs = both
    assert [d["date"] for d in ours["daily"]] == ["2026-01-30", "2026-05-16", "2026-05-17"]
    assert [d["date"] for d in ours["daily"]] == [d["date"] for d in theirs["daily"]]
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, a["date"]
        assert a["outputTokens"] == b["totalTokens"] - b["inputTokens"] \
            - b["cacheCreationTokens"] - b["cacheReadTokens"], a["date"]
        assert sorted("[openclaw] " + m for m in a["modelsUsed"]) == sorted(b["modelsUsed"])
        assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), a["date"]
    assert ours["totals"]["outputTokens"] - theirs["totals"]["outputTokens"] == 10
