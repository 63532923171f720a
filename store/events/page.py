"""A saved page of ``GET /telemetry/events``: a JSON array of envelopes.

kernel-images' ``ReadTelemetryEvents`` (``server/cmd/api/api/telemetry.go``,
``readTelemetryEventsOKResponse``) writes one page of archived envelopes as
``json.NewEncoder(w).Encode(envs)``: ``[{"seq": N, "event": {...}}, ...]`` on one line,
in ascending order (the cursor rides in the ``X-Has-More`` / ``X-Next-Offset`` headers,
not in the body). An older version of the handler wrapped it as ``{"events": [...]}``;
both are read. Saved with ``curl`` the page is one line; passed through ``jq .`` it is
pretty-printed over many: :func:`looks_like_page` tells a page from JSONL by its first
bytes, so the file source can read it whole.
"""

from __future__ import annotations

import re

import msgspec

from tokentop.store.events.model import Event, WireEnvelope

__all__ = ["looks_like_page", "parse_page"]

_PAGE_START = re.compile(rb'^\s*(\[|\{\s*"events"\s*:)')


class _Wrapped(msgspec.Struct):
    events: list[msgspec.Raw]


_items = msgspec.json.Decoder(list[msgspec.Raw] | _Wrapped)
_envelope = msgspec.json.Decoder(WireEnvelope)

PageItem = tuple[Event, int, int] | str  # (event, upstream seq, bytes) or why it is bad


def looks_like_page(head: bytes) -> bool:
    """Do these first bytes start a page (an array, or ``{"events": ...}``)?"""
    return _PAGE_START.match(head) is not None


def parse_page(data: bytes) -> list[PageItem] | str:
    """The page's envelopes in order, each ``(event, seq, size)`` or a one-line reason
    it is bad; a reason instead of a list when the page itself is not JSON."""
    try:
        page = _items.decode(data)
    except msgspec.DecodeError as exc:
        return f"not a page of envelopes: {exc}"
    raws = page.events if isinstance(page, _Wrapped) else page
    out: list[PageItem] = []
    for i, raw in enumerate(raws):
        if b"\n" in bytes(raw):  # pretty-printed: data is re-emitted as is, so one line it must be
            raw = msgspec.Raw(msgspec.json.format(raw, indent=-1))
        try:
            env = _envelope.decode(raw)
        except msgspec.DecodeError as exc:
            out.append(f"element {i}: not an envelope: {exc}")
            continue
        if env.seq < 0:
            out.append(f"element {i}: negative seq {env.seq}")
            continue
        out.append((env.event, env.seq, len(raw)))
    return out
