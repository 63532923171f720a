"""Qwen Code (``store/usage/agents/qwen.py``): its chat recordings into the store, and the
daily report against ccusage's on the same files.

Fixtures (``fixtures/qwen``, see its README): ccusage's own adapter test record
(ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/qwen/parser.rs``) and sessions in
the ``ChatRecord`` shape of QwenLM/qwen-code
``packages/core/src/services/chatRecordingService.ts``, usage as
``packages/core/src/core/openaiContentGenerator/converter.ts`` records it, plus a
``/branch`` copy of a session and a sub-agent file below ``chats/``.

ccusage counts the cached tokens twice (promptTokenCount includes them and it adds
cachedContentTokenCount again), an OpenAI-compatible provider's reasoning twice
(candidatesTokenCount includes it and it adds thoughtsTokenCount again) and a
``/branch`` copy twice. tokentop counts each once; the parity test states both numbers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from test_ccusage_parity import run_json

from tokentop.store.usage.agents import qwen
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "qwen" / "qwen"
CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
CHATS = "projects/-home-dev-tokentop/chats"
SID = "6e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
FORK = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
CWD = "/home/dev/tokentop"

# message id -> (session, input without cache, output, cache read, reasoning, model)
EXPECTED: dict[str, tuple[str, int, int, int, int, str]] = {
    # OpenAI-compatible: the cache inside the prompt, the reasoning inside the candidates
    "0c9a5f1e-0002-4d2a-9b3c-000000000002": (SID, 21034 - 18432, 512, 18432, 188,
                                             "qwen3-coder-plus"),
    "0c9a5f1e-0004-4d2a-9b3c-000000000004": (SID, 26870 - 20992, 903, 20992, 0,
                                             "qwen3-coder-plus"),
    # Gemini's own API: the thoughts apart from the candidates, inside the total
    "0c9a5f1e-0006-4d2a-9b3c-000000000006": (SID, 9000, 300 + 700, 0, 700,
                                             "gemini-2.5-flash"),
    # ccusage's test record: no uuid, only a total (all output, as ccusage counts it)
    "~2026-01-02T00:00:00.000Z|qwen3-coder|0|0|0|0|321": ("session-a", 0, 321, 0, 0,
                                                          "qwen3-coder"),
    # new on the branch (its copies of 0002 and 0004 are the original's events)
    "7a7a7a7a-0008-4d2a-9b3c-000000000008": (FORK, 28410 - 26624, 233, 26624, 0,
                                             "qwen3-coder-plus"),
    "7a7a7a7a-0010-4d2a-9b3c-000000000010": (FORK, 5000, 200, 0, 0, "qwen3-coder-plus"),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "qwen")
    return tmp_path / "qwen"


def collect(store: UsageStore, tmp: Path, data: Path):  # type: ignore[no-untyped-def]
    agent = dataclasses.replace(qwen.QWEN, roots=lambda: [data / "projects"])
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def events(store: UsageStore) -> dict[str, tuple[str, int, int, int, int, str]]:
    rows = store.conn.execute(
        "SELECT message_id, session_id, input_tokens, output_tokens, cache_read_tokens,"
        " reasoning_tokens, model_raw FROM usage_events WHERE agent_name = 'qwen_code'"
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_call_once_cache_and_reasoning_once(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    before = snapshot(home)
    r = collect(store, tmp_path, home)
    assert events(store) == EXPECTED
    counts = r.agents["qwen"]
    assert counts.files == 3 and counts.malformed == 1  # the line cut short
    assert counts.usage_lines == 8  # 6 events + the branch's copies of 2 of them
    row = store.conn.execute(
        "SELECT workspace_id, provider_id, occurred_at, total_tokens FROM usage_events"
        " WHERE message_id = '0c9a5f1e-0002-4d2a-9b3c-000000000002'").fetchone()
    assert row == (CWD, None, "2026-06-01T08:15:09.870000000Z", 21034 + 512)
    assert snapshot(home) == before  # nothing of Qwen Code's is written


def test_a_second_run_reads_nothing_new(store: UsageStore, tmp_path: Path, home: Path) -> None:
    collect(store, tmp_path, home)
    again = collect(store, tmp_path, home)
    assert again.bytes_read == 0 and again.ingest.inserted == 0


def test_an_appended_record_is_picked_up_once(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    collect(store, tmp_path, home)
    rec = {"uuid": "0c9a5f1e-0011-4d2a-9b3c-000000000011", "sessionId": SID, "cwd": CWD,
           "timestamp": "2026-06-04T12:00:00.000Z", "type": "assistant",
           "model": "qwen3-coder-plus",
           "usageMetadata": {"promptTokenCount": 30000, "candidatesTokenCount": 40,
                             "totalTokenCount": 30040, "cachedContentTokenCount": 29000}}
    log = home / CHATS / f"{SID}.jsonl"
    with log.open("a") as fh:
        fh.write(json.dumps(rec) + "\n")
    r = collect(store, tmp_path, home)
    assert r.ingest.inserted == 1
    assert events(store)[rec["uuid"]] == (SID, 1000, 40, 29000, 0, "qwen3-coder-plus")
    with log.open("a") as fh:  # the same record again (a retried write): no new event
        fh.write(json.dumps(rec) + "\n")
    assert collect(store, tmp_path, home).ingest.inserted == 0
    # a second branch of the session: the copy keeps the original's event
    fork = dict(rec, sessionId="b2b2b2b2-0000-4000-8000-000000000000",
                forkedFrom={"sessionId": SID, "messageUuid": rec["uuid"]})
    (home / CHATS / "b2b2b2b2-0000-4000-8000-000000000000.jsonl").write_text(
        json.dumps(fork) + "\n")
    assert collect(store, tmp_path, home).ingest.inserted == 0
    assert len(events(store)) == len(EXPECTED) + 1


def test_malformed_and_foreign_lines_are_skipped(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    (home / CHATS / "odd.jsonl").write_text(
        'garbage\n{"type":"assistant","usageMetadata":{"promptTokenCount":1\n'
        '{"type":"user","usageMetadata":{"promptTokenCount":5}}\n'
        '{"type":"assistant","usageMetadata":{"promptTokenCount":0,"totalTokenCount":0}}\n'
        '{"type":"assistant","usageMetadata":{"promptTokenCount":7.5}}\n'
        '{"type":"assistant","timestamp":"x","usageMetadata":7}\n'
        '{"uuid":"ok","type":"assistant","timestamp":"2026-06-05T00:00:00Z",'
        '"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,'
        '"totalTokenCount":12}}\n')
    r = collect(store, tmp_path, home)
    assert r.agents["qwen"].malformed == 3  # the fixture's cut line, garbage, cut JSON
    got = events(store)
    assert got["ok"] == ("-home-dev-tokentop-odd", 10, 2, 0, 0, "unknown")
    assert len(got) == len(EXPECTED) + 1  # user record, zeros, a float, a non-object: none


def test_only_chat_files_and_no_error_without_a_directory(
        store: UsageStore, tmp_path: Path) -> None:
    r = collect(store, tmp_path, tmp_path / "no-such-dir")
    assert r.agents["qwen"].files == 0 and r.ingest.inserted == 0
    assert qwen.is_chat_file(Path("/h/.qwen/projects/p/chats/s.jsonl"))
    assert not qwen.is_chat_file(Path("/h/.qwen/projects/p/chats/s/subagents/a.jsonl"))
    assert not qwen.is_chat_file(Path("/h/.qwen/projects/p/s.jsonl"))


def test_where_qwen_keeps_its_chats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QWEN_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert qwen.roots() == [tmp_path / ".qwen" / "projects"]
    monkeypatch.setenv("QWEN_DATA_DIR", f"{tmp_path}/a, {tmp_path}/b ,")
    assert qwen.roots() == [tmp_path / "a" / "projects", tmp_path / "b" / "projects"]


@pytest.mark.parametrize(("usage", "want"), [
    # (prompt, candidates, thoughts, cached, total) -> (input, cache read, output)
    ((1000, 50, 20, 800, 1050), (200, 800, 50)),  # OpenAI: all inside
    ((1000, 50, 20, 800, 1070), (200, 800, 70)),  # Gemini: thoughts apart
    ((200, 50, 0, 800, 1050), (200, 800, 50)),  # the total has room for the cache too
    ((1000, 50, 20, 0, 0), (1000, 0, 70)),  # no total: as ccusage, thoughts apart
    ((0, 0, 0, 0, 321), (0, 0, 321)),  # only a total: all output
    ((1000, 50, 0, 0, 1100), (1000, 0, 100)),  # a total beyond the parts: output
])
def test_each_token_once(usage: tuple[int, ...], want: tuple[int, int, int]) -> None:
    assert qwen.split(*usage) == want


# --- parity with the pinned ccusage



@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """(tokentop's, ccusage's) ``daily --json`` on the fixture tree, by day."""
    if not CCUSAGE.exists():
        pytest.fail("ccusage is not installed: run tests/support/install_ccusage.sh",
                    pytrace=False)
    tmp = tmp_path_factory.mktemp("qwen-parity")
    shutil.copytree(FIXTURES, tmp / "qwen")
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATA_DIR")}
    env.update(HOME=str(tmp / "home"), QWEN_DATA_DIR=str(tmp / "qwen"), TZ="UTC",
               XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "data"), NO_COLOR="1")
    theirs = run_json([str(CCUSAGE), "qwen", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    ours = run_json([sys.executable, "-c", code, "daily", "--json", "--source", "qwen",
                     "--store", str(tmp / "usage.db"), "--timezone", "UTC"], env, ROOT)
    return ({d["date"]: d for d in ours["daily"]}, {d["date"]: d for d in theirs["daily"]})


COLUMNS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens",
           "totalTokens")
SAME = {  # days whose every call is counted alike: no cache, no reasoning, no branch
    "2026-01-02": (0, 321, 0, 0, 321),
    "2026-06-03": (5000, 200, 0, 0, 5200),
}
# day -> (ccusage's columns, tokentop's columns)
DIFFERENT = {
    # 2 calls with cache (18432, 20992) and reasoning (188) inside, each also on the
    # branch: ccusage 4 calls with cache and reasoning twice; tokentop 2 calls, once
    "2026-06-01": ((95808, 2830, 78848, 0, 177862), (8480, 1415, 39424, 0, 49319)),
    # a Gemini-API call (same total both) and a branch call with 26624 cached
    "2026-06-02": ((37410, 533, 26624, 0, 65267), (10786, 1233, 26624, 0, 38643)),
}


def test_parity_same_days(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    assert sorted(ours) == sorted(theirs) == sorted([*SAME, *DIFFERENT])


def test_parity_tokens_per_day(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    for day, want in SAME.items():
        assert tuple(theirs[day][k] for k in COLUMNS) == want, day
        assert tuple(ours[day][k] for k in COLUMNS) == want, day
    for day, (cc, tt) in DIFFERENT.items():
        assert tuple(theirs[day][k] for k in COLUMNS) == cc, day
        assert tuple(ours[day][k] for k in COLUMNS) == tt, day


def test_parity_cost_of_a_model_both_price_alike(reports: tuple[dict, dict]) -> None:
    """gemini-2.5-flash on 2026-06-02: the same call, the same tokens in total."""
    ours, theirs = reports
    mine = {m["modelName"]: m["cost"] for m in ours["2026-06-02"]["modelBreakdowns"]}
    cc = {m["modelName"]: m["cost"] for m in theirs["2026-06-02"]["modelBreakdowns"]}
    assert mine["gemini-2.5-flash"] == pytest.approx(cc["gemini-2.5-flash"], rel=0.005)
    for day in DIFFERENT:  # each token once never costs more than ccusage's count
        assert ours[day]["totalCost"] < theirs[day]["totalCost"]


def test_parity_cost_per_day_where_tokens_agree(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    for day in SAME:
        assert ours[day]["totalCost"] == pytest.approx(theirs[day]["totalCost"], rel=0.005)
