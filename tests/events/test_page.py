"""``tokentop events FILE`` on a saved page of ``GET /telemetry/events``.

kernel-images' ``ReadTelemetryEvents`` (kernel/kernel-images
``server/cmd/api/api/telemetry.go``) answers one page as a JSON array of envelopes,
``json.NewEncoder(w).Encode(envs)``: one line. The fixture
(tests/events/fixtures/telemetry_events_page.json, see the README beside it) is such a
page; one test also saves a page from the loopback server of tests/events/sse_server.py,
which pages as the handler does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from sse_server import SseServer, event_json

from tokentop.store.events.filesource import FileSource
from tokentop.store.events.stream import EventStream

ROOT = Path(__file__).resolve().parents[2]
PAGE = Path(__file__).parent / "fixtures" / "telemetry_events_page.json"


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "events", *args],
                          input=input, capture_output=True, timeout=30, cwd=ROOT)


def seqs(out: bytes) -> list[object]:
    return [json.loads(line).get("seq") for line in out.decode().splitlines()]


def read_once(path: Path | str) -> tuple[FileSource, EventStream]:
    stream = EventStream()
    src = FileSource(path, stream)
    src.run(threading.Event())
    return src, stream


def test_a_page_as_the_server_writes_it_prints_its_envelopes() -> None:
    assert PAGE.read_bytes().count(b"\n") == 1  # one line, as the encoder writes it
    proc = run(str(PAGE))
    assert proc.returncode == 0, proc.stderr
    assert seqs(proc.stdout) == [41, 42, 43, 44, 45, 46]
    first = json.loads(proc.stdout.decode().splitlines()[0])
    assert first["event"]["type"] == "console_log"
    assert first["event"]["data"]["text"] == "slow frame"
    assert proc.stderr.decode().startswith("tokentop events: received 6, printed 6, ")


def test_a_pretty_printed_page_is_read_whole(tmp_path: Path) -> None:
    pretty = tmp_path / "page.json"
    pretty.write_text(json.dumps(json.loads(PAGE.read_text()), indent=2))
    assert pretty.read_text().count("\n") > 50
    src, _stream = read_once(pretty)
    assert src.stats.received == 6 and src.stats.malformed == 0
    assert src.stats.state == "ended"
    proc = run(str(pretty))
    assert seqs(proc.stdout) == [41, 42, 43, 44, 45, 46]


def test_the_older_wrapped_page_and_stdin(tmp_path: Path) -> None:
    """An older ReadTelemetryEvents wrapped the array as {"events": [...]}."""
    wrapped = b'{"events":' + PAGE.read_bytes().strip() + b"}\n"
    proc = run("-", input=wrapped)
    assert proc.returncode == 0, proc.stderr
    assert seqs(proc.stdout) == [41, 42, 43, 44, 45, 46]
    proc = run("-", input=PAGE.read_bytes())
    assert seqs(proc.stdout) == [41, 42, 43, 44, 45, 46]


def test_a_page_saved_from_the_paging_server(tmp_path: Path) -> None:
    with SseServer(page_max=4) as server:
        server.publish_events(event_json(s, type="page_load", category="page",
                                         data={"url": "https://example.com/"})
                              for s in range(1, 7))
        with httpx.Client() as client:
            first = client.get(server.base_url + "/telemetry/events", params={"limit": 4})
            second = client.get(server.base_url + "/telemetry/events",
                                params={"limit": 4, "offset": first.headers["x-next-offset"]})
    assert first.headers["x-has-more"] == "true" and second.headers["x-has-more"] == "false"
    one, two = tmp_path / "p1.json", tmp_path / "p2.json"
    one.write_bytes(first.content)
    two.write_bytes(second.content)
    assert seqs(run(str(one)).stdout) == [1, 2, 3, 4]
    assert seqs(run(str(two)).stdout) == [5, 6]


def test_a_broken_page_is_one_malformed_line(tmp_path: Path) -> None:
    bad = tmp_path / "page.json"
    bad.write_text('[{"seq": 1, "event": {"type": "page_load"}}, {"seq": "two"}, 3')
    src, _stream = read_once(bad)
    assert src.stats.received == 0 and src.stats.malformed == 1
    assert src.stats.last_malformed is not None
    assert src.stats.last_malformed.startswith(f"{bad}:1: not a page of envelopes")
    bad.write_text('[{"seq": 1, "event": {"type": "page_load"}}, {"seq": "two"}]')
    src, _stream = read_once(bad)
    assert src.stats.received == 1 and src.stats.malformed == 1
    assert "element 1: not an envelope" in (src.stats.last_malformed or "")
    proc = run(str(bad))
    assert proc.returncode == 0 and seqs(proc.stdout) == [1]
    assert "last malformed line" in proc.stderr.decode()


def test_a_pretty_page_still_prints_one_json_line_per_envelope(tmp_path: Path) -> None:
    """``data`` is re-emitted as received: a pretty page's is compacted first."""
    pretty = tmp_path / "page.json"
    pretty.write_text(json.dumps(json.loads(PAGE.read_text()), indent=2))
    out = run(str(pretty)).stdout.decode().splitlines()
    assert len(out) == 6
    assert json.loads(out[3])["event"]["data"]["headers"] == {"Accept": "*/*"}
