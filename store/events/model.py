"""The browser event stream's values (DESIGN 2.4, seed 002), shared by the ring,
the sources and the screens.

An upstream envelope is ``{"seq": N, "event": {...}}``. tokentop re-publishes every
event it receives into its own local :class:`~tokentop.store.events.stream.EventStream`, which
assigns its own ``seq``; the upstream seq travels along as ``upstream_seq`` so the
screen shows the server's numbers and gaps are reported in them.

What happened upstream *between* two envelopes (a gap, a restart) is never published
as an event of its own (DESIGN 2.4: drops are never signalled through the ring being
read, or a slow reader could lose the marker itself). It rides on the next envelope
as ``marker``; duplicates are dropped by the source and only counted.

``data`` (and ``source.metadata``) stay undecoded JSON text (``msgspec.Raw``; a
missing or null one is ``b"null"``): a 1 MB screenshot payload costs one slice
until somebody opens the detail pane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

MAX_ENVELOPE_BYTES = 1_000_000  # a serialized envelope above this loses its data
DEFAULT_CAPACITY = 4096

NULL = b"null"


def _null() -> msgspec.Raw:
    return msgspec.Raw(NULL)


MarkerKind = Literal["upstream", "viewer", "restart", "duplicate"]


class Source(msgspec.Struct, omit_defaults=True, gc=False):
    """Where the producer got the event: ``cdp``, ``kernel_api``, ``extension``, ...

    ``gc=False`` (as for ``Event``): it holds only strings and raw JSON, so it can never
    be part of a cycle, and at thousands of events a second the cyclic collector need
    not walk every event the ring keeps.
    """

    kind: str = ""
    event: str = ""
    metadata: msgspec.Raw = msgspec.field(default_factory=_null)


class Event(msgspec.Struct, omit_defaults=True, gc=False):
    """The portable event (seed 002 ``Event``); ``ts`` is unix microseconds."""

    ts: int = 0
    type: str = ""
    category: str = ""
    source: Source = msgspec.field(default_factory=Source)
    data: msgspec.Raw = msgspec.field(default_factory=_null)  # JSON text; b"null" if none
    truncated: bool = False

    @property
    def has_data(self) -> bool:
        return bytes(self.data) not in (NULL, b"")


class WireEnvelope(msgspec.Struct, gc=False):
    """An envelope as the server sends it (SSE ``data:`` or one JSONL line)."""

    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class Marker:
    """Something the reader did not get, or a discontinuity, with its seq range.

    ``upstream``: seqs ``from_seq..to_seq`` never arrived (a gap in the server's seq).
    ``viewer``: the local reader fell behind and ``dropped`` events were evicted
    (seqs are local). ``restart``: the server's seq went back (it restarted).
    ``duplicate``: an already seen seq arrived again (dropped, counted).
    """

    kind: MarkerKind
    dropped: int = 0
    from_seq: int | None = None
    to_seq: int | None = None

    def to_json(self) -> dict[str, object]:
        """The headless ``--json`` line of issue 4: ``{"dropped", "from_seq", "to_seq",
        "kind"}``."""
        return {"dropped": self.dropped, "from_seq": self.from_seq, "to_seq": self.to_seq,
                "kind": self.kind}


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """One event in the local stream.

    ``seq``: local, assigned by ``EventStream.publish`` (0 before publishing).
    ``upstream_seq``: the server's seq; ``None`` for a bare event read from a file.
    ``size``: bytes of the serialized envelope as received (truncation is judged on it).
    ``marker``: an upstream gap or restart seen just before this envelope.

    A struct the cyclic collector does not track (it cannot be in a cycle): the ring
    and the viewer keep thousands, and every full collection would walk them all.
    """

    event: Event
    seq: int = 0
    upstream_seq: int | None = None
    size: int = 0
    marker: Marker | None = None
