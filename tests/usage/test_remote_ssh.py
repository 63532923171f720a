"""Collection over SSH from a real OpenSSH server on 127.0.0.1 (tests/support/sshd.py):
appends travel incrementally, rotation and truncation, a dropped connection mid-read,
a changed host key, a box without agent directories, and the host on every event."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support import sshd
from test_claude import line
from test_codex import ctx, meta, tc, usage

from tokentop.store.remote.session import RemoteError, SshOptions
from tokentop.store.usage import remote as remote_mod
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.remote import RemoteCollector, collect_hosts, offset_key

pytestmark = pytest.mark.skipif(sshd.missing_reason() is not None,
                                reason=sshd.missing_reason() or "")


def claude_log(box: sshd.Sshd, name: str = "a.jsonl") -> Path:
    p = box.home / ".claude" / "projects" / "-home-u-app" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def append(path: Path, *lines: str) -> None:
    with path.open("a") as fh:
        fh.write("".join(x + "\n" for x in lines))


def rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT message_id, output_tokens, tokentop_host, agent_name FROM usage_events"
            " ORDER BY message_id").fetchall()
    finally:
        conn.close()


def test_appends_travel_incrementally_and_carry_the_host(box, tmp_path):
    log = claude_log(box)
    append(log, line("m1", "r1", out=5), line("m2", "r2", out=7))
    db = tmp_path / "usage.db"
    col = RemoteCollector("box")
    with UsageStore.open(db) as store:
        first = col.collect(store)
        assert first.claude.requests == 2 and first.claude.files == 1
        up0, down0 = col.traffic
        warm = col.collect(store)  # nothing new
        up1, down1 = col.traffic
        assert warm.claude.bytes_read == 0 and not warm.changed
        # a warm poll: a command of two bytes up, a count of a few down
        assert up1 - up0 <= 16 and down1 - down0 <= 16, (up1 - up0, down1 - down0)
        size_before = log.stat().st_size
        append(log, line("m3", "r3", out=11))
        third = col.collect(store)
        assert third.claude.requests == 1
        assert third.claude.bytes_read == log.stat().st_size - size_before
    assert rows(db) == [("m1", 5, "box", "claude_code"), ("m2", 7, "box", "claude_code"),
                        ("m3", 11, "box", "claude_code")]
    with UsageStore.open(db) as store:
        keys = set(store.load_offsets("claude_code"))
    assert keys == {offset_key("box", str(log))}
    col.close()


def test_a_new_process_resumes_from_the_stored_offset(box, tmp_path):
    log = claude_log(box)
    append(log, line("m1", "r1"), line("m2", "r2"))
    db = tmp_path / "usage.db"
    with UsageStore.open(db) as store:
        col = RemoteCollector("box")
        col.collect(store)
        col.close()
    append(log, line("m3", "r3"))
    with UsageStore.open(db) as store:
        col = RemoteCollector("box")
        again = col.collect(store)
        col.close()
    assert again.claude.lines == 1 and again.claude.requests == 1
    assert [r[0] for r in rows(db)] == ["m1", "m2", "m3"]


def test_codex_totals_survive_a_reconnect(box, tmp_path):
    f = box.home / ".codex" / "sessions" / "2026" / "11" / "20" / \
        "rollout-2026-11-20T09-00-00-sess-9.jsonl"
    f.parent.mkdir(parents=True)
    append(f, meta("sess-9", "/home/u/api"), ctx("gpt-5-codex"),
           tc("2026-11-20T09:00:02.000Z", total=usage(100, 0, 5)))
    db = tmp_path / "usage.db"
    with UsageStore.open(db) as store:
        col = RemoteCollector("box")
        assert col.collect(store).codex.usage_lines == 1
        col.close()  # a new session: the parser state is rebuilt from the box's bytes
        col.codex_states.clear()
        append(f, tc("2026-11-20T09:01:00.000Z", total=usage(180, 20, 9)))
        second = col.collect(store)
        col.close()
    assert second.codex.lines == 1
    conn = sqlite3.connect(db)
    got = conn.execute("SELECT input_tokens, cache_read_tokens, output_tokens, tokentop_host"
                       " FROM usage_events ORDER BY occurred_at").fetchall()
    conn.close()
    assert got == [(100, 0, 5, "box"), (80, 20, 4, "box")]


def test_rotation_and_truncation_are_read_from_the_start(box, tmp_path):
    log = claude_log(box)
    append(log, line("m1", "r1"), line("m2", "r2"))
    db = tmp_path / "usage.db"
    col = RemoteCollector("box")
    with UsageStore.open(db) as store:
        col.collect(store)
        # truncated and rewritten longer than before, same inode: its head differs
        log.write_text(line("m9", "r9", session="s2", out=3) + "\n" +
                       line("m8", "r8", session="s2") + "\n" + line("m7", "r7") + "\n")
        rewritten = col.collect(store)
        assert rewritten.claude.requests == 3
        # rotated: a new file under the name (a new inode), shorter than the offset
        log.rename(log.with_name("old.jsonl.bak"))
        append(log, line("m5", "r5"))
        rotated = col.collect(store)
        assert rotated.claude.requests == 1
    assert [r[0] for r in rows(db)] == ["m1", "m2", "m5", "m7", "m8", "m9"]
    col.close()


def test_dropped_connection_mid_read_counts_nothing_twice(box, tmp_path, monkeypatch):
    log = claude_log(box)
    append(log, *(line(f"m{i:03}", f"r{i}") for i in range(300)))
    db = tmp_path / "usage.db"
    monkeypatch.setattr(remote_mod, "CHUNK", 4096)  # many reads: the drop falls mid-file
    monkeypatch.setattr("tokentop.store.usage.collect.BATCH", 20)  # commits along the way
    col = RemoteCollector("box")
    reads = 0
    real = remote_mod.Session.read

    def read_then_drop(self, *a, **k):
        nonlocal reads
        reads += 1
        if reads == 10:
            box.kill()  # the server and its connection die between two reads
        return real(self, *a, **k)

    monkeypatch.setattr(remote_mod.Session, "read", read_then_drop)
    with UsageStore.open(db) as store:
        with pytest.raises(RemoteError):
            col.collect(store)
        assert not col.status.reachable and col.status.error
        partial = len(rows(db))
        assert 0 < partial < 300  # committed batches stayed
        box.start()
        col.collect(store)
        assert col.status.reachable
    got = rows(db)
    assert len(got) == 300 and len({r[0] for r in got}) == 300
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT SUM(output_tokens) FROM usage_events").fetchone()[0] == 3000
    conn.close()
    col.close()


def test_a_changed_host_key_is_refused_in_one_line(box, tmp_path):
    append(claude_log(box), line("m1", "r1"))
    box.kill()
    box.new_host_key()
    box.start()
    col = RemoteCollector("box")
    with UsageStore.open(tmp_path / "usage.db") as store, pytest.raises(RemoteError) as err:
        col.collect(store)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("box: host key")
    assert col.status.error == msg and col.status.last_ok is None
    assert rows(tmp_path / "usage.db") == []


def test_a_box_without_agent_directories(box, tmp_path):
    col = RemoteCollector("box")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = col.collect(store)
    assert col.status.reachable and col.status.files == 0
    assert report.claude.files == 0 and report.codex.files == 0 and not report.changed
    col.close()


def test_an_unreachable_box_leaves_the_others_working(box, tmp_path, monkeypatch):
    append(claude_log(box), line("m1", "r1"))
    cfg = box.config.read_text() + "Host gone\n  HostName 127.0.0.1\n  Port 1\n"
    box.config.write_text(cfg)
    gone, good = RemoteCollector("gone"), RemoteCollector("box")
    failed: list = []
    with UsageStore.open(tmp_path / "usage.db") as store:
        out = collect_hosts(store, [gone, good], on_error=failed.append)
    assert [s.host for s in failed] == ["gone"] and "\n" not in (failed[0].error or "")
    assert out[1][1] is not None and out[1][1].claude.requests == 1
    assert rows(tmp_path / "usage.db")[0][2] == "box"
    good.close()


def test_local_rows_have_no_host_and_keys_never_meet(box, tmp_path):
    """The same file name here and on the box: two offsets, two hosts."""
    local = tmp_path / "claude"
    p = local / "projects" / "-home-u-app" / "a.jsonl"
    p.parent.mkdir(parents=True)
    append(p, line("here", "r-here"))
    append(claude_log(box), line("there", "r-there"))
    db = tmp_path / "usage.db"
    with UsageStore.open(db) as store:
        collect_once(store, claude_roots=[local], codex_dir=tmp_path / "x",
                     hook_spool=tmp_path / "y")
        col = RemoteCollector("box")
        col.collect(store)
        col.close()
    assert [(r[0], r[2]) for r in rows(db)] == [("here", None), ("there", "box")]


def test_hosts_that_could_be_options_are_refused():
    for bad in ("-oProxyCommand=x", "", "a b"):
        with pytest.raises(RemoteError):
            RemoteCollector(bad)


def test_ssh_options_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOKENTOP_SSH_CONFIG", "/tmp/cfg")
    monkeypatch.setenv("TOKENTOP_SSH_CONTROL_DIR", "/tmp/cm")
    argv = SshOptions.from_env().argv("box", "true")
    assert argv[:3] == ["ssh", "-F", "/tmp/cfg"]
    assert "BatchMode=yes" in argv and "ControlPath=/tmp/cm/%C" in argv
    assert argv[-3:] == ["--", "box", "true"]
    assert os.environ["TOKENTOP_SSH_CONFIG"] == "/tmp/cfg"


# -- the headless commands -------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_ingest_and_report_hosts_over_ssh(box, tmp_path):
    append(claude_log(box), line("m1", "r1", out=5), line("m2", "r2", out=7))
    local = tmp_path / "claude"
    p = local / "projects" / "-home-u-app" / "a.jsonl"
    p.parent.mkdir(parents=True)
    append(p, line("here", "r-here", out=1))
    db = str(tmp_path / "usage.db")
    got = cli("ingest", "--store", db, "--claude-dir", str(local), "--host", "box", "--json")
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["hosts"]["box"]["ok"] and doc["hosts"]["box"]["inserted"] == 2
    assert doc["claude"]["requests"] == 1
    again = cli("ingest", "--store", db, "--claude-dir", str(local), "--host", "box", "--json")
    assert json.loads(again.stdout)["hosts"]["box"]["inserted"] == 0  # nothing twice
    rep = cli("report", "hosts", "--store", db, "--no-ingest", "--json")
    assert rep.returncode == 0, rep.stderr
    by_host = {r["host"]: r["outputTokens"] for r in json.loads(rep.stdout)["hosts"]}
    assert by_host == {"box": 12, "local": 1}
    table = cli("report", "hosts", "--store", db, "--no-ingest")
    assert "box" in table.stdout and "local" in table.stdout
    append(claude_log(box), line("m3", "r3", out=100))  # a report collects the box first
    rep = cli("report", "hosts", "--store", db, "--host", "box", "--json")
    by_host = {r["host"]: r["outputTokens"] for r in json.loads(rep.stdout)["hosts"]}
    assert by_host == {"box": 112, "local": 1}


def test_ingest_says_an_unreachable_box_in_one_line_and_exits_1(box, tmp_path):
    append(claude_log(box), line("m1", "r1"))
    db = str(tmp_path / "usage.db")
    assert cli("ingest", "--store", db, "--claude-dir", str(tmp_path), "--host", "box",
               "--json").returncode == 0
    box.kill()
    got = cli("ingest", "--store", db, "--claude-dir", str(tmp_path), "--host", "box")
    assert got.returncode == 1
    lines = [ln for ln in got.stderr.splitlines() if "box" in ln]
    assert len(lines) == 1 and "unreachable" in lines[0] and "last read: 20" in lines[0]
    assert "Traceback" not in got.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 1
    conn.close()


def test_a_login_shell_that_prints_first_is_passed_over(box, tmp_path):
    """A ``.bashrc`` that echoes for every shell (Debian's bash reads it for a command
    sshd runs): its lines come before the program's greeting and are not data."""
    import pwd

    if not pwd.getpwuid(os.getuid()).pw_shell.endswith("/bash"):
        pytest.skip("the login shell is not bash")
    (box.home / ".bashrc").write_text(
        "echo 'Welcome to box'\necho '.42'\necho 'c 1 2 /etc/passwd'\n")
    append(claude_log(box), line("m1", "r1"))
    col = RemoteCollector("box")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = col.collect(store)
    col.close()
    assert report.claude.files == 1 and report.claude.requests == 1


def test_two_names_for_one_box_count_each_message_once(box, tmp_path):
    """Two hosts whose logs hold the same messages (one box under two names, or a home
    synced between boxes): an offset each, one event per message."""
    cfg = box.config.read_text()
    box.config.write_text(cfg + cfg.replace(f"Host {sshd.HOST}\n", "Host alias\n", 1))
    log = claude_log(box)
    append(log, line("m1", "r1", out=5), line("m2", "r2", out=7))
    db = tmp_path / "usage.db"
    cols = [RemoteCollector("box"), RemoteCollector("alias")]
    with UsageStore.open(db) as store:
        out = collect_hosts(store, cols)
        assert [r.claude.requests for _, r in out if r is not None] == [2, 2]
        keys = set(store.load_offsets("claude_code"))
    for col in cols:
        col.close()
    for status, _ in out:
        assert status.reachable
    assert keys == {offset_key("box", str(log)), offset_key("alias", str(log))}
    got = rows(db)
    assert [r[:2] for r in got] == [("m1", 5), ("m2", 7)]
