"""The Codex collector: last vs. total-difference usage, cached input, the model from
turn_context, and state that survives an incremental restart.

Rows are written as openusage writes Codex rows: provider_id "codex", input_tokens
including the cached input (cache_read_tokens = cached)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.collectors.codex import CodexParser
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.db import UsageStore


def j(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


def meta(sid: str = "sess-1", cwd: str = "/home/u/app") -> str:
    return j({"timestamp": "2026-11-20T09:00:00.000Z", "type": "session_meta",
              "payload": {"id": sid, "cwd": cwd, "originator": "codex_cli_rs"}})


def ctx(model: str, ts: str = "2026-11-20T09:00:01.000Z") -> str:
    return j({"timestamp": ts, "type": "turn_context",
              "payload": {"cwd": "/home/u/app", "model": model, "approval_policy": "never"}})


def usage(i: int, c: int, o: int, r: int = 0) -> dict:
    return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o,
            "reasoning_output_tokens": r, "total_tokens": i + o}


def tc(ts: str, last: dict | None = None, total: dict | None = None, **info) -> str:
    inf = dict(info)
    if last is not None:
        inf["last_token_usage"] = last
    if total is not None:
        inf["total_token_usage"] = total
    return j({"timestamp": ts, "type": "event_msg",
              "payload": {"type": "token_count", "info": inf, "rate_limits": None}})


def rollout(root: Path, *lines: str, name: str = "rollout-2026-11-20T09-00-00-sess-1.jsonl"):
    p = root / "2026" / "11" / "20" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n")
    return p


def run(store, sessions: Path):
    return collect_once(store, claude_roots=[], codex_dir=sessions, hook_spool=sessions / "none")


def rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT model_raw, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, "
            "total_tokens, provider_id, agent_name, session_id, workspace_id FROM usage_events "
            "ORDER BY occurred_at").fetchall()
    finally:
        conn.close()


def test_last_token_usage_maps_cached_input_to_cache_read():
    c = Counts()
    p = CodexParser(Path("rollout-x.jsonl"), c)
    assert p.parse(ctx("gpt-5-codex").encode()) is None
    req = p.parse(tc("2026-11-20T09:00:02.000Z", usage(1000, 300, 50, 20),
                     usage(1000, 300, 50, 20)).encode())
    assert (req.model_raw, req.provider_id, req.agent_name) == ("gpt-5-codex", "codex", "codex")
    assert (req.input_tokens, req.cache_read_tokens, req.output_tokens, req.reasoning_tokens,
            req.total_tokens) == (1000, 300, 50, 20, 1050)  # input includes cached (openusage)
    assert c.usage_lines == 1


def test_difference_of_totals_when_last_is_missing(store, tmp_path):
    rollout(tmp_path, meta(), ctx("gpt-5"),
            tc("2026-11-20T09:00:02.000Z", total=usage(100, 10, 5)),
            tc("2026-11-20T09:00:03.000Z", total=usage(250, 40, 9, 2)),
            tc("2026-11-20T09:00:04.000Z", total=usage(250, 40, 9, 2)),  # no change: no event
            tc("2026-11-20T09:00:05.000Z", last=usage(7, 0, 1), total=usage(257, 40, 10, 2)))
    r = run(store, tmp_path)
    assert r.codex.usage_lines == 3 and r.codex.skipped == {"unchanged_total": 1}
    got = rows(tmp_path / "usage.db")
    assert [g[1:6] for g in got] == [(100, 10, 5, 0, 105), (150, 30, 4, 2, 154), (7, 0, 1, 0, 8)]
    assert got[0][6:] == ("codex", "codex", "sess-1", "/home/u/app")


def test_model_falls_back_to_gpt5_and_token_count_model_wins(store, tmp_path):
    rollout(tmp_path, tc("2026-11-20T09:00:02.000Z", last=usage(10, 0, 1)),
            tc("2026-11-20T09:00:03.000Z", last=usage(20, 0, 2), model="gpt-5.1-codex"))
    run(store, tmp_path)
    assert [g[0] for g in rows(tmp_path / "usage.db")] == ["gpt-5", "gpt-5.1-codex"]


def test_incremental_restart_keeps_the_model_and_totals(tmp_path):
    sessions = tmp_path / "sessions"
    f = rollout(sessions, meta("sess-9", "/home/u/api"), ctx("gpt-5-codex"),
                tc("2026-11-20T09:00:02.000Z", total=usage(100, 0, 5)))
    with UsageStore.open(tmp_path / "usage.db") as s:
        first = run(s, sessions)
    assert first.codex.usage_lines == 1
    with f.open("a") as fh:  # a new process: nothing in memory, only the stored offset
        fh.write(tc("2026-11-20T09:01:00.000Z", total=usage(180, 20, 9)) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as s:
        second = run(s, sessions)
    assert second.codex.lines == 1 and second.codex.bytes_read < f.stat().st_size
    got = rows(tmp_path / "usage.db")
    assert got[1][:6] == ("gpt-5-codex", 80, 20, 4, 0, 84)
    assert got[1][8:] == ("sess-9", "/home/u/app")  # the turn_context cwd, after the meta


def test_model_change_after_restart(tmp_path):
    sessions = tmp_path / "sessions"
    f = rollout(sessions, ctx("gpt-5"), tc("2026-11-20T09:00:02.000Z", last=usage(10, 0, 1)))
    with UsageStore.open(tmp_path / "usage.db") as s:
        run(s, sessions)
    with f.open("a") as fh:
        fh.write(ctx("o3", "2026-11-20T09:05:00.000Z") + "\n")
        fh.write(tc("2026-11-20T09:05:01.000Z", last=usage(30, 0, 3)) + "\n")
    with UsageStore.open(tmp_path / "usage.db") as s:
        run(s, sessions)
    assert [g[0] for g in rows(tmp_path / "usage.db")] == ["gpt-5", "o3"]


def test_malformed_and_other_lines(store, tmp_path):
    rollout(tmp_path, ctx("gpt-5"), '{"type":"event_msg","payload":{"type":"token_count",',
            j({"timestamp": "2026-11-20T09:00:02.000Z", "type": "response_item",
               "payload": {"type": "message", "content": []}}),
            tc("2026-11-20T09:00:03.000Z", last=usage(10, 0, 1)))
    r = run(store, tmp_path)
    assert r.codex.malformed == 1 and r.codex.lines == 4 and r.ingest.inserted == 1


def test_only_rollout_files_are_read(store, tmp_path):
    rollout(tmp_path, ctx("gpt-5"), tc("2026-11-20T09:00:03.000Z", last=usage(10, 0, 1)),
            name="notes.jsonl")
    assert run(store, tmp_path).codex.files == 0
