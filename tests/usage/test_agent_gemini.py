"""Gemini CLI (``store/usage/agents/gemini.py``): its chat recordings into the store, and
the daily report against ccusage's on the same files.

Fixtures (``fixtures/gemini``, see its README): ccusage's own adapter test lines
(ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/gemini/loader.rs``), a legacy
session document (littlebearapps/token-audit
``examples/gemini-cli-session/session-sample.json``), and sessions generated in the
shapes google-gemini/gemini-cli ``packages/core/src/services/chatRecordingService.ts``
writes: a message rewritten as it changes, ``$set``/``$rewindTo`` lines, a sub-agent
file, a legacy ``.json`` beside the ``.jsonl`` a resume migrated it into.
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

from tokentop.store.usage.agents import gemini
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "gemini" / "tmp"
CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
MAIN = "tokentop/chats/session-2026-05-18T09-30-3f2a9c1e.jsonl"
LEGACY = "legacy/chats/session-2026-05-16T08-00-7c1d0e2f.json"

# (input without cache, output with thoughts, cache read, reasoning, model) per message
EXPECTED: dict[str, tuple[int, int, int, int, str]] = {
    # ccusage's test: total = input + output + thoughts + tool, so the cache is inside
    "session-a/msg-a": (15327 - 11526 + 7, 23 + 919, 11526, 919, "gemini-3-flash-preview"),
    # token-audit's sample: no cache; then a total with room for the cache (kept apart)
    "example-session-001/msg-002": (125 + 50, 450 + 200, 0, 200, "gemini-2.5-pro"),
    "example-session-001/msg-004": (890 + 150, 1250 + 2500, 125, 2500, "gemini-2.5-pro"),
    # one message written three times (tokens null, tokens, tool calls)
    "3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/b7e8f9a0-0002-4c1e-9f00-000000000002":
        (18244 - 12288, 96 + 412, 12288, 412, "gemini-2.5-pro"),
    "3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/c3d4e5f6-0004-4c1e-9f00-000000000004":
        (24510 - 18176, 388, 18176, 0, "gemini-2.5-pro"),
    "3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/e7f8a9b0-0006-4c1e-9f00-000000000006":
        (31022 + 35, 1204 + 2210, 0, 2210, "gemini-2.5-flash"),
    # no model on the record: the last model an earlier line named
    "3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/f9a0b1c2-0007-4c1e-9f00-000000000007":
        (33410 - 30720, 57 + 120, 30720, 120, "gemini-2.5-flash"),
    "5a6b7c8d-1111-4e22-8a33-9b44c55d66e7/0a1b2c3d-0101-4c1e-9f00-000000000101":
        (6120, 211 + 64, 0, 64, "gemini-2.5-flash"),
    # in the legacy .json AND its migrated .jsonl: one event
    "7c1d0e2f-2222-4b33-8c44-0d55e66f7788/11112222-aaaa-4bbb-8ccc-000000000002":
        (9120, 40 + 150, 0, 150, "gemini-2.5-pro"),
    "7c1d0e2f-2222-4b33-8c44-0d55e66f7788/11112222-aaaa-4bbb-8ccc-000000000003":
        (9400 - 8192, 25, 8192, 0, "gemini-2.5-pro"),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A copy of the fixture tree: tests append and rewrite, the fixtures stay."""
    shutil.copytree(FIXTURES, tmp_path / "tmp")
    return tmp_path / "tmp"


def agents(root: Path) -> list:
    return [dataclasses.replace(a, roots=lambda: [root]) for a in gemini.AGENTS]


def collect(store: UsageStore, tmp: Path, root: Path):  # type: ignore[no-untyped-def]
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=agents(root))


def events(store: UsageStore) -> dict[str, tuple[int, int, int, int, str]]:
    rows = store.conn.execute(
        "SELECT message_id, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens,"
        " model_raw FROM usage_events WHERE agent_name = 'gemini_cli'").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_message_once_with_the_cache_and_thoughts_split(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    before = snapshot(home)
    r = collect(store, tmp_path, home)
    assert events(store) == EXPECTED
    counts = r.agents["gemini"]
    assert counts.malformed == 1  # the line cut short; logs.json is an array, not an error
    assert counts.files == 7  # 4 .jsonl + 3 .json
    row = store.conn.execute(
        "SELECT session_id, workspace_id, provider_id, total_tokens,"
        " occurred_at FROM usage_events WHERE message_id = ?",
        ("3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/b7e8f9a0-0002-4c1e-9f00-000000000002",)
    ).fetchone()
    assert row == ("3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c",
                   "9b1c4e7a2d5f8e0b3a6c9d2f5e8b1a4c7d0e3f6a9b2c5d8e1f4a7b0c3d6e9f2a",
                   "google", 5956 + 508 + 12288, "2026-05-18T09:30:19.402000000Z")
    assert snapshot(home) == before  # nothing of Gemini CLI's is written


def test_a_second_run_reads_nothing_new(store: UsageStore, tmp_path: Path, home: Path) -> None:
    collect(store, tmp_path, home)
    again = collect(store, tmp_path, home)
    assert again.bytes_read == 0 and again.ingest.inserted == 0
    assert events(store) == EXPECTED


def test_a_message_rewritten_as_it_changes_counts_once(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    collect(store, tmp_path, home)
    log = home / MAIN
    msg = {"id": "aaaa0000-0008-4c1e-9f00-000000000008", "timestamp": "2026-05-19T07:20:00.000Z",
           "type": "gemini", "content": "", "thoughts": [], "tokens": None}
    with log.open("a") as fh:  # recordMessage: no tokens yet, and no model of its own
        fh.write(json.dumps(msg) + "\n")
    first = collect(store, tmp_path, home)
    assert first.ingest.inserted == 0 and first.bytes_read > 0
    tokens = {"input": 40000, "output": 10, "cached": 32768, "thoughts": 5, "tool": 0,
              "total": 40015}
    with log.open("a") as fh:  # recordMessageTokens, then recordToolCalls: same id twice
        fh.write(json.dumps(dict(msg, tokens=tokens)) + "\n")
        fh.write(json.dumps(dict(msg, tokens=tokens, toolCalls=[{"id": "t1"}])) + "\n")
        fh.write(json.dumps({"$set": {"lastUpdated": "2026-05-19T07:20:01.000Z"}}) + "\n")
    second = collect(store, tmp_path, home)
    assert second.ingest.inserted == 1
    got = events(store)
    # the model came from an earlier line: the parser resumed mid-file (prime)
    assert got["3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/" + msg["id"]] == (
        40000 - 32768, 15, 32768, 5, "gemini-2.5-flash")
    assert len(got) == len(EXPECTED) + 1


def test_a_legacy_document_rewritten_in_place_adds_only_the_new_message(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    collect(store, tmp_path, home)
    path = home / LEGACY
    doc = json.loads(path.read_text())
    doc["messages"].append({"id": "11112222-aaaa-4bbb-8ccc-000000000009",
                            "timestamp": "2026-05-16T09:00:00.000Z", "type": "gemini",
                            "content": "More.", "model": "gemini-2.5-pro",
                            "tokens": {"input": 100, "output": 7, "cached": 0, "thoughts": 0,
                                       "tool": 0, "total": 107}})
    path.write_text(json.dumps(doc, indent=2))
    r = collect(store, tmp_path, home)
    assert r.ingest.inserted == 1 and r.agents["gemini"].files_read == 1
    assert events(store)["7c1d0e2f-2222-4b33-8c44-0d55e66f7788/"
                         "11112222-aaaa-4bbb-8ccc-000000000009"] == (
        100, 7, 0, 0, "gemini-2.5-pro")


def test_malformed_input_is_counted_and_skipped(
        store: UsageStore, tmp_path: Path, home: Path) -> None:
    (home / "broken" / "chats").mkdir(parents=True)
    (home / "broken" / "chats" / "session-x.json").write_text('{"sessionId": "x", "messa')
    (home / "broken" / "chats" / "session-y.jsonl").write_text(
        'not json at all\n{"sessionId":"y"}\n["an", "array"]\n'
        '{"id":"n","type":"gemini","model":"  ","tokens":{"input":5,"output":1}}\n'
        '{"id":"m","type":"gemini","model":"gemini-2.5-pro","tokens":"many"}\n'
        '{"id":"z","timestamp":"2026-05-20T00:00:00Z","type":"gemini",'
        '"model":"gemini-2.5-pro","tokens":{"input":0,"output":0,"total":0}}\n'
        '{"id":"o","timestamp":"2026-05-20T00:00:00Z","type":"gemini",'
        '"model":"gemini-2.5-pro","tokens":{"input":5,"output":1}}\n')
    r = collect(store, tmp_path, home)
    assert r.agents["gemini"].malformed == 3  # the cut line, the cut .json, "not json"
    got = events(store)
    assert got["y/o"] == (5, 1, 0, 0, "gemini-2.5-pro")
    assert not {"y/m", "y/n", "y/z"} & set(got)  # no tokens, no model yet, all zero


def test_a_missing_directory_is_no_error(store: UsageStore, tmp_path: Path) -> None:
    r = collect(store, tmp_path, tmp_path / "no-such-dir")
    assert r.agents["gemini"].files == 0 and r.ingest.inserted == 0


def test_where_gemini_keeps_its_chats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GEMINI_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert gemini.roots() == [tmp_path / ".gemini" / "tmp"]
    monkeypatch.setenv("GEMINI_DATA_DIR", f" {tmp_path}/a , ,{tmp_path}/b,{tmp_path}/a")
    assert gemini.roots() == [tmp_path / "a", tmp_path / "b"]
    assert {a.name for a in gemini.AGENTS} == {"gemini"}
    assert {a.system for a in gemini.AGENTS} == {"gemini_cli"}


# --- parity with the pinned ccusage



@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """(tokentop's, ccusage's) ``daily --json`` on the fixture tree, by day."""
    if not CCUSAGE.exists():
        pytest.fail("ccusage is not installed: run tests/support/install_ccusage.sh",
                    pytrace=False)
    tmp = tmp_path_factory.mktemp("gemini-parity")
    shutil.copytree(FIXTURES, tmp / "tmp")
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATA_DIR")}
    env.update(HOME=str(tmp / "home"), GEMINI_DATA_DIR=str(tmp / "tmp"), TZ="UTC",
               XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "data"), NO_COLOR="1")
    theirs = run_json([str(CCUSAGE), "gemini", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    ours = run_json([sys.executable, "-c", code, "daily", "--json", "--source", "gemini",
                     "--store", str(tmp / "usage.db"), "--timezone", "UTC"], env, ROOT)
    return ({d["date"]: d for d in ours["daily"]}, {d["date"]: d for d in theirs["daily"]})


def thoughts(day: dict) -> int:
    """What ccusage adds to ``totalTokens`` beyond its four columns: the thoughts."""
    return (day["totalTokens"] - day["inputTokens"] - day["outputTokens"]
            - day["cacheReadTokens"] - day["cacheCreationTokens"])


# ccusage counts the message a resume copied from session-*.json into session-*.jsonl
# twice; tokentop once. Both numbers, that day:
LEGACY_DAY = "2026-05-16"
LEGACY_THEIRS = {"inputTokens": 19448, "outputTokens": 105, "cacheReadTokens": 8192,
                 "totalTokens": 28045, "totalCost": 0.029384}
LEGACY_OURS = {"inputTokens": 9120 + 1208, "outputTokens": 190 + 25, "cacheReadTokens": 8192,
               "totalTokens": 9120 + 1208 + 215 + 8192}


def test_parity_same_days(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    assert sorted(ours) == sorted(theirs) == [
        "2025-12-03", LEGACY_DAY, "2026-05-17", "2026-05-18", "2026-05-19"]


def test_parity_tokens_per_day(reports: tuple[dict, dict]) -> None:
    """Input, cache and total equal; tokentop's output is ccusage's plus the thoughts
    (ccusage shows them in the total only; tokentop's output includes reasoning)."""
    ours, theirs = reports
    for day, t in theirs.items():
        o = ours[day]
        if day == LEGACY_DAY:
            assert {k: t[k] for k in LEGACY_THEIRS if k != "totalCost"} == {
                k: v for k, v in LEGACY_THEIRS.items() if k != "totalCost"}
            assert {k: o[k] for k in LEGACY_OURS} == LEGACY_OURS
            continue
        for key in ("inputTokens", "cacheReadTokens", "cacheCreationTokens", "totalTokens"):
            assert o[key] == t[key], (day, key)
        assert o["outputTokens"] == t["outputTokens"] + thoughts(t), day
        assert thoughts(o) == 0


def test_parity_cost_per_day(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    for day, t in theirs.items():
        o = ours[day]
        if day == LEGACY_DAY:  # one copy fewer: the copied message's cost fewer
            assert t["totalCost"] == pytest.approx(LEGACY_THEIRS["totalCost"], rel=1e-9)
            assert o["totalCost"] < t["totalCost"]
            continue
        assert o["totalCost"] == pytest.approx(t["totalCost"], rel=0.005), day
        for m in t["modelBreakdowns"]:
            mine = next(x for x in o["modelBreakdowns"] if x["modelName"] == m["modelName"])
            assert mine["cost"] == pytest.approx(m["cost"], rel=0.005), (day, m["modelName"])


@pytest.mark.parametrize("scan", [1 << 20, 100])
def test_resuming_a_long_session_finds_the_last_model(
        store: UsageStore, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
        scan: int) -> None:
    """Past ``PRIME_SCAN`` bytes the model is found reading backwards (small blocks here,
    so lines straddle them); the session still comes from the metadata line."""
    monkeypatch.setattr(gemini, "PRIME_SCAN", scan)
    monkeypatch.setattr(gemini, "PRIME_BLOCK", 64)
    collect(store, tmp_path, home)
    log = home / MAIN
    with log.open("a") as fh:
        fh.write(json.dumps({"id": "u9", "type": "user", "content": "x" * 300}) + "\n")
        fh.write(json.dumps({"id": "g8", "timestamp": "2026-05-19T08:00:00.000Z",
                             "type": "gemini", "model": "gemini-3-flash-preview",
                             "content": "y" * 200, "tokens": None}) + "\n")
    collect(store, tmp_path, home)
    with log.open("a") as fh:  # tokens arrive for a message that names no model
        fh.write(json.dumps({"id": "g9", "timestamp": "2026-05-19T08:00:05.000Z",
                             "type": "gemini", "content": "z",
                             "tokens": {"input": 10, "output": 2, "cached": 0,
                                        "thoughts": 0, "tool": 0, "total": 12}}) + "\n")
    assert collect(store, tmp_path, home).ingest.inserted == 1
    assert events(store)["3f2a9c1e-6b7d-4e21-9a0c-5d8e7f1a2b3c/g9"] == (
        10, 2, 0, 0, "gemini-3-flash-preview")
