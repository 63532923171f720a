"""The usage store's default path for the status line, without importing platformdirs
or the paths module (``tokentop.store.xdg`` says why; the status line runs on every
Claude Code message and every tmux refresh)."""

from __future__ import annotations

import os

from tokentop.store.xdg import user_dir


def default_db_path() -> str:
    """``tokentop.store.usage.paths.default_db_path()``."""
    return os.path.join(user_dir("state", "tokentop"), "usage.db")
