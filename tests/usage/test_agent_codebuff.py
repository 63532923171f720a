"""Codebuff (``store/usage/agents/codebuff.py``): per-message usage in each chat's
``chat-messages.json``, a JSON array rewritten in place.

Fixtures (tests/usage/fixtures/codebuff, sources in its README.md): ccusage's own
adapter tests (ccusage/ccusage ``rust/crates/ccusage/src/adapter/codebuff/loader.rs``),
verbatim, and generated chats in Codebuff's message shape.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents.codebuff import CODEBUFF, chat_id_time, roots
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "codebuff"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
WEB = "manicode/projects/web-app/chats/2026-01-04T09-30-00.000Z/chat-messages.json"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "data", ignore=shutil.ignore_patterns("*.md"))
    return tmp_path / "data"


def agent_at(*roots_: Path):  # type: ignore[no-untyped-def]
    return dataclasses.replace(CODEBUFF, roots=lambda: [r / "projects" for r in roots_])


def collect(store: UsageStore, tmp: Path, *roots_: Path):  # type: ignore[no-untyped-def]
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent_at(*roots_)])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, session_id, workspace_id, substr(occurred_at, 1, 19), model_raw,"
        " provider_id, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,"
        " cache_write_tokens FROM usage_events WHERE agent_name = 'codebuff'")}


def test_roots_and_chat_ids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEBUFF_DATA_DIR", f"{tmp_path}/a, {tmp_path}/b/projects")
    assert roots() == [tmp_path / "a" / "projects", tmp_path / "b" / "projects"]
    monkeypatch.delenv("CODEBUFF_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert roots() == [tmp_path / ".config" / c / "projects"
                       for c in ("manicode", "manicode-dev", "manicode-staging")]
    assert chat_id_time("2026-01-02T03-04-05.000Z").isoformat() == \
        "2026-01-02T03:04:05+00:00"
    assert chat_id_time("not-a-time") is None


def test_one_event_per_assistant_message(data: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, data / "manicode", data / "manicode-dev")
        got = rows(store)
    web = "manicode/web-app/2026-01-04T09-30-00.000Z"
    a = "manicode/project-a/2026-01-02T03-04-05.000Z"
    assert got[f"codebuff:{a}:assistant-message"] == (
        a, "project-a", "2026-01-02T03:04:06", "claude-sonnet-4-20250514", "anthropic",
        100, 50, 0, 10, 20)
    # run-state usage, no id, no time: the chat id dates it; the id is its position
    b = "manicode/project-a/2026-01-03T10-00-00.000Z"
    assert got[f"codebuff:{b}:#0"][2:] == ("2026-01-03T10:00:00", "openai/gpt-5", "openai",
                                           100, 50, 0, 10, 0)
    # total beyond the parts: extra output (input, output, reasoning)
    assert got[f"codebuff:{web}:m-2"][5:8] == (500, 500, 200)
    assert got[f"codebuff:{web}:m-3"][2:10] == ("2026-01-04T10:00:00", "gpt-5", "openai",
                                                1000, 500, 0, 400, 0)
    assert got[f"codebuff:{web}:m-4"][3:6] == ("codebuff-unknown", None, 0)  # credits only
    assert got[f"codebuff:{web}:#7"][3] == "gemini-2.5-pro"
    assert f"codebuff:{web}:m-5" not in got
    assert got["codebuff:manicode-dev/project-a/2026-01-02T03-04-05.000Z:m-1"][5] == 40
    assert len(got) == 8
    assert report.agents["codebuff"].files == 4


def test_a_rewritten_chat_updates_its_messages_once(data: Path, tmp_path: Path) -> None:
    chat = data / WEB
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data / "manicode")
        again = collect(store, tmp_path, data / "manicode")
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        messages = json.loads(chat.read_text())
        messages[7]["metadata"]["usage"]["outputTokens"] = 90  # the id-less one grew
        messages.append({"id": "m-6", "variant": "ai", "timestamp": "2026-01-05T01:00:00.000Z",
                         "metadata": {"model": "gpt-5", "usage": {"inputTokens": 5,
                                                                   "outputTokens": 5}}})
        chat.write_text(json.dumps(messages))
        third = collect(store, tmp_path, data / "manicode")
        assert third.ingest.inserted == 1 and third.ingest.enriched == 1
        web = "manicode/web-app/2026-01-04T09-30-00.000Z"
        assert rows(store)[f"codebuff:{web}:#7"][5:7] == (700, 90)
        assert store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE session_id = ?",
                                  (web,)).fetchone() == (6,)


def test_a_copy_under_a_second_root_counts_once(data: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup" / "manicode"
    shutil.copytree(data / "manicode", backup)
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data / "manicode", backup)
        assert len(rows(store)) == 7


def test_malformed_chats_are_counted_and_skipped(tmp_path: Path) -> None:
    chats = tmp_path / "manicode" / "projects" / "p" / "chats"
    for name, body in (("c1", "[{\"id\": \"x\", \"variant\": \"ai\""), ("c2", "{}")):
        (chats / name).mkdir(parents=True)
        (chats / name / "chat-messages.json").write_text(body)
    (chats / "c2" / "chat-messages.json.tmp").write_text("[")  # a writer's temp file
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, tmp_path / "manicode", tmp_path / "missing")
        assert rows(store) == {}
    counts = report.agents["codebuff"]
    assert counts.malformed == 1 and counts.skipped == {"chat file not an array": 1}


def test_nothing_is_written_to_codebuffs_files(data: Path, tmp_path: Path) -> None:
    files = [p for p in data.rglob("*") if p.is_file()]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data / "manicode", data / "manicode-dev")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("codebuff-parity")
    shutil.copytree(FIXTURES, tmp / "data", ignore=shutil.ignore_patterns("*.md"))
    env = env_for(tmp, tmp / "no-claude")
    env = {k: v for k, v in env.items() if not k.startswith("CODEBUFF_")}
    env["CODEBUFF_DATA_DIR"] = f"{tmp}/data/manicode,{tmp}/data/manicode-dev"
    theirs = run_json([str(ccusage_bin()), "codebuff", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "codebuff", "--timezone",
                                 "UTC", "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_tokens_and_cost_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens and cost per day as ccusage's; output differs by
    the 200 tokens of m-2's total beyond its parts (ccusage: total and cost only)."""
    ours, theirs = both
    assert [d["date"] for d in ours["daily"]] == \
        ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
    assert [d["date"] for d in ours["daily"]] == [d["date"] for d in theirs["daily"]]
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, a["date"]
        assert a["outputTokens"] == b["totalTokens"] - b["inputTokens"] \
            - b["cacheCreationTokens"] - b["cacheReadTokens"], a["date"]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]
        assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), a["date"]
    assert ours["totals"]["outputTokens"] - theirs["totals"]["outputTokens"] == 200
    assert theirs["totals"]["credits"] == 5.25  # Codebuff's credits: ccusage's column only
