"""Where an app keeps its state on this machine: ``$XDG_STATE_HOME/<app>`` via platformdirs.

Why a module of its own: tokentop's usage store, spool and trace latency cache all live
under tokentop's state directory (and the usage store reads openusage's), so the place
belongs to neither store; each takes it from here without importing the other.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs


def state_dir(app: str) -> Path:
    """``$XDG_STATE_HOME/<app>`` (default ``~/.local/state/<app>``)."""
    return Path(platformdirs.user_state_dir(app, appauthor=False))
