"""One airstore ``AccessEvent`` (a file read through an AI-agent filesystem), and the API page.

The struct is airstore's ``instrumentation.AccessEvent`` (beam-cloud/airstore
``pkg/instrumentation/recorder.go``): every read produces exactly one event whatever
happened to compression. airstore appends them to S2 streams
(``access.{workspace}.{session}.events``) and hands them back through
``GET /api/v1/workspaces/{id}/access-log`` (``pkg/api/v1/access_log.go``, ``ListReads``)
as ``{"success": true, "data": {"reads": [...], "next_cursor": "N", "has_more": b}}``.
A JSONL line here is either one event or one such page (``curl`` output appended line
by line), so both decode through ``decode_line``.

Facts derived once, for the summary and the screen alike:

- **backend or cache-served**, as ``GetSummary`` counts them: a read is a backend read
  when ``cache_source`` is ``backend_rpc``, and everything else is cache-served (an
  empty source is bucketed as ``unknown``: the gRPC interceptor leaves it empty).
- **origin**: ``access_origin`` is ``fuse`` for reads the mount collector recorded and
  sent through ``AccessService`` (``pkg/gateway/services/access.go``, which defaults an
  empty origin to ``fuse``: ``access_test.go``); the gateway's own interceptor
  (``pkg/instrumentation/access_interceptor.go``) and compression middleware leave it
  empty, so an empty origin is a gateway read.
- **tokens delivered** (tokentop's, not airstore's): the agent received
  ``compressed_tokens`` when the outcome compressed the content (``compressed``,
  ``cache_hit``); on ``passthrough``, ``timeout``, ``error`` and ``skipped`` it received
  the original (airstore leaves ``compressed_tokens`` 0 on a failure, which must not read
  as a 100 % saving). airstore's own ``total_compressed_tokens`` is the plain sum.

Untrusted numbers: an event dated year 10000 or 2^70 ms crashed the Access screen (no
datetime holds it), and a count past 2^63 broke the sums. ``ts`` must fall in
1970-2100 and every count in 0-10^15, or the event is malformed: counted and skipped,
one at a time (a page with one bad read keeps its other reads).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

OUTCOMES = ("compressed", "cache_hit", "passthrough", "timeout", "error", "skipped")
COMPRESSING = frozenset({"compressed", "cache_hit"})
BACKEND_SOURCE = "backend_rpc"
FUSE_ORIGIN = "fuse"


MAX_TS_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
Millis = Annotated[int, msgspec.Meta(ge=0, le=MAX_TS_MS)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10**15)]


class AccessEvent(msgspec.Struct, frozen=True):
    """airstore's ``AccessEvent`` (``ts`` in unix ms); every field it writes."""

    ts: Millis
    path: str = ""
    event_id: str = ""
    workspace_id: str = ""
    session_id: str = ""
    cache_source: str = ""
    offset: Count = 0
    requested_bytes: Count = 0
    read_bytes: Count = 0
    latency_ms: Count = 0
    mount_id: str = ""
    access_origin: str = ""
    integration: str = ""
    source_uri: str = ""
    query_path: str = ""
    result_id: str = ""
    original_bytes: Count = 0
    compressed_bytes: Count = 0
    original_tokens: Count = 0
    compressed_tokens: Count = 0
    strategy: str = ""
    outcome: str = ""
    compression_ms: Count = 0
    fetch_ms: Count = 0
    error_msg: str = ""

    @property
    def backend(self) -> bool:
        """A round trip to the source service (``GetSummary``'s ``backend_reads``)."""
        return self.cache_source == BACKEND_SOURCE

    @property
    def cache_served(self) -> bool:
        return not self.backend

    @property
    def origin(self) -> str:
        """``mount`` (FUSE collector) or ``gateway`` (recorded server-side)."""
        return "mount" if self.access_origin == FUSE_ORIGIN else "gateway"

    @property
    def session(self) -> str:
        """The session, defaulted to the workspace as airstore's ``accessEventInScope`` does."""
        return self.session_id or self.workspace_id

    @property
    def delivered_tokens(self) -> int:
        """The tokens the agent received (tokentop's reading; see the module docstring)."""
        return self.compressed_tokens if self.outcome in COMPRESSING else self.original_tokens

    @property
    def tokens_saved(self) -> int:
        return self.original_tokens - self.delivered_tokens


def is_cache_served(cache_source: str) -> bool:
    """Anything but ``backend_rpc`` (``GetSummary``: cache-served = total - backend)."""
    return cache_source != BACKEND_SOURCE


class PageData(msgspec.Struct):
    """``listReadsResponse``, its reads decoded one by one (``decode_page``): the bad
    ones counted in ``malformed`` (``last_bad`` says why), not failing the page."""

    reads: list[AccessEvent] | None = None
    next_cursor: str = ""
    has_more: bool = False
    malformed: int = 0
    last_bad: str | None = None


class Page(msgspec.Struct):
    """airstore's ``Response`` envelope (``pkg/api/v1/base.go``) around ``listReadsResponse``."""

    success: bool = False
    data: PageData | None = None
    error: str = ""


class _RawData(msgspec.Struct):
    reads: list[msgspec.Raw] | None = None
    next_cursor: str = ""
    has_more: bool = False


class _RawPage(msgspec.Struct):
    success: bool = False
    data: _RawData | None = None
    error: str = ""


_event = msgspec.json.Decoder(AccessEvent)
_page = msgspec.json.Decoder(_RawPage)


def decode_page(doc: bytes) -> Page | str:
    """One API page, or a one-line reason it is not one."""
    try:
        raw = _page.decode(doc)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        return f"not an access-log page: {exc}"
    if raw.data is None:
        return "not an access-log page: no data" + (f" ({raw.error})" if raw.error else "")
    reads: list[AccessEvent] = []
    malformed, last_bad = 0, None
    for item in raw.data.reads or ():
        try:
            reads.append(_event.decode(item))
        except msgspec.DecodeError as exc:
            malformed, last_bad = malformed + 1, f"not an access event: {exc}"
    data = PageData(reads, raw.data.next_cursor, raw.data.has_more, malformed, last_bad)
    return Page(raw.success, data, raw.error)


def decode_records(line: bytes) -> tuple[list[AccessEvent], int, str | None]:
    """The events of one JSONL line (one event, or a saved API page), how many records
    in it were malformed, and why the last one was."""
    try:
        return [_event.decode(line)], 0, None
    except msgspec.DecodeError as exc:
        reason = f"not an access event: {exc}"
    if b'"data"' in line:
        page = decode_page(line)
        if isinstance(page, Page):
            assert page.data is not None
            return list(page.data.reads or ()), page.data.malformed, page.data.last_bad
    return [], 1, reason


def decode_line(line: bytes) -> list[AccessEvent] | str:
    """The events of one JSONL line, or why it holds none (``decode_records``)."""
    events, bad, why = decode_records(line)
    return why if bad and not events and why else events
