"""Browser events from a JSONL file (or stdin), published into an :class:`EventStream`.

Each line is an envelope ``{"seq": N, "event": {...}}`` (what the server streams) or a
bare event ``{"ts": ..., "type": ..., ...}`` (no upstream seq). A line that is neither
is counted as malformed, with a one-line message, and skipped: a bad line never stops
the source. ``size`` is the line's length in bytes, so the ring truncates a line above
``MAX_ENVELOPE_BYTES`` to ``data: null, truncated: true`` as the server would.

Following (``follow=True``) works like ``tail -F``: the file stays open, so appends are
read from the last complete line on (a partial last line waits for its newline), and
when the path names another file (rotated: renamed and recreated) the old one is
finished first, its last line included. A file that shrank or whose first bytes
changed was truncated or rewritten: it is read again from the top. After such a
switch the next seq is judged as after a reconnect, so seqs going back give a
``restart`` marker instead of a run of duplicates. Changes are noticed with
``watchfiles`` on the file's directory (``poll=True`` forces polling, for network
filesystems), with a re-check every second as a safety net.

``-`` reads stdin (or the ``stdin`` file object/descriptor given) until EOF, no follow.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

from tokentop.store.events.model import Envelope, Event, Marker, Source
from tokentop.store.events.stream import EventStream
from tokentop.store.events.tracker import SeqTracker, SourceStats
from tokentop.store.tail.reader import CHUNK, HEAD_BYTES

WATCH_DEBOUNCE_MS = 200  # at most this long to group a burst of changes
WATCH_STEP_MS = 20  # quiet time that ends a group: bounds append-to-ring latency
RECHECK_MS = 1000  # re-check the file this often even without a change event
MAX_MARKERS = 1000  # recent duplicate markers kept in ``FileSource.markers``


class _Line(msgspec.Struct):
    """Either shape in one decode: an envelope (``seq`` + ``event``) or a bare event."""

    seq: int | None = None
    event: Event | None = None
    ts: int = 0
    type: str = ""
    category: str = ""
    source: Source = msgspec.field(default_factory=Source)
    data: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    truncated: bool = False


_decoder = msgspec.json.Decoder(_Line)


def parse_line(line: bytes) -> tuple[Event, int | None] | str:
    """(event, upstream seq or None) for one JSONL line, or a one-line reason it is bad."""
    try:
        obj = _decoder.decode(line)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        return f"not an envelope or event: {exc}"
    if obj.seq is not None or obj.event is not None:
        if obj.seq is None:
            return "envelope without a seq"
        if obj.event is None:
            return "envelope without an event"
        if obj.seq < 0:
            return f"negative seq {obj.seq}"
        return obj.event, obj.seq
    if not obj.type:
        return "neither an envelope (seq, event) nor an event (type)"
    return Event(ts=obj.ts, type=obj.type, category=obj.category, source=obj.source,
                 data=obj.data, truncated=obj.truncated), None


class FileSource:
    """Publishes the envelopes of one JSONL file (or stdin) into ``stream``.

    ``stats`` and ``tracker`` account as the SSE source does. Duplicates (an upstream
    seq already seen) are not published; each is passed to ``on_marker`` and kept in
    ``markers`` (the most recent ``MAX_MARKERS``) so the headless CLI can report them.
    Gap and restart markers ride on the next published envelope.
    """

    def __init__(
        self,
        path: str | Path,
        stream: EventStream,
        *,
        follow: bool = False,
        poll: bool = False,
        on_marker: Callable[[Marker], None] | None = None,
        stdin: BinaryIO | int | None = None,
    ) -> None:
        self.is_stdin = str(path) == "-"
        self.path = Path(path)
        self.stream = stream
        self.follow = follow and not self.is_stdin
        self.poll = poll
        self.on_marker = on_marker
        self.stdin = stdin
        self.stats = SourceStats()
        self.tracker = SeqTracker(self.stats)
        self.markers: deque[Marker] = deque(maxlen=MAX_MARKERS)
        self._switched = False  # the next seq comes from a new or rewritten file
        # The open file being followed: descriptor, consumed offset, first bytes, line no.
        self._fd: int | None = None
        self._ident: tuple[int, int] = (0, 0)
        self._offset = 0
        self._head = b""
        self._lineno = 0

    @property
    def name(self) -> str:
        return "<stdin>" if self.is_stdin else str(self.path)

    # -- lines -> stream ---------------------------------------------------------------

    def _publish(self, lines: list[bytes]) -> int:
        """Publish one batch of complete lines; returns how many were published."""
        stream = self.stream
        tracker = self.tracker
        published = 0
        for raw in lines:
            self._lineno += 1
            line = raw.strip()
            if not line:
                continue
            parsed = parse_line(line)
            if isinstance(parsed, str):
                self.stats.malformed += 1
                msg = f"{self.name}:{self._lineno}: {parsed}"
                self.stats.last_malformed = " ".join(msg.split())[:300]
                continue
            event, seq = parsed
            marker = None
            if seq is not None:
                ok, marker = tracker.see(seq, after_reconnect=self._switched)
                self._switched = False
                if not ok:
                    assert marker is not None
                    self.markers.append(marker)
                    if self.on_marker is not None:
                        self.on_marker(marker)
                    continue
            stored = stream.publish(Envelope(event, upstream_seq=seq, size=len(line),
                                             marker=marker))
            tracker.account(stored)
            published += 1
        return published

    # -- run ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, on_batch: Callable[[int], None] | None = None) -> None:
        """Read (and follow) until EOF, or until ``stop`` is set when following.

        ``on_batch`` gets the number of envelopes published by each batch. Never raises
        for a missing or unreadable file: ``stats.state`` becomes ``failed`` with
        ``stats.last_error`` (or, when following, waits for the file to appear).
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

    def _emit(self, lines: list[bytes], on_batch: Callable[[int], None] | None) -> int:
        n = self._publish(lines)
        if n and on_batch is not None:
            on_batch(n)
        return n

    def _run_once(self, on_batch: Callable[[int], None] | None) -> None:
        try:
            self._open()
        except OSError as exc:
            self._fail(exc)
            return
        self.stats.state = "connected"
        try:
            self._drain(on_batch, final=True)
        except OSError as exc:
            self._fail(exc)
            return
        self.stats.state = "ended"

    def _run_stdin(self, stop: threading.Event, on_batch: Callable[[int], None] | None) -> None:
        src = self.stdin if self.stdin is not None else sys.stdin.buffer
        fd = src if isinstance(src, int) else src.fileno()
        self.stats.state = "connected"
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
        self.stats.state = "ended"

    def _run_follow(self, stop: threading.Event, on_batch: Callable[[int], None] | None) -> None:
        import watchfiles  # imported here: a one-shot read does not need it

        directory = self.path.parent
        while not stop.is_set():
            if not directory.is_dir():
                self.stats.state = "connecting"
                self.stats.last_error = f"waiting for {directory} to exist"
                stop.wait(1.0)
                continue
            self.check(on_batch)  # whatever happened while nobody watched
            try:
                for _changes in watchfiles.watch(
                    directory,
                    stop_event=stop,
                    force_polling=self.poll,
                    poll_delay_ms=250,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_STEP_MS,
                    rust_timeout=RECHECK_MS,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                    recursive=False,
                ):
                    # Any change in the directory, or a timeout: checking is one fstat
                    # and one stat when nothing happened to our file.
                    self.check(on_batch)
                    if not directory.is_dir():
                        break
            except (OSError, RuntimeError) as exc:
                self.stats.last_error = f"watching {directory}: {exc}"
                stop.wait(1.0)

    # -- the followed file ---------------------------------------------------------------

    def check(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Read what is new in the followed file (and its replacement); returns the
        number of envelopes published. Called by ``run`` on every change; public so a
        caller can drive following without a watcher thread."""
        n = 0
        try:
            if self._fd is not None:
                n += self._drain(on_batch, final=False)
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                if self._fd is None:
                    self.stats.state = "connecting"
                    self.stats.last_error = f"waiting for {self.path} to exist"
                return n
            if self._fd is not None and (st.st_dev, st.st_ino) == self._ident:
                return n
            if self._fd is not None:
                # Rotated: the old file will not grow any more; its tail is its last line.
                n += self._drain(on_batch, final=True)
                self._close()
                self._switched = True
            self._open()
            self.stats.state = "connected"
            self.stats.last_error = None
            n += self._drain(on_batch, final=False)
        except OSError as exc:
            self.stats.last_error = f"{self.path}: {exc.strerror or exc}"
            self._close()
        return n

    def _open(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
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

    def _drain(self, on_batch: Callable[[int], None] | None, *, final: bool) -> int:
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
                self._switched = True
        n = 0
        for lines in self._lines(fd, final):
            n += self._emit(lines, on_batch)
        return n

    def _lines(self, fd: int, final: bool) -> Iterator[list[bytes]]:
        """Batches of complete lines from the consumed offset, moving it past each."""
        pos = self._offset
        carry = b""
        while True:
            data = os.pread(fd, CHUNK, pos)
            if not data:
                break
            pos += len(data)
            if carry:
                data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1:]
            self._consumed(pos - len(carry))
            yield data[:cut].split(b"\n")
        if final and carry:
            self._consumed(pos)
            yield [carry]

    def _consumed(self, offset: int) -> None:
        self._offset = offset
        if len(self._head) < HEAD_BYTES and self._fd is not None:
            self._head = os.pread(self._fd, min(HEAD_BYTES, offset), 0)

    def _fail(self, exc: OSError) -> None:
        self.stats.state = "failed"
        self.stats.last_error = f"{self.name}: {exc.strerror or exc}"
