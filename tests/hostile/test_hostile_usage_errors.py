"""Bad option values are one line (issue 16): ``--status 99999999999999999999`` or a
huge ``--max-tokens`` printed click's three-line usage error, read as a crash in a
script's log. Every usage error of every command goes through one rule (``tui/cli.py``):
one escaped line on stderr naming the command and the option, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize("args", [
    ("traces", "{db}", "list", "--status", HUGE),
    ("traces", "{db}", "list", "--max-tokens", HUGE + "0000"),
    ("traces", "{db}", "list", "--min-tokens", "-1"),
    ("traces", "{db}", "list", "--limit", HUGE),
    ("logs", "{dir}", "--tail", HUGE + "x"),
    ("metrics", "{dir}", "--ring-days", HUGE),
    ("events", "{db}", "--count", "0"),
    ("--ring-days", HUGE),
    ("report", "nosuch"),
    ("traces",),
    ("serve", "--dmo"),
])
def test_a_bad_value_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "gw.db"
    db.write_bytes(b"")
    argv = [a.format(db=db, dir=tmp_path) for a in args]
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *argv],
                         capture_output=True, text=True, timeout=60,
                         env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("tokentop: ") and "--help)" in lines[0], lines
    assert "python -m" not in lines[0].partition("(see")[0]  # the command, not argv[0]
    assert "Usage:" not in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_the_quoted_value_is_escaped(tmp_path: Path) -> None:
    """The refused value is the user's text: an escape sequence in it stays text."""
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "traces", "x.db", "list",
                          "--status", "\x1b]0;pwned\x07\u202e1"],
                         capture_output=True, timeout=60, env={"HOME": str(tmp_path)})
    assert out.returncode == 2
    assert b"\x1b" not in out.stderr and b"\x07" not in out.stderr
    assert "\u202e".encode() not in out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_a_group_without_its_command_still_shows_its_help(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "report"],
                         capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path)})
    assert "Usage: " in out.stderr and " report [OPTIONS] COMMAND" in out.stderr
    assert "daily" in out.stdout + out.stderr
