"""The Claude Code collector: which lines count (as ccusage counts them), each message
once, and incremental reads of real files into a real store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from claude_corpus import write_corpus

from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.collectors.claude import canonical_model, has_unsupported_null, parse_line
from tokentop.store.usage.collectors.files import Counts

TS = "2026-11-20T09:14:03.512Z"


def run(store, root: Path):
    return collect_once(store, claude_roots=[root], codex_dir=root / "no-codex",
                        hook_spool=root / "no-spool")


def daily(store_path: Path, agent: str = "claude_code") -> dict[str, tuple[int, int, int, int]]:
    conn = sqlite3.connect(store_path)
    try:
        rows = conn.execute(
            "SELECT substr(occurred_at, 1, 10), SUM(input_tokens), SUM(output_tokens), "
            "SUM(cache_write_tokens), SUM(cache_read_tokens) FROM usage_events "
            "WHERE agent_name = ? GROUP BY 1 ORDER BY 1", (agent,)).fetchall()
    finally:
        conn.close()
    return {r[0]: tuple(r[1:]) for r in rows}


def events(store_path: Path) -> list[dict]:
    conn = sqlite3.connect(store_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM usage_events ORDER BY occurred_at")]
    finally:
        conn.close()


def line(mid: str = "msg_1", req: str | None = "req_1", *, out: int = 10, ts: str = TS,
         session: str = "s1", sidechain: bool = False, model: str = "claude-sonnet-4-5-20250929",
         **extra) -> str:
    obj = {
        "parentUuid": None, "isSidechain": sidechain, "cwd": "/home/u/app", "sessionId": session,
        "version": "2.0.14",
        "message": {"id": mid, "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "hello"}], "stop_reason": None,
                    "usage": {"input_tokens": 4, "cache_creation_input_tokens": 100,
                              "cache_read_input_tokens": 1000, "output_tokens": out}},
        "requestId": req, "type": "assistant", "uuid": "u-" + mid, "timestamp": ts,
    }
    if req is None:
        del obj["requestId"]
    obj.update(extra)
    return json.dumps(obj, separators=(",", ":"))


def write(path: Path, *lines: str, newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + ("\n" if newline else ""))
    return path


def proj(root: Path, name: str = "-home-u-app") -> Path:
    return root / "projects" / name


# -- one line ------------------------------------------------------------------------

def test_usage_line_becomes_a_request():
    c = Counts()
    req, side = parse_line(line(costUSD=0.25).encode(), c)
    assert not side
    assert (req.source_system, req.source_channel, req.event_type) == (
        "claude_code", "jsonl", "message_usage")
    assert (req.provider_id, req.agent_name) == ("anthropic", "claude_code")
    assert req.model_raw == "claude-sonnet-4-5-20250929"
    assert req.model_canonical == "claude-sonnet-4-5"
    assert (req.session_id, req.workspace_id, req.message_id, req.turn_id) == (
        "s1", "/home/u/app", "msg_1", "req_1")
    assert (req.input_tokens, req.output_tokens, req.cache_write_tokens,
            req.cache_read_tokens, req.total_tokens) == (4, 10, 100, 1000, 1114)
    assert req.cost_usd == 0.25
    assert req.occurred_at.isoformat() == "2026-11-20T09:14:03.512000+00:00"
    assert req.status == "ok"
    assert c.usage_lines == 1


def test_cost_is_none_without_cost_usd():
    req, _ = parse_line(line().encode(), Counts())
    assert req.cost_usd is None


def test_canonical_model_strips_the_date():
    assert canonical_model("claude-opus-4-1-20250805") == "claude-opus-4-1"
    assert canonical_model("claude-haiku-4-5") == "claude-haiku-4-5"
    assert canonical_model("<synthetic>") is None


def test_synthetic_is_counted_without_a_model():
    req, _ = parse_line(line(model="<synthetic>").encode(), Counts())
    assert req.model_raw == "<synthetic>" and req.model_canonical is None
    assert req.total_tokens == 1114


def test_api_error_lines_are_counted_with_error_status():
    req, _ = parse_line(line(model="<synthetic>", isApiErrorMessage=True).encode(), Counts())
    assert req.status == "error"


@pytest.mark.parametrize("field", ["costUSD", "requestId", "sessionId", "version", "cwd"])
def test_forbidden_null_field_skips_the_line(field):
    c = Counts()
    assert parse_line(line(**{field: None}).encode(), c) is None
    assert c.skipped == {"null_field": 1}


def test_null_model_or_cache_tokens_skips_the_line():
    raw = line().replace('"model":"claude-sonnet-4-5-20250929"', '"model":null')
    assert has_unsupported_null(raw.encode())
    raw = line().replace('"cache_read_input_tokens":1000', '"cache_read_input_tokens":null')
    c = Counts()
    assert parse_line(raw.encode(), c) is None and c.skipped == {"null_field": 1}


def test_other_nulls_are_fine():
    assert not has_unsupported_null(line(parentUuid=None).encode())
    assert parse_line(line(gitBranch=None).encode(), Counts()) is not None


@pytest.mark.parametrize("patch", [
    {"version": "dev"}, {"sessionId": ""}, {"requestId": ""}, {"timestamp": "yesterday"},
])
def test_invalid_lines_are_skipped(patch):
    c = Counts()
    assert parse_line(line(**patch).encode(), c) is None
    assert sum(c.skipped.values()) == 1 and c.usage_lines == 0


def test_missing_output_tokens_is_invalid():
    raw = line().replace(',"output_tokens":10', "")
    c = Counts()
    assert parse_line(raw.encode(), c) is None and c.skipped == {"invalid": 1}


def test_malformed_usage_line_is_counted():
    c = Counts()
    raw = line()
    assert parse_line(raw[: raw.index('"usage":{') + 20].encode(), c) is None
    assert c.malformed == 1


def test_cache_creation_object_wins():
    raw = line().replace(
        '"cache_creation_input_tokens":100',
        '"cache_creation_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":60,'
        '"ephemeral_1h_input_tokens":30}')
    req, _ = parse_line(raw.encode(), Counts())
    assert req.cache_write_tokens == 90


def test_agent_progress_lines_carry_a_nested_message():
    inner = json.loads(line("msg_sub", "req_sub", out=7))
    outer = {"type": "progress", "sessionId": "s1", "cwd": "/home/u/app", "timestamp": TS,
             "data": {"type": "agent_progress", "message": {
                 "timestamp": inner["timestamp"], "message": inner["message"],
                 "requestId": "req_sub", "isSidechain": True}}}
    req, side = parse_line(json.dumps(outer, separators=(",", ":")).encode(), Counts())
    assert req.message_id == "msg_sub" and req.output_tokens == 7 and side


def test_workspace_falls_back_to_the_project_dir():
    raw = json.loads(line())
    del raw["cwd"]
    req, _ = parse_line(json.dumps(raw, separators=(",", ":")).encode(), Counts(), "-home-u-app")
    assert req.workspace_id == "-home-u-app"


# -- each message once ---------------------------------------------------------------

def test_streamed_copies_count_once_with_the_most_tokens(store, tmp_path):
    write(proj(tmp_path) / "s1.jsonl", line(out=1), line(out=50), line(out=20))
    run(store, tmp_path)
    assert daily(tmp_path / "usage.db") == {"2026-11-20": (4, 50, 100, 1000)}


@pytest.mark.parametrize("refused_first", [False, True], ids=["refused-last", "refused-first"])
@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "workers"])
def test_a_copy_the_store_refuses_never_displaces_a_valid_one(store, tmp_path, parallel,
                                                              refused_first):
    # one copy has more tokens but a time past the store's bound: the sink used to keep
    # it as the better copy, the store then refused it, and the message was lost
    bad = line(out=50, ts="2199-01-01T00:00:00Z")
    good = [line(out=5), line(out=7, session="s2")]
    write(proj(tmp_path) / "s1.jsonl", *([bad, *good] if refused_first else [*good, bad]))
    rep = collect_once(store, claude_roots=[tmp_path], codex_dir=tmp_path / "no-codex",
                       hook_spool=tmp_path / "no-spool", parallel=parallel)
    assert daily(tmp_path / "usage.db") == {"2026-11-20": (4, 7, 100, 1000)}
    assert rep.ingest.inserted == 1 and rep.ingest.rejected == {"time out of range": 1}
    assert rep.claude.requests == 1
    with sqlite3.connect(tmp_path / "usage.db") as conn:  # prepared or not: one raw row
        assert conn.execute("SELECT count(*) FROM usage_raw_events").fetchone() == (1,)


def test_resumed_session_replay_counts_once(store, tmp_path):
    write(proj(tmp_path) / "s1.jsonl", line("m1", "r1", out=30), line("m2", "r2", out=5))
    write(proj(tmp_path) / "s2.jsonl", line("m1", "r1", out=30, session="s2"),
          line("m3", "r3", out=7, session="s2"))
    run(store, tmp_path)
    assert daily(tmp_path / "usage.db") == {"2026-11-20": (12, 42, 300, 3000)}
    assert len(events(tmp_path / "usage.db")) == 3


def test_sidechain_replay_under_a_new_request_counts_once(store, tmp_path):
    write(proj(tmp_path) / "s1.jsonl", line("m1", "r1", out=30))
    write(proj(tmp_path) / "s1" / "subagents" / "agent-1.jsonl",
          line("m1", "r-new", out=30, sidechain=True), line("m9", "r9", out=3, sidechain=True))
    run(store, tmp_path)
    assert daily(tmp_path / "usage.db") == {"2026-11-20": (8, 33, 200, 2000)}


def test_copies_in_separate_runs_keep_the_most_tokens(store, tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", line(out=5))
    run(store, tmp_path)
    with f.open("a") as fh:
        fh.write(line(out=80) + "\n" + line(out=60) + "\n")
    run(store, tmp_path)
    assert daily(tmp_path / "usage.db") == {"2026-11-20": (4, 80, 100, 1000)}


def test_corpus_daily_equals_the_truth(store, tmp_path):
    truth = write_corpus(tmp_path, seed=3, days=4, sessions=10, line_kb=(1, 3))
    rep = run(store, tmp_path)
    got = daily(tmp_path / "usage.db")
    want = {d: (t.input, t.output, t.cache_creation, t.cache_read)
            for d, t in truth.daily.items()}
    assert got == want
    assert len(events(tmp_path / "usage.db")) == truth.messages
    c = rep.claude
    assert c.files == truth.files and c.lines == truth.lines
    assert c.usage_lines == truth.usage_lines
    assert c.malformed == truth.malformed
    assert c.skipped.get("null_field", 0) == truth.null_skipped
    assert c.bytes_read == truth.bytes


def test_corpus_in_two_halves_equals_the_truth(store, tmp_path):
    """Copies split across runs (the store's dedup, not the in-pass one, merges them)."""
    truth = write_corpus(tmp_path / "all", seed=5, days=3, sessions=8, line_kb=(1, 2))
    files = sorted((tmp_path / "all").rglob("*.jsonl"))
    live = tmp_path / "live"
    for i, f in enumerate(files):
        dst = live / f.relative_to(tmp_path / "all")
        dst.parent.mkdir(parents=True, exist_ok=True)
        data = f.read_bytes()
        cut = data.rfind(b"\n", 0, len(data) // 2) + 1 if i % 2 else len(data)
        dst.write_bytes(data[:cut])
    run(store, live)
    for f in files:
        dst = live / f.relative_to(tmp_path / "all")
        dst.write_bytes(f.read_bytes())  # same inode, appended
    rep = run(store, live)
    assert rep.claude.bytes_read < truth.bytes
    want = {d: (t.input, t.output, t.cache_creation, t.cache_read)
            for d, t in truth.daily.items()}
    assert daily(tmp_path / "usage.db") == want


# -- incremental ---------------------------------------------------------------------

def test_second_run_reads_only_new_bytes(store, tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", line("m1"), line("m2"))
    first = run(store, tmp_path)
    assert first.claude.bytes_read == f.stat().st_size and first.claude.lines == 2
    again = run(store, tmp_path)
    assert (again.claude.bytes_read, again.claude.lines, again.claude.files_read) == (0, 0, 0)
    new = line("m3") + "\n"
    with f.open("a") as fh:
        fh.write(new)
    third = run(store, tmp_path)
    assert third.claude.bytes_read == len(new) and third.claude.lines == 1
    assert third.ingest.inserted == 1
    assert len(events(tmp_path / "usage.db")) == 3


def test_partial_last_line_waits_for_its_newline(store, tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", line("m1"))
    run(store, tmp_path)
    whole = line("m2")
    with f.open("a") as fh:
        fh.write(whole[:40])
    r = run(store, tmp_path)
    assert r.claude.lines == 0 and r.claude.malformed == 0 and r.ingest.inserted == 0
    with f.open("a") as fh:
        fh.write(whole[40:] + "\n")
    r = run(store, tmp_path)
    assert r.claude.lines == 1 and r.ingest.inserted == 1
    assert r.claude.bytes_read == len(whole) + 1


def test_truncated_file_is_read_again_without_double_counting(store, tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", line("m1"), line("m2"), line("m3"))
    run(store, tmp_path)
    write(f, line("m1"))  # truncated to less than the offset
    r = run(store, tmp_path)
    assert r.claude.lines == 1 and r.claude.bytes_read == f.stat().st_size
    assert r.ingest.inserted == 0
    assert len(events(tmp_path / "usage.db")) == 3


def test_replaced_file_same_size_is_read_again(store, tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", line("m1", session="aaaa"))
    run(store, tmp_path)
    size = f.stat().st_size
    f.unlink()
    write(f, line("m2", session="bbbb"))  # new content, maybe the freed inode
    with f.open("a") as fh:
        fh.write(line("m4", session="bbbb") + "\n")
    assert f.stat().st_size > size
    r = run(store, tmp_path)
    assert r.claude.lines == 2 and r.ingest.inserted == 2


def test_recursive_and_several_roots(store, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(proj(a) / "s1.jsonl", line("m1"))
    write(proj(b, "-home-u-api") / "deep" / "er" / "s2.jsonl", line("m2"))
    r = collect_once(store, claude_roots=[a, b], codex_dir=tmp_path / "x",
                     hook_spool=tmp_path / "y")
    assert r.claude.files == 2 and r.ingest.inserted == 2


def test_unreadable_file_is_skipped(store, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    f = write(proj(tmp_path) / "s1.jsonl", line("m1"))
    write(proj(tmp_path) / "s2.jsonl", line("m2"))
    f.chmod(0)
    try:
        r = run(store, tmp_path)
    finally:
        f.chmod(0o600)
    assert r.ingest.inserted == 1


def test_fields_ccusage_ignores_never_reject_a_line():
    odd = json.loads(line())
    odd["cwd"] = 42
    odd["data"] = {"type": "hook_progress", "message": "running"}
    req, _ = parse_line(json.dumps(odd, separators=(",", ":")).encode(), Counts())
    assert req.message_id == "msg_1" and req.workspace_id is None


# -- Claude Code 2.1.x usage fields (issue 13, part 1) ---------------------------------
# Real lines: tests/usage/fixtures/claude21/projects/-home-USER-projects-spotter-worktrees-
# spotter-gqc/ is the usage-bearing lines of session 258c7280-... (Claude Code 2.1.39,
# claude-opus-4-6, 2026-02-11) from repository marot/spotter,
# test/fixtures/transcripts/258c7280-ae70-4798-800f-63464d01a85d.jsonl (and its
# subagents/), with message.content emptied to keep the file small; every other field as
# Claude Code wrote it. project-alpha/ and project-beta/ are ccusage's own fixtures
# (ryoppippi/ccusage, apps/ccusage/test/fixtures/claude/projects/...), verbatim.
# -home-USER-generated/ is generated on top (fast mode, a >200k message, a sidechain
# replay), from real lines of the session above.

FIXTURES = Path(__file__).parent / "fixtures" / "claude21"
REAL = (FIXTURES / "projects" / "-home-USER-projects-spotter-worktrees-spotter-gqc"
        / "258c7280-ae70-4798-800f-63464d01a85d.jsonl")


def real_lines() -> list[bytes]:
    return REAL.read_bytes().splitlines()


def test_a_real_2_1_line_keeps_the_1h_split_and_the_shown_fields():
    raw = next(x for x in real_lines()
               if b'"ephemeral_1h_input_tokens":8037' in x and b'"output_tokens":441' in x)
    req, side = parse_line(raw, Counts())
    assert not side and req.is_sidechain is False
    assert req.model_raw == "claude-opus-4-6"
    assert (req.input_tokens, req.output_tokens, req.cache_read_tokens) == (3, 441, 17842)
    assert (req.cache_write_tokens, req.cache_write_1h_tokens) == (8037, 8037)
    assert (req.web_search_requests, req.web_fetch_requests) == (0, 0)
    assert req.service_tier == "standard"
    assert req.inference_geo is None  # written as "" by 2.1.39: nothing to show
    assert req.speed is None


def test_every_real_line_parses_with_its_split():
    c = Counts()
    reqs = [r for r in (parse_line(x, c) for x in real_lines()) if r is not None]
    assert len(reqs) == 301 and c.usage_lines == 301  # + 1 user line quoting "usage":{
    assert c.skipped == {"no_usage": 1}
    assert all(r.cache_write_1h_tokens <= r.cache_write_tokens for r, _ in reqs)
    assert sum(r.cache_write_1h_tokens for r, _ in reqs) > 0
    assert {r.inference_geo for r, _ in reqs} >= {"not_available"}


def test_speed_and_server_tools_are_read():
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 30,
             "cache_read_input_tokens": 0, "speed": "fast", "service_tier": "priority",
             "inference_geo": "us", "server_tool_use": {"web_search_requests": 2,
                                                        "web_fetch_requests": 1},
             "cache_creation": {"ephemeral_5m_input_tokens": 10,
                                "ephemeral_1h_input_tokens": 20}}
    obj = json.loads(line())
    obj["message"]["usage"] = usage
    req, _ = parse_line(json.dumps(obj, separators=(",", ":")).encode(), Counts())
    assert req.speed == "fast"
    assert (req.cache_write_tokens, req.cache_write_1h_tokens) == (30, 20)
    assert (req.web_search_requests, req.web_fetch_requests) == (2, 1)
    assert (req.service_tier, req.inference_geo) == ("priority", "us")


def test_no_breakdown_means_all_writes_at_the_5m_rate():
    req, _ = parse_line(line().encode(), Counts())
    assert (req.cache_write_tokens, req.cache_write_1h_tokens) == (100, 0)


def _session_of(store, mid: str) -> str:
    return store.conn.execute("SELECT session_id FROM usage_events WHERE message_id = ?",
                              (mid,)).fetchone()[0]


@pytest.mark.parametrize("order", ["sidechain_first", "main_first"])
def test_sidechain_replay_never_wins_whatever_the_order(store, tmp_path, order):
    """Equal tokens, a sidechain copy under another session and requestId: the main copy
    wins in either order, across separate collections (separate batches)."""
    main = write(proj(tmp_path) / "main.jsonl", line("msg_9", "req_9", session="main"))
    side = line("msg_9", "side_req", session="other", sidechain=True)
    if order == "sidechain_first":
        main.rename(tmp_path / "held")
        write(proj(tmp_path) / "side.jsonl", side)
        run(store, tmp_path)
        assert _session_of(store, "msg_9") == "other"
        (tmp_path / "held").rename(main)
        run(store, tmp_path)
    else:
        run(store, tmp_path)
        write(proj(tmp_path) / "side.jsonl", side)
        run(store, tmp_path)
    assert _session_of(store, "msg_9") == "main"
    assert store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 1


def test_a_copy_with_speed_beats_one_without_at_equal_tokens(store, tmp_path):
    write(proj(tmp_path) / "a.jsonl", line("msg_5", "req_5"))
    run(store, tmp_path)
    obj = json.loads(line("msg_5", "req_5", session="s2"))
    obj["message"]["usage"]["speed"] = "fast"
    write(proj(tmp_path) / "b.jsonl", json.dumps(obj, separators=(",", ":")))
    run(store, tmp_path)
    row = store.conn.execute("SELECT session_id, tokentop_speed FROM usage_events").fetchone()
    assert row == ("s2", "fast")


def _report_cost(conn) -> float:
    from datetime import UTC, datetime

    from tokentop.store.usage.reports import ReportOptions, daily
    return daily(conn, ReportOptions(source="claude", tz=UTC,
                                     now=datetime(2026, 3, 1, tzinfo=UTC)))["totals"]["totalCost"]


def _as_schema_3(path: Path) -> None:
    """Turn a current store back into what tokentop left before schema 4: no tokentop_*
    columns, rollup grains without the 1-hour sums, migrations 1-3."""
    from tokentop.store.usage import rollup, schema

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"DROP INDEX {schema.DETAILS_INDEX}")  # it names the columns below
        conn.execute(f"DROP INDEX {schema.HOST_INDEX}")  # and so does this one
        for name, _ in schema.TOKENTOP_COLUMNS:
            conn.execute(f"ALTER TABLE usage_events DROP COLUMN {name}")
        for grain in rollup.GRAINS:
            for col in ("cache_write_1h", "cache_write_1h_over"):
                conn.execute(f"ALTER TABLE {grain.table} DROP COLUMN {col}")
        conn.execute("DELETE FROM tokentop_migrations WHERE version >= 4")
    finally:
        conn.close()


def test_a_store_from_before_schema_4_opens_migrates_and_gains_the_split(tmp_path):
    from tokentop.store.usage import read, schema
    from tokentop.store.usage.db import UsageStore

    logs = tmp_path / "claude"
    shutil.copytree(FIXTURES, logs)
    fresh_path, old_path = tmp_path / "fresh.db", tmp_path / "old.db"
    with UsageStore.open(fresh_path) as s:
        run(s, logs)
        want = _report_cost(s.conn)
        assert want == pytest.approx(17.8035647, rel=1e-9)  # ccusage 20.0.24's total
        for rolled in (False, True):  # the Usage screen: from events and from the rollup
            view = read.read_usage(s.conn, "all", datetime_(2026, 2, 13), rolled=rolled)
            assert view.totals.cost == pytest.approx(want, rel=1e-9)
        n = s.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    with UsageStore.open(old_path) as s:
        run(s, logs)
    _as_schema_3(old_path)
    ro = UsageStore.open(old_path, read_only=True)  # never migrates: reads without the split
    try:
        assert not schema.has_tokentop_columns(ro.conn)
        old_cost = _report_cost(ro.conn)
        assert old_cost < want  # 1-hour writes priced as 5-minute ones, fast as standard
    finally:
        ro.close()
    with UsageStore.open(old_path) as s:
        assert schema.version(s.conn) == schema.SCHEMA_VERSION
        assert schema.has_tokentop_columns(s.conn)
        assert s.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == n
        run(s, logs)  # the migration reset the Claude offsets: the split is read again
        assert s.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == n
        assert _report_cost(s.conn) == pytest.approx(want, rel=1e-12)
        now = datetime_(2026, 2, 13)
        rolled = read.read_usage(s.conn, "all", now)
    assert rolled.totals.cost == pytest.approx(want, rel=1e-9)


def datetime_(y: int, m: int, d: int):
    from datetime import UTC, datetime
    return datetime(y, m, d, tzinfo=UTC)


def test_a_hook_payload_carries_the_same_2_1_fields(store, tmp_path):
    """openusage's hook spool (collectors/hookspool.py) reads the usage of a real 2.1.39
    line the way the JSONL collector does."""
    raw = json.loads(next(x for x in real_lines()
                          if b'"ephemeral_1h_input_tokens":8037' in x
                          and b'"output_tokens":441' in x))
    usage = dict(raw["message"]["usage"], speed="fast", inference_geo="us")
    payload = {"session_id": "s1", "cwd": "/home/u/app", "hook_event_name": "Stop",
               "timestamp": raw["timestamp"],
               "message": {"id": raw["message"]["id"], "model": "claude-opus-4-6",
                           "usage": usage}}
    d = tmp_path / "hook-spool"
    d.mkdir()
    (d / "1.json").write_text(json.dumps({"source": "claude_code", "account_id": "",
                                          "payload": payload}))
    collect_once(store, claude_roots=[], codex_dir=d / "none", hook_spool=d)
    row = store.conn.execute(
        "SELECT cache_write_tokens, tokentop_cache_write_1h, tokentop_speed,"
        " tokentop_service_tier, tokentop_inference_geo, tokentop_web_search_requests"
        " FROM usage_events WHERE message_id = ?", (raw["message"]["id"],)).fetchone()
    assert row == (8037, 8037, "fast", "standard", "us", 0)


@pytest.mark.parametrize("passes", ["one pass", "a then b", "b then a"])
def test_which_copy_wins_does_not_depend_on_ingest_order(store, tmp_path, passes):
    """Issue 16: two main-session copies of one message with equal tokens (a session
    resumed into another file): the copy kept is the same whatever was read first, in one
    pass or across passes: the earlier time, then the smaller session id."""
    a = line("msg_7", "req_7", session="s-b")  # the same message under two sessions
    b = line("msg_7", "req_7", session="s-a")
    if passes == "one pass":
        write(proj(tmp_path) / "b.jsonl", b)
        write(proj(tmp_path) / "a.jsonl", a)
        run(store, tmp_path)
    else:
        first, second = (a, b) if passes == "a then b" else (b, a)
        write(proj(tmp_path) / "1.jsonl", first)
        run(store, tmp_path)
        write(proj(tmp_path) / "2.jsonl", second)
        run(store, tmp_path)
    assert _session_of(store, "msg_7") == "s-a"
    assert store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 1
