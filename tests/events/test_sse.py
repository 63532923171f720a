"""The SSE source against a real HTTP server on 127.0.0.1 (tests/events/sse_server.py).

No mocks and no sleeping to synchronise: every wait is on a condition with a deadline
(the source's stats, the server's request and connection counts, the stream's seq).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sse_server import (
    CLOSE,
    HOLD,
    KEEPALIVE,
    Live,
    SseServer,
    Status,
    Trickle,
    frame,
    frames,
)

from tokentop.store.events.model import Envelope, Marker
from tokentop.store.events.sse import SseSource
from tokentop.store.events.stream import EventStream

SECRET = "sk-test-0123456789abcdef"


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
def running(source: SseSource) -> Iterator[threading.Thread]:
    """The source in a worker thread (as the dashboard runs it); stopped on exit."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            source.run_in_thread(stop)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    t = threading.Thread(target=target, name="sse-source", daemon=True)
    t.start()
    try:
        yield t
    finally:
        stop.set()
        t.join(5)
        assert not t.is_alive(), "the source did not stop"
        assert not errors, errors


def published(stream: EventStream) -> list[Envelope]:
    reader = stream.new_reader()
    out = []
    while (r := reader.try_read()) is not None:
        assert r.envelope is not None, "the test stream is big enough to drop nothing"
        out.append(r.envelope)
    return out


def upstream(stream: EventStream) -> list[int | None]:
    return [e.upstream_seq for e in published(stream)]


def source_for(server: SseServer, stream: EventStream, **kw: object) -> SseSource:
    kw.setdefault("min_backoff", 0.01)
    kw.setdefault("max_backoff", 0.05)
    return SseSource(server.url, stream, **kw)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- frames ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False])
def test_frames_arrive_in_order_and_keepalives_are_ignored(chunked: bool) -> None:
    plan = [KEEPALIVE, frames(1, 3), KEEPALIVE, b": just a comment\n\n", frames(4, 5), HOLD]
    stream = EventStream()
    with SseServer(plan, chunked=chunked) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 5, "5 envelopes")
            assert src.stats.state == "connected"
    envs = published(stream)
    assert [e.upstream_seq for e in envs] == [1, 2, 3, 4, 5]
    assert [e.seq for e in envs] == [1, 2, 3, 4, 5]
    assert all(e.marker is None for e in envs)
    first = envs[0]
    assert first.event.type == "console_log" and first.event.category == "console"
    assert bytes(first.event.data) == b'{"message":"line 1"}'
    assert first.size == len(frame(1).split(b"data: ", 1)[1]) - 2  # the data line's bytes
    st = src.stats
    assert (st.received, st.malformed, st.duplicates, st.upstream_dropped) == (5, 0, 0, 0)
    assert st.per_category == {"console": 5}
    assert st.state == "ended"


def test_a_gap_in_seq_is_an_upstream_drop_with_its_range() -> None:
    stream = EventStream()
    with SseServer([frames(1, 3), frames(7, 8), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 5, "5 envelopes")
    envs = published(stream)
    assert [e.upstream_seq for e in envs] == [1, 2, 3, 7, 8]
    assert envs[3].marker == Marker("upstream", dropped=3, from_seq=4, to_seq=6)
    assert [e.marker for e in envs if e.upstream_seq != 7] == [None] * 4
    assert src.stats.upstream_dropped == 3


def test_a_server_restart_gives_a_restart_marker_and_goes_on() -> None:
    stream = EventStream()
    with SseServer([frames(1, 5), CLOSE], [frames(1, 3), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 8, "8 envelopes")
            reqs = server.wait_requests(2)
    assert reqs[1].last_event_id == "5"
    envs = published(stream)
    assert [e.upstream_seq for e in envs] == [1, 2, 3, 4, 5, 1, 2, 3]
    assert envs[5].marker is not None and envs[5].marker.kind == "restart"
    assert [e.marker for i, e in enumerate(envs) if i != 5] == [None] * 7
    assert src.stats.restarts == 1 and src.stats.upstream_dropped == 0


def test_a_duplicate_is_counted_reported_and_not_published() -> None:
    stream = EventStream()
    seen: list[Marker] = []
    plan = [frames(1, 3), frame(2), frames(4, 5), HOLD]
    with SseServer(plan) as server:
        src = source_for(server, stream, on_marker=seen.append)
        with running(src):
            wait_until(lambda: stream.seq == 5, "5 envelopes")
    assert upstream(stream) == [1, 2, 3, 4, 5]
    assert src.stats.duplicates == 1 and src.stats.received == 5
    assert seen == [Marker("duplicate", dropped=1, from_seq=2, to_seq=2)]


def test_the_envelope_seq_wins_over_the_id_line() -> None:
    stream = EventStream()
    with SseServer([frame(1), frame(2, id=99), frame(3, id="x"), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 3, "3 envelopes")
            assert src.tracker.last_seq == 3
    assert upstream(stream) == [1, 2, 3]
    assert all(e.marker is None for e in published(stream))


def test_malformed_data_is_counted_with_one_line() -> None:
    stream = EventStream()
    plan = [frame(1), frame(2, data=b"{not json"), frame(3, data=b'{"seq": "x"}'),
            b"id: 9\nevent: ping\n\n",  # no data: not an envelope, not an error
            frame(4), HOLD]
    with SseServer(plan) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 2, "2 envelopes")
    assert upstream(stream) == [1, 4]
    st = src.stats
    assert st.malformed == 2
    assert st.last_malformed is not None and "\n" not in st.last_malformed
    assert st.last_malformed.startswith("malformed event (id 3): ")
    # the two lost envelopes are a gap like any other
    assert published(stream)[1].marker == Marker("upstream", dropped=2, from_seq=2, to_seq=3)


# -- reconnecting ------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False])
def test_a_frame_cut_in_half_resumes_from_the_last_full_seq(chunked: bool) -> None:
    stream = EventStream()
    cut = frames(1, 5) + frame(6)[:25]  # "id: 6\ndata: {...": half a frame
    with SseServer([cut, CLOSE], chunked=chunked) as server:  # then LIVE from the log
        server.publish(10)
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq >= 10, "10 envelopes")
            reqs = server.wait_requests(2)
            assert src.stats.state == "connected"
    assert reqs[0].last_event_id is None
    assert reqs[1].last_event_id == "5"
    envs = published(stream)
    assert [e.upstream_seq for e in envs] == list(range(1, 11))  # none lost, none twice
    assert all(e.marker is None for e in envs)
    assert src.stats.malformed == 0 and src.stats.duplicates == 0


def test_replay_all_is_asked_on_the_first_connection_only() -> None:
    stream = EventStream()
    with SseServer([Live(until=5)]) as server:  # then ends the stream; later: LIVE
        server.publish(5)
        src = source_for(server, stream, replay=True)
        with running(src):
            wait_until(lambda: stream.seq == 5, "the replayed 5")
            reqs = server.wait_requests(2)
            server.publish(2)
            wait_until(lambda: stream.seq == 7, "2 live ones")
    assert reqs[0].replay == "all" and reqs[0].last_event_id is None
    assert reqs[1].replay is None and reqs[1].last_event_id == "5"
    assert upstream(stream) == [1, 2, 3, 4, 5, 6, 7]


def test_without_replay_the_server_sends_only_new_events() -> None:
    stream = EventStream()
    with SseServer() as server:
        server.publish(3)
        src = source_for(server, stream)
        with running(src):
            reqs = server.wait_requests(1)
            wait_until(lambda: src.stats.state == "connected", "connected")
            server.publish(2)
            wait_until(lambda: stream.seq == 2, "the 2 new ones")
    assert reqs[0].replay is None
    assert upstream(stream) == [4, 5]


def test_a_slow_server_still_delivers() -> None:
    stream = EventStream()
    plan = [Trickle(frames(1, 10), piece=13, pause=0.001), KEEPALIVE,
            Trickle(frames(11, 12), piece=1, pause=0.0005), HOLD]
    with SseServer(plan) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 12, "12 envelopes")
    assert upstream(stream) == list(range(1, 13))
    assert src.stats.malformed == 0


def test_silence_past_the_read_timeout_reconnects_but_keepalives_keep_it_open() -> None:
    stream = EventStream()
    with SseServer([frames(1, 2), HOLD], default=[HOLD]) as server:  # no keepalives
        src = source_for(server, stream, timeout=0.2)
        with running(src):
            reqs = server.wait_requests(2)
            wait_until(lambda: (src.stats.last_error or "").startswith("no data for 0.2 s"),
                       "the timeout line")
    assert reqs[1].last_event_id == "2"

    with SseServer([frames(1, 2), HOLD], keepalive=0.02) as server:
        src = source_for(server, stream, timeout=0.3)
        with running(src):
            # 30 keepalives take 0.6 s, twice the read timeout: the link stays up
            wait_until(lambda: server.keepalives_sent >= 30, "30 keepalives")
            assert len(server.requests) == 1
            assert src.stats.state == "connected"


def test_5xx_is_retried_with_backoff() -> None:
    stream = EventStream()
    with SseServer([Status(503)], [Status(500)], [frames(1, 2), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            wait_until(lambda: stream.seq == 2, "2 envelopes after two 5xx")
            assert src.stats.state == "connected" and src.stats.last_error is None
    assert len(server.requests) == 3


# -- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "line"), [
    (401, "401 Unauthorized: check KERNEL_API_KEY"),
    (403, "403 Forbidden: check KERNEL_API_KEY (this key may not read this browser)"),
])
def test_401_and_403_fail_once_and_stop(code: int, line: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_API_KEY", SECRET)
    stream = EventStream()
    with SseServer([Status(code)], default=[Status(code)]) as server:
        src = source_for(server, stream)
        with running(src) as t:
            t.join(5)  # the run ends by itself
            assert not t.is_alive()
        assert len(server.requests) == 1
        assert server.requests[0].authorization == f"Bearer {SECRET}"
    st = src.stats
    assert st.state == "failed" and st.last_error == line and st.retry_in is None
    assert SECRET not in repr(src) and SECRET not in str(vars(st))


def test_404_names_the_stream_without_credentials() -> None:
    stream = EventStream()
    with SseServer() as server:
        host = server.base_url.removeprefix("http://")
        url = f"http://user:pw@{host}/browsers/nope/telemetry/stream?token=t0k"
        src = SseSource(url, stream, api_key=SECRET, max_backoff=0.05)
        with running(src) as t:
            t.join(5)
            assert not t.is_alive()
        assert len(server.requests) == 1
        assert server.requests[0].path == "/browsers/nope/telemetry/stream"
    err = src.stats.last_error
    assert err == f"404 Not Found: no such browser/stream: http://{host}/browsers/nope/telemetry/stream"
    assert src.stats.state == "failed"
    for secret in (SECRET, "pw", "t0k"):
        assert secret not in (err or "") and secret not in repr(src)


def test_connection_refused_backs_off_then_connects_when_the_server_comes_up() -> None:
    port = free_port()
    stream = EventStream()
    src = SseSource(f"http://127.0.0.1:{port}/telemetry/stream", stream, api_key=SECRET,
                    min_backoff=0.01, max_backoff=0.05)
    retries: list[float] = []
    with running(src):
        def refused_a_few_times() -> bool:
            if src.stats.retry_in is not None:
                retries.append(src.stats.retry_in)
            return src.requests >= 3 and bool(retries)
        wait_until(refused_a_few_times, "3 refused attempts")
        st = src.stats
        assert st.state == "reconnecting"
        assert st.last_error == (f"cannot connect to http://127.0.0.1:{port}/telemetry/stream: "
                                 "connection refused (is the server running?)")
        assert retries and all(0 < r <= 0.05 for r in retries)
        with SseServer([frames(1, 3), HOLD], port=port) as server:
            wait_until(lambda: stream.seq == 3, "3 envelopes once the server is up")
            assert server.requests[0].authorization == f"Bearer {SECRET}"
            assert src.stats.state == "connected" and src.stats.last_error is None
    assert SECRET not in repr(src)


def test_no_key_no_authorization_header() -> None:
    stream = EventStream()
    with SseServer([frames(1, 1), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            reqs = server.wait_requests(1)
            wait_until(lambda: stream.seq == 1, "1 envelope")
    assert reqs[0].authorization is None
    assert reqs[0].headers["accept"] == "text/event-stream"


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_API_KEY", SECRET)
    stream = EventStream()
    plan = [frame(1), frame(2, data=SECRET.encode()), CLOSE]
    with SseServer(plan, default=[Status(502)]) as server:
        src = source_for(server, stream)
        with running(src):
            reqs = server.wait_requests(3)
            wait_until(lambda: src.stats.malformed == 1, "the malformed one")
    assert reqs[0].authorization == f"Bearer {SECRET}"
    assert reqs[1].authorization == f"Bearer {SECRET}"
    for text in (src.stats.last_error, src.stats.last_malformed, repr(src)):
        assert SECRET not in (text or "")


# -- stopping ----------------------------------------------------------------------------


def test_stop_ends_a_connected_run_promptly() -> None:
    stream = EventStream()
    with SseServer([frames(1, 1), HOLD]) as server:
        src = source_for(server, stream)
        stop = threading.Event()
        t = threading.Thread(target=src.run_in_thread, args=(stop,), daemon=True)
        t.start()
        wait_until(lambda: stream.seq == 1, "connected")
        t0 = time.monotonic()
        stop.set()
        t.join(5)
        assert not t.is_alive() and time.monotonic() - t0 < 1.0
        server.wait_finished(1)  # the connection is closed, not left dangling
    assert src.stats.state == "ended"


def test_stop_during_a_long_backoff_is_prompt() -> None:
    stream = EventStream()
    src = SseSource(f"http://127.0.0.1:{free_port()}/telemetry/stream", stream,
                    min_backoff=10.0, max_backoff=10.0)
    with running(src):
        wait_until(lambda: src.stats.retry_in is not None, "a backoff")
        assert src.stats.retry_in >= 5.0
        t0 = time.monotonic()
        src.stop()
        wait_until(lambda: src.stats.state == "ended", "ended", timeout=1.0)
        assert time.monotonic() - t0 < 1.0
    assert src.stats.retry_in is None


async def test_run_in_asyncio_until_the_stop_event() -> None:
    stream = EventStream()
    with SseServer([frames(1, 3), HOLD]) as server:
        src = source_for(server, stream)
        stop = asyncio.Event()
        task = asyncio.create_task(src.run(stop))
        reader = stream.new_reader()
        got = [(await asyncio.wait_for(reader.read(), 10)) for _ in range(3)]
        stop.set()
        await asyncio.wait_for(task, 1.0)
    assert [r.envelope.upstream_seq for r in got if r.envelope] == [1, 2, 3]
    assert src.stats.state == "ended"


# -- a slow viewer -----------------------------------------------------------------------


def test_a_slow_reader_of_a_small_ring_loses_only_what_it_is_told() -> None:
    """The server sends 2,000 envelopes at once into a 16-slot ring; the reader reads a
    few slowly, stalls until the source has them all, then drains: every envelope is
    either read or counted in a viewer drop, never both, never neither."""
    sent = 2000
    stream = EventStream(capacity=16)
    reader = stream.new_reader()
    read: list[int] = []
    dropped = 0
    with SseServer([frames(1, sent), HOLD]) as server:
        src = source_for(server, stream)
        with running(src):
            while len(read) < 5:
                r = reader.read_blocking(timeout=10)
                assert r is not None, "nothing arrived"
                if r.envelope is not None:
                    assert r.envelope.upstream_seq is not None
                    read.append(r.envelope.upstream_seq)
                else:
                    dropped += r.dropped
                time.sleep(0.001)  # a deliberately slow reader, not a synchronisation
            wait_until(lambda: src.stats.received == sent, "all sent envelopes")
            while (r := reader.try_read()) is not None:
                if r.envelope is not None:
                    assert r.envelope.upstream_seq is not None
                    read.append(r.envelope.upstream_seq)
                else:
                    dropped += r.dropped
    assert dropped > 0
    assert len(read) + dropped == sent == src.stats.received
    assert read == sorted(set(read))  # in order, none twice
    assert read[-16:] == list(range(sent - 15, sent + 1))  # the ring's last 16 survive
    assert reader.dropped_total == dropped
    assert src.stats.upstream_dropped == 0
