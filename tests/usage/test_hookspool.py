"""openusage's hook-spool files: ingested on the hook channel, read-only, once each."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tokentop.store.usage.collect import collect_once


def spool(d: Path, name: str, payload: dict, source: str = "claude_code") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(json.dumps({"source": source, "account_id": "", "payload": payload}))
    return p


def run(store, d: Path):
    return collect_once(store, claude_roots=[], codex_dir=d / "none", hook_spool=d)


def rows(path: Path) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM usage_events ORDER BY event_type")]
    finally:
        conn.close()


BASE = {"session_id": "s1", "transcript_path": "/home/u/.claude/projects/x/s1.jsonl",
        "cwd": "/home/u/app"}


def test_hook_files_become_hook_events_and_stay(store, tmp_path):
    d = tmp_path / "hook-spool"
    a = spool(d, "1.json", {**BASE, "hook_event_name": "PostToolUse", "tool_name": "Bash",
                            "tool_use_id": "toolu_1", "tool_input": {"command": "ls"}})
    b = spool(d, "2.json", {**BASE, "hook_event_name": "Stop"})
    c = spool(d, "3.json", {**BASE, "hook_event_name": "Stop", "timestamp":
                            "2026-11-20T09:14:03.512Z", "message": {
                                "id": "msg_9", "model": "claude-opus-4-1-20250805",
                                "usage": {"input_tokens": 3, "output_tokens": 40,
                                          "cache_read_input_tokens": 500,
                                          "cache_creation_input_tokens": 7}}})
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (a, b, c)}
    r = run(store, d)
    assert r.hook_spool.files == 3 and r.ingest.inserted == 3 and r.hook_spool.usage_lines == 1
    got = rows(tmp_path / "usage.db")
    kinds = {g["event_type"]: g for g in got}
    assert set(kinds) == {"tool_usage", "turn_completed", "message_usage"}
    assert kinds["tool_usage"]["tool_name"] == "bash"  # the store lowercases tools
    m = kinds["message_usage"]
    assert (m["message_id"], m["model_canonical"], m["input_tokens"], m["output_tokens"],
            m["cache_read_tokens"], m["cache_write_tokens"]) == (
        "msg_9", "claude-opus-4-1", 3, 40, 500, 7)
    assert all(g["agent_name"] == "claude_code" and g["session_id"] == "s1" for g in got)
    for p, (data, mtime) in before.items():  # foreign files: never changed or removed
        assert p.read_bytes() == data and p.stat().st_mtime_ns == mtime
    again = run(store, d)
    assert again.hook_spool.files_read == 0 and again.ingest.inserted == 0


def test_new_and_rewritten_files_are_read(store, tmp_path):
    d = tmp_path / "hook-spool"
    spool(d, "1.json", {**BASE, "hook_event_name": "Stop"})
    run(store, d)
    spool(d, "2.json", {**BASE, "hook_event_name": "SubagentStop", "session_id": "s2"})
    r = run(store, d)
    assert r.hook_spool.files_read == 1 and r.ingest.inserted == 1


def test_malformed_spool_file_is_counted(store, tmp_path):
    d = tmp_path / "hook-spool"
    d.mkdir()
    (d / "bad.json").write_text("{not json")
    (d / "odd.json").write_text(json.dumps({"source": "claude_code", "payload": "x"}))
    r = run(store, d)
    assert r.hook_spool.malformed == 1 and r.hook_spool.skipped == {"invalid": 1}
    assert r.ingest.inserted == 0
    assert sorted(os.listdir(d)) == ["bad.json", "odd.json"]
