"""A real SSE server on 127.0.0.1 speaking kernel's telemetry wire format (DESIGN 2.4).

Used by the SSE source's tests and by the event-stream benchmark. It runs in a thread
(``http.server`` + ``ThreadingMixIn``), bound to port 0, and every connection follows
a *plan*: a list of actions run in order.

- ``bytes``: written as is (use :func:`frame`, :func:`frames`, :data:`KEEPALIVE`; slice
  a frame to cut it in half);
- :class:`Status` (first and only): answer with that status instead of a stream;
- :class:`Sleep`, :class:`Wait`: pause, or block until the test sets an event;
- :class:`Trickle`: write bytes a few at a time (a slow server);
- :data:`CLOSE`: drop the connection now, whatever was written (an abrupt end: with
  chunked encoding, httpx sees an incomplete body);
- :data:`HOLD`: keep the connection open, sending a keepalive comment every
  ``keepalive`` seconds if set, until the client goes or the server stops;
- :class:`Live` (or :data:`LIVE`): serve the server's *log* as kernel-images does
  (``server/cmd/api/api/telemetry.go`` ``resolveStartSeq`` + the ring reader of
  ``server/lib/events/ringbuffer.go``): after ``Last-Event-ID: N`` (N > 0) only frames
  whose seq is above ``N``, waiting for them if the log has not got there (as a
  restarted server does: its first ``N`` events are never sent); an id that is not a
  positive number, or no id and no ``?replay=all``, means only new frames; with
  ``?replay=all`` (and no id) from the oldest; then follow what
  :meth:`SseServer.publish` appends.

Beside the stream the server answers, as ``server/cmd/api/api/telemetry.go`` does:
``GET /telemetry`` (``GetTelemetry``: ``{"config": ..., "seq": <newest seq>}``, or
``state_status`` such as 404 "telemetry is not configured") and ``GET
/telemetry/events`` (``ReadTelemetryEvents``: the log as a JSON array of envelopes,
``limit`` per page, ``offset`` the next position, ``X-Has-More`` / ``X-Next-Offset``
headers).

Connection ``i`` runs ``plans[i]``; once the plans are used up, ``default`` (``[LIVE]``
unless given). A request for another path gets 404. A plan that runs out ends the
stream cleanly. Every request is recorded (:attr:`SseServer.requests`; the state and
events requests in :attr:`SseServer.probes`) and the test
can wait for the n-th one or for connections to finish, instead of sleeping.

The send path is built for rate: frames are encoded once (at publish) and a live
connection writes everything pending in one chunk.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STREAM_PATH = "/telemetry/stream"
_ID = re.compile(rb"^id: ?(\d+)$", re.M)
KEEPALIVE = b": keepalive\n\n"

# -- the wire format --------------------------------------------------------------------


def event_json(seq: int, *, type: str = "console_log", category: str = "console",
               ts: int | None = None, data: Any = None, source_kind: str = "cdp",
               truncated: bool = False) -> bytes:
    """One event's JSON (the envelope's ``event``), deterministic from ``seq``."""
    ev: dict[str, Any] = {
        "ts": 1_777_984_200_000_000 + seq * 1000 if ts is None else ts,
        "type": type, "category": category,
        "source": {"kind": source_kind, "event": "Runtime.consoleAPICalled"},
        "data": {"message": f"line {seq}"} if data is None else data,
    }
    if truncated:
        ev["truncated"] = True
    return json.dumps(ev, separators=(",", ":")).encode()


def envelope(seq: int, event: bytes | None = None, **kw: Any) -> bytes:
    """``{"seq": seq, "event": ...}`` as bytes."""
    return b'{"seq":%d,"event":%s}' % (seq, event if event is not None else event_json(seq, **kw))


def frame(seq: int, event: bytes | None = None, *, id: int | str | None = None,
          data: bytes | None = None, **kw: Any) -> bytes:
    """``id: <seq>\\ndata: <envelope>\\n\\n``; ``data`` replaces the envelope (malformed
    frames), ``id`` the id line."""
    body = data if data is not None else envelope(seq, event, **kw)
    ident = str(seq if id is None else id).encode()
    return b"id: %s\ndata: %s\n\n" % (ident, body)


def frames(first: int, last: int, **kw: Any) -> bytes:
    """Frames ``first..last`` (inclusive), concatenated."""
    return b"".join(frame(s, **kw) for s in range(first, last + 1))


# -- plan actions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    code: int
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Wait:
    """Block until ``event`` is set (or the server stops); the test's lever."""

    event: threading.Event
    timeout: float = 30.0


@dataclass(frozen=True)
class Trickle:
    """Write ``data`` ``piece`` bytes at a time, ``pause`` seconds apart."""

    data: bytes
    piece: int = 7
    pause: float = 0.002


@dataclass(frozen=True)
class Live:
    """Serve the log (see the module docstring); stop after sending ``until`` if given."""

    until: int | None = None


class _Token:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


CLOSE = _Token("CLOSE")
HOLD = _Token("HOLD")
LIVE = Live()

Action = bytes | Status | Sleep | Wait | Trickle | Live | _Token


@dataclass(frozen=True)
class Request:
    """What one connection asked for."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str] = field(repr=False)  # names lower-cased

    @property
    def last_event_id(self) -> str | None:
        return self.headers.get("last-event-id")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def replay(self) -> str | None:
        vals = self.query.get("replay")
        return vals[0] if vals else None


class _Gone(Exception):
    """The client went away or the server is stopping."""


# -- the server -------------------------------------------------------------------------


class SseServer:
    """See the module docstring. Use as a context manager, or ``start()``/``close()``."""

    def __init__(self, *plans: Sequence[Action], default: Sequence[Action] | None = None,
                 path: str = STREAM_PATH, chunked: bool = True,
                 keepalive: float | None = None, log_capacity: int = 1_000_000,
                 port: int = 0, state_status: int = 200, events_status: int = 200,
                 page_max: int = 1000) -> None:
        self.plans = [list(p) for p in plans]
        self.state_status = state_status
        self.events_status = events_status
        self.page_max = page_max  # the handler's maxPageSize
        self.default = list(default) if default is not None else [LIVE]
        self.path = path
        self.chunked = chunked
        self.keepalive = keepalive
        self.log_capacity = log_capacity
        self.requests: list[Request] = []  # the stream's (and unknown paths')
        self.probes: list[Request] = []  # GET /telemetry and /telemetry/events
        self.finished = 0  # connections whose handler returned
        self.bytes_sent = 0
        self.keepalives_sent = 0
        self._cond = threading.Condition()  # requests, finished, the log
        self._stopping = threading.Event()
        self._log_seqs: list[int] = []
        self._log_frames: list[bytes] = []
        self._log_base = 0  # global index of _log_frames[0]
        self._generation = 0  # bumped by restart_log
        self._next_seq = 1
        self._sent_max = 0  # highest id a plan's bytes carried (this run's newest seq too)
        self._socks: set[socket.socket] = set()
        self._httpd = _Httpd(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> SseServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="sse-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            socks = list(self._socks)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> SseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    # what the test waits on
    def wait_requests(self, n: int, timeout: float = 10.0) -> list[Request]:
        """Block until ``n`` requests arrived; all of them so far."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"{len(self.requests)} of {n} requests arrived")
            return list(self.requests)

    def wait_finished(self, n: int, timeout: float = 10.0) -> None:
        """Block until ``n`` connections ended (on either side)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.finished >= n, timeout):
                raise TimeoutError(f"{self.finished} of {n} connections finished")

    # the log (for LIVE connections)
    def publish(self, count: int = 1, **event_kw: Any) -> int:
        """Append ``count`` envelopes with the next seqs; the last seq."""
        seqs = range(self._next_seq, self._next_seq + count)
        self.publish_frames((s, frame(s, **event_kw)) for s in seqs)
        return self._next_seq - 1

    def publish_events(self, events: Iterable[bytes]) -> int:
        """Append pre-encoded events (``event_json`` bytes) with the next seqs."""
        with self._cond:
            seq = self._next_seq
        out = []
        for ev in events:
            out.append((seq, b"id: %d\ndata: {\"seq\":%d,\"event\":%s}\n\n" % (seq, seq, ev)))
            seq += 1
        self.publish_frames(out)
        return seq - 1

    def publish_frames(self, items: Iterable[tuple[int, bytes]]) -> None:
        """Append ``(seq, frame bytes)`` pairs as given (gaps and all)."""
        items = list(items)
        if not items:
            return
        with self._cond:
            for seq, data in items:
                self._log_seqs.append(seq)
                self._log_frames.append(data)
            self._next_seq = items[-1][0] + 1
            extra = len(self._log_frames) - self.log_capacity
            if extra > self.log_capacity // 4:  # trim in big steps: O(1) amortised
                del self._log_frames[:extra]
                del self._log_seqs[:extra]
                self._log_base += extra
            self._cond.notify_all()

    def restart_log(self) -> None:
        """The server restarted: the log empties and seq starts again from 1."""
        with self._cond:
            self._log_base += len(self._log_frames)
            self._log_seqs.clear()
            self._log_frames.clear()
            self._next_seq = 1
            self._sent_max = 0
            self._generation += 1
            self._cond.notify_all()

    def restart(self, seqs: Iterable[int] = (), **event_kw: Any) -> None:
        """The process restarts: every connection drops, the log empties and seq starts
        again from 1; ``seqs`` are what the new process has already published (and
        still holds in its ring: start above 1 for a ring that already wrapped) before
        any client is back."""
        with self._cond:  # no old connection may see the new run: drop them first
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.restart_log()
            items = [(s, frame(s, **event_kw)) for s in seqs]
            if items:
                self.publish_frames(items)

    @property
    def last_seq(self) -> int:
        with self._cond:
            return self._next_seq - 1

    # called by the handler
    @property
    def state_path(self) -> str:
        return self.path.removesuffix("/stream")

    def _register(self, req: Request, sock: socket.socket) -> list[Action]:
        with self._cond:
            self._socks.add(sock)
            if req.path in (self.state_path, self.state_path + "/events"):
                self.probes.append(req)
                self._cond.notify_all()
                if req.path == self.state_path:
                    return [self._state_reply()]
                return [self._events_reply(req)]
            i = len(self.requests)
            self.requests.append(req)
            self._cond.notify_all()
        if req.path != self.path:
            return [Status(404, b"not found\n")]
        return list(self.plans[i]) if i < len(self.plans) else list(self.default)

    def _saw_ids(self, data: bytes) -> None:
        """A plan sent these bytes: its ids count as this run's seqs (GET /telemetry)."""
        ids = [int(m) for m in _ID.findall(data)]
        if ids:
            with self._cond:
                self._sent_max = max(self._sent_max, *ids)

    def _state_reply(self) -> Status:
        """``GetTelemetry`` (call with the lock held)."""
        if self.state_status != 200:
            return Status(self.state_status, b'{"message":"telemetry is not configured"}\n')
        seq = max(self._next_seq - 1, self._sent_max)
        body = {"config": {"browser": {"console": {"enabled": True}}}, "seq": seq}
        return Status(200, json.dumps(body).encode(), "application/json")

    def _events_reply(self, req: Request) -> Status:
        """``ReadTelemetryEvents``: one page of the log (call with the lock held)."""
        if self.events_status != 200:
            return Status(self.events_status, b'{"message":"failed"}\n')
        limit = max(1, min(self.page_max, int(req.query.get("limit", ["100"])[0])))
        start = int(req.query.get("offset", [str(self._log_base)])[0])
        i = max(0, start - self._log_base)
        page = self._log_frames[i:i + limit]
        envs = [f.split(b"data: ", 1)[1].rstrip(b"\n") for f in page]
        end = self._log_base + i + len(page)
        more = end < self._log_base + len(self._log_frames)
        headers = {"X-Has-More": "true" if more else "false"}
        if more:
            headers["X-Next-Offset"] = str(end)
        return Status(200, b"[" + b",".join(envs) + b"]\n", "application/json", headers)

    def _done(self, sock: socket.socket) -> None:
        with self._cond:
            self._socks.discard(sock)
            self.finished += 1
            self._cond.notify_all()

    def _start_pos(self, req: Request) -> tuple[int, int]:
        """(global log index, lowest seq to send) for a LIVE connection, as
        ``resolveStartSeq`` decides (call with the lock held)."""
        end = self._log_base + len(self._log_frames)
        lei = req.last_event_id
        if lei:  # any non-empty id takes the resume branch, a bad one means "from now"
            if lei.strip().isdigit() and int(lei) > 0:
                n = int(lei)
                return self._log_base + bisect.bisect_right(self._log_seqs, n), n + 1
            return end, 0
        if req.replay == "all":
            return self._log_base, 0
        return end, 0


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    owner: SseServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Httpd

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        req = Request(parts.path, parse_qs(parts.query),
                      {k.lower(): v for k, v in self.headers.items()})
        plan = owner._register(req, self.connection)
        self.close_connection = True
        try:
            self._serve(owner, req, plan)
        except (_Gone, OSError):
            pass
        finally:
            owner._done(self.connection)

    # plan execution
    def _serve(self, owner: SseServer, req: Request, plan: list[Action]) -> None:
        if plan and isinstance(plan[0], Status) and (plan[0].code != 200
                                                     or plan[0].content_type != "text/plain"):
            st = plan[0]
            self.send_response(st.code)
            self.send_header("Content-Type", st.content_type)
            for name, value in st.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(st.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(st.body)
            return
        if any(isinstance(a, Live) for a in plan):  # position the reader before answering
            with owner._cond:
                self._live_start: tuple[int, int, int] | None = (
                    *owner._start_pos(req), owner._generation)
        else:
            self._live_start = None
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if owner.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self._last_write = time.monotonic()
        for action in plan:
            if owner._stopping.is_set():
                raise _Gone
            if isinstance(action, bytes):
                owner._saw_ids(action)
                self._write(action)
            elif action is CLOSE:
                self._abort()
                return
            elif action is HOLD:
                self._hold(owner, None)
            elif isinstance(action, Sleep):
                self._pause(owner, action.seconds)
            elif isinstance(action, Wait):
                deadline = time.monotonic() + action.timeout
                while not action.event.wait(0.05):
                    if owner._stopping.is_set() or time.monotonic() > deadline:
                        raise _Gone
            elif isinstance(action, Trickle):
                data = action.data
                owner._saw_ids(data)
                for i in range(0, len(data), action.piece):
                    self._write(data[i:i + action.piece])
                    self._pause(owner, action.pause)
            elif isinstance(action, Live):
                self._live(owner, req, action.until)
            elif isinstance(action, Status):
                pass  # 200: already answered
            else:  # pragma: no cover - a broken plan
                raise TypeError(f"unknown plan action {action!r}")
        if owner.chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self.server.owner.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self._last_write = time.monotonic()
        self.server.owner.bytes_sent += len(data)

    def _abort(self) -> None:
        """Drop the connection without ending the body (no final chunk)."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _pause(self, owner: SseServer, seconds: float) -> None:
        if owner._stopping.wait(seconds):
            raise _Gone

    def _client_gone(self) -> bool:
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(4096) == b""
        except OSError:
            return True

    def _keepalive(self, owner: SseServer) -> None:
        if owner.keepalive is not None and time.monotonic() - self._last_write >= owner.keepalive:
            self._write(KEEPALIVE)
            owner.keepalives_sent += 1

    def _hold(self, owner: SseServer, _unused: None) -> None:
        while True:
            r, _, _ = select.select([self.connection], [], [], 0.05)
            if owner._stopping.is_set():
                raise _Gone
            if r and self._client_gone():
                raise _Gone
            self._keepalive(owner)

    def _live(self, owner: SseServer, req: Request, until: int | None) -> None:
        cond = owner._cond
        if self._live_start is not None:  # the first LIVE of this connection
            pos, min_seq, gen = self._live_start
            self._live_start = None
        else:
            with cond:
                (pos, min_seq), gen = owner._start_pos(req), owner._generation
        while True:
            with cond:
                end = owner._log_base + len(owner._log_frames)
                if gen != owner._generation:  # restarted under us: start over at 1
                    gen, pos = owner._generation, owner._log_base
                if pos >= end:
                    cond.wait(0.05)
                    end = owner._log_base + len(owner._log_frames)
                pos = max(pos, owner._log_base)
                i, j = pos - owner._log_base, end - owner._log_base
                if min_seq and i < j:  # the ring reader waits for seq > Last-Event-ID
                    i = max(i, bisect.bisect_left(owner._log_seqs, min_seq, i, j))
                    if i < j:
                        min_seq = 0
                chunk = b"".join(owner._log_frames[i:j]) if j > i else b""
                last = owner._log_seqs[j - 1] if j > i else None
                pos = end
            if owner._stopping.is_set():
                raise _Gone
            if chunk:
                self._write(chunk)
                if until is not None and last is not None and last >= until:
                    return
            else:
                if self._client_gone():
                    raise _Gone
                self._keepalive(owner)
