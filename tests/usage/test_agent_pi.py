"""The pi collector on pi's own sessions, and against the pinned ccusage.

Fixtures (tests/usage/fixtures/pi/README.md): two real sessions from badlogic/pi-mono
``packages/coding-agent/test/fixtures/`` (``large-session.jsonl`` whole, and part of
``before-compaction.jsonl``), plus a generated v3 session and a branch of it that copies
one priced answer from its parent.

The figures for the real sessions were checked with ccusage 20.0.24
(``ccusage pi daily --json --offline --timezone UTC``); the parity test runs it again.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tokentop.store.usage.agents import pi as pi_mod
from tokentop.store.usage.agents.pi import PI
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "pi"
ROOT = Path(__file__).resolve().parents[2]
CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
PROJECT = "--Users-badlogic-workspaces-pi-mono--"
PARENT = "2026-03-01T09-59-58-120Z_5b0c8a52-3f1e-4c7a-9d1e-7a2f64b1c0de.jsonl"
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")

# (input, output, cache write, cache read, cost) per UTC day, each message once.
# The real days are ccusage 20.0.24's figures to the token; cost is pi's own.
EXPECTED: dict[str, tuple[int, int, int, int, float]] = {
    "2025-11-20": (100, 8570, 126658, 865735, 0.863538),
    "2025-11-21": (949, 74586, 4169574, 42363734, 29.46666),
    "2025-12-08": (99, 4442, 249723, 2646829, 2.995728),
    "2025-12-09": (84, 21891, 114569, 2841983, 2.684743),
    "2026-03-01": (1510, 505, 3400, 3400, 0.025875),  # ccusage: 2710, 590, 6800, 3400, 0.0435
    "2026-03-02": (900, 2100, 0, 1536, 0.022317),
}
# When the branch's parentSession path is stale (the sessions directory moved), ccusage
# counts the branch's copy of the parent's first answer again: 1200 input, 85 output,
# 3400 cache write, $0.017625 more. With the path as pi wrote it, ccusage agrees.
CCUSAGE_COPY_DAY = ("2026-03-01", (2710, 590, 6800, 3400, 0.0435))


def sessions_tree(tmp: Path, *, linked: bool = True) -> Path:
    """``<tmp>/sessions`` as pi lays it out: one directory per encoded cwd. ``linked``:
    the branch's ``parentSession`` is its parent's real path, as pi writes it; else the
    committed one, of another machine (a sessions directory moved or synced)."""
    sessions = tmp / "sessions"
    real = sessions / PROJECT
    real.mkdir(parents=True)
    for gz in sorted(FIXTURES.glob("*.jsonl.gz")):
        (real / gz.name[:-3]).write_bytes(gzip.decompress(gz.read_bytes()))
    shutil.copytree(FIXTURES / "generated", sessions, dirs_exist_ok=True)
    if linked:
        branch = next((sessions / "--work-demo--").glob("2026-03-02*.jsonl"))
        lines = branch.read_text().splitlines(keepends=True)
        header = json.loads(lines[0])
        header["parentSession"] = str(sessions / "--work-demo--" / PARENT)
        branch.write_text(json.dumps(header, separators=(",", ":")) + "\n" + "".join(lines[1:]))
    return sessions


def agent(sessions: Path) -> Any:
    return dataclasses.replace(PI, roots=lambda: [sessions])


def collect(store: UsageStore, tmp: Path, sessions: Path) -> Any:
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent(sessions)])


def per_day(store: UsageStore) -> dict[str, tuple[int, int, int, int, float]]:
    rows = store.conn.execute(
        "SELECT substr(occurred_at, 1, 10), SUM(input_tokens), SUM(output_tokens),"
        " SUM(cache_write_tokens), SUM(cache_read_tokens),"
        " SUM(CASE WHEN tokentop_cost_computed = 1 THEN 0 ELSE cost_usd END)"
        " FROM usage_events WHERE agent_name = 'pi' GROUP BY 1 ORDER BY 1").fetchall()
    return {d: (i, o, cw, cr, round(c, 6)) for d, i, o, cw, cr, c in rows}


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_real_sessions_and_a_branch_each_message_once(tmp_path: Path) -> None:
    sessions = sessions_tree(tmp_path)
    before = snapshot(sessions)
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, sessions)
        counts = r.agents["pi"]
        assert counts.files == 4
        assert counts.malformed == 1  # the torn line in the generated parent
        assert counts.skipped == {"no tokens": 16}  # aborted requests (1 generated)
        assert per_day(store) == EXPECTED
        # the branch's copy belongs to the parent session, the branch has its own answer
        owners = dict(store.conn.execute(
            "SELECT session_id, COUNT(*) FROM usage_events"
            " WHERE occurred_at >= '2026' GROUP BY 1").fetchall())
        assert owners == {"5b0c8a52-3f1e-4c7a-9d1e-7a2f64b1c0de": 2,
                          "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a": 1}
        row = store.conn.execute(
            "SELECT workspace_id, provider_id, model_raw FROM usage_events"
            " WHERE occurred_at LIKE '2025-12-09%' LIMIT 1").fetchone()
        assert row == ("/Users/badlogic/workspaces/pi-mono", "anthropic", "claude-opus-4-5")

        again = collect(store, tmp_path, sessions)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
    assert snapshot(sessions) == before  # nothing of pi's is ever written


def _answer(ts: str, entry_id: str, parent: str, i: int, o: int, cost: float) -> str:
    return json.dumps({
        "type": "message", "id": entry_id, "parentId": parent, "timestamp": ts,
        "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}],
                    "api": "anthropic-messages", "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input": i, "output": o, "cacheRead": 0, "cacheWrite": 0,
                              "totalTokens": i + o,
                              "cost": {"input": 0, "output": 0, "cacheRead": 0,
                                       "cacheWrite": 0, "total": cost}},
                    "stopReason": "stop", "timestamp": 0}}, separators=(",", ":"))


def test_appended_message_once_and_a_migrated_rewrite_adds_nothing(tmp_path: Path) -> None:
    sessions = sessions_tree(tmp_path)
    parent = sessions / "--work-demo--" / PARENT
    real = sorted((sessions / PROJECT).glob("*.jsonl"))[0]
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
        with parent.open("a") as fh:
            fh.write(_answer("2026-03-01T11:00:00.000Z", "77777777", "8e9fa0b1", 40, 2, 0.5)
                     + "\n")
        r = collect(store, tmp_path, sessions)
        assert r.ingest.inserted == 1
        assert per_day(store)["2026-03-01"] == (1550, 507, 3400, 3400, 0.525875)

        # pi migrates a v1 file in place (ids added, header versioned): read again, no
        # new event, since a message's key does not depend on its entry id
        lines = real.read_text().splitlines()
        migrated = []
        for n, line in enumerate(lines):
            doc = json.loads(line)
            if doc["type"] == "session":
                doc["version"] = 3
            else:
                doc["id"], doc["parentId"] = f"{n:08x}", f"{n - 1:08x}" if n > 1 else None
            migrated.append(json.dumps(doc, separators=(",", ":")))
        real.write_text("\n".join(migrated) + "\n")
        r = collect(store, tmp_path, sessions)
        assert r.agents["pi"].files_read == 1 and r.ingest.inserted == 0
        assert per_day(store)["2025-11-21"] == EXPECTED["2025-11-21"]


def test_a_branch_read_before_and_after_its_parent_is_attributed_alike(tmp_path: Path) -> None:
    """Resuming a branch file mid-way (prime) keeps its ancestry; a parent named by a
    path that no longer exists is found beside the branch."""
    sessions = sessions_tree(tmp_path, linked=False)
    branch = next((sessions / "--work-demo--").glob("2026-03-02*.jsonl"))
    text = branch.read_text().splitlines(keepends=True)
    branch.write_text("".join(text[:2]))  # header and one entry: no usage yet
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
        branch.write_text("".join(text))  # the rest arrives: resumed from the offset
        r = collect(store, tmp_path, sessions)
        assert r.ingest.inserted == 1 and r.ingest.duplicates + r.ingest.enriched >= 1
        assert per_day(store) == EXPECTED


def test_a_branch_whose_parent_is_gone_owns_its_copies(tmp_path: Path) -> None:
    sessions = sessions_tree(tmp_path, linked=False)
    (sessions / "--work-demo--" / PARENT).unlink()
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
        assert store.conn.execute(
            "SELECT DISTINCT session_id FROM usage_events WHERE occurred_at >= '2026'"
        ).fetchall() == [("9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",)]


def test_a_v1_branch_and_its_present_parent_count_once(tmp_path: Path) -> None:
    """The real v1 branch (``branchedFrom``) with a parent holding the first 100 of its
    entries: each message once. (ccusage 20.0.24 follows only v3's ``parentSession`` and
    counts the 100 twice here: 2025-12-08 198 / 8,884 / 499,446 / 5,293,658 $5.991457,
    2025-12-09 123 / 31,982 / 136,139 / 3,693,653 $3.49786.)"""
    sessions = tmp_path / "sessions"
    d = sessions / PROJECT
    d.mkdir(parents=True)
    gz = next(FIXTURES.glob("2025-12-09*.jsonl.gz"))
    child = d / gz.name[:-3]
    lines = gzip.decompress(gz.read_bytes()).decode().splitlines()
    parent = d / "2025-12-09T00-52-54-397Z_d97339c6-6c10-4827-846b-9ff1d9c3dc37.jsonl"
    header = json.loads(lines[0])
    parent_header = dict(header, id="d97339c6-6c10-4827-846b-9ff1d9c3dc37",
                         timestamp="2025-12-09T00:52:54.397Z")
    del parent_header["branchedFrom"]
    parent.write_text("\n".join([json.dumps(parent_header), *lines[1:101]]) + "\n")
    header["branchedFrom"] = str(parent)
    child.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, sessions)
        assert per_day(store) == {k: EXPECTED[k] for k in ("2025-12-08", "2025-12-09")}


def test_lines_ccusage_skips_are_skipped(tmp_path: Path) -> None:
    d = tmp_path / "sessions" / "p"
    d.mkdir(parents=True)
    ok = _answer("2026-04-01T10:00:00.000Z", "a", "b", 10, 5, 0.1)
    doc = json.loads(ok)
    wrong_type = dict(doc, type="custom_message")
    bad_ts = dict(doc, timestamp="yesterday")
    floats = json.loads(ok)
    floats["message"]["usage"].update(input=10.0, totalTokens=15.0, output=5)
    only_total = json.loads(ok)
    only_total["message"]["usage"] = {"totalTokens": 333}
    user = json.loads(ok)
    user["message"]["role"] = "user"
    lines = [json.dumps(x) for x in (wrong_type, bad_ts, floats, only_total, user)]
    (d / "x_s1.jsonl").write_text("\n".join([*lines, "not json at all"]) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "sessions")
        assert r.agents["pi"].skipped == {"bad timestamp": 1}
        assert r.agents["pi"].malformed == 1
        got = store.conn.execute(
            "SELECT input_tokens, output_tokens,"
            " CASE WHEN tokentop_cost_computed = 1 THEN NULL ELSE cost_usd END, session_id"
            " FROM usage_events"
            " ORDER BY output_tokens").fetchall()
        # a float count is 0 (serde's as_u64); the total fills a missing output
        assert got == [(0, 5, 0.1, "s1"), (0, 333, None, "s1")]


def test_subagent_artifacts_are_not_read(tmp_path: Path) -> None:
    """pi-subagents' transcripts: ccusage 20.0.24 skips the directory (tried on the
    pinned binary with a copy of a real session there)."""
    d = tmp_path / "sessions" / "p" / "subagent-artifacts"
    d.mkdir(parents=True)
    (d / "run1_worker_transcript.jsonl").write_text(
        _answer("2026-04-01T10:00:00.000Z", "a", "b", 10, 5, 0.1) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "sessions")
        assert r.ingest.inserted == 0 and r.agents["pi"].files == 1
        assert r.agents["pi"].skipped == {
            "subagent-artifacts/ transcript (ccusage does not count it)": 1}


def test_missing_directory_is_no_error(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "nowhere")
        assert r.agents["pi"].files == 0 and r.ingest.inserted == 0


def test_roots_follow_ccusage_then_pi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PI_AGENT_DIR", raising=False)
    monkeypatch.delenv("PI_CODING_AGENT_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pi_mod.roots() == [tmp_path / ".pi" / "agent" / "sessions"]
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "agent"))
    assert pi_mod.roots() == [tmp_path / "agent" / "sessions"]
    monkeypatch.setenv("PI_AGENT_DIR", f" {tmp_path}/a , {tmp_path}/b,{tmp_path}/a ")
    assert pi_mod.roots() == [tmp_path / "a", tmp_path / "b"]


# --- parity with the pinned ccusage


def _env(tmp: Path, sessions: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PI_", "CLAUDE_", "CODEX_", "XDG_", "CCUSAGE"))}
    (tmp / "home").mkdir(exist_ok=True)
    env.update(HOME=str(tmp / "home"), PI_AGENT_DIR=str(sessions), TZ="UTC", NO_COLOR="1",
               XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"))
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module", params=["linked", "moved"])
def reports(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, bool]:
    if not CCUSAGE.exists():
        pytest.fail("ccusage is not installed: run tests/support/install_ccusage.sh",
                    pytrace=False)
    tmp = tmp_path_factory.mktemp("pi-parity")
    sessions = sessions_tree(tmp, linked=request.param == "linked")
    env = _env(tmp, sessions)
    theirs = _run([str(CCUSAGE), "pi", "daily", "--json", "--offline", "--timezone", "UTC"],
                  env, tmp)
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    ours = _run([sys.executable, "-c", code, "daily", "--json", "--source", "pi", "--store",
                 str(tmp / "usage.db"), "--timezone", "UTC"], env, ROOT)
    return ours, theirs, request.param == "moved"


def test_parity_tokens_per_day(reports: tuple[dict, dict, bool]) -> None:
    ours, theirs = ({d["date"]: d for d in r["daily"]} for r in reports[:2])
    assert sorted(ours) == sorted(theirs) == sorted(EXPECTED)
    for day, exp in EXPECTED.items():
        assert tuple(ours[day][k] for k in TOKENS) == exp[:4], day
        if reports[2] and day == CCUSAGE_COPY_DAY[0]:  # ccusage counts the copy twice
            assert tuple(theirs[day][k] for k in TOKENS) == CCUSAGE_COPY_DAY[1][:4]
        else:
            assert tuple(theirs[day][k] for k in TOKENS) == exp[:4], day


def test_parity_cost_per_day(reports: tuple[dict, dict, bool]) -> None:
    ours, theirs = ({d["date"]: d for d in r["daily"]} for r in reports[:2])
    for day, exp in EXPECTED.items():
        assert ours[day]["totalCost"] == pytest.approx(exp[4], rel=1e-6), day
        copied = reports[2] and day == CCUSAGE_COPY_DAY[0]
        want = CCUSAGE_COPY_DAY[1][4] if copied else exp[4]
        assert theirs[day]["totalCost"] == pytest.approx(want, rel=0.005), day

