"""Server-sent events out of a text stream, with a ceiling on every line and event.

httpx-sse's reader keeps a line until its newline comes and an event's ``data:`` lines
until its blank line: a server that never ends a line grew tokentop to 4.2 GB in ten
seconds. This is the same interpretation (the HTML standard's "event stream
interpretation": lines end at CR, LF or CRLF; ``:`` comments; ``event``, ``data``,
``id`` (no NUL), ``retry`` fields; a blank line dispatches) with two ceilings: a line
longer than ``max_bytes`` is dropped as it streams past, and so is an event whose data
passes it; each drop is reported through ``on_drop`` and reading goes on with the next
event. Events come out as httpx-sse's own ``ServerSentEvent``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from httpx_sse import ServerSentEvent

MAX_FRAME = 8 << 20  # far above the stream's own 1 MB payload limit (see stream.py)
_BREAK = re.compile(r"\r\n|\r|\n")


class FrameReader:
    """Feed text chunks, get the events they complete. ``max_bytes`` counts characters
    (a decoded stream): within a factor of four of the bytes, which is all it needs."""

    def __init__(self, on_drop: Callable[[str], None], max_bytes: int = MAX_FRAME) -> None:
        self.max_bytes = max_bytes
        self.on_drop = on_drop
        self._parts: list[str] = []
        self._held = 0
        self._dropping = False  # inside a line longer than the ceiling
        self._trailing_cr = False  # the last chunk ended in CR: a LF next is its pair
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0
        self._data_dropped = False
        self._last_id = ""
        self._retry: int | None = None

    def feed(self, text: str) -> list[ServerSentEvent]:
        if self._trailing_cr:
            self._trailing_cr = False
            if text.startswith("\n"):
                text = text[1:]
        if not text:
            return []
        if text.endswith("\r"):
            self._trailing_cr = True
        pieces = _BREAK.split(text)
        out: list[ServerSentEvent] = []
        if len(pieces) == 1:
            self._hold(pieces[0])
            return out
        first = pieces[0]
        if self._dropping:  # the long line ends here: its event is dropped at its end
            self._dropping = False
            self._parts, self._held = [], 0
            self._data_dropped = True
        else:
            line = "".join(self._parts) + first if self._parts else first
            self._parts, self._held = [], 0
            self._line(line, out)
        for line in pieces[1:-1]:
            self._line(line, out)
        self._hold(pieces[-1])
        return out

    def flush(self) -> list[ServerSentEvent]:
        """The end of the stream: a line without its newline is a line (no dispatch)."""
        out: list[ServerSentEvent] = []
        if self._parts and not self._dropping:
            self._line("".join(self._parts), out)
        self._parts, self._held, self._dropping = [], 0, False
        return out

    def _hold(self, piece: str) -> None:
        if not piece or self._dropping:
            return
        self._held += len(piece)
        if self._held > self.max_bytes:
            self._parts, self._dropping = [], True
        else:
            self._parts.append(piece)

    def _line(self, line: str, out: list[ServerSentEvent]) -> None:
        if len(line) > self.max_bytes:
            self._data_dropped = True
            return
        if not line:
            if self._data_dropped:
                self.on_drop(f"an event over {self.max_bytes >> 20} MiB, dropped")
            elif self._event or self._data or self._last_id or self._retry is not None:
                out.append(ServerSentEvent(event=self._event, data="\n".join(self._data),
                                           id=self._last_id, retry=self._retry))
            self._event, self._data, self._retry = "", [], None
            self._data_size, self._data_dropped = 0, False
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            if self._data_dropped:
                return
            self._data_size += len(value) + 1
            if self._data_size > self.max_bytes:
                self._data, self._data_dropped = [], True
            else:
                self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        elif name == "retry":
            # as httpx-sse: what int() takes ("retry: ²" is a digit to isdigit() and
            # raised ValueError out of the reader: a server's line made a traceback)
            with contextlib.suppress(ValueError):
                self._retry = int(value)
