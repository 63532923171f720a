"""Where the config file is, without loading what reads it: a headless command with no
config file (most runs) checks this path and skips importing the reader (TOML, the
alert rules, difflib: ~10 ms of a warm report)."""

from __future__ import annotations

from pathlib import Path

from tokentop.store.xdg import user_dir

FILE_NAME = "config.toml"


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/tokentop/config.toml`` (default ``~/.config/tokentop``):
    platformdirs' config directory, worked out without importing it on Linux
    (``tokentop.store.xdg``, tested equal; ~7 ms of every command)."""
    return Path(user_dir("config", "tokentop")) / FILE_NAME
