"""Hostile usage input (issue 16): counts past int64, negative or fractional counts, NaN
and huge costs, years 1 and 9999. Each is one line among good ones in a real Claude Code
log (the line shape of ccusage's fixtures, ``tests/usage/fixtures/``); the good data
lands, the bad is counted and named, nothing raises, and a store that already holds such
events (an older tokentop, another writer) still reports."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokentop.store.usage.bounds import MAX_COST, MAX_TOKENS
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore


def line(n: int, *, ts: str = "2026-11-20T10:00:00.000Z", cost: object = None,
         **usage: object) -> str:
    """An assistant message as Claude Code writes it (compact JSON, one per line)."""
    u = {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 0,
         "cache_read_input_tokens": 0, **usage}
    doc: dict = {"type": "assistant", "timestamp": ts, "sessionId": "s1",
                 "requestId": f"req{n}", "cwd": "/w",
                 "message": {"id": f"msg{n}", "model": "claude-sonnet-4-5-20250929",
                             "usage": u}}
    if cost is not None:
        doc["costUSD"] = cost
    return json.dumps(doc, separators=(",", ":"))


def claude_home(tmp: Path, lines: list[str]) -> Path:
    d = tmp / "claude" / "projects" / "p1"
    d.mkdir(parents=True)
    (d / "s.jsonl").write_text("\n".join(lines) + "\n")
    return tmp / "claude"


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp / "claude"), "CODEX_HOME": str(tmp / "x"),
           "HOME": str(tmp / "home"), "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config")}
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def stored(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT message_id, input_tokens, output_tokens, occurred_at"
                            " FROM usage_events ORDER BY message_id").fetchall()
    finally:
        conn.close()


BAD = [
    line(2, input_tokens=2**63 - 1),   # past SQLite's int64: was a traceback, batch lost
    line(3, output_tokens=2**64),
    line(4, input_tokens=MAX_TOKENS + 1),
    line(5, ts="9999-12-31T23:59:59.000Z"),
    line(6, ts="0001-01-01T00:00:00.000Z"),
    line(7, output_tokens=-5),
    line(8, output_tokens=1.5),
    line(9, input_tokens="12"),
]


def test_one_bad_line_costs_nothing_else(tmp_path: Path) -> None:
    claude_home(tmp_path, [line(1), *BAD, line(10, ts="2026-11-21T09:00:00.000Z")])
    db = tmp_path / "u.db"
    first = run(tmp_path, "ingest", "--store", str(db), "--codex-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr + first.stdout
    # the reasons are named: what was refused and why
    assert "not stored:" in first.stdout and "token count out of range" in first.stdout
    assert "time out of range" in first.stdout
    assert [r[0] for r in stored(db)] == ["msg1", "msg10"]
    # not wedged: a second run, and every report, work on the same store
    again = run(tmp_path, "ingest", "--store", str(db), "--codex-dir", str(tmp_path))
    assert again.returncode == 0 and "Traceback" not in again.stderr
    for kind in ("daily", "monthly", "session", "blocks"):
        out = run(tmp_path, "report", kind, "--json", "--store", str(db))
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert doc["totals"]["inputTokens"] == 200 if kind != "blocks" else doc["blocks"]


@pytest.mark.parametrize("cost", [float("nan"), float("inf"), 1e300, -1.0])
def test_a_cost_no_message_can_have_is_refused(tmp_path: Path, cost: float) -> None:
    raw = line(2).replace('"requestId"', f'"costUSD":{json.dumps(cost)},"requestId"')
    claude_home(tmp_path, [line(1), raw])
    with UsageStore.open(tmp_path / "u.db") as store:
        r = collect_once(store, claude_roots=[tmp_path / "claude"], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=[])
        rows = dict(store.conn.execute("SELECT message_id, cost_usd FROM usage_events"))
    assert "msg1" in rows  # the good line lands
    # the bad one is refused (1e300, -1) or not JSON at all (NaN, Infinity): never stored
    assert "msg2" not in rows
    assert sum(r.ingest.rejected.values()) + r.claude.malformed == 1
    assert all(c is None or (math.isfinite(c) and 0 <= c <= MAX_COST) for c in rows.values())


def test_a_store_holding_years_1_and_9999_still_reports(tmp_path: Path) -> None:
    """Events an older tokentop (or openusage) stored before the bounds existed: every
    report runs, with and without --since, and shows only the real day."""
    claude_home(tmp_path, [line(1)])
    db = tmp_path / "u.db"
    assert run(tmp_path, "ingest", "--store", str(db), "--codex-dir", str(tmp_path)).returncode == 0
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(usage_events)")]
    row = dict(zip(cols, conn.execute("SELECT * FROM usage_events").fetchone(), strict=True))
    for i, ts in enumerate(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]):
        conn.execute(f"INSERT INTO usage_events ({', '.join(row)}) VALUES"
                     f" ({', '.join('?' * len(row))})",
                     [*{**row, "event_id": f"bad{i}", "dedup_key": f"bad{i}",
                        "occurred_at": ts}.values()])
    conn.commit()
    conn.close()
    for args in ([], ["--since", "20261101"]):
        for kind in ("daily", "monthly", "session", "blocks"):
            out = run(tmp_path, "report", kind, "--no-ingest", "--store", str(db), *args)
            assert out.returncode == 0, (kind, out.stderr)
            assert "Traceback" not in out.stderr
            assert "1-01-01" not in out.stdout and "9999" not in out.stdout
        daily = json.loads(run(tmp_path, "report", "daily", "--json", "--no-ingest",
                               "--store", str(db), *args).stdout)
        assert [d["date"] for d in daily["daily"]] == ["2026-11-20"]


COUNTS = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                   st.text(max_size=5), st.none(), st.booleans())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(i=COUNTS, o=COUNTS, cw=COUNTS, cr=COUNTS)
def test_any_counts_in_a_line_never_raise(tmp_path_factory: pytest.TempPathFactory,
                                          i: object, o: object, cw: object, cr: object) -> None:
    tmp = tmp_path_factory.mktemp("h")
    raw = json.dumps({"type": "assistant", "timestamp": "2026-11-20T10:00:00.000Z",
                      "sessionId": "s", "requestId": "r2",
                      "message": {"id": "m2", "model": "claude-sonnet-4-5-20250929",
                                  "usage": {"input_tokens": i, "output_tokens": o,
                                            "cache_creation_input_tokens": cw,
                                            "cache_read_input_tokens": cr}}},
                     separators=(",", ":"))
    claude_home(tmp, [line(1), raw])
    with UsageStore.open(tmp / "u.db") as store:
        collect_once(store, claude_roots=[tmp / "claude"], codex_dir=tmp / "x",
                     hook_spool=tmp / "y", agents=[])
        rows = store.conn.execute(
            "SELECT input_tokens, output_tokens, cache_write_tokens, cache_read_tokens"
            " FROM usage_events").fetchall()
    assert rows  # the good line always lands
    for r in rows:
        assert all(v is None or (type(v) is int and 0 <= v <= MAX_TOKENS) for v in r)


def test_an_opencode_row_with_a_negative_count_is_named_and_the_rest_stored(
        tmp_path: Path) -> None:
    """OpenCode's database (the fixture built from the agent's own schema and rows,
    ``tests/usage/fixtures/opencode``) plus one row whose output count is negative:
    that row is refused as "negative tokens" (ccusage would read it as 0 and keep it),
    every other row lands as without it."""
    import dataclasses

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "usage"))
    from opencode_support import build_db

    from tokentop.store.usage.agents.opencode import OPENCODE_DB

    def ingest(with_bad: bool) -> tuple[int, dict]:
        data = tmp_path / ("bad" if with_bad else "good")
        conn = build_db(data / "opencode.db", "opencode")
        if with_bad:
            conn.execute("INSERT INTO message VALUES('msg_neg','ses_a',1767340800000,"
                         "1767340800000,?)", (json.dumps({
                             "role": "assistant", "modelID": "gpt-5", "providerID": "openai",
                             "time": {"created": 1767340800000},
                             "tokens": {"input": 10, "output": -5}}),))
            conn.commit()
        conn.close()
        agent = dataclasses.replace(OPENCODE_DB, roots=lambda: [data / "opencode.db"])
        with UsageStore.open(data / "u.db") as store:
            r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                             hook_spool=tmp_path / "y", agents=[agent])
            n = store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
        return n, r.as_dict()["opencode"]["skipped"]

    good, good_skipped = ingest(False)
    bad, bad_skipped = ingest(True)
    assert good > 0 and bad == good
    assert bad_skipped.get("negative tokens") == 1
    assert "negative tokens" not in good_skipped


@pytest.mark.parametrize(("count", "reason"), [(-5, "negative tokens"),
                                               (1.5, "invalid tokens"),
                                               ("12", "invalid tokens")])
def test_a_qwen_line_with_a_count_no_reply_has_is_named(tmp_path: Path, count: object,
                                                        reason: str) -> None:
    """Qwen Code's chat log (the line shape of ``tests/usage/fixtures/qwen``): the bad
    line is refused and named, the good one lands (ccusage reads the count as 0)."""
    import dataclasses

    from tokentop.store.usage.agents import qwen

    chats = tmp_path / "qwen" / "projects" / "-w" / "chats"
    chats.mkdir(parents=True)

    def qline(n: int, candidates: object) -> str:
        return json.dumps({"uuid": f"u{n}", "sessionId": "s", "type": "assistant",
                           "timestamp": "2026-06-01T08:16:00.000Z", "cwd": "/w",
                           "model": "qwen3-coder-plus",
                           "usageMetadata": {"promptTokenCount": 4000,
                                             "candidatesTokenCount": candidates,
                                             "totalTokenCount": 4100}},
                          separators=(",", ":"))

    (chats / "c.jsonl").write_text(qline(1, 100) + "\n" + qline(2, count) + "\n")
    agent = dataclasses.replace(qwen.QWEN, roots=lambda: [tmp_path / "qwen" / "projects"])
    with UsageStore.open(tmp_path / "u.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=[agent])
        rows = store.conn.execute("SELECT message_id FROM usage_events").fetchall()
    assert [m for (m,) in rows] == ["u1"]
    assert r.as_dict()["qwen"]["skipped"] == {reason: 1}
