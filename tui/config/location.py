"""Where the config file is, without loading what reads it: a headless command with no
config file (most runs) checks this path and skips importing the reader (TOML, the
alert rules, difflib: ~10 ms of a warm report)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

FILE_NAME = "config.toml"


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/tokentop/config.toml`` (default ``~/.config/tokentop``), found
    by platformdirs as the state directory is (store/state.py)."""
    return Path(platformdirs.user_config_dir("tokentop", appauthor=False)) / FILE_NAME
