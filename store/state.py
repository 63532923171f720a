"""Where an app keeps its state on this machine: ``$XDG_STATE_HOME/<app>``.

Why a module of its own: tokentop's usage store, spool and trace latency cache all live
under tokentop's state directory (and the usage store reads openusage's), so the place
belongs to neither store; each takes it from here without importing the other.

The directory is platformdirs' ``user_state_dir``; on Linux it is worked out without
importing platformdirs (``tokentop.store.xdg``, tested equal): ~7 ms of every
command, and of the walk ``tokentop report`` starts before its other imports
(``tokentop.store.usage.sources``).
"""

from __future__ import annotations

from pathlib import Path

from tokentop.store.xdg import user_dir


def state_dir(app: str) -> Path:
    """``$XDG_STATE_HOME/<app>`` (default ``~/.local/state/<app>``)."""
    return Path(user_dir("state", app))
