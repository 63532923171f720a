"""The collect passes' progress line (``tui/commands/percent.py``): ``tokentop ingest``
shows it from the start; ``tokentop report`` only once its pass has run half a second,
and erases it before the report. Written only to a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tokentop.store.usage.agents import AGENTS
from tokentop.tui.commands import report
from tokentop.tui.commands.percent import Percent, erase
from tokentop.tui.output import SafeText

ROOT = Path(__file__).resolve().parent.parent

# One assistant line as Claude Code writes it (the shape of tests/usage/test_claude.py's
# ``line``, taken from real 2.0.x logs).
LINE = json.dumps({
    "parentUuid": None, "isSidechain": False, "cwd": "/home/u/app", "sessionId": "s1",
    "version": "2.0.14", "type": "assistant", "uuid": "u-1", "requestId": "req_1",
    "timestamp": "2026-11-20T09:14:03.512Z",
    "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5-20250929", "content": [],
                "usage": {"input_tokens": 4, "cache_creation_input_tokens": 100,
                          "cache_read_input_tokens": 1000, "output_tokens": 10}},
}, separators=(",", ":"))


def test_the_line_waits_then_redraws_then_erases() -> None:
    now = [100.0]
    out = io.StringIO()
    p = Percent("collecting", after=0.5, clear=True, out=out, clock=lambda: now[0])
    p(10, 100)
    now[0] += 0.4
    p(20, 100)
    assert out.getvalue() == ""  # a pass this short never shows a line
    now[0] += 0.2
    p(40, 100)
    p(41, 100)  # within 0.1 s of the last draw: not redrawn
    now[0] += 0.05
    p(100, 100)  # the end is always drawn
    p.end()
    assert out.getvalue() == ("\rcollecting:  40% of 0.0 MB\rcollecting: 100% of 0.0 MB"
                              "\r" + " " * 26 + "\r")
    p.end()  # a second end writes nothing more
    assert out.getvalue().count("\r" + " " * 26) == 1


def test_ingest_keeps_its_line() -> None:
    out = io.StringIO()
    p = Percent(out=out)
    p(5, 10)
    p.end()
    assert out.getvalue() == "\ringest:  50% of 0.0 MB\n"


def clean_home(tmp: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> dict[str, str]:
    """Only a one-file Claude home is visible: every agent's variables dropped."""
    claude = tmp / "claude" / "projects" / "-home-u-app"
    claude.mkdir(parents=True)
    (claude / "s1.jsonl").write_text(LINE + "\n")
    drop = {v for a in AGENTS for v in a.env} | {"XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                  "XDG_STATE_HOME"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("CLAUDE_", "CODEX_"))}
    env.update(HOME=str(tmp / "home"), CLAUDE_CONFIG_DIR=str(tmp / "claude"),
               CODEX_HOME=str(tmp / "none"), XDG_STATE_HOME=str(tmp / "state"),
               XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"), TZ="UTC")
    if monkeypatch is not None:
        for k in set(os.environ) - set(env):
            monkeypatch.delenv(k)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
    return env


def read_all(fd: int) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    return out


def test_a_report_shows_its_collect_pass_on_a_terminal(tmp_path, monkeypatch) -> None:
    clean_home(tmp_path, monkeypatch)
    monkeypatch.setattr(report, "PROGRESS_AFTER_S", 0.0)  # as a long first run shows it
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as term:
        monkeypatch.setattr(sys, "stderr", SafeText(term))  # as the command's entry sets it
        report.ingest_new(tmp_path / "usage.db")
        monkeypatch.undo()
    shown = read_all(master)
    os.close(master)
    assert b"collecting: 100% of 0.0 MB" in shown
    # the report then starts on a clean line: erased with spaces, which the headless
    # commands' safe stream passes (an escape sequence would be printed as text)
    assert shown.endswith(erase(len("collecting: 100% of 0.0 MB")).encode())
    assert b"\x1b" not in shown and b"\\u" not in shown


def test_a_quick_report_writes_nothing_to_the_terminal(tmp_path) -> None:
    env = clean_home(tmp_path)
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "tokentop.tui.cli", "report", "daily", "--json",
         "--store", str(tmp_path / "usage.db")],
        stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
        timeout=60)
    os.close(slave)
    shown = read_all(master)
    os.close(master)
    assert proc.returncode == 0 and shown == b""
    assert json.loads(proc.stdout)["totals"]["outputTokens"] == 10
