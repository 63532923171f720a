"""Shared by the OpenCode and Kilo tests: their fixture databases built from the SQL in
``tests/usage/fixtures/<agent>/`` (the agents' own schema, rows in their real JSON), and
both reports (ccusage's and tokentop's) on a fixture, end to end through the CLIs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "usage" / "fixtures"
CCUSAGE = (ROOT / "tests" / "support" / "ccusage" / "node_modules" / "@ccusage"
           / "ccusage-linux-x64" / "bin" / "ccusage")
INSTALL = "tests/support/install_ccusage.sh"
COST_TOLERANCE = 0.005
TOKEN_KEYS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def build_db(path: Path, agent: str) -> sqlite3.Connection:
    """The fixture database of ``agent`` at ``path``, in WAL mode as the agents keep it;
    the connection stays open (the agent is running) until the caller closes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript((FIXTURES / agent / "schema.sql").read_text())
    conn.executescript((FIXTURES / agent / "messages.sql").read_text())
    conn.commit()
    return conn


def copy_storage(data_dir: Path) -> None:
    """OpenCode's older ``storage/message/<session>/<msg>.json`` files."""
    shutil.copytree(FIXTURES / "opencode" / "storage", data_dir / "storage")


def ccusage_bin() -> Path:
    if not CCUSAGE.exists():
        pytest.fail(f"ccusage is not installed: run {INSTALL}", pytrace=False)
    return CCUSAGE


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """No user data reaches either tool: an empty HOME, no XDG or agent variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_", "CODEX_", "XDG_", "CCUSAGE", "OPENCODE_",
                                "KILO_"))}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(tmp / "claude"),
               CODEX_HOME=str(tmp / "codex"), XDG_STATE_HOME=str(tmp / "state"),
               XDG_CONFIG_HOME=str(tmp / "config"), TZ="UTC", NO_COLOR="1", **extra)
    return env


def _run_json(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{cmd[:3]} failed ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def both_daily(tmp: Path, source: str, env: dict[str, str]) -> tuple[dict, dict]:
    """(tokentop's, ccusage's) ``daily --json`` in UTC for ``source``."""
    theirs = _run_json([str(ccusage_bin()), source, "daily", "--json", "--offline",
                        "--timezone", "UTC"], env, tmp)
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    ours = _run_json([sys.executable, "-c", code, "daily", "--json", "--source", source,
                      "--store", str(tmp / "usage.db"), "--timezone", "UTC"], env, ROOT)
    return ours, theirs


def by_date(doc: dict) -> dict[str, dict]:
    return {d["date"]: d for d in doc["daily"]}
