"""``tokentop events URL`` against a dead URL (issue 16): it used to retry forever in
silence. Each failed reconnect is said on stderr with its count and wait; ``--retries``
ends it (exit 2, one line), and ``--timeout`` ends a stream that sends nothing."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "events", *args],
                          capture_output=True, text=True, timeout=120)


def dead_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_dead_url_gives_up_after_the_retries_it_was_given() -> None:
    url = f"http://127.0.0.1:{dead_port()}/telemetry/stream"
    t0 = time.monotonic()
    out = run(url, "--retries", "2")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert any("retry 1/2" in x for x in lines) and any("retry 2/2" in x for x in lines)
    assert "gave up after 2 retries" in lines[-1]
    assert time.monotonic() - t0 < 60


class _Silent(BaseHTTPRequestHandler):
    """An SSE endpoint that answers and then only sends keepalive comments."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            while not self.server.done.is_set():  # type: ignore[attr-defined]
                self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
                self.server.done.wait(0.2)  # type: ignore[attr-defined]
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def silent() -> str:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Silent)
    httpd.done = threading.Event()  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/telemetry/stream"
    httpd.done.set()  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


def test_timeout_ends_a_stream_that_sends_nothing(silent: str) -> None:
    out = run(silent, "--timeout", "1.5")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no event for 1.5 s" in out.stderr.strip().splitlines()[-1]
