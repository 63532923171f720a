"""Browser events from a JSONL file (or stdin), published into an :class:`EventStream`.

Each line is an envelope ``{"seq": N, "event": {...}}`` (what the server streams) or a
bare event ``{"ts": ..., "type": ..., ...}`` (no upstream seq). A line that is neither
is counted as malformed, with a one-line message, and skipped: a bad line never stops
the source. ``size`` is the line's length in bytes, so the ring truncates a line above
``MAX_ENVELOPE_BYTES`` to ``data: null, truncated: true`` as the server would.

Reading and following (``follow=True``, like ``tail -F``: rotation, truncation, rewrite,
a partial last line, ``-`` for stdin) is ``tokentop.store.tail.follower.FileFollower``'s.
After a rotation or a rewrite the next seq is judged as after a reconnect, so seqs going
back give a ``restart`` marker instead of a run of duplicates.

A saved page of ``GET /telemetry/events`` (a JSON array of envelopes, see
:mod:`~tokentop.store.events.page`) is read too: on one line (as the server writes it,
also on stdin) it is a line of many envelopes; a file that starts as a page is read
whole (``jq .`` output spans lines) and not followed: a page is a finished document.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import msgspec

from tokentop.store.events.model import Envelope, Event, Marker, Source
from tokentop.store.events.page import looks_like_page, parse_page
from tokentop.store.events.stream import EventStream
from tokentop.store.events.tracker import SeqTracker, SourceStats
from tokentop.store.tail.follower import FileFollower
from tokentop.store.tail.regular import open_binary, read_regular

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


class FileSource(FileFollower):
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
        self.stats = SourceStats()
        super().__init__(path, self.stats, follow=follow, poll=poll, stdin=stdin)
        self.stream = stream
        self.on_marker = on_marker
        self.tracker = SeqTracker(self.stats)
        self.markers: deque[Marker] = deque(maxlen=MAX_MARKERS)
        self._switched = False  # the next seq comes from a new or rewritten file

    # -- lines -> stream ---------------------------------------------------------------

    def _publish(self, lines: list[bytes]) -> int:
        """Publish one batch of complete lines; returns how many were published.
        (The hot path: an envelope line is judged and published inline.)"""
        stream = self.stream
        tracker = self.tracker
        published = 0
        for raw in lines:
            self._lineno += 1
            line = raw.strip()
            if not line:
                continue
            # A page is looked for only where a JSONL envelope cannot be ("{" first).
            if (line[0] != 0x7B or line.startswith(b'{"events"')) and looks_like_page(line[:64]):
                published += self._publish_page(line)
                continue
            parsed = parse_line(line)
            if isinstance(parsed, str):
                self._malformed(parsed)
                continue
            event, seq = parsed
            marker = None
            if seq is not None:
                ok, marker = tracker.see(seq, after_reconnect=self._switched)
                self._switched = False
                if not ok:
                    self._duplicate(marker)
                    continue
            stored = stream.publish(Envelope(event, upstream_seq=seq, size=len(line),
                                             marker=marker))
            tracker.account(stored)
            published += 1
        return published

    def _duplicate(self, marker: Marker | None) -> None:
        assert marker is not None
        self.markers.append(marker)
        if self.on_marker is not None:
            self.on_marker(marker)

    def _malformed(self, why: str) -> None:
        self.stats.malformed += 1
        msg = f"{self.name}:{self._lineno}: {why}"
        self.stats.last_malformed = " ".join(msg.split())[:300]

    def _publish_page(self, data: bytes) -> int:
        """Every envelope of a saved ``GET /telemetry/events`` page, in order."""
        items = parse_page(data)
        if isinstance(items, str):
            self._malformed(items)
            return 0
        published = 0
        for item in items:
            if isinstance(item, str):
                self._malformed(item)
            elif self._publish_one(*item):
                published += 1
        return published

    def _publish_one(self, event: Event, seq: int | None, size: int) -> bool:
        """Judge the seq and publish; False for a duplicate (reported, not published)."""
        stream = self.stream
        tracker = self.tracker
        marker = None
        if seq is not None:
            ok, marker = tracker.see(seq, after_reconnect=self._switched)
            self._switched = False
            if not ok:
                self._duplicate(marker)
                return False
        stored = stream.publish(Envelope(event, upstream_seq=seq, size=size,
                                         marker=marker))
        tracker.account(stored)
        return True

    # -- a whole-file page --------------------------------------------------------------

    def run(self, stop: threading.Event, on_batch: Callable[[int], None] | None = None) -> None:
        """As :meth:`FileFollower.run`, except that a file starting as a page is read
        whole, once."""
        if not self.is_stdin and self._starts_as_page():
            self._read_page(on_batch)
            return
        super().run(stop, on_batch)

    def _starts_as_page(self) -> bool:
        try:
            with open_binary(self.path) as f:
                return looks_like_page(f.read(64))
        except OSError:
            return False  # the ordinary path reports it

    def _read_page(self, on_batch: Callable[[int], None] | None) -> None:
        try:
            data = read_regular(self.path)
        except OSError as exc:
            self.stats.state = "failed"
            self.stats.last_error = f"cannot read {self.name}: {exc.strerror or exc}"
            return
        self.stats.state = "connected"
        self._lineno = 1
        n = self._publish_page(data.strip())
        if n and on_batch is not None:
            on_batch(n)
        self.stats.state = "ended"

    # -- FileFollower hooks ------------------------------------------------------------

    def _rotated(self) -> None:
        self._switched = True

    def _rewritten(self) -> None:
        self._switched = True
