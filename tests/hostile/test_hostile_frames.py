"""Server-sent events with a ceiling (issue 16): a data line that never ends grew the
reader to 4.2 GB in ten seconds. ``FrameReader`` drops what passes 8 MiB and reads on;
for everything else it agrees with httpx-sse's own decoder, on any chunking."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from httpx_sse._decoders import SSEDecoder, SSELineDecoder  # the reference (tests only)
from hypothesis import given, settings
from hypothesis import strategies as st

from tokentop.store.events.frames import FrameReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import run_peak


def reference(chunks: list[str]) -> list[tuple[str, str, str, int | None]]:
    lines, dec, out = SSELineDecoder(), SSEDecoder(), []
    for chunk in chunks:
        for line in lines.decode(chunk):
            sse = dec.decode(line.rstrip("\n"))
            if sse is not None:
                out.append((sse.event, sse.data, sse.id, sse.retry))
    for line in lines.flush():
        sse = dec.decode(line)
        if sse is not None:
            out.append((sse.event, sse.data, sse.id, sse.retry))
    return out


def ours(chunks: list[str], limit: int = 1 << 20) -> tuple[list, list[str]]:
    drops: list[str] = []
    reader = FrameReader(drops.append, limit)
    out = [(e.event, e.data, e.id, e.retry) for c in chunks for e in reader.feed(c)]
    out += [(e.event, e.data, e.id, e.retry) for e in reader.flush()]
    return out, drops


FIELD = st.sampled_from(["data: ", "data:", "event: ", "id: ", "retry: ", ": ", "x: "])
VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00"), max_size=12)
NEWLINE = st.sampled_from(["\n", "\r", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.one_of(st.tuples(FIELD, VALUE), st.just(("", ""))), max_size=25),
       newline=NEWLINE, cuts=st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_any_stream_decodes_as_httpx_sse_decodes_it(lines, newline, cuts) -> None:  # type: ignore[no-untyped-def]
    text = "".join(f + v + newline for f, v in lines)
    chunks, i, k = [], 0, 0
    while i < len(text):
        n = cuts[k % len(cuts)]
        chunks.append(text[i:i + n])
        i, k = i + n, k + 1
    got, drops = ours(chunks)
    assert got == reference(chunks) and drops == []


def test_an_event_past_the_ceiling_is_dropped_and_the_next_one_read() -> None:
    huge = ["data: {\"a\": \""] + ["x" * 1000] * 50 + ["\"}\n", "\n", "data: ok\n\n"]
    got, drops = ours(huge, limit=10_000)
    assert [g[1] for g in got] == ["ok"] and len(drops) == 1


class _Flood(BaseHTTPRequestHandler):
    """One data line of 200 MB before its newline, then a normal event."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            self.wfile.write(b"id: 1\ndata: {\"seq\": 1, \"event\": {\"data\": \"")
            block = b"A" * (1 << 20)
            for _ in range(200):
                self.wfile.write(block)
            self.wfile.write(b"\"}}\n\n")
            ok = {"seq": 2, "event": {"type": "console_log", "category": "console",
                                      "ts": 1_777_000_000_000, "data": {"text": "after"}}}
            self.wfile.write(b"id: 2\ndata: " + json.dumps(ok).encode() + b"\n\n")
            self.wfile.flush()
            self.server.done.wait(30)  # type: ignore[attr-defined]
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flood() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flood)
    httpd.done = threading.Event()  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/telemetry/stream"
    httpd.done.set()  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


def test_a_200_mb_line_on_the_wire_keeps_memory_bounded(flood: str) -> None:
    out, peak_kib = run_peak(["-m", "tokentop.tui.cli", "events", flood, "--count", "1"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["seq"] == 2  # the event after it
    assert "malformed 1" in out.stderr
    assert 0 < peak_kib < 200 * 1024, peak_kib  # KiB: under 200 MB (was 4.2 GB)


class _HugeBody(BaseHTTPRequestHandler):
    """A diagnostics reply of 100 MB (the gateway's is a few KB)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(100 << 20))
        self.end_headers()
        try:
            block = b" " * (1 << 20)
            for _ in range(100):
                self.wfile.write(block)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


def test_a_huge_diagnostics_body_is_refused_unread() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HugeBody)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        out, peak_kib = run_peak(["-m", "tokentop.tui.cli", "traces",
                                  f"http://127.0.0.1:{httpd.server_address[1]}", "--json",
                                  "diagnostics"])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert out.returncode == 2
    assert "larger than 32 MiB" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert 0 < peak_kib < 200 * 1024, peak_kib


def test_a_retry_field_int_refuses_is_ignored() -> None:
    """``retry: ²`` is a digit to ``str.isdigit`` and not to ``int``: it raised
    ValueError out of the reader (found by the property test above)."""
    reader = FrameReader(lambda why: None)
    events = reader.feed("retry: \u00b2\ndata: x\n\nretry: 1500\ndata: y\n\n")
    assert [(e.data, e.retry) for e in events] == [("x", None), ("y", 1500)]
