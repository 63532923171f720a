"""A FIFO named like a signal file (issue 16): ``metrics``, ``logs`` and ``spans`` used to
block in ``open`` waiting for a writer. Only regular files are opened now
(``store/tail/regular.py``): the FIFO is named and skipped, the rest is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gridctl"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import contextlib

from gridlog_lines import write_fixed_tree
from metrics_files import metrics_line, server_dir, write


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "telemetry"
    write_fixed_tree(root)
    write(server_dir(root, "prod", "github") / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:05Z", diff=(20, 10), total=(20, 10))])
    trap = server_dir(root, "prod", "trap")
    for name in ("metrics.jsonl", "logs.jsonl", "traces.jsonl"):
        os.mkfifo(trap / name)  # nobody ever writes to them
    return root


@pytest.mark.parametrize("command", ["metrics", "logs", "spans"])
def test_a_fifo_never_hangs_a_command(tree: Path, command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", command, str(tree),
                          "--json"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TZ": "UTC"})
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 1, 2), out.stderr
    assert out.stdout.strip(), out.stderr  # what the regular files hold is printed


def test_the_dashboard_quits_on_q_with_fifos_everywhere(tree: Path, tmp_path: Path) -> None:
    """The dashboard in a real terminal (a pty), its replay, Logs and Spans screens on a
    tree whose ``prod/trap`` signal files are FIFOs, and ``--events`` / ``--access``
    naming FIFOs too: every screen opens, and ``q`` ends the process (a reader blocked in
    ``open`` kept it alive after the UI had gone)."""
    import fcntl
    import select
    import struct
    import termios
    import time

    events, access = tmp_path / "events.fifo", tmp_path / "access.fifo"
    os.mkfifo(events)
    os.mkfifo(access)
    env = {**os.environ, "TERM": "xterm-256color", "TZ": "UTC", "HOME": str(tmp_path / "home"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex")}
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "tokentop.tui.cli", "--metrics-dir",
                             str(tree), "--events", str(events), "--access", str(access)],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = bytearray()

    def read_until(done, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        """Read the terminal until ``done()``, for at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        closed = False
        while time.monotonic() < deadline:
            if done():
                return True
            if closed:  # nothing more to read: only the exit is left to wait for
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
                continue
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen.extend(os.read(master, 65536))
                except OSError:  # EIO: the child closed the terminal
                    closed = True
        return done()

    try:
        # Drawn: the footer's "Help" hint is on screen.
        assert read_until(lambda: b"Help" in seen, 60), bytes(seen[-500:])
        for key in b"12345678":
            os.write(master, bytes([key]))
            mark = len(seen)
            read_until(lambda mark=mark: len(seen) > mark, 10)  # that screen was drawn
        os.write(master, b"q")
        assert read_until(lambda: proc.poll() is not None, 30), "q did not end tokentop"
        assert proc.returncode == 0, bytes(seen[-800:])
        assert b"Traceback" not in seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)


@pytest.mark.parametrize("args", [("events", "{fifo}"), ("access", "{fifo}"),
                                  ("traces", "{fifo}", "diagnostics"),
                                  ("ingest", "--store", "{fifo}")])
def test_a_fifo_given_as_a_file_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    """A FIFO named on the command line blocked ``open`` before the first line."""
    fifo = tmp_path / "named.pipe"
    os.mkfifo(fifo)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "s"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex")}
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli",
                          *(a.format(fifo=fifo) for a in args)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert str(fifo) in out.stderr and "Traceback" not in out.stderr


def test_a_fifo_among_agent_logs_never_hangs_ingest(tmp_path: Path) -> None:
    """A FIFO named like a session log is not a log: the listing leaves it (only regular
    files are agent logs), and the good log beside it lands."""
    project = tmp_path / "claude" / "projects" / "p"
    project.mkdir(parents=True)
    (project / "good.jsonl").write_text(json.dumps({
        "type": "assistant", "timestamp": "2026-11-20T10:00:00.000Z", "sessionId": "s1",
        "requestId": "r1", "cwd": "/w",
        "message": {"id": "m1", "model": "claude-sonnet-4-5-20250929",
                    "usage": {"input_tokens": 100, "output_tokens": 50,
                              "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0}}},
        separators=(",", ":")) + "\n")  # compact, as Claude Code writes it
    os.mkfifo(project / "trap.jsonl")
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "s"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex")}
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "ingest", "--json"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in out.stderr
    assert json.loads(out.stdout.splitlines()[0])["inserted"] == 1, out.stdout


def test_an_agent_database_that_is_a_fifo_never_hangs_ingest(tmp_path: Path) -> None:
    """OpenCode's ``opencode.db`` as a FIFO: SQLite would wait in open() for a writer.
    The listing takes regular files only, and the open refuses anything else too
    (``open_read_only``): the pass ends, reading nothing."""
    import dataclasses

    from tokentop.store.usage.agents.opencode import OPENCODE_DB
    from tokentop.store.usage.collect import collect_once
    from tokentop.store.usage.db import UsageStore

    data = tmp_path / "opencode"
    data.mkdir()
    os.mkfifo(data / "opencode.db")
    agent = dataclasses.replace(OPENCODE_DB, roots=lambda: [data / "opencode.db"])
    with UsageStore.open(tmp_path / "u.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=[agent])
    assert r.as_dict()["opencode"]["files_read"] == 0
