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


# --- Codex 0.142+ as it writes rollouts (fixtures in tests/usage/fixtures/codex) --------
#
# parity/sessions/2026/05/13/...-ccusage-session-alpha.jsonl is ccusage's own fixture,
# copied verbatim from ryoppippi/ccusage apps/ccusage/test/fixtures/codex/sessions/
# project-alpha/session-alpha.jsonl. The others follow the shapes the Codex CLI writes
# (session_meta.source.subagent.thread_spawn, forked_from_id, task_started.started_at,
# token_usage_record, rate_limits) as quoted in ccusage issues #1288, #1370, #1460 and
# #950 (ccusage/ccusage); their numbers were checked with ccusage 20.0.24 (--offline).

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
PARENT = "019e0000-0000-7000-8000-00000000000a"
CHILD = "019e0000-0000-7000-8000-00000000000b"


def copy_tree(src: Path, dst: Path) -> Path:
    for f in src.rglob("*.jsonl"):
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read_bytes())
    return dst


def by_session(path: Path) -> dict[str, tuple[int, ...]]:
    conn = sqlite3.connect(path)
    try:
        return {r[0]: tuple(r[1:]) for r in conn.execute(
            "SELECT session_id, SUM(input_tokens), SUM(cache_read_tokens), SUM(output_tokens),"
            " SUM(reasoning_tokens), SUM(total_tokens), COUNT(*), GROUP_CONCAT(DISTINCT model_raw)"
            " FROM usage_events WHERE event_type = 'message_usage' GROUP BY session_id")}
    finally:
        conn.close()


def test_reemitted_token_counts_count_once(store, tmp_path):
    """ccusage #1288's repro: two turns ending at 3,300 tokens, the first re-emitted twice."""
    copy_tree(FIXTURES / "parity" / "sessions" / "2026" / "05" / "01", tmp_path)
    r = run(store, tmp_path)
    assert r.codex.usage_lines == 2 and r.codex.skipped == {"unchanged_total": 2}
    got = by_session(tmp_path / "usage.db")
    assert got == {"01970000-0000-7000-8000-000000000001": (3000, 1200, 300, 100, 3300, 2,
                                                           "gpt-5.2")}


def test_subagent_skips_the_copied_parent_history(store, tmp_path):
    """A thread_spawn child copies its parent's token counts (a burst across a second):
    only its own turn counts, under its own id, model and cwd."""
    copy_tree(FIXTURES / "parity" / "sessions" / "2026" / "05" / "02", tmp_path)
    run(store, tmp_path)
    got = by_session(tmp_path / "usage.db")
    assert got[PARENT] == (32000, 14000, 1300, 400, 33300, 2, "gpt-5.2")
    assert got[CHILD] == (5000, 4000, 200, 50, 5200, 1, "gpt-5.1-codex-mini")
    assert set(got) == {PARENT, CHILD}
    conn = sqlite3.connect(tmp_path / "usage.db")
    try:
        assert conn.execute("SELECT workspace_id FROM usage_events WHERE session_id = ?"
                            " AND event_type = 'message_usage'", (CHILD,)).fetchone() == \
            ("/home/u/app/worker",)
    finally:
        conn.close()


def test_subagent_copy_resumed_mid_burst(tmp_path):
    """A restart in the middle of the copy still skips the rest of it."""
    src = next((FIXTURES / "parity").rglob(f"*{CHILD}.jsonl"))
    lines = src.read_bytes().splitlines(keepends=True)
    sessions = tmp_path / "sessions"
    f = sessions / src.name
    f.parent.mkdir(parents=True)
    f.write_bytes(b"".join(lines[:5]))
    with UsageStore.open(tmp_path / "usage.db") as s:
        assert run(s, sessions).codex.usage_lines == 0
    with f.open("ab") as fh:
        fh.write(b"".join(lines[5:]))
    with UsageStore.open(tmp_path / "usage.db") as s:
        assert run(s, sessions).codex.usage_lines == 1
    assert by_session(tmp_path / "usage.db")[CHILD][:5] == (5000, 4000, 200, 50, 5200)


def test_fork_with_the_parents_own_timestamps(store, tmp_path):
    """forked_from_id, the copy keeping the parent's older times: only the fork's turn.
    (ccusage 20.0.24 counts the copy again here: 36,400 tokens instead of 3,100.)"""
    src = next((FIXTURES / "cases").glob("*00000000000c.jsonl"))
    copy_tree(src.parent, tmp_path)
    (tmp_path / next((FIXTURES / "cases").glob("*00000000000d.jsonl")).name).unlink()
    run(store, tmp_path)
    assert by_session(tmp_path / "usage.db") == {
        "019e0000-0000-7000-8000-00000000000c": (3000, 2000, 100, 20, 3100, 1, "gpt-5.2")}


def test_token_usage_record_and_token_count_count_a_response_once(store, tmp_path):
    """CLI 0.151+: each response has a token_usage_record and a token_count (either order);
    a response with only a record (no token count) still counts."""
    src = next((FIXTURES / "cases").glob("*00000000000d.jsonl"))
    (tmp_path / src.name).write_bytes(src.read_bytes())
    r = run(store, tmp_path)
    got = by_session(tmp_path / "usage.db")
    # resp_1 32,167/20,224/156/7 + resp_2 40,000/32,000/300/100 + resp_3 41,000/40,000/50/0
    assert got == {"019e0000-0000-7000-8000-00000000000d": (113167, 92224, 506, 107, 113673, 3,
                                                           "gpt-5.5")}
    assert r.codex.skipped == {"counted_by_record": 2, "unchanged_total": 1}


def test_token_count_first_then_its_record(store, tmp_path):
    rec = j({"timestamp": "2026-11-20T09:00:02.100Z", "type": "token_usage_record",
             "payload": {"response_id": "resp_9", "usage": usage(100, 40, 10, 2)}})
    rollout(tmp_path, meta(), ctx("gpt-5.5"),
            tc("2026-11-20T09:00:02.000Z", usage(100, 40, 10, 2), usage(100, 40, 10, 2)), rec)
    r = run(store, tmp_path)
    assert r.codex.usage_lines == 1 and r.codex.skipped == {"counted_by_token_count": 1}


def test_rate_limits_become_the_latest_limit_snapshot(store, tmp_path):
    """rate_limits (primary 5 h, secondary weekly) -> limit_snapshot -> the quota gauges."""
    from tokentop.store.usage.read import quotas

    copy_tree(FIXTURES / "parity" / "sessions" / "2026" / "05", tmp_path)
    run(store, tmp_path)
    conn = sqlite3.connect(tmp_path / "usage.db")
    try:
        got = {(q.provider, q.account, q.metric): (q.used, q.limit, q.unit, q.window,
                                                   q.resets_at.isoformat() if q.resets_at else None)
               for q in quotas(conn)}
        snaps = conn.execute("SELECT COUNT(*) FROM usage_limit_snapshots").fetchone()[0]
    finally:
        conn.close()
    # 2026-05-01 (10 %/3 %) and 2026-05-02 (12 %/4 %): the newest wins
    assert got == {
        ("codex", "codex", "rate_limit_primary"): (12.0, 100.0, "%", "5h",
                                                   "2026-05-02T13:53:20+00:00"),
        ("codex", "codex", "rate_limit_secondary"): (4.0, 100.0, "%", "7d",
                                                     "2026-05-05T16:53:20+00:00"),
    }
    assert snaps == 2


def test_unchanged_rate_limits_are_not_repeated(store, tmp_path):
    limits = {"primary": {"used_percent": 50.0, "window_minutes": 300, "resets_in_seconds": 600},
              "secondary": None}
    lines = [ctx("gpt-5")]
    for n in range(3):
        lines.append(j({"timestamp": f"2026-11-20T09:00:0{n + 2}.000Z", "type": "event_msg",
                        "payload": {"type": "token_count", "info": None, "rate_limits": limits}}))
    rollout(tmp_path, *lines)
    r = run(store, tmp_path)
    assert r.ingest.inserted == 1
    conn = sqlite3.connect(tmp_path / "usage.db")
    try:
        assert conn.execute("SELECT event_type, provider_id, account_id FROM usage_events"
                            ).fetchall() == [("limit_snapshot", "codex", "codex")]
    finally:
        conn.close()
