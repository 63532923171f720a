"""Every other agent collected from a real OpenSSH server on 127.0.0.1 (tests/support/
sshd.py): Gemini CLI and Qwen Code logs appended on the box travel incrementally through
their own parsers and give what collecting the same files here gives; a Gemini
document rewritten whole is read again alone; OpenCode's SQLite database is read by
the tokentop on the box (this venv's) from the stored watermark, writing nothing there;
a box without tokentop names the agents it cannot read and the rest is collected.

Fixtures: ``tests/usage/fixtures/gemini``, ``qwen`` and ``opencode`` (their READMEs
cite the upstream code and tests they come from).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from opencode_support import build_db
from support import sshd

from tokentop.store.usage import agents as registry
from tokentop.store.usage.agents import paths
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.remote import RemoteCollector
from tokentop.store.usage.remote_agents import database_roots, file_roots
from tokentop.store.usage.remote_databases import tokentop_for

FIXTURES = Path(__file__).parent / "fixtures"
GEMINI_MAIN = "tokentop/chats/session-2026-05-18T09-30-3f2a9c1e.jsonl"
GEMINI_LEGACY = "legacy/chats/session-2026-05-16T08-00-7c1d0e2f.json"
QWEN_MAIN = "-home-dev-tokentop/chats/6e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b.jsonl"
TOKENTOP = Path(sys.executable).with_name("tokentop")
ENV = sorted({v for ref in registry.AGENTS for v in ref.env})

needs_sshd = pytest.mark.skipif(sshd.missing_reason() is not None,
                                reason=sshd.missing_reason() or "")


def halve(path: Path) -> bytes:
    """Keep the first half of the file's lines; the rest, to append later."""
    lines = path.read_bytes().splitlines(keepends=True)
    keep = len(lines) // 2
    path.write_bytes(b"".join(lines[:keep]))
    return b"".join(lines[keep:])


def events(db: Path, host: str | None) -> set[tuple]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute(
            "SELECT agent_name, session_id, message_id, model_raw, input_tokens,"
            " output_tokens, cache_read_tokens, reasoning_tokens FROM usage_events"
            " WHERE tokentop_host IS ?", (host,)))
    finally:
        conn.close()


def collect_here(tmp: Path, home: Path, db: Path, monkeypatch) -> None:
    """The same files collected on this machine, the agents' defaults under ``home``."""
    monkeypatch.setenv("HOME", str(home))
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    with UsageStore.open(db) as store:
        collect_once(store, claude_roots=[], codex_dir=tmp / "none", hook_spool=tmp / "none")


def gemini_qwen_home(home: Path) -> None:
    shutil.copytree(FIXTURES / "gemini" / "tmp", home / ".gemini" / "tmp")
    shutil.copytree(FIXTURES / "qwen" / "qwen" / "projects", home / ".qwen" / "projects")


@needs_sshd
def test_file_agents_travel_incrementally_and_match_local_collection(box, tmp_path,
                                                                     monkeypatch):
    gemini_qwen_home(box.home)
    gemini = box.home / ".gemini" / "tmp" / GEMINI_MAIN
    qwen = box.home / ".qwen" / "projects" / QWEN_MAIN
    gemini_rest, qwen_rest = halve(gemini), halve(qwen)
    db = tmp_path / "usage.db"
    col = RemoteCollector("box")
    with UsageStore.open(db) as store:
        first = col.collect(store)
        assert first.agents["gemini"].requests > 0 and first.agents["qwen"].requests > 0
        up0, down0 = col.traffic
        warm = col.collect(store)
        up1, down1 = col.traffic
        assert not warm.changed and warm.bytes_read == 0
        # a warm poll: two bytes up, a count down, whatever the number of agents
        assert up1 - up0 <= 16 and down1 - down0 <= 16, (up1 - up0, down1 - down0)
        with gemini.open("ab") as fh:
            fh.write(gemini_rest)
        second = col.collect(store)  # the parser of the last poll reads on
        assert second.agents["gemini"].bytes_read == len(gemini_rest)
        assert second.agents["gemini"].files_read == 1
        assert second.agents["qwen"].bytes_read == 0
        col.close()
        with qwen.open("ab") as fh:
            qwen_rest_start = qwen.stat().st_size
            fh.write(qwen_rest)
        fresh = RemoteCollector("box")  # a new process: primed from the box's bytes
        third = fresh.collect(store)
        assert third.agents["qwen"].lines == qwen_rest.count(b"\n")
        assert qwen_rest_start > 0 and third.agents["gemini"].bytes_read == 0
        # a document rewritten whole: read again, alone
        legacy = box.home / ".gemini" / "tmp" / GEMINI_LEGACY
        legacy.write_bytes(legacy.read_bytes() + b"\n")
        fourth = fresh.collect(store)
        assert fourth.agents["gemini"].bytes_read == legacy.stat().st_size
        assert fourth.agents["gemini"].files_read == 1
        fresh.close()
    there = events(db, "box")
    assert {e[0] for e in there} == {"gemini_cli", "qwen_code"}, there
    here_home = tmp_path / "here"
    gemini_qwen_home(here_home)
    collect_here(tmp_path, here_home, tmp_path / "here.db", monkeypatch)
    assert there == events(tmp_path / "here.db", None)


def opencode_db(home: Path) -> sqlite3.Connection:
    return build_db(home / ".local" / "share" / "opencode" / "opencode.db", "opencode")


NEW_MESSAGE = (
    "INSERT INTO message VALUES('msg_new','ses_a',1767348000000,1767348009000,"
    "'{\"role\":\"assistant\",\"time\":{\"created\":1767348000000,\"completed\":"
    "1767348009000},\"parentID\":\"msg_01u\",\"modelID\":\"claude-sonnet-4-20250514\","
    "\"providerID\":\"anthropic\",\"path\":{\"cwd\":\"/home/u/app\",\"root\":\"/home/u/app\"},"
    "\"cost\":0.01,\"tokens\":{\"input\":777,\"output\":55,\"reasoning\":0,\"cache\":"
    "{\"read\":0,\"write\":0}},\"finish\":\"stop\"}')")


def tree(home: Path) -> set[str]:
    return {str(p.relative_to(home)) for p in home.rglob("*")}


@needs_sshd
def test_opencode_is_read_by_the_tokentop_on_the_box(box, tmp_path, monkeypatch):
    agent = opencode_db(box.home)  # open: the agent is running, its -wal is there
    before = tree(box.home)
    db = tmp_path / "usage.db"
    col = RemoteCollector("box", tokentop=str(TOKENTOP))
    with UsageStore.open(db) as store:
        first = col.collect(store)
        assert col.status.notes == [], col.status.notes
        n = first.agents["opencode"].requests
        assert n > 0
        up0, down0 = col.traffic
        warm = col.collect(store)  # nothing changed: no export runs
        up1, down1 = col.traffic
        assert not warm.changed and (up1 - up0, down1 - down0) <= (16, 16)
        agent.execute(NEW_MESSAGE)
        agent.commit()
        second = col.collect(store)
        assert second.agents["opencode"].requests == 1  # from the watermark on
        assert second.ingest.inserted == 1
    col.close()
    assert tree(box.home) == before  # the box's tokentop wrote nothing there
    there = events(db, "box")
    assert ("opencode", "ses_a", "msg_new", "claude-sonnet-4-20250514", 777, 55, 0, 0) \
        in there
    agent.close()
    here_home = tmp_path / "here"
    shutil.copytree(box.home / ".local", here_home / ".local")
    collect_here(tmp_path, here_home, tmp_path / "here.db", monkeypatch)
    assert there == events(tmp_path / "here.db", None)
    assert len(there) == n + 1


@needs_sshd
def test_a_box_without_tokentop_names_its_databases_and_the_rest_is_read(box, tmp_path):
    opencode_db(box.home).close()
    gemini_qwen_home(box.home)
    col = RemoteCollector("box")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = col.collect(store)
    col.close()
    assert col.status.notes == ["opencode: needs tokentop on box"]
    assert col.status.reachable
    assert report.agents["gemini"].requests > 0 and "opencode" not in {
        s for s, *_ in events(tmp_path / "usage.db", "box")}


@needs_sshd
def test_a_failing_tokentop_on_the_box_is_one_note(box, tmp_path):
    opencode_db(box.home).close()
    col = RemoteCollector("box", tokentop="/nonexistent/tokentop")
    with UsageStore.open(tmp_path / "usage.db") as store:
        col.collect(store)
    col.close()
    [note] = col.status.notes
    assert note.startswith("opencode: tokentop on box failed: ") and "\n" not in note
    assert col.status.reachable


def test_remote_defaults_are_the_local_rules_without_variables(tmp_path, monkeypatch):
    """The box's roots (``~/...``) are what each agent's local rule gives with none of
    its variables set: the two tables cannot drift apart."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    home = str(tmp_path)

    def here(p: str) -> str:
        return p.replace("~", home, 1)

    for spec in file_roots():
        if spec.ref.name == "openclaw":
            want = [str(r / "agents") for r in paths.openclaw_base_roots()]
        else:
            want = [str(r) for r in spec.ref.roots()]
        assert [here(r) for r in spec.roots] == want, spec.ref.target
        assert spec.pattern in spec.ref.patterns
    by_agent: dict[str, list[str]] = {}
    for spec in database_roots():
        by_agent.setdefault(spec.ref.name, []).extend(here(r) for r in spec.roots)
    assert set(by_agent) == {"opencode", "goose", "kilo", "hermes", "zcode", "antigravity"}
    for name, roots in by_agent.items():
        ref = next(r for r in registry.AGENTS if r.name == name and r.kind == "database")
        for local in ref.roots():
            if name == "antigravity":
                assert any(str(local).startswith(r + "/") for r in roots), local
            elif name == "opencode":
                assert str(local.parent) in roots
            else:
                assert str(local) in roots and f"{local}-wal" in roots


def test_openclaw_keeps_only_session_files():
    [spec] = [s for s in file_roots() if s.ref.name == "openclaw"]
    assert spec.wanted("/h/.openclaw/agents/main/sessions/a.jsonl")
    assert spec.wanted("/h/.openclaw/agents/main/sessions/sub/b.jsonl")
    assert not spec.wanted("/h/.openclaw/agents/main/config.json")
    assert not spec.wanted("/h/.openclaw/agents/sessions.json")


def test_export_says_a_bad_source_in_one_line(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    got = subprocess.run([str(TOKENTOP), "export", "--json", "--source", "nope"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert got.returncode == 2 and got.stdout == ""
    assert got.stderr.count("\n") == 1 and "not a database agent: nope" in got.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=120, env=env)


@needs_sshd
def test_ingest_with_remote_tokentop_and_a_note_without(box, tmp_path):
    opencode_db(box.home).close()
    gemini_qwen_home(box.home)
    env = {k: v for k, v in os.environ.items() if k != "TOKENTOP_REMOTE_TOKENTOP"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no config file of the user's
    env["HOME"] = str(tmp_path)  # nor agent files of this machine's
    env["CODEX_HOME"] = str(tmp_path / "codex")
    db = str(tmp_path / "usage.db")
    plain = cli("ingest", "--store", db, "--claude-dir", str(tmp_path), "--host", "box",
                "--json", env=env)
    assert plain.returncode == 0, plain.stderr
    assert "tokentop: opencode: needs tokentop on box\n" in plain.stderr
    doc = json.loads(plain.stdout)["hosts"]["box"]
    assert doc["notes"] == ["opencode: needs tokentop on box"]
    assert doc["gemini"]["requests"] > 0 and doc["opencode"]["requests"] == 0
    before = tree(box.home)  # the agent is not running: no -wal beside its database
    got = cli("ingest", "--store", db, "--claude-dir", str(tmp_path), "--host", "box",
              "--remote-tokentop", f"box={TOKENTOP}", "--json", env=env)
    assert got.returncode == 0, got.stderr
    assert tree(box.home) == before
    doc = json.loads(got.stdout)["hosts"]["box"]
    assert doc["notes"] == [] and doc["opencode"]["requests"] > 0
    assert doc["gemini"]["requests"] == 0  # read already: nothing twice
    (tmp_path / "config" / "tokentop").mkdir(parents=True)
    (tmp_path / "config" / "tokentop" / "config.toml").write_text(
        f'remote-tokentops = ["box={TOKENTOP}"]\n')
    again = cli("ingest", "--store", db, "--claude-dir", str(tmp_path), "--host",
                "box", "--json", env=env)
    assert again.returncode == 0 and "needs tokentop" not in again.stderr, again.stderr
    assert json.loads(again.stdout)["hosts"]["box"]["notes"] == []


def test_tokentop_for_a_box():
    assert tokentop_for("a", "a=/opt/tt,b=/usr/bin/tokentop") == "/opt/tt"
    assert tokentop_for("b", "a=/opt/tt,b=/usr/bin/tokentop") == "/usr/bin/tokentop"
    assert tokentop_for("c", "a=/opt/tt") is None
    assert tokentop_for("c", "~/venv/bin/tokentop,a=/opt/tt") == "~/venv/bin/tokentop"
    assert tokentop_for("a", "") is None


@needs_sshd
def test_a_document_rewritten_at_the_same_size_is_read_again(box, tmp_path):
    """Within the same second too: the box's ``stat`` gives nanoseconds (GNU)."""
    gemini_qwen_home(box.home)
    legacy = box.home / ".gemini" / "tmp" / GEMINI_LEGACY
    col = RemoteCollector("box")
    with UsageStore.open(tmp_path / "usage.db") as store:
        col.collect(store)
        data = legacy.read_bytes()
        assert b'"input": 9120' in data
        legacy.write_bytes(data.replace(b'"input": 9120', b'"input": 9121'))
        again = col.collect(store)
    col.close()
    assert again.agents["gemini"].files_read == 1
    assert again.agents["gemini"].bytes_read == len(data)


@needs_sshd
def test_hermes_row_marks_go_to_the_box_and_come_back(box, tmp_path):
    """A table of running totals (Hermes's sessions): the marks this machine stored go
    to the box's tokentop, so only the row that changed is sent back."""
    from test_agent_hermes import make_db

    db = make_db(box.home / ".hermes" / "state.db")
    col = RemoteCollector("box", tokentop=str(TOKENTOP))
    with UsageStore.open(tmp_path / "usage.db") as store:
        first = col.collect(store)
        assert first.agents["hermes"].requests == 4 and col.status.notes == []
        con = sqlite3.connect(db)
        con.execute("UPDATE sessions SET input_tokens = input_tokens + 500,"
                    " output_tokens = output_tokens + 50 WHERE id = '20260503_080000_0a0b0c'")
        con.commit()
        con.close()
        second = col.collect(store)
        assert second.agents["hermes"].requests == 1
        assert second.ingest.inserted == 0 and second.ingest.enriched == 1
        got = store.conn.execute(
            "SELECT COUNT(*), SUM(input_tokens) FROM usage_events WHERE agent_name = 'hermes'"
            " AND tokentop_host = 'box'").fetchone()
    col.close()
    assert got == (4, 1200 + 8000 + 20000 + 3500)
