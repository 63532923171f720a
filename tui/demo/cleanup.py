"""Make sure a demo tree does not outlive its process.

``atexit`` alone is not enough: closing an SSH session or a tmux window sends SIGHUP,
``kill`` sends SIGTERM, and Python's default for both is to die without running
``atexit``, which left ``tokentop-demo-*`` directories behind in /tmp. So:

- ``SignalCleanup`` deletes the tree on SIGHUP/SIGTERM and then lets the signal do
  what it would have done (the process still dies by that signal, same exit status,
  and a handler someone else installed still runs);
- temporary trees carry a pid marker, and ``sweep_stale`` removes the trees of dead
  processes (SIGKILL, power loss) the next time a demo starts.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

PREFIX = "tokentop-demo-"
MARKER = ".tokentop-demo-pid"  # a file at the root: never a stack, the store ignores it
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name))

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class SignalCleanup:
    """Run ``cleanup`` before SIGHUP or SIGTERM ends the process."""

    def __init__(self, cleanup: Callable[[], None]) -> None:
        self.cleanup = cleanup
        self.previous: dict[int, Handler] = {}
        if threading.current_thread() is not threading.main_thread():
            return  # handlers can only be set from the main thread; atexit still applies
        for sig in _SIGNALS:
            prev = signal.getsignal(sig)
            # Only take over the default, or chain after another demo tree's handler:
            # an application that handles these signals itself keeps full control.
            if prev is signal.SIG_DFL or isinstance(getattr(prev, "__self__", None),
                                                    SignalCleanup):
                signal.signal(sig, self._handle)
                self.previous[sig] = prev

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        prev = self.previous.get(signum, signal.SIG_DFL)
        self.restore()
        try:
            self.cleanup()
        finally:
            if callable(prev):
                prev(signum, frame)
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

    def restore(self) -> None:
        """Put back the handlers this replaced, where they are still ours."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, prev in self.previous.items():
            if signal.getsignal(sig) == self._handle:
                signal.signal(sig, prev)
        self.previous.clear()


def write_marker(root: Path) -> None:
    """Record which process owns this temporary tree."""
    fd = os.open(root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{os.getpid()}\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(tmpdir: Path | None = None) -> list[Path]:
    """Delete demo trees (ours, with a marker) whose process is gone. Returns them."""
    base = Path(tmpdir) if tmpdir is not None else Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        candidates = [p for p in base.iterdir() if p.name.startswith(PREFIX)]
        for path in candidates:
            try:
                if path.is_symlink() or path.stat().st_uid != os.getuid():
                    continue
                pid = int((path / MARKER).read_text().strip())
            except (OSError, ValueError):
                continue  # no marker: not a tree this code made, or not finished
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


class DemoDir:
    """A demo source living in its own temporary directory, fed by one thread.

    ``stop()`` ends the thread and deletes the directory, at most once, whoever calls
    it first: the dashboard on quit, ``atexit``, or SIGHUP/SIGTERM (closing the
    terminal). Subclasses name their ``THREAD`` and start it with ``_start_thread``.
    """

    THREAD = "demo"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False
        atexit.register(self.stop)
        self._signals = SignalCleanup(self.stop)

    def _start_thread(self, run: Callable[[], None]) -> None:
        """Run ``run`` (a loop until ``_stop`` is set) in the source's thread."""
        self._thread = threading.Thread(target=run, name=self.THREAD, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        atexit.unregister(self.stop)
        with contextlib.suppress(Exception):
            self._signals.restore()
        shutil.rmtree(self.root, ignore_errors=True)
