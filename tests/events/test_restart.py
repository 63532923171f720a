"""A restarted kernel server, seen by a resuming client (issue 15).

The server here behaves as kernel-images' handlers do (tests/events/sse_server.py):
``GET /telemetry/stream`` resolves its start as ``resolveStartSeq`` in
kernel/kernel-images ``server/cmd/api/api/telemetry.go`` (a ``Last-Event-ID: N``
resumes after N even when the process is new, and the ring reader of
``server/lib/events/ringbuffer.go`` then waits for seq N+1: the new run's first N
events are never sent), ``:`` keepalives on silence, ``seq`` in process memory
(``server/lib/events/eventstream.go``: a restart starts again at 1), ``GET /telemetry``
answering ``TelemetryState`` with the newest ``seq`` (``GetTelemetry``, 404 while not
configured) and ``GET /telemetry/events`` answering a JSON array of envelopes paged by
``X-Has-More`` / ``X-Next-Offset`` (``ReadTelemetryEvents``).

No mocks and no sleeps: every wait is on a condition with a deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sse_server import SseServer

from tokentop.store.events import restart
from tokentop.store.events.model import Envelope, Marker
from tokentop.store.events.sse import SseSource
from tokentop.store.events.stream import EventStream

SECRET = "sk-test-restart-0123456789"


@pytest.fixture(autouse=True)
def no_key_from_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KERNEL_API_KEY", raising=False)


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.002)


@contextmanager
def running(source: SseSource) -> Iterator[None]:
    stop = threading.Event()
    t = threading.Thread(target=source.run_in_thread, args=(stop,), daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(5)
        assert not t.is_alive(), "the source did not stop"


def published(stream: EventStream) -> list[Envelope]:
    reader = stream.new_reader()
    out = []
    while (r := reader.try_read()) is not None:
        assert r.envelope is not None
        out.append(r.envelope)
    return out


def source_for(server: SseServer, stream: EventStream, **kw: object) -> SseSource:
    kw.setdefault("min_backoff", 0.01)
    kw.setdefault("max_backoff", 0.05)
    kw.setdefault("replay", True)
    return SseSource(server.url, stream, **kw)  # type: ignore[arg-type]


def test_the_fake_server_skips_a_new_runs_first_events_as_kernel_does() -> None:
    """The premise: resuming by id from a restarted server loses its first events."""
    import httpx

    with SseServer(keepalive=0.05) as server:
        server.publish(10)
        server.restart(range(1, 5))
        server.publish(1)  # seq 5: still not above the id 10
        with httpx.Client(timeout=5.0) as client, \
                client.stream("GET", server.url, headers={"Last-Event-ID": "10"}) as resp:
            assert resp.headers["content-type"] == "text/event-stream"
            got = b""
            for chunk in resp.iter_bytes():  # the events 1..5 were there to send first
                got += chunk
                if got.count(b":") >= 5:  # five keepalives later: nothing was sent
                    break
    assert b"data:" not in got and got.startswith(b": keepalive")


def test_a_restart_is_detected_before_resuming_and_the_new_run_is_replayed() -> None:
    stream = EventStream()
    with SseServer(keepalive=0.05) as server:
        server.publish(10)
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 10, "the first run")
            server.restart(range(1, 5))  # the new process published 1..4 before we are back
            wait_until(lambda: stream.seq == 14, "the new run, from its seq 1")
            server.publish(2)
            wait_until(lambda: stream.seq == 16, "the new run goes on")
        reqs = server.requests
    envs = published(stream)
    assert [e.upstream_seq for e in envs] == [*range(1, 11), 1, 2, 3, 4, 5, 6]
    assert envs[10].marker == Marker("restart", from_seq=1)
    assert [e.marker for i, e in enumerate(envs) if i != 10] == [None] * 15
    assert reqs[1].replay == "all" and reqs[1].last_event_id is None
    assert server.probes[0].path == "/telemetry"
    st = src.stats
    assert (st.restarts, st.restart_lost, st.duplicates, st.upstream_dropped) == (1, 0, 0, 0)
    assert st.last_restart == "server restarted: nothing lost of the new run"
    assert src.restart_check_ok is True


def test_events_the_new_ring_no_longer_holds_are_counted_as_lost() -> None:
    stream = EventStream()
    with SseServer(keepalive=0.05) as server:
        server.publish(10)
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 10, "the first run")
            server.restart(range(6, 10))  # its ring kept only 6..9 of 1..9
            wait_until(lambda: stream.seq == 14, "what the new ring held")
    envs = published(stream)
    assert [e.upstream_seq for e in envs[10:]] == [6, 7, 8, 9]
    assert envs[10].marker == Marker("restart", dropped=5, from_seq=1, to_seq=5)
    st = src.stats
    assert (st.restarts, st.restart_lost, st.upstream_dropped) == (1, 5, 0)
    assert st.last_restart == "server restarted: 5 events of the new run lost (seq 1-5)"


def test_without_the_state_endpoint_the_events_page_gives_the_newest_seq() -> None:
    """GET /telemetry answers 404 (telemetry not configured): the archive's pages are
    followed to the last one, whose last envelope is the newest."""
    stream = EventStream()
    with SseServer(keepalive=0.05, state_status=404, page_max=3) as server:
        server.publish(10)
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 10, "the first run")
            server.restart(range(1, 8))  # 7 events: three pages of at most 3
            wait_until(lambda: stream.seq == 17, "the new run")
        probes = server.probes
    assert [p.path for p in probes] == ["/telemetry", *["/telemetry/events"] * 3]
    # offsets are archive positions (S2 seq_num): the first run's 10 come first
    assert [p.query.get("offset") for p in probes[1:]] == [None, ["13"], ["16"]]
    envs = published(stream)
    assert envs[10].upstream_seq == 1 and envs[10].marker == Marker("restart", from_seq=1)
    assert src.stats.restarts == 1


def test_a_server_without_either_endpoint_is_resumed_by_id_as_before() -> None:
    """Nothing tells the newest seq: no restart can be seen before resuming, and the
    check says it could not run (the limit of what a client can know)."""
    stream = EventStream()
    with SseServer(keepalive=0.05, state_status=404, events_status=404) as server:
        server.publish(10)
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 10, "the first run")
            server.restart(range(1, 5))
            reqs = server.wait_requests(2)
            wait_until(lambda: src.stats.state == "connected" and src.restart_checks >= 1,
                       "reconnected")
    assert reqs[1].last_event_id == "10"
    assert src.restart_check_ok is False
    assert src.stats.restarts == 0 and stream.seq == 10


def test_no_restart_resumes_by_id_and_the_probe_carries_the_key() -> None:
    stream = EventStream()
    with SseServer(keepalive=0.05) as server:
        server.publish(5)
        src = source_for(server, stream, api_key=SECRET)
        with running(src):
            wait_until(lambda: stream.seq == 5, "the first connection")
            for sock in list(server._socks):  # the connection drops; the server lives on
                sock.shutdown(2)
            reqs = server.wait_requests(2)
            server.publish(2)
            wait_until(lambda: stream.seq == 7, "resumed")
    assert reqs[1].last_event_id == "5"
    assert server.probes[0].authorization == f"Bearer {SECRET}"
    assert src.stats.restarts == 0 and src.restart_check_ok is True
    assert SECRET not in repr(src) and SECRET not in str(src.stats)


def test_an_archive_longer_than_the_pages_followed_is_no_newest_seq(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``ReadTelemetryEvents`` pages upward from the oldest record of its window, so
    when the probe stops at ``MAX_PAGES`` with ``X-Has-More: true`` the last envelope
    it holds is not the newest: taken as the newest, it is below the last seq seen and
    a connection that merely dropped was called a restart and replayed whole. An
    unfinished walk knows nothing: the client resumes by id, as with no endpoint."""
    monkeypatch.setattr(restart, "MAX_PAGES", 2)
    stream = EventStream()
    with SseServer(keepalive=0.05, state_status=404, page_max=3) as server:
        server.publish(10)  # the archive: 4 pages of at most 3
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 10, "the first connection")
            for sock in list(server._socks):  # the connection drops; the server lives on
                sock.shutdown(2)
            reqs = server.wait_requests(2)
            server.publish(2)
            wait_until(lambda: stream.seq == 12, "resumed")
        probes = server.probes
    assert [p.path for p in probes] == ["/telemetry", *["/telemetry/events"] * 2]
    assert reqs[1].last_event_id == "10" and reqs[1].replay is None
    assert src.restart_check_ok is False
    assert src.stats.restarts == 0 and src.stats.duplicates == 0
