"""Follow one path like ``tail -F``: an open file read from the last complete line on.

The file stays open, so appends are read from the last complete line on (a partial last
line waits for its newline), and when the path names another file (rotated: renamed
and recreated) the old one is finished first, its last line included. A file that
shrank or whose first bytes changed was truncated or rewritten: it is read again from
the top. Changes are noticed with ``watchfiles`` on the file's directory (``poll=True``
forces polling, for network filesystems), with a re-check every second as a safety net.

``-`` reads stdin (or the ``stdin`` file object/descriptor given) until EOF, no follow.

What the lines mean is the subclass's: it implements ``_publish`` and may react to
``_rotated`` (a new file continues the old) and ``_rewritten`` (the file now holds
other lines). Its ``status`` shows ``state`` (``connecting``, ``connected``, ``ended``,
``failed``) and ``last_error``.
"""

from __future__ import annotations

import abc
import contextlib
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from tokentop.store.tail.reader import CHUNK, HEAD_BYTES, LineSplitter
from tokentop.store.tail.regular import open_regular

WATCH_DEBOUNCE_MS = 200  # at most this long to group a burst of changes
WATCH_STEP_MS = 20  # quiet time that ends a group: bounds append-to-ring latency
RECHECK_MS = 1000  # re-check the file this often even without a change event

OnBatch = Callable[[int], None]


class Status(Protocol):
    """Where the follower says how it is doing."""

    state: str
    last_error: str | None


class FileFollower(abc.ABC):
    """Reads (and follows) one path, handing batches of complete lines to ``_publish``."""

    def __init__(
        self,
        path: str | Path,
        status: Status,
        *,
        follow: bool = False,
        poll: bool = False,
        stdin: BinaryIO | int | None = None,
    ) -> None:
        self.is_stdin = str(path) == "-"
        self.path = Path(path)
        self.follow = follow and not self.is_stdin
        self.poll = poll
        self.stdin = stdin
        self.status = status
        # The open file being followed: descriptor, consumed offset, first bytes, line no.
        self._fd: int | None = None
        self._ident: tuple[int, int] = (0, 0)
        self._offset = 0
        self._head = b""
        self._lineno = 0

    @property
    def name(self) -> str:
        return "<stdin>" if self.is_stdin else str(self.path)

    # -- hooks -------------------------------------------------------------------------

    @abc.abstractmethod
    def _publish(self, lines: list[bytes]) -> int:
        """Take one batch of complete lines (``_lineno`` counts them); returns how many
        items it produced."""

    def _rotated(self) -> None:  # noqa: B027 - an optional hook
        """The path now names a new file; the old one was read to its end."""

    def _rewritten(self) -> None:  # noqa: B027 - an optional hook
        """The file was truncated or rewritten: it is read again from the top."""

    # -- run ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, on_batch: OnBatch | None = None) -> None:
        """Read (and follow) until EOF, or until ``stop`` is set when following.

        ``on_batch`` gets what ``_publish`` returned for each non-empty batch. Never
        raises for a missing or unreadable file: ``status.state`` becomes ``failed``
        with ``status.last_error`` (or, when following, waits for the file to appear).
        """
        try:
            if self.is_stdin:
                self._run_stdin(stop, on_batch)
            elif self.follow:
                self._run_follow(stop, on_batch)
            else:
                self._run_once(on_batch)
        finally:
            self._close()

    def _emit(self, lines: list[bytes], on_batch: OnBatch | None) -> int:
        n = self._publish(lines)
        if n and on_batch is not None:
            on_batch(n)
        return n

    def _run_once(self, on_batch: OnBatch | None) -> None:
        try:
            self._open()
        except OSError as exc:
            self._fail(exc)
            return
        self.status.state = "connected"
        try:
            self._drain(on_batch, final=True)
        except OSError as exc:
            self._fail(exc)
            return
        self.status.state = "ended"

    def _run_stdin(self, stop: threading.Event, on_batch: OnBatch | None) -> None:
        src = self.stdin if self.stdin is not None else sys.stdin.buffer
        fd = src if isinstance(src, int) else src.fileno()
        self.status.state = "connected"
        carry = b""
        try:
            while not stop.is_set():
                with contextlib.suppress(OSError, ValueError):  # select may not apply
                    if not select.select([fd], [], [], 0.2)[0]:
                        continue
                data = os.read(fd, CHUNK)
                if not data:
                    break
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry += data
                    continue
                lines = (carry + data[:cut]).split(b"\n")
                carry = data[cut + 1:]
                self._emit(lines, on_batch)
            else:
                return
        except OSError as exc:
            self._fail(exc)
            return
        if carry:
            self._emit([carry], on_batch)
        self.status.state = "ended"

    def _run_follow(self, stop: threading.Event, on_batch: OnBatch | None) -> None:
        from tokentop.store.tail import watching  # a one-shot read never watches

        directory = self.path.parent
        while not stop.is_set():
            if not directory.is_dir():
                self.status.state = "connecting"
                self.status.last_error = f"waiting for {directory} to exist"
                stop.wait(1.0)
                continue
            self.check(on_batch)  # whatever happened while nobody watched
            try:
                for _changes in watching.watch(
                    directory,
                    stop=stop,
                    poll=self.poll,
                    poll_delay_ms=250,
                    on_fallback=self._note,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_STEP_MS,
                    rust_timeout=RECHECK_MS,
                    yield_on_timeout=True,
                    recursive=False,
                ):
                    # Any change in the directory, or a timeout: checking is one fstat
                    # and one stat when nothing happened to our file.
                    self.check(on_batch)
                    if not directory.is_dir():
                        break
            except (OSError, RuntimeError) as exc:
                self.status.last_error = f"watching {directory}: {exc}"
                stop.wait(1.0)

    # -- the followed file ---------------------------------------------------------------

    def check(self, on_batch: OnBatch | None = None) -> int:
        """Read what is new in the followed file (and its replacement); returns what
        ``_publish`` produced. Called by ``run`` on every change; public so a caller
        can drive following without a watcher thread."""
        n = 0
        try:
            if self._fd is not None:
                n += self._drain(on_batch, final=False)
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                if self._fd is None:
                    self.status.state = "connecting"
                    self.status.last_error = f"waiting for {self.path} to exist"
                return n
            if self._fd is not None and (st.st_dev, st.st_ino) == self._ident:
                return n
            if self._fd is not None:
                # Rotated: the old file will not grow any more; its tail is its last line.
                n += self._drain(on_batch, final=True)
                self._close()
                self._rotated()
            self._open()
            self.status.state = "connected"
            self.status.last_error = None
            n += self._drain(on_batch, final=False)
        except OSError as exc:
            self.status.last_error = f"{self.path}: {exc.strerror or exc}"
            self._close()
        return n

    def _open(self) -> None:
        fd = open_regular(self.path)
        st = os.fstat(fd)
        self._fd = fd
        self._ident = (st.st_dev, st.st_ino)
        self._offset = 0
        self._head = b""
        self._lineno = 0

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _drain(self, on_batch: OnBatch | None, *, final: bool) -> int:
        """Publish the complete lines after the consumed offset (and, if ``final``, the
        unterminated last one). A file that shrank or changed its first bytes was
        truncated or rewritten: it is read from the top."""
        fd = self._fd
        assert fd is not None
        if self._offset:
            size = os.fstat(fd).st_size
            if size < self._offset or os.pread(fd, len(self._head), 0) != self._head:
                self._offset = 0
                self._head = b""
                self._lineno = 0
                self._rewritten()
        n = 0
        for lines in self._lines(fd, final):
            n += self._emit(lines, on_batch)
        return n

    def _lines(self, fd: int, final: bool) -> Iterator[list[bytes]]:
        """Batches of complete lines from the consumed offset, moving it past each."""

        def chunks() -> Iterator[bytes]:
            pos = self._offset
            while data := os.pread(fd, CHUNK, pos):
                pos += len(data)
                yield data

        split = LineSplitter(self._offset)
        for lines in split.batches(chunks()):
            self._consumed(split.end)
            yield lines
        if final and split.carry:
            self._consumed(split.end + len(split.carry))
            yield [split.carry]

    def _consumed(self, offset: int) -> None:
        self._offset = offset
        if len(self._head) < HEAD_BYTES and self._fd is not None:
            self._head = os.pread(self._fd, min(HEAD_BYTES, offset), 0)

    def _note(self, message: str) -> None:
        """The watcher polls instead of using inotify: shown where errors show."""
        self.status.last_error = message

    def _fail(self, exc: OSError) -> None:
        self.status.state = "failed"
        self.status.last_error = f"{self.name}: {exc.strerror or exc}"
