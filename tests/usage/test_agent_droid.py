"""Factory Droid (``store/usage/agents/droid.py``): one cumulative total per session.

Fixtures (tests/usage/fixtures/droid, sources in its README.md):
- ``sessions/ccusage/``: ccusage's own Droid adapter tests, verbatim
  (ccusage/ccusage ``rust/crates/ccusage/src/adapter/droid/loader.rs``: a bracketed
  model name, a zero-token file, a model only in the sidecar ``.jsonl``, and an
  ``archive/`` copy of a session with an older, smaller total);
- ``sessions/-Users-vlaro-code-aBeautifulMine/``: a real settings file published in
  VincentLaRocca/aBeautifulMine ``PATTERN_13_FINDINGS_DROID_WRAPPER.md`` (no model,
  provider ``generic-chat-completion-api``);
- ``sessions/-home-u-work-api/``: generated in Droid's current layout (``custom:``
  model with thinking tokens, a ``+02:00`` lock time, ``totalTokens`` beyond the parts
  with and without output);
- ``cases/broken.settings.json``: a half-written file (ccusage stops on it; tokentop
  counts it and reads the rest), so it is kept out of the parity corpus.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents.droid import DROID, normalize_model, roots
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "droid"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")


def agent_at(*dirs: Path):  # type: ignore[no-untyped-def]
    return dataclasses.replace(DROID, roots=lambda: list(dirs))


def collect(store: UsageStore, tmp: Path, *dirs: Path):  # type: ignore[no-untyped-def]
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent_at(*dirs)])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT session_id, substr(occurred_at, 1, 19), model_raw, provider_id,"
        " input_tokens, output_tokens, reasoning_tokens, cache_write_tokens,"
        " cache_read_tokens, message_id, workspace_id FROM usage_events"
        " WHERE agent_name = 'droid'")}


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    target = tmp_path / "sessions"
    shutil.copytree(FIXTURES / "sessions", target)
    return target


def test_model_names_are_normalized_as_ccusage_does() -> None:
    assert normalize_model("custom:Claude-Opus-4.5-Thinking-[Anthropic]-0") == \
        "claude-opus-4-5-thinking-0"
    assert normalize_model("Claude-Sonnet-4-[Anthropic]") == "claude-sonnet-4"
    assert normalize_model("gemini-2.5-pro") == "gemini-2-5-pro"


def test_env_variable_takes_comma_separated_directories(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DROID_SESSIONS_DIR", f" {tmp_path}/a, ,{tmp_path}/b,{tmp_path}/a")
    assert roots() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("DROID_SESSIONS_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert roots() == [tmp_path / ".factory" / "sessions"]


def test_one_event_per_session_with_its_latest_total(sessions: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, sessions)
        got = rows(store)
    counts = report.agents["droid"]
    assert counts.files == 9 and counts.skipped == {"no token usage": 1}  # zero.settings
    assert got["session-a"] == ("2026-05-01T01:02:03", "claude-sonnet-4", "anthropic",
                                100, 55, 5, 20, 10, "droid:session-a", None)
    # the model only in the sidecar transcript
    assert got["session-b"][1:3] == ("claude-opus-4-5-thinking", "anthropic")
    # the archive copy (05-01, 10/20) and the live file (05-02, 100/200): one event
    assert got["session-c"][:6] == ("2026-05-02T01:02:03", "gpt-5", "openai", 100, 200, 0)
    # no model, an unknown provider: ccusage's placeholder name, the provider as written
    assert got["7b1e2f0a-5c2d-4f7e-9a51-0d3c2b8e6f14"][1:3] == (
        "unknown", "generic_chat_completion_api")
    s = got["0f6f1f7e-2a63-4d8a-b7a9-3c1e5d2a9b01"]
    assert s[1] == "claude-opus-4-5-thinking-0" and s[3:8] == (
        286905, 32652 + 10176, 10176, 120400, 10505600)
    # totalTokens beyond the parts: to output when output is 0, else to thinking
    assert got["9a3222f3-b4e8-4126-8cc5-bca9399fe37a"][:6] == (
        "2026-05-03T06:00:00", "gpt-5-1-codex", "openai", 51230, 15826, 0)
    assert got["5d1c9e77-0b6e-4c55-8f0e-7a4b3e2d1c90"][2:6] == ("anthropic", 1200, 1300, 500)
    assert len(got) == 7


def test_a_second_run_reads_nothing_and_a_growing_total_replaces_the_old(
        sessions: Path, tmp_path: Path) -> None:
    live = sessions / "ccusage" / "session-a.settings.json"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
        again = collect(store, tmp_path, sessions)
        assert again.bytes_read == 0 and again.ingest.inserted == 0

        doc = json.loads(live.read_text())
        doc["tokenUsage"].update(inputTokens=400, outputTokens=90)  # the session went on
        live.write_text(json.dumps(doc))
        third = collect(store, tmp_path, sessions)
        assert third.ingest.inserted == 0 and third.ingest.enriched == 1
        assert rows(store)["session-a"][3:5] == (400, 95)
        total = store.conn.execute(
            "SELECT COUNT(*), SUM(input_tokens) FROM usage_events WHERE agent_name = 'droid'"
            " AND session_id = 'session-a'").fetchone()
        assert total == (1, 400)  # never 100 + 400


def test_a_copy_in_a_second_root_counts_once(sessions: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copy(sessions / "ccusage" / "archive" / "session-c.settings.json", backup)
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, backup)  # the old, smaller copy first
        assert rows(store)["session-c"][3:5] == (10, 20)
        collect(store, tmp_path, backup, sessions)
        assert rows(store)["session-c"][:5] == ("2026-05-02T01:02:03", "gpt-5", "openai",
                                                100, 200)
        assert store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE"
                                  " session_id = 'session-c'").fetchone() == (1,)


def test_malformed_files_are_counted_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    root.mkdir()
    shutil.copy(FIXTURES / "cases" / "broken.settings.json", root)
    (root / "list.settings.json").write_text("[1, 2]")
    shutil.copy(FIXTURES / "sessions" / "ccusage" / "session-a.settings.json", root)
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, root, tmp_path / "missing")
        assert set(rows(store)) == {"session-a"}
    counts = report.agents["droid"]
    assert counts.malformed == 1
    assert counts.skipped == {"settings file not an object": 1}


def test_without_a_lock_time_the_file_mtime_dates_the_session(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    root.mkdir()
    f = root / "s-1.settings.json"
    f.write_text('{"model": "gpt-5", "providerLockTimestamp": "2026-05-01 01:02:03",'
                 ' "tokenUsage": {"inputTokens": 7, "outputTokens": 3}}')
    when = datetime(2026, 4, 30, 23, 59, 58, 250000, tzinfo=UTC).timestamp()
    os.utime(f, (when, when))
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, root)
        assert store.conn.execute("SELECT occurred_at FROM usage_events").fetchone()[0] \
            .startswith("2026-04-30T23:59:58.25")


def test_nothing_is_written_to_droids_files(sessions: Path, tmp_path: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sessions.rglob("*")
              if p.is_file()}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sessions.rglob("*")
             if p.is_file()}
    assert after == before


# --- parity with the pinned ccusage: ``ccusage droid daily`` on the same files


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("droid-parity")
    corpus = tmp / "sessions"
    shutil.copytree(FIXTURES / "sessions", corpus)
    env = env_for(tmp, tmp / "no-claude")
    env = {k: v for k, v in env.items() if not k.startswith("DROID_")}
    env["DROID_SESSIONS_DIR"] = str(corpus)
    theirs = run_json([str(ccusage_bin()), "droid", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "droid", "--timezone", "UTC",
                                 "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_days_and_tokens_per_day(both: tuple[dict, dict]) -> None:
    """Input, cache and total tokens per day exactly ccusage's. Output differs by
    design: ccusage's ``outputTokens`` leaves Droid's thinking tokens out (its total and
    cost put them back in); tokentop's includes them, so it is ccusage's total minus
    the other parts."""
    ours, theirs = both
    assert [d["date"] for d in ours["daily"]] == \
        ["2025-11-04", "2026-05-01", "2026-05-02", "2026-05-03"]
    assert [d["date"] for d in ours["daily"]] == [d["date"] for d in theirs["daily"]]
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, a["date"]
        assert a["outputTokens"] == b["totalTokens"] - b["inputTokens"] \
            - b["cacheCreationTokens"] - b["cacheReadTokens"], a["date"]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), a["date"]
    assert {k: ours["totals"][k] for k in TOKEN_KEYS} == \
        {k: theirs["totals"][k] for k in TOKEN_KEYS}
    # the thinking tokens (5 + 10,176 + 500) are the only output difference
    assert ours["totals"]["outputTokens"] - theirs["totals"]["outputTokens"] == 10_681


@pytest.mark.parametrize("day", [
    "2025-11-04", "2026-05-01", "2026-05-02",
    "2026-05-03",
])
def test_parity_cost_per_day(both: tuple[dict, dict], day: str) -> None:
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == day)
    b = next(d for d in theirs["daily"] if d["date"] == day)
    assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), day


def test_parity_unpriced_models(both: tuple[dict, dict]) -> None:
    ours, theirs = both
    assert sorted(ours["totals"].get("unpricedModels", [])) == \
        sorted(theirs["totals"].get("unpricedModels", [])) == ["unknown"]
