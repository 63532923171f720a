"""One escaping rule for every line printed (issue 16): escape sequences, C1 controls
and bidi overrides from files, paths and servers never reach the terminal raw, from
stdout (JSON included) or stderr. JSON stays JSON: a reader gets the same strings."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOSTILE = "hi \u009b31m \u202eevil \x1b]52;c;QUJD\x07 \x1b]0;TITLE\x07 \u2028end"
RAW_BAD = [b"\x1b", b"\x07", "\u009b".encode(), "\u202e".encode(), "\u2028".encode()]


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, timeout=60)


def assert_clean(out: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (out.stdout, out.stderr):
        for bad in RAW_BAD:
            assert bad not in stream, (bad, stream[:300])
    assert b"Traceback" not in out.stderr


def test_logs_json_carries_the_text_escaped(tmp_path: Path) -> None:
    server = tmp_path / "prod" / "gh"
    server.mkdir(parents=True)
    (server / "logs.jsonl").write_text(json.dumps(
        {"time": "2026-05-05T12:00:00Z", "level": "INFO", "msg": HOSTILE,
         "component": "gh"}) + "\n")
    out = run("logs", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    assert_clean(out)
    assert json.loads(out.stdout.splitlines()[0])["msg"] == HOSTILE  # the same string


def test_spans_json_carries_the_text_escaped(tmp_path: Path) -> None:
    """A span's tool name and error message from a gridctl ``traces.jsonl``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gridctl"))
    from gridlog_lines import envelope, hex_id, tool_span

    server = tmp_path / "prod" / "gh"
    server.mkdir(parents=True)
    start = 1_778_000_000_000_000_000
    (server / "traces.jsonl").write_text(envelope([tool_span(
        hex_id(1, 16), hex_id(1, 8), HOSTILE, start, 1_000_000, error=HOSTILE)]) + "\n")
    out = run("spans", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    assert_clean(out)
    doc = json.loads(out.stdout.splitlines()[0])
    assert doc["attributes"]["mcp.tool.name"] == HOSTILE  # the same string to a reader


def test_events_json_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"seq": 1, "event": {
        "type": "console_log", "category": "console", "ts": 1_777_000_000_000,
        "data": {"level": "log", "text": HOSTILE}}}) + "\n")
    out = run("events", str(path), "--json")
    assert out.returncode == 0, out.stderr
    assert_clean(out)
    assert json.loads(out.stdout.splitlines()[0])["event"]["data"]["text"] == HOSTILE


def test_a_path_in_an_error_line(tmp_path: Path) -> None:
    out = run("logs", str(tmp_path / f"missing{HOSTILE}"))
    assert out.returncode == 2
    assert_clean(out)
    assert len(out.stderr.decode().strip().splitlines()) == 1  # the separator too


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503, f"Busy {HOSTILE}")  # the reason phrase, raw on the wire
        self.send_header("Content-Length", str(len(HOSTILE.encode())))
        self.end_headers()
        self.wfile.write(HOSTILE.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server() -> str:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_servers_reason_phrase_and_body(hostile_server: str) -> None:
    diag = run("traces", hostile_server, "--json", "diagnostics")
    assert diag.returncode != 0 and diag.stderr  # a 503: said, in one escaped line
    assert_clean(diag)


def test_an_sse_servers_reason_phrase_is_escaped(hostile_server: str) -> None:
    out = run("events", f"{hostile_server}/telemetry/stream", "--retries", "1")
    assert out.returncode == 2  # gave up: one line, escaped
    assert_clean(out)
    assert b"gave up after 1 retries" in out.stderr
