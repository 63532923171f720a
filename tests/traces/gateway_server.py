"""A real HTTP server on 127.0.0.1 answering the gateway's diagnostics endpoint.

``GET /api/diagnostics/trace-pipeline`` returns :attr:`GatewayServer.body` with
:attr:`GatewayServer.status`; any other path is 404. Requests are recorded. It runs
in a thread (``http.server``), bound to port 0, like tests/events/sse_server.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/api/diagnostics/trace-pipeline"


def document(**diag: Any) -> dict[str, Any]:
    """A diagnostics document as the gateway writes it (cmd/.../diagnostics test data)."""
    base: dict[str, Any] = {
        "queue_capacity": 1024, "queue_depth": 9, "queue_depth_high_watermark": 512,
        "queue_utilization_pct": 0, "queue_high_watermark_utilization_pct": 50,
        "queue_pressure_state": "ok", "queue_high_watermark_pressure_state": "elevated",
        "enqueue_accepted_total": 99, "enqueue_dropped_total": 2, "write_dropped_total": 1,
        "total_dropped_total": 3, "last_enqueue_drop_at": "2026-02-22T10:00:00Z",
        "last_write_drop_at": "2026-02-22T10:01:00Z",
        "last_write_drop_operation": "write_batch_fallback",
        "write_failures_by_class": {"timeout": 1, "connection": 4}, "store_driver": "postgres",
    }
    base.update(diag)
    return {"schema_version": "trace-pipeline-diagnostics.v1",
            "generated_at": "2026-02-22T10:02:00Z", "diagnostics": base}


class _Handler(BaseHTTPRequestHandler):
    server: _Httpd

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.requests.append((self.path, dict(self.headers)))
        if self.path != PATH:
            self._send(404, b'{"error":"not found"}')
            return
        body = owner.body if isinstance(owner.body, bytes) else json.dumps(owner.body).encode()
        self._send(owner.status, body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    owner: GatewayServer


class GatewayServer:
    def __init__(self, body: Any = None, status: int = 200) -> None:
        self.body: Any = document() if body is None else body
        self.status = status
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._httpd = _Httpd(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> GatewayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
