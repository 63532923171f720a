"""The SSE source: a browser's telemetry stream, re-published into a local ring.

kernel serves ``GET /telemetry/stream`` (in-VM API) or ``GET /browsers/{id}/telemetry/
stream`` (cloud, ``Authorization: Bearer <key>``) as ``id: <seq>\\ndata: <envelope>\\n\\n``
frames, with ``:`` keepalive comments after 15 s of silence (DESIGN 2.4). There are no
drop frames: a gap in ``seq`` is a drop, and ``seq`` going back means the server
restarted. :class:`SseSource` reads that stream with httpx + httpx-sse, lets a
:class:`~tokentop.store.events.tracker.SeqTracker` judge every ``seq`` (gap, restart, duplicate),
and publishes each accepted envelope into an :class:`~tokentop.store.events.stream.EventStream`,
with the tracker's marker riding on it.

Failure policy (one line in ``stats.last_error`` each time, never a traceback, never
the key):

- The connection ends (EOF, reset, a frame cut in half, no byte for ``timeout``
  seconds, well above the 15 s keepalive): ``state = "reconnecting"``, wait an
  exponential backoff with jitter capped at ``max_backoff`` (``stats.retry_in``), ask
  the server for its newest seq (:mod:`~tokentop.store.events.restart`), then resume
  with ``Last-Event-ID: <last seq seen>``, or, when that newest seq is below the last
  one seen (the server restarted, and would silently skip its first events up to the
  id), start again from its oldest buffered event with ``?replay=all``; the
  ``restart`` marker on the first envelope says how many of the new run were lost.
  A frame cut by the disconnect is neither an event nor malformed (the HTML standard
  discards an event the stream ended inside): it was never received whole, and the
  resume asks for it again after the last whole one (tests/events/test_sse.py).
- Connection refused (the server may be starting), other transport errors, 5xx and
  any other unexpected status: the same backoff, retried forever.
- 401, 403 and 404 (and a 200 that is not an event stream): ``state = "failed"`` and
  the run **stops**: a wrong key or a wrong browser id does not fix itself, and
  retrying would only hammer the API. Restart the source to try again.

The key comes from ``KERNEL_API_KEY`` unless given; it is sent only as a Bearer
header and never appears in ``repr``, ``stats`` or any error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import msgspec
from httpx_sse import ServerSentEvent

from tokentop.store.events.frames import FrameReader
from tokentop.store.events.model import Envelope, Marker, WireEnvelope
from tokentop.store.events.restart import newest_seq
from tokentop.store.events.tracker import SeqTracker, SourceStats

if TYPE_CHECKING:
    from tokentop.store.events.stream import EventStream

__all__ = ["SseSource", "redact_url"]

API_KEY_ENV = "KERNEL_API_KEY"
READ_TIMEOUT = 45.0  # 3x the server's 15 s keepalive: silence this long means a dead link
MAX_BACKOFF = 10.0
MIN_BACKOFF = 0.25
_STOP_POLL = 0.05  # how often a thread-mode run looks at its threading.Event

_FATAL = {
    401: "401 Unauthorized: check {env}",
    403: "403 Forbidden: check {env} (this key may not read this browser)",
}


def redact_url(url: str | httpx.URL) -> str:
    """``url`` without user info, query or fragment: safe to show in an error line."""
    try:
        u = httpx.URL(str(url))
        port = f":{u.port}" if u.port else ""
        return f"{u.scheme}://{u.host}{port}{u.path}"
    except Exception:  # an invalid URL: show nothing of it that could hold a secret
        return "<invalid url>"


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _Stopped(Exception):
    """The run ended because the source failed for good (401/403/404)."""


class SseSource:
    """Reads one browser's SSE telemetry stream into ``stream``.

    ``replay=True`` asks for ``?replay=all`` (the server's whole buffer) until the first
    envelope arrives; every later (re)connection resumes with ``Last-Event-ID``
    instead. Duplicates are not published: they are counted in ``stats.duplicates``
    and their marker goes to ``on_marker`` (gap and restart markers ride on the next
    published envelope instead).

    Run it with ``await source.run(stop)`` (an ``asyncio.Event``) or in a thread with
    ``source.run_in_thread(stop)`` (a ``threading.Event``); :meth:`stop` works for
    both, from any thread. Either returns within about a second of being asked.
    """

    def __init__(
        self,
        url: str,
        stream: EventStream,
        *,
        replay: bool = False,
        api_key: str | None = None,
        on_marker: Callable[[Marker], None] | None = None,
        timeout: float = READ_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
        min_backoff: float = MIN_BACKOFF,
        connect_timeout: float = 10.0,
        max_retries: int | None = None,
    ) -> None:
        self.url = url
        self.stream = stream
        self.replay = replay
        self.on_marker = on_marker
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.min_backoff = min(min_backoff, max_backoff)
        self.connect_timeout = connect_timeout
        # None: retry for as long as it runs (the dashboard); a number: give up after
        # that many failed attempts in a row (headless use: a dead URL is an error)
        self.max_retries = max_retries
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self.__key = key or None  # private: only the Authorization header ever sees it
        self.stats = SourceStats()
        self.tracker = SeqTracker(self.stats)
        self.requests = 0  # connection attempts made (HTTP requests sent or tried)
        self.restart_checks = 0  # newest-seq probes made before reconnecting
        self.restart_check_ok: bool | None = None  # did the last probe give a seq?
        self._decoder = msgspec.json.Decoder(WireEnvelope)
        self._after_reconnect = False
        self._stop_flag = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def __repr__(self) -> str:
        return (f"SseSource({redact_url(self.url)!r}, state={self.stats.state!r}, "
                f"key={'set' if self.__key else 'unset'})")

    # -- running ----------------------------------------------------------------------

    def stop(self) -> None:
        """Ask a running (or about to run) source to stop; thread-safe, returns at once.
        Final: a stopped source does not run again (make a new one)."""
        self._stop_flag.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Read until ``stop`` is set, :meth:`stop` is called, or a fatal status."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop_flag.is_set():
            self._wake.set()
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        main = asyncio.ensure_future(self._connect_loop())
        try:
            await asyncio.wait([main, *waiters], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (main, *waiters):
                task.cancel()
            await asyncio.gather(main, *waiters, return_exceptions=True)
            self._loop = self._wake = None
            self.stats.retry_in = None
        crash = main.exception() if main.done() and not main.cancelled() else None
        if crash is not None:  # a bug (ours, the stream's or on_marker's): say so, re-raise
            self.stats.state = "failed"
            self._error(f"the source crashed: {type(crash).__name__}: {crash}")
            raise crash
        if self.stats.state != "failed":
            self.stats.state = "ended"

    def run_in_thread(self, stop: threading.Event | None = None) -> None:
        """The blocking form of :meth:`run` for a worker thread; ``stop`` is polled
        every 50 ms."""

        async def main() -> None:
            async def watch() -> None:
                while stop is not None and not stop.is_set():
                    await asyncio.sleep(_STOP_POLL)
                self.stop()

            watcher = asyncio.ensure_future(watch()) if stop is not None else None
            try:
                await self.run()
            finally:
                if watcher is not None:
                    watcher.cancel()
                    await asyncio.gather(watcher, return_exceptions=True)

        asyncio.run(main())

    # -- the connection loop ----------------------------------------------------------

    async def _connect_loop(self) -> None:
        timeout = httpx.Timeout(self.connect_timeout, read=self.timeout)
        attempt = 0
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            while True:
                try:
                    delivered = await self._connect_once(client)
                except _Stopped:
                    self.stats.state = "failed"
                    self.stats.retry_in = None
                    return
                if delivered:
                    attempt = 0
                delay = self._backoff(attempt)
                attempt += 1
                self.stats.retries = attempt
                if self.max_retries is not None and attempt > self.max_retries:
                    self.stats.state = "failed"
                    self.stats.retry_in = None
                    self._error(f"{self.stats.last_error or 'no connection'}"
                                f" (gave up after {self.max_retries} retries)")
                    return
                self.stats.state = "reconnecting"
                self.stats.retry_in = delay
                await asyncio.sleep(delay)
                self.stats.retry_in = None
                self._after_reconnect = True

    def _backoff(self, attempt: int) -> float:
        """Exponential from ``min_backoff``, capped at ``max_backoff``, with jitter
        (50-100 % of the step) so many viewers do not reconnect in lockstep."""
        step = min(self.max_backoff, self.min_backoff * (2 ** min(attempt, 30)))
        return step * (0.5 + random.random() / 2)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.__key}"} if self.__key else {}

    def _request(self) -> tuple[httpx.URL, dict[str, str]]:
        url = httpx.URL(self.url)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store", **self._auth()}
        last = self.tracker.last_seq
        if self.tracker.restart_pending:  # a new process: its whole buffer, not "after N"
            url = url.copy_merge_params({"replay": "all"})
        elif last is not None:
            headers["Last-Event-ID"] = str(last)
        elif self.replay:
            url = url.copy_merge_params({"replay": "all"})
        return url, headers

    async def _check_restart(self, client: httpx.AsyncClient) -> None:
        """Before resuming by id: did the server restart? (its newest seq went back).
        A transport error propagates: the server is down, the reconnect waits."""
        last = self.tracker.last_seq
        if last is None or self.tracker.restart_pending or not self._after_reconnect:
            return
        self.restart_checks += 1
        newest = await newest_seq(client, self.url, self._auth())
        self.restart_check_ok = newest is not None
        if newest is not None and newest < last:
            self.tracker.restarted(newest)

    async def _connect_once(self, client: httpx.AsyncClient) -> bool:
        """One connection, read to its end. True if it delivered at least one frame.
        Raises :class:`_Stopped` on a status that retrying cannot fix."""
        try:
            url, headers = self._request()
        except httpx.InvalidURL:
            self._error("invalid URL (expected http(s)://host[:port]/.../telemetry/stream)")
            raise _Stopped from None
        received = self.stats.received
        where = redact_url(self.url)
        try:
            await self._check_restart(client)
            url, headers = self._request()
            self.requests += 1
            async with client.stream("GET", url, headers=headers) as resp:
                code = resp.status_code
                if code in _FATAL:
                    self._error(_FATAL[code].format(env=API_KEY_ENV))
                    raise _Stopped
                if code == 404:
                    self._error(f"404 Not Found: no such browser/stream: {where}")
                    raise _Stopped
                if code != 200:
                    self._error(f"{code} {resp.reason_phrase} from {where}: retrying")
                    return False
                ctype = resp.headers.get("content-type", "")
                if "text/event-stream" not in ctype.partition(";")[0]:
                    self._error(f"not an event stream ({_one_line(ctype, 60)!r}): {where}")
                    raise _Stopped
                self.stats.state = "connected"
                self.stats.last_error = None
                frames = FrameReader(self._dropped)
                async for text in resp.aiter_text():
                    for sse in frames.feed(text):
                        self._on_event(sse)
                for sse in frames.flush():
                    self._on_event(sse)
            self._error(f"the server closed the stream: {where}")
        except httpx.ConnectError as exc:
            self._error(f"cannot connect to {where}: {self._why(exc, 'connection refused')}")
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ReadTimeout):
                self._error(f"no data for {self.timeout:g} s from {where}: reconnecting")
            else:
                self._error(f"timed out connecting to {where}")
        except httpx.UnsupportedProtocol:
            self._error(f"unsupported URL scheme (use http:// or https://): {where}")
            raise _Stopped from None
        except httpx.TransportError as exc:
            self._error(f"connection to {where} lost: {self._why(exc, type(exc).__name__)}")
        return self.stats.received > received

    def _why(self, exc: BaseException, default: str) -> str:
        """The root cause in a few words (httpx says "All connection attempts failed")."""
        seen: BaseException | None = exc
        for _ in range(8):
            if seen is None:
                break
            if isinstance(seen, ConnectionRefusedError):
                return "connection refused (is the server running?)"
            if isinstance(seen, ConnectionResetError):
                return "connection reset by the server"
            seen = seen.__cause__ or seen.__context__
        return _one_line(str(exc)) or default

    def _dropped(self, why: str) -> None:
        """A frame over the ceiling (``frames.FrameReader``): counted as malformed."""
        self.stats.malformed += 1
        self.stats.last_malformed = f"{redact_url(self.url)}: {why}"

    def _error(self, line: str) -> None:
        line = _one_line(line)
        if self.__key:
            line = line.replace(self.__key, "***")
        self.stats.last_error = line

    # -- one frame (the hot path) -----------------------------------------------------

    def _on_event(self, sse: ServerSentEvent) -> None:
        if not sse.data:  # an id- or event-only frame carries no envelope
            return
        raw = sse.data.encode()
        try:
            wire = self._decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.stats.malformed += 1
            ident = sse.id if sse.id.isdigit() and len(sse.id) < 21 else "?"
            self._error(f"malformed event (id {ident}): {_one_line(str(exc), 120)}")
            self.stats.last_malformed = self.stats.last_error
            return
        accept, marker = self.tracker.see(wire.seq, after_reconnect=self._after_reconnect)
        if not accept:
            if marker is not None and self.on_marker is not None:
                self.on_marker(marker)
            return
        self._after_reconnect = False
        env = Envelope(event=wire.event, upstream_seq=wire.seq, size=len(raw), marker=marker)
        self.tracker.account(self.stream.publish(env))
