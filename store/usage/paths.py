"""Where the usage store and the agent logs live by default (XDG, as platformdirs has it)."""

from __future__ import annotations

import os
from pathlib import Path

from tokentop.store.state import state_dir


def default_db_path() -> Path:
    """tokentop's own store: ``$XDG_STATE_HOME/tokentop/usage.db``."""
    return state_dir("tokentop") / "usage.db"


def openusage_db_path() -> Path:
    """openusage's store, which tokentop can open read-only."""
    return state_dir("openusage") / "telemetry.db"


def default_spool_dir() -> Path:
    return state_dir("tokentop") / "telemetry-spool"


def openusage_hook_spool_dir() -> Path:
    return state_dir("openusage") / "hook-spool"


def claude_roots() -> list[Path]:
    """Claude Code project roots: ``$CLAUDE_CONFIG_DIR`` (comma-separated) or the two
    defaults, ``~/.config/claude`` and ``~/.claude``; each holds ``projects/``."""
    env = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if env:
        return [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
    home = Path.home()
    return [home / ".config" / "claude", home / ".claude"]


def codex_sessions_dir() -> Path:
    """``$CODEX_HOME/sessions`` (default ``~/.codex/sessions``)."""
    home = os.environ.get("CODEX_HOME", "").strip()
    return (Path(home).expanduser() if home else Path.home() / ".codex") / "sessions"
