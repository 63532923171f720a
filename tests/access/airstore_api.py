"""A loopback airstore access-log API that pages exactly as airstore's handler does.

Built from beam-cloud/airstore (read at the snapshot of ``pkg/api/v1/access_log.go``
commit 2ccb044087e9c3130268697ea03af1f1fdf5504c):

- ``ListReads`` (``GET /api/v1/workspaces/:workspace_id/access-log``): query ``cursor``
  (S2 seq, default 0), ``limit`` (default 100; <= 0 or > 1000 becomes 100), ``start``/
  ``end`` (unix ms), ``session`` (blank: the workspace id); reads ``max(2*limit, 200)``
  records of the stream ``access.{workspace}.{session}.events`` from the cursor, skips
  records that do not decode or are out of scope (``accessEventInScope``: the
  workspace must match; an empty session_id is the workspace), stops at ``limit``
  reads; ``next_cursor`` is one past the last record looked at (the request's cursor
  when there was none), ``has_more`` = records were read and the page is full;
- ``pkg/api/v1/base.go``: ``{"success": true, "data": ...}`` or ``{"success": false,
  "error": "..."}``; echo's ``c.JSON`` writes ``application/json; charset=UTF-8``;
- ``pkg/api/v1/middleware.go``: the token after ``Bearer ``; with an admin token
  configured, none is 401 ``authorization required`` and a wrong one 401 ``invalid
  token``; an unknown workspace is 404 ``workspace not found``.

Events are marshalled as Go marshals ``instrumentation.AccessEvent``
(``pkg/instrumentation/recorder.go``): the ``omitempty`` fields left out when zero.
Faults are queued with ``fail``: ``("status", code, message)`` answers one request
with that error, ``("drop",)`` closes the connection without an answer; ``fail_at``
keeps a fault for the first request at a given cursor (mid-paging, deterministically).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

OMITEMPTY = ("event_id", "cache_source", "offset", "requested_bytes", "read_bytes",
             "latency_ms", "mount_id", "access_origin", "fetch_ms", "error_msg")
FIELDS = ("event_id", "ts", "workspace_id", "session_id", "path", "cache_source", "offset",
          "requested_bytes", "read_bytes", "latency_ms", "mount_id", "access_origin",
          "integration", "source_uri", "query_path", "result_id", "original_bytes",
          "compressed_bytes", "original_tokens", "compressed_tokens", "strategy", "outcome",
          "compression_ms", "fetch_ms", "error_msg")
ZERO: dict[str, Any] = {f: "" for f in FIELDS} | {
    f: 0 for f in ("ts", "offset", "requested_bytes", "read_bytes", "latency_ms",
                   "original_bytes", "compressed_bytes", "original_tokens",
                   "compressed_tokens", "compression_ms", "fetch_ms")}


def go_json(**fields: Any) -> bytes:
    """An AccessEvent as encoding/json writes it (field order, omitempty)."""
    ev = {**ZERO, **fields}
    return json.dumps({k: ev[k] for k in FIELDS
                       if not (k in OMITEMPTY and ev[k] in ("", 0))},
                      separators=(",", ":")).encode()


def access_event(i: int, workspace: str = "ws-ext", session: str = "ws-ext",
                 **extra: Any) -> bytes:
    """Like pkg/gateway/services/access_test.go's ingested event: a mount read of a
    Gmail message, 1000 tokens compressed to 200, strategy strip, outcome cache_hit."""
    return go_json(**{"event_id": f"e{i}", "ts": 1_777_982_400_000 + i,
                      "workspace_id": workspace, "session_id": session,
                      "path": f"sources/gmail/inbox/msg{i % 7}.txt",
                      "cache_source": "open_content", "access_origin": "fuse",
                      "integration": "gmail", "source_uri": f"gmail://msg-{i % 7}",
                      "original_tokens": 1000, "compressed_tokens": 200,
                      "strategy": "strip", "outcome": "cache_hit", **extra})


class AirstoreApi:
    """The server's state: streams of records, the token, faults, requests seen."""

    def __init__(self, workspace: str = "ws-ext", token: str | None = "sekrit-token") -> None:
        self.workspace = workspace
        self.token = token  # the cluster admin token; None: open access (no admin token)
        self.streams: dict[str, list[bytes]] = {}
        self.faults: list[tuple[Any, ...]] = []
        self.faults_at: dict[str, tuple[Any, ...]] = {}  # cursor -> fault
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.served = threading.Condition(self.lock)

    def append(self, body: bytes, session: str | None = None) -> None:
        """Append a record to ``access.{workspace}.{session}.events`` (S2's append)."""
        stream = f"access.{self.workspace}.{session or self.workspace}.events"
        with self.lock:
            self.streams.setdefault(stream, []).append(body)

    def fail(self, *fault: Any) -> None:
        with self.lock:
            self.faults.append(fault)

    def fail_at(self, cursor: str, *fault: Any) -> None:
        with self.lock:
            self.faults_at[cursor] = fault

    def cursors(self) -> list[str]:
        with self.lock:
            return [r["query"].get("cursor", [""])[0] for r in self.requests]

    # -- the handler -------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, list[str]],
               auth: str | None) -> tuple[int, dict[str, Any]] | None:
        with self.served:
            self.requests.append({"path": path, "query": query, "auth": auth})
            self.served.notify_all()
            fault = self.faults.pop(0) if self.faults else None
            if fault is None:
                fault = self.faults_at.pop(query.get("cursor", ["0"])[0], None)
        if fault is not None:
            if fault[0] == "drop":
                return None
            return fault[1], {"success": False, "error": fault[2]}
        parts = path.strip("/").split("/")
        if parts[:3] != ["api", "v1", "workspaces"] or len(parts) != 5 or (
                parts[4] != "access-log"):
            return 404, {"message": "Not Found"}  # echo's router
        ws = parts[3]
        token = (auth or "").removeprefix("Bearer ")
        if self.token is not None:
            if token == "":
                return 401, {"success": False, "error": "authorization required"}
            if token != self.token:
                return 401, {"success": False, "error": "invalid token"}
        if ws != self.workspace:
            return 404, {"success": False, "error": "workspace not found"}
        return 200, {"success": True, "data": self.list_reads(ws, query)}

    def list_reads(self, ws: str, query: dict[str, list[str]]) -> dict[str, Any]:
        def param(name: str, default: int) -> int:
            try:
                return int(query.get(name, [""])[0])
            except ValueError:
                return default

        start, end, cursor = param("start", 0), param("end", 0), param("cursor", 0)
        limit = param("limit", 100)
        if limit <= 0 or limit > 1000:
            limit = 100
        session = query.get("session", [""])[0].strip() or ws
        fetch = max(limit * 2, 200)
        with self.lock:
            stream = list(self.streams.get(f"access.{ws}.{session}.events", []))
        records = list(enumerate(stream))[cursor:cursor + fetch]
        reads: list[Any] = []
        next_seq = cursor
        for seq, body in records:
            if seq >= next_seq:
                next_seq = seq + 1
            try:
                ev = json.loads(body)
            except ValueError:
                continue
            if not isinstance(ev, dict) or ev.get("workspace_id", "") != ws:
                continue
            if (ev.get("session_id") or ws) != session:
                continue
            ts = ev.get("ts", 0)
            if (start > 0 and ts < start) or (end > 0 and ts > end):
                continue
            reads.append(ev)
            if len(reads) >= limit:
                break
        return {"reads": reads, "next_cursor": str(next_seq),
                "has_more": bool(records) and len(reads) >= limit}


def _handler(api: AirstoreApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Go's net/http

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            result = api.answer(url.path, parse_qs(url.query, keep_blank_values=True),
                                self.headers.get("Authorization"))
            if result is None:  # a dropped connection: no status line at all
                self.close_connection = True
                self.connection.shutdown(2)
                return
            status, doc = result
            body = json.dumps(doc).encode() + b"\n"  # echo's encoder ends with a newline
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(api: AirstoreApi) -> Iterator[str]:
    """Run ``api`` on 127.0.0.1; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
