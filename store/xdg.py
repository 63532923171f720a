"""tokentop's state, config and cache directories, without importing platformdirs.

Why: importing platformdirs (with the tempfile, shutil and compression modules it pulls
in) costs ~8-15 ms, of a status line's 50 ms budget, and of the walk ``tokentop
report`` starts before its other imports. On Linux the answer is two lines of the XDG
rules, which this module applies as platformdirs 4 does (``_xdg.xdg_dir``: an
environment value counts only when it is an absolute path; else ``~/.local/state``,
``~/.config``, ``~/.cache``). Anywhere else (macOS, Windows, Android), and on Linux
when ``$HOME`` is set but not absolute (platformdirs then asks the password database),
platformdirs itself answers. tests/usage/test_statusline_fast.py checks both give the
same directories. Neither store's: the usage store, the trace store's cache and the
config all take their directories from here (``os`` and ``sys`` only).
"""

from __future__ import annotations

import os
import sys

_DEFAULTS = {"state": ("XDG_STATE_HOME", "~/.local/state"),
             "config": ("XDG_CONFIG_HOME", "~/.config"),
             "cache": ("XDG_CACHE_HOME", "~/.cache")}


def _plain_linux() -> bool:
    if not sys.platform.startswith("linux") or hasattr(sys, "getandroidapilevel"):
        return False
    if os.environ.get("ANDROID_DATA") == "/data" and os.environ.get("ANDROID_ROOT") == "/system":
        return False
    home = os.environ.get("HOME")
    return home is None or home.startswith("/")


def user_dir(kind: str, app: str) -> str:
    """platformdirs' ``user_<kind>_dir(app, appauthor=False)`` (kind: state, config,
    cache), as a string."""
    env, default = _DEFAULTS[kind]
    if _plain_linux():
        value = os.environ.get(env, "")
        base = value if value.startswith("/") else os.path.expanduser(default)
        return os.path.join(base, app)
    import platformdirs

    return str(getattr(platformdirs, f"user_{kind}_dir")(app, appauthor=False))
