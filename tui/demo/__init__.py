"""``tokentop --demo``: a temporary gridctl telemetry tree with a day of history that keeps moving.

The demo does not fake the store: it writes real gridctl files (``gridctl.py``) and
the dashboard opens them like any other telemetry root, so what a user sees in the demo
is what the replay and the follower really do with a day of a busy fleet.

    tree = build_demo()          # history on disk, synchronously (well under a second)
    tree.start()                 # gridctl keeps flushing, every second
    ... open the dashboard on tree.root ...
    tree.stop()                  # stop writing, delete the tree

The tree is removed by ``stop()``, by leaving a ``with build_demo() as tree:`` block, at
interpreter exit, or on SIGHUP/SIGTERM (closing the terminal), whichever comes first;
trees of processes that were killed outright are swept by the next demo (``cleanup``).
Importing this package never imports Textual.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from tokentop.tui.demo.cleanup import PREFIX, SignalCleanup, sweep_stale, write_marker
from tokentop.tui.demo.gridctl import NS, GridctlWriter
from tokentop.tui.demo.history import DemoServer, build_history
from tokentop.tui.demo.live import LiveWriter

__all__ = ["DemoTree", "build_demo"]


class DemoTree:
    """A demo telemetry root on disk, its live writer, and the duty to delete it."""

    def __init__(
        self,
        root: Path,
        writer: GridctlWriter,
        servers: list[DemoServer],
        *,
        seed: int = 7,
        owns_root: bool = True,
        interval: float = 1.0,
    ) -> None:
        self.root = root
        self.writer = writer
        self.servers = servers
        self.live = LiveWriter(writer, servers, seed=seed, interval=interval)
        self._owns_root = owns_root  # False: the caller's (empty) dir, keep it, empty it
        self._lock = threading.RLock()  # RLock: a signal may arrive inside stop()
        self._stopped = False
        atexit.register(self.stop)
        self._signals = SignalCleanup(self.stop)

    def start(self) -> None:
        """Start the live writer thread (a daemon: it never keeps the process alive)."""
        if self._stopped:
            raise RuntimeError("this demo tree has been stopped and deleted")
        self.live.start()

    def stop(self) -> None:
        """Stop the writer and delete the whole tree. Safe to call any number of times."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self.live.stop()
        atexit.unregister(self.stop)
        self._signals.restore()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            for entry in list(self.root.iterdir()) if self.root.is_dir() else []:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    def __enter__(self) -> DemoTree:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


FLEET_HOUR_NOW = 15.5  # the fleet's local time at "now": mid-afternoon, busy


def _fleet_offset(now: float) -> int:
    """Seconds east of UTC of the demo fleet's clock, so that "now" is mid-afternoon.

    Following the viewer's clock instead would make a demo opened at night a still
    picture; the fleet lives in whichever time zone makes it busy now.
    """
    return int(FLEET_HOUR_NOW * 3600 - now % 86400) % 86400


def build_demo(
    root: Path | None = None,
    *,
    now: float | None = None,
    seed: int = 7,
    history_minutes: int = 24 * 60,
) -> DemoTree:
    """Write a demo telemetry tree with ``history_minutes`` of history ending at ``now``.

    ``root=None`` makes a fresh temporary directory. A given ``root`` must be missing or
    empty (the demo deletes what it wrote, and must not mix with real telemetry). The
    same ``seed`` and ``now`` give the same files, byte for byte.
    """
    if history_minutes < 1:
        raise ValueError("history_minutes must be at least 1")
    if root is None:
        sweep_stale()
        root = Path(tempfile.mkdtemp(prefix=PREFIX))
        os.chmod(root, 0o700)
        write_marker(root)
        owns_root = True
    else:
        root = Path(root)
        owns_root = not root.exists()
        if not owns_root and (not root.is_dir() or any(root.iterdir())):
            raise ValueError(f"demo root must be missing or an empty directory: {root}")
    now_s = time.time() if now is None else now
    now_ns = int(now_s * 1_000_000) * 1_000  # whole microseconds: floats have no more
    try:
        writer, servers = build_history(
            root,
            now_ns=now_ns,
            seed=seed,
            minutes=history_minutes,
            tz_offset_s=_fleet_offset(now_ns / NS),
        )
    except BaseException:
        if owns_root:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return DemoTree(root, writer, servers, seed=seed, owns_root=owns_root)
