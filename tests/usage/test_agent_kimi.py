"""The Kimi CLI collector on kimi's wire logs, and against the pinned ccusage.

Fixtures (tests/usage/fixtures/kimi/README.md): ccusage's own Kimi test fixtures, and a
generated share directory as kimi-cli writes it (a session, a ``/fork`` of it copying
turn 0 verbatim, a sub-agent's wire). Figures checked with ccusage 20.0.24
(``ccusage kimi daily --json --offline --timezone UTC``); the parity test runs it again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tokentop.store.usage.agents import kimi as kimi_mod
from tokentop.store.usage.agents.kimi import KIMI
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "kimi"
ROOT = Path(__file__).resolve().parents[2]
CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
GROUP = "e8fe62499352db84ffbb31a6ce9eda68"
SOURCE = "0b6f1c2e-2f7a-4d53-9a51-3c1e8f0a9d11"
FORK = "7d2e9a40-81c5-4b6e-a0f3-5e9c2b7d4a18"
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")

# (input, output, cache write, cache read) per UTC day, each step once. ccusage 20.0.24
# agrees except on 2026-04-20, where it counts the fork's copy of turn 0 again.
EXPECTED: dict[str, tuple[int, int, int, int]] = {
    "2026-02-13": (100, 50, 20, 10),
    "2026-04-20": (3759, 798, 0, 33792),  # the session's 4 steps + the sub-agent's
    "2026-04-22": (2048, 1200, 0, 12288),
    "2026-04-23": (4000, 900, 0, 11776),  # the fork's own turn
    "2026-04-24": (1217, 390, 0, 8192),  # Kimi Code's usage.record lines
}
CCUSAGE_COPY_DAY = ("2026-04-20", (6561, 1444, 0, 54784))  # + 2802, 646, 0, 20992


def share_dirs(tmp: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(FIXTURES, tmp / "kimi")
    return tmp / "kimi" / "ccusage", tmp / "kimi" / "share", tmp / "kimi" / "code"


def agent(*shares: Path) -> Any:
    return dataclasses.replace(KIMI, roots=lambda: [s / "sessions" for s in shares])


def collect(store: UsageStore, tmp: Path, *shares: Path) -> Any:
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent(*shares)])


def per_day(store: UsageStore) -> dict[str, tuple[int, int, int, int]]:
    rows = store.conn.execute(
        "SELECT substr(occurred_at, 1, 10), SUM(input_tokens), SUM(output_tokens),"
        " SUM(cache_write_tokens), SUM(cache_read_tokens)"
        " FROM usage_events WHERE agent_name = 'kimi_cli' GROUP BY 1 ORDER BY 1").fetchall()
    return {d: (i, o, cw, cr) for d, i, o, cw, cr in rows}


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_steps_once_fork_copy_once_subagent_counted(tmp_path: Path) -> None:
    a, b, c = share_dirs(tmp_path)
    before = snapshot(tmp_path / "kimi")
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, a, b, c)
        counts = r.agents["kimi"]
        assert counts.files == 6
        assert counts.malformed == 1  # the torn StatusUpdate
        # ccusage's zero line, the null token_usage, the all-zero step, a zero record
        assert counts.skipped == {"no tokens": 4}
        assert per_day(store) == EXPECTED
        rows = store.conn.execute(
            "SELECT DISTINCT session_id, workspace_id, model_raw, provider_id"
            " FROM usage_events ORDER BY 1, 3").fetchall()
        assert rows == [("2026-02-13T11:50:26.420Z", "group", "kimi-k2", "moonshot"),
                        ("2026-04-20T15:25:00.250Z", "/home/u/app", "kimi-for-coding",
                         "moonshot"),
                        ("2026-04-24T03:06:40.000Z", "0f3a", "kimi-for-coding", "moonshot"),
                        ("2026-04-24T03:06:40.000Z", "0f3a", "kimi-k2.6", "moonshot")]
        again = collect(store, tmp_path, a, b, c)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
    assert snapshot(tmp_path / "kimi") == before  # nothing of kimi's is ever written


def _status(ts: float, i: int, o: int, mid: str) -> str:
    return json.dumps({"timestamp": ts, "message": {"type": "StatusUpdate", "payload": {
        "context_usage": 0.1, "context_tokens": 100, "max_context_tokens": 262144,
        "token_usage": {"input_other": i, "output": o, "input_cache_read": 0,
                        "input_cache_creation": 0},
        "message_id": mid, "plan_mode": False, "mcp_status": None}}},
        separators=(",", ":"))


def test_append_once_and_a_later_fork_adds_only_its_own(tmp_path: Path) -> None:
    _, share, _ = share_dirs(tmp_path)
    wire = share / "sessions" / GROUP / SOURCE / "wire.jsonl"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, share)
        with wire.open("a") as fh:
            fh.write(_status(1776816100.5, 11, 7, "chatcmpl-new") + "\n")
        r = collect(store, tmp_path, share)  # resumed from the offset (prime)
        assert r.ingest.inserted == 1
        assert per_day(store)["2026-04-22"] == (2059, 1207, 0, 12288)
        # /undo now: the whole session copied into a new directory, then one new step
        undo = share / "sessions" / GROUP / "c0ffee00-0000-4000-8000-000000000001"
        undo.mkdir()
        (undo / "wire.jsonl").write_bytes(
            wire.read_bytes() + (_status(1776902500.0, 5, 5, "chatcmpl-undo") + "\n").encode())
        r = collect(store, tmp_path, share)
        assert r.ingest.inserted == 1
        assert store.conn.execute(
            "SELECT COUNT(DISTINCT session_id) FROM usage_events").fetchone() == (1,)


def test_resumed_fork_keeps_the_conversation(tmp_path: Path) -> None:
    _, share, _ = share_dirs(tmp_path)
    fork = share / "sessions" / GROUP / FORK / "wire.jsonl"
    full = fork.read_bytes()
    fork.write_bytes(full[: full.index(b"\n", full.index(b"TurnBegin")) + 1])
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, share)
        fork.write_bytes(full)
        collect(store, tmp_path, share)
        assert per_day(store) == {k: v for k, v in EXPECTED.items()
                                  if k not in ("2026-02-13", "2026-04-24")}


def test_timestamps_and_totals_as_ccusage_reads_them(tmp_path: Path) -> None:
    share = tmp_path / "share"
    wire = share / "sessions" / "g" / "s" / "wire.jsonl"
    wire.parent.mkdir(parents=True)
    lines = [
        '{"type":"metadata","protocol_version":"1.3"}',
        # only a total: it is the output (ccusage's fallback)
        '{"timestamp":1770983427.5,"message":{"type":"StatusUpdate","payload":'
        '{"token_usage":{"total":432},"message_id":"m1"}}}',
        # no timestamp: the file's mtime; a float count is 0
        '{"message":{"type":"StatusUpdate","payload":{"token_usage":'
        '{"input_other":10.0,"output":3},"message_id":"m2"}}}',
        # the same step twice in one file: once
        _status(1770983500.25, 8, 2, "m3"), _status(1770983500.25, 8, 2, "m3"),
        '{"timestamp":1770983501,"message":{"type":"TurnEnd","payload":{}}}',
        "garbage",
    ]
    wire.write_text("\n".join(lines) + "\n")
    os.utime(wire, (1771000000.0, 1771000000.0))
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, share)
        assert r.agents["kimi"].malformed == 0  # a non-usage line is not looked at
        got = store.conn.execute(
            "SELECT occurred_at, input_tokens, output_tokens FROM usage_events"
            " ORDER BY occurred_at").fetchall()
        assert got == [("2026-02-13T11:50:27.500000000Z", 0, 432),
                       ("2026-02-13T11:51:40.250000000Z", 8, 2),
                       ("2026-02-13T16:26:40.000000000Z", 0, 3)]


def test_kimi_code_records_resumed_keep_their_session(tmp_path: Path) -> None:
    *_, code = share_dirs(tmp_path)
    wire = code / "sessions" / "0f3a" / "7c1e" / "wire.jsonl"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, code)
        with wire.open("a") as fh:
            fh.write('{"type":"usage.record","time":1777000240000,"model":"kimi-k2.6",'
                     '"usage":{"inputOther":3,"output":1},"usageScope":"turn"}\n')
        r = collect(store, tmp_path, code)
        assert r.ingest.inserted == 1
        assert store.conn.execute("SELECT DISTINCT session_id FROM usage_events"
                                  ).fetchall() == [("2026-04-24T03:06:40.000Z",)]


def test_missing_directory_is_no_error(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "nowhere")
        assert r.agents["kimi"].files == 0 and r.ingest.inserted == 0


def test_roots_follow_ccusage_then_kimi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KIMI_DATA_DIR", raising=False)
    monkeypatch.delenv("KIMI_SHARE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    code = tmp_path / ".kimi-code" / "sessions"  # Kimi Code, read by default as ccusage does
    assert kimi_mod.roots() == [tmp_path / ".kimi" / "sessions", code]
    monkeypatch.setenv("KIMI_SHARE_DIR", str(tmp_path / "share"))
    assert kimi_mod.roots() == [tmp_path / "share" / "sessions", code]
    monkeypatch.setenv("KIMI_DATA_DIR", f"{tmp_path}/a, {tmp_path}/b ,{tmp_path}/a")
    assert kimi_mod.roots() == [tmp_path / "a" / "sessions", tmp_path / "b" / "sessions"]


# --- parity with the pinned ccusage


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    if not CCUSAGE.exists():
        pytest.fail("ccusage is not installed: run tests/support/install_ccusage.sh",
                    pytrace=False)
    tmp = tmp_path_factory.mktemp("kimi-parity")
    a, b, c = share_dirs(tmp)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KIMI_", "CLAUDE_", "CODEX_", "XDG_", "CCUSAGE"))}
    (tmp / "home").mkdir()
    env.update(HOME=str(tmp / "home"), KIMI_DATA_DIR=f"{a},{b},{c}", TZ="UTC", NO_COLOR="1",
               XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"))

    def run(cmd: list[str], cwd: Path) -> dict[str, Any]:
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    theirs = run([str(CCUSAGE), "kimi", "daily", "--json", "--offline", "--timezone", "UTC"],
                 tmp)
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    ours = run([sys.executable, "-c", code, "daily", "--json", "--source", "kimi", "--store",
                str(tmp / "usage.db"), "--timezone", "UTC"], ROOT)
    return ours, theirs


def test_parity_tokens_per_day(reports: tuple[dict, dict]) -> None:
    ours, theirs = ({d["date"]: d for d in r["daily"]} for r in reports)
    assert sorted(ours) == sorted(theirs) == sorted(EXPECTED)
    for day, exp in EXPECTED.items():
        assert tuple(ours[day][k] for k in TOKENS) == exp, day
        want = CCUSAGE_COPY_DAY[1] if day == CCUSAGE_COPY_DAY[0] else exp
        assert tuple(theirs[day][k] for k in TOKENS) == want, day


def test_parity_cost_per_day(reports: tuple[dict, dict]) -> None:
    ours, theirs = ({d["date"]: d for d in r["daily"]} for r in reports)
    for day in EXPECTED:
        if day == CCUSAGE_COPY_DAY[0]:
            continue  # ccusage's cost there includes the fork's copy
        assert ours[day]["totalCost"] == pytest.approx(theirs[day]["totalCost"], rel=0.005)
