"""How a resuming SSE client learns that the kernel server restarted.

kernel-images numbers envelopes in process memory (``server/lib/events/eventstream.go``:
``EventStream.seq``, never persisted), and its stream handler resumes "after N" for
any ``Last-Event-ID: N`` (``server/cmd/api/api/telemetry.go``, ``resolveStartSeq``),
even when the process is new and its own seq is still below N. Its ring reader then
waits until the new process's seq passes N: the first N events of the new run are
never sent, and nothing says so. (Read at kernel/kernel-images commits 048f9c6c and
ae4b8d3b.)

So before every reconnect the SSE source asks the server for its newest seq, and a
number below the last seq it saw means a restart:

1. ``GET <base>`` (``GetTelemetry``): ``{"config": {...}, "seq": N, "applied_at": ...}``,
   ``seq`` being ``TelemetrySession.Seq()``, the stream's newest seq
   (``server/lib/telemetry/telemetry.go``); 404 while telemetry is not configured;
2. else ``GET <base>/events`` (``ReadTelemetryEvents``): a JSON array of envelopes in
   ascending order, paged with ``X-Has-More`` / ``X-Next-Offset``; the newest seq is
   the last envelope's on the last page (an older handler answered
   ``{"events": [...]}``; both are read).

``<base>`` is the stream URL without its trailing ``/stream``: ``/telemetry`` in the
VM, ``/browsers/{id}/telemetry`` in the cloud. A server that answers neither gives
``None`` (no check possible); a transport error is raised (the server is down, and
the reconnection would fail the same way).
"""

from __future__ import annotations

import httpx
import msgspec

__all__ = ["MAX_PAGES", "newest_seq", "probe_urls"]

MAX_PAGES = 20  # pages of /telemetry/events followed at most (1000 envelopes each)
PAGE_LIMIT = 1000  # the handler's maxPageSize
PROBE_TIMEOUT = 10.0


class _State(msgspec.Struct):
    """``oapi.TelemetryState``: only ``seq`` matters here."""

    seq: int | None = None


class _Seq(msgspec.Struct):
    seq: int


class _Wrapped(msgspec.Struct):
    events: list[_Seq] = msgspec.field(default_factory=list)


_state = msgspec.json.Decoder(_State)
_page = msgspec.json.Decoder(list[_Seq] | _Wrapped)


def probe_urls(stream_url: str) -> tuple[httpx.URL, httpx.URL] | None:
    """(state URL, events URL) next to a ``.../telemetry/stream`` URL, without its
    query; ``None`` for a URL that does not end in ``/stream``."""
    try:
        u = httpx.URL(stream_url)
    except httpx.InvalidURL:
        return None
    path = u.path.rstrip("/")
    if not path.endswith("/stream"):
        return None
    base = u.copy_with(path=path[: -len("/stream")], query=None, fragment=None)
    return base, base.copy_with(path=base.path + "/events")


def _state_seq(resp: httpx.Response) -> int | None:
    if resp.status_code != 200:
        return None
    try:
        seq = _state.decode(resp.content).seq
    except msgspec.DecodeError:
        return None
    return seq if seq is not None and seq >= 0 else None


async def _events_seq(client: httpx.AsyncClient, url: httpx.URL,
                      headers: dict[str, str]) -> int | None:
    """The last envelope's seq on the archive's last page. Pages run upward from the
    oldest record of the window, so a walk cut short (``MAX_PAGES``, an error, a reply
    that is not a page) holds a seq *below* the newest, which the caller would take for
    a restart: only a walk that reached ``X-Has-More: false`` gives a number."""
    newest: int | None = None
    offset: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        if offset is not None:
            params["offset"] = offset
        resp = await client.get(url, params=params, headers=headers, timeout=PROBE_TIMEOUT)
        if resp.status_code != 200:
            return None
        try:
            page = _page.decode(resp.content)
        except msgspec.DecodeError:
            return None
        items = page.events if isinstance(page, _Wrapped) else page
        if items:
            newest = items[-1].seq
        if resp.headers.get("x-has-more", "").lower() != "true":
            return newest
        nxt = resp.headers.get("x-next-offset", "")
        if not nxt.isdigit():
            return None  # more to read but no way to ask for it
        offset = nxt
    return None  # MAX_PAGES read and the archive goes on


async def newest_seq(client: httpx.AsyncClient, stream_url: str,
                     headers: dict[str, str]) -> int | None:
    """The server's newest seq (see the module docstring), or ``None`` if it says
    nothing usable. Raises ``httpx.TransportError`` when the server cannot be reached."""
    urls = probe_urls(stream_url)
    if urls is None:
        return None
    state_url, events_url = urls
    headers = {**headers, "Accept": "application/json"}
    resp = await client.get(state_url, headers=headers, timeout=PROBE_TIMEOUT)
    seq = _state_seq(resp)
    if seq is not None:
        return seq
    return await _events_seq(client, events_url, headers)
