"""Events from JSONL files and stdin (tokentop.store.events.filesource), on real files and pipes.

Following is tested two ways: deterministically, by calling ``FileSource.check()``
(what the watcher calls on every change) between writes, so "a partial line is not
published yet" is a plain assertion; and live, with ``run()`` on a real thread and
watchfiles (inotify, and polling), waiting on the ring's seq with a deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tokentop.store.events.filesource import FileSource, parse_line
from tokentop.store.events.model import MAX_ENVELOPE_BYTES, Envelope, Marker
from tokentop.store.events.page import parse_page
from tokentop.store.events.stream import EventStream

ROOT = Path(__file__).resolve().parents[2]


def env_line(seq: int, type_: str = "console_log", category: str = "console",
             data: object = None) -> bytes:
    data = {"message": f"hello {seq}"} if data is None else data
    return json.dumps({"seq": seq, "event": {
        "ts": 1_700_000_000_000_000 + seq, "type": type_, "category": category,
        "source": {"kind": "cdp", "event": "Runtime.consoleAPICalled",
                   "metadata": {"tab": "t1"}},
        "data": data}}).encode() + b"\n"


def bare_line(ts: int, type_: str = "page_load", category: str = "page") -> bytes:
    return json.dumps({"ts": ts, "type": type_, "category": category,
                       "source": {"kind": "kernel_api"}, "data": {"url": "https://x"}}
                      ).encode() + b"\n"


def envelopes(stream: EventStream) -> list[Envelope]:
    r = stream.new_reader()
    out = []
    for res in r.read_many(1_000_000):
        assert res.envelope is not None, "no drops expected in these tests"
        out.append(res.envelope)
    return out


def upstream(stream: EventStream) -> list[int | None]:
    return [e.upstream_seq for e in envelopes(stream)]


def read_once(path: Path, **kw) -> tuple[FileSource, EventStream]:
    stream = EventStream()
    src = FileSource(path, stream, **kw)
    batches: list[int] = []
    src.run(threading.Event(), on_batch=batches.append)
    assert sum(batches) == stream.seq
    return src, stream


def wait_until(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


# -- one pass ------------------------------------------------------------------------------


def test_envelopes_and_bare_events(tmp_path: Path) -> None:
    lines = [env_line(7), bare_line(123), env_line(8, "network_request", "network"),
             bare_line(456, "brand_new_type", "brand_new_category")]
    p = tmp_path / "events.jsonl"
    p.write_bytes(b"".join(lines))
    src, stream = read_once(p)
    got = envelopes(stream)
    assert [e.seq for e in got] == [1, 2, 3, 4]
    assert [e.upstream_seq for e in got] == [7, None, 8, None]
    assert [e.size for e in got] == [len(x) - 1 for x in lines]
    assert all(e.marker is None for e in got)
    first = got[0].event
    assert first.type == "console_log" and first.category == "console"
    assert first.ts == 1_700_000_000_000_007
    assert first.source.kind == "cdp" and first.source.event == "Runtime.consoleAPICalled"
    assert json.loads(bytes(first.source.metadata)) == {"tab": "t1"}
    assert json.loads(bytes(first.data)) == {"message": "hello 7"}
    assert got[1].event.ts == 123 and got[1].event.source.kind == "kernel_api"
    assert got[3].event.type == "brand_new_type"
    st = src.stats
    assert st.state == "ended" and st.received == 4 and st.malformed == 0
    assert st.per_category == {"console": 1, "page": 1, "network": 1, "brand_new_category": 1}
    assert src.tracker.last_seq == 8


def test_malformed_lines_are_counted_never_raised(tmp_path: Path) -> None:
    bad = [b"not json at all", b"[1, 2, 3]", b'{"foo": 1}', b'{"seq": "x", "event": {}}',
           b'{"seq": 3}', b'{"event": {"type": "a"}}', b'{"seq": 4, "event": {"ts": "soon"}}',
           b'{"seq": -1, "event": {}}', b"\xff\xfe garbage"]
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1) + b"\n".join(bad) + b"\n\n   \n" + env_line(2))
    src, stream = read_once(p)
    assert upstream(stream) == [1, 2]
    # Blank lines are not malformed; "[1, 2, 3]" reads as a saved page of three elements
    # that are not envelopes (store/events/page.py), each counted.
    assert src.stats.malformed == len(bad) + 2
    msg = src.stats.last_malformed
    assert msg is not None and msg.startswith(f"{p}:10: ") and "\n" not in msg
    assert src.stats.state == "ended"
    for b in bad:
        assert isinstance(parse_line(b), str)
    assert parse_page(b"[1, 2, 3]") == [
        "element 0: not an envelope: Expected `object`, got `int`",
        "element 1: not an envelope: Expected `object`, got `int`",
        "element 2: not an envelope: Expected `object`, got `int`"]


def test_gap_restart_and_duplicates_in_the_seqs(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(b"".join(env_line(s) for s in [1, 2, 5, 6, 6, 4, 1, 2, 3]))
    seen: list[Marker] = []
    src, stream = read_once(p, on_marker=seen.append)
    got = envelopes(stream)
    assert [e.upstream_seq for e in got] == [1, 2, 5, 6, 1, 2, 3]
    assert [e.marker for e in got] == [
        None, None, Marker("upstream", dropped=2, from_seq=3, to_seq=4), None,
        Marker("restart", from_seq=1), None, None]
    dups = [Marker("duplicate", dropped=1, from_seq=6, to_seq=6),
            Marker("duplicate", dropped=1, from_seq=4, to_seq=4)]
    assert seen == dups and list(src.markers) == dups
    st = src.stats
    assert (st.received, st.upstream_dropped, st.duplicates, st.restarts) == (7, 2, 2, 1)


def test_a_line_above_the_limit_loses_its_data(tmp_path: Path) -> None:
    huge = env_line(2, "monitor_screenshot", "screenshot", data={"png": "A" * 1_500_000})
    assert len(huge) > MAX_ENVELOPE_BYTES
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1) + huge + env_line(3))
    src, stream = read_once(p)
    got = envelopes(stream)
    assert [e.upstream_seq for e in got] == [1, 2, 3]
    big = got[1]
    assert big.event.truncated and bytes(big.event.data) == b"null"
    assert big.size == len(huge) - 1 and big.event.type == "monitor_screenshot"
    assert not got[0].event.truncated and got[2].event.has_data
    assert src.stats.truncated == 1


def test_unterminated_last_line_counts_when_not_following(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1) + env_line(2).rstrip(b"\n"))
    _, stream = read_once(p)
    assert upstream(stream) == [1, 2]


def test_missing_file_fails_with_a_message(tmp_path: Path) -> None:
    src, stream = read_once(tmp_path / "nope.jsonl")
    assert stream.seq == 0
    assert src.stats.state == "failed"
    assert src.stats.last_error == f"{tmp_path / 'nope.jsonl'}: No such file or directory"


def test_a_directory_fails_with_a_message(tmp_path: Path) -> None:
    src, _ = read_once(tmp_path)
    assert src.stats.state == "failed" and "directory" in (src.stats.last_error or "")


# -- stdin -------------------------------------------------------------------------------


def test_stdin_pipe_in_pieces(tmp_path: Path) -> None:
    data = b"".join(env_line(s) for s in range(1, 51)) + bare_line(9) + b"oops\n" + env_line(51)
    rfd, wfd = os.pipe()

    def writer() -> None:
        # Pieces that cut lines anywhere, the last line without its newline.
        view = data.rstrip(b"\n")
        for i in range(0, len(view), 97):
            os.write(wfd, view[i:i + 97])
        os.close(wfd)

    stream = EventStream()
    src = FileSource("-", stream, stdin=rfd, follow=True)  # follow is ignored for stdin
    t = threading.Thread(target=writer)
    t.start()
    try:
        src.run(threading.Event())
    finally:
        t.join()
        os.close(rfd)
    assert upstream(stream) == [*range(1, 51), None, 51]
    assert src.stats.malformed == 1 and src.stats.state == "ended"


def test_stdin_of_a_real_process(tmp_path: Path) -> None:
    code = (
        "import json, threading;"
        "from tokentop.store.events.filesource import FileSource;"
        "from tokentop.store.events.stream import EventStream;"
        "s = EventStream(); src = FileSource('-', s); src.run(threading.Event());"
        "r = s.new_reader();"
        "print(json.dumps([x.envelope.upstream_seq for x in r.read_many(100)]));"
        "print(src.stats.state, src.stats.duplicates)"
    )
    data = b"".join(env_line(s) for s in [1, 2, 2, 3])
    res = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         cwd=ROOT, timeout=60, check=False)
    assert res.returncode == 0, res.stderr.decode()
    out = res.stdout.decode().splitlines()
    assert json.loads(out[0]) == [1, 2, 3]
    assert out[1] == "ended 1"


# -- following, step by step -------------------------------------------------------------


def follower(path: Path) -> tuple[FileSource, EventStream]:
    stream = EventStream()
    return FileSource(path, stream, follow=True), stream


def test_partial_line_waits_for_its_newline(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    line2 = env_line(2)
    p.write_bytes(env_line(1) + line2[:25])
    src, stream = follower(p)
    assert src.check() == 1
    assert src.check() == 0  # still partial
    with open(p, "ab") as fh:
        fh.write(line2[25:-1])  # all but the newline
    assert src.check() == 0
    with open(p, "ab") as fh:
        fh.write(b"\n" + env_line(3))
    assert src.check() == 2
    assert upstream(stream) == [1, 2, 3]
    assert src.stats.malformed == 0 and src.stats.state == "connected"


def test_rotation_finishes_the_old_file_first(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1) + env_line(2))
    src, stream = follower(p)
    src.check()
    with open(p, "ab") as fh:
        fh.write(env_line(3) + env_line(4)[:-1])  # the last line unterminated
    p.rename(tmp_path / "events.jsonl.1")
    p.write_bytes(env_line(5) + env_line(6))
    assert src.check() == 4
    assert upstream(stream) == [1, 2, 3, 4, 5, 6]
    assert all(e.marker is None for e in envelopes(stream))
    # The new file goes on being followed.
    with open(p, "ab") as fh:
        fh.write(env_line(7))
    assert src.check() == 1


def test_rotation_to_a_restarted_server(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(b"".join(env_line(s) for s in range(1, 11)))
    src, stream = follower(p)
    src.check()
    p.rename(tmp_path / "old.jsonl")
    p.write_bytes(env_line(4) + env_line(5))  # a restarted server, already at 4
    src.check()
    got = envelopes(stream)
    assert [e.upstream_seq for e in got] == [*range(1, 11), 4, 5]
    assert got[10].marker == Marker("restart", from_seq=4)
    assert src.stats.restarts == 1 and src.stats.duplicates == 0


def test_truncated_file_is_read_from_the_top(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(b"".join(env_line(s) for s in range(1, 6)))
    src, stream = follower(p)
    src.check()
    with open(p, "r+b") as fh:  # same inode, shrunk
        fh.truncate(0)
        fh.write(env_line(3))
    src.check()
    with open(p, "ab") as fh:
        fh.write(env_line(4))
    src.check()
    got = envelopes(stream)
    assert [e.upstream_seq for e in got] == [1, 2, 3, 4, 5, 3, 4]
    assert got[5].marker == Marker("restart", from_seq=3) and got[6].marker is None


def test_rewritten_file_of_the_same_size_is_read_again(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1) + env_line(2))
    src, stream = follower(p)
    src.check()
    with open(p, "r+b") as fh:  # same inode, grown, different first bytes
        fh.truncate(0)
        fh.write(bare_line(1) + bare_line(2) + bare_line(3))
    src.check()
    assert upstream(stream) == [1, 2, None, None, None]


def test_follow_waits_for_the_file_to_exist(tmp_path: Path) -> None:
    p = tmp_path / "later.jsonl"
    src, _ = follower(p)
    assert src.check() == 0
    assert src.stats.state == "connecting" and "waiting for" in (src.stats.last_error or "")
    p.write_bytes(env_line(1))
    assert src.check() == 1 and src.stats.state == "connected"
    assert src.stats.last_error is None


# -- following, live ---------------------------------------------------------------------


@pytest.mark.parametrize("poll", [False, True], ids=["watch", "poll"])
def test_live_follow_appends_partial_lines_and_rotation(tmp_path: Path, poll: bool) -> None:
    p = tmp_path / "events.jsonl"
    p.write_bytes(env_line(1))
    stream = EventStream()
    src = FileSource(p, stream, follow=True, poll=poll)
    stop = threading.Event()
    batches: list[int] = []
    t = threading.Thread(target=src.run, args=(stop,), kwargs={"on_batch": batches.append})
    t.start()
    try:
        wait_until(lambda: stream.seq == 1)
        line3 = env_line(3)
        with open(p, "ab") as fh:
            fh.write(env_line(2) + line3[:30])
        wait_until(lambda: stream.seq == 2)
        with open(p, "ab") as fh:
            fh.write(line3[30:])
        wait_until(lambda: stream.seq == 3)
        p.rename(tmp_path / "events.jsonl.1")
        p.write_bytes(env_line(1) + env_line(2))  # the server restarted
        wait_until(lambda: stream.seq == 5)
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    got = envelopes(stream)
    assert [e.upstream_seq for e in got] == [1, 2, 3, 1, 2]
    assert got[3].marker == Marker("restart", from_seq=1)
    assert sum(batches) == 5
