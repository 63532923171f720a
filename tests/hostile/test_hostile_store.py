"""``--store`` pointed where it should not be (issue 16): a directory that does not exist
is not made (only tokentop's own state directory is), an unrelated SQLite file is refused
and left byte for byte, and each is one line, never a traceback."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(tmp / "home"), "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
           "CLAUDE_CONFIG_DIR": str(tmp / "none"), "CODEX_HOME": str(tmp / "none")}
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "deeper" / "usage.db"
    msg = one_line_error(run(tmp_path, "ingest", "--store", str(target)))
    assert "no such directory" in msg and str(target.parent) in msg
    assert not (tmp_path / "nonexistent").exists()
    # tokentop's own state directory is made on first use
    ok = run(tmp_path, "ingest")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "state" / "tokentop" / "usage.db").is_file()


def test_an_unrelated_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO accounts (name) VALUES ('x')")
    conn.commit()
    conn.close()
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    msg = one_line_error(run(tmp_path, "ingest", "--store", str(other)))
    assert "not tokentop's store" in msg
    report = run(tmp_path, "report", "daily", "--store", str(other))
    assert report.returncode != 0 and "Traceback" not in report.stderr
    assert len(report.stderr.strip().splitlines()) == 1
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.db")) == [
        "app.db"]  # no -wal, -shm or journal left beside it
