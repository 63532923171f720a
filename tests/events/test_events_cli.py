"""``tokentop events SOURCE --json``: the real command in a subprocess, on real files,
pipes and a real SSE server on 127.0.0.1 (tests/events/sse_server.py).

No sleeping to synchronise: a test waits on the child's output (a line read from its
stdout), on its exit, or on the server's request count.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sse_server import HOLD, SseServer, Status, frame, frames

from tokentop.store.events.stream import EventStream
from tokentop.tui.commands.events import _Printer

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KERNEL_API_KEY", None)
    return env


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "events", *args], input=input,
                          capture_output=True, timeout=TIMEOUT, cwd=ROOT, env=child_env())


def popen(*args: str, **kw: object) -> subprocess.Popen[bytes]:
    """The command in the background; killed after TIMEOUT s whatever happens, so a
    blocking ``readline`` on its stdout cannot hang the suite."""
    proc = subprocess.Popen([sys.executable, "-m", "tokentop.tui.cli", "events", *args], cwd=ROOT,
                            env=child_env(), **kw)  # type: ignore[call-overload]
    guard = threading.Timer(TIMEOUT, proc.kill)
    guard.daemon = True
    guard.start()
    return proc


def lines(out: bytes) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.decode().splitlines()]


def ev(seq: int, type_: str = "console_log", category: str = "console") -> dict[str, object]:
    return {"ts": 1_777_984_200_000_000 + seq, "type": type_, "category": category,
            "source": {"kind": "cdp", "event": "Runtime.consoleAPICalled"},
            "data": {"message": f"hello {seq}", "n": [seq, None, True]}}


def env_line(seq: int, **kw: str) -> str:
    return json.dumps({"seq": seq, "event": ev(seq, **kw)}, separators=(",", ":"))


def summary(received: int, printed: int, upstream: int = 0, viewer: int = 0, dups: int = 0,
            restarts: int = 0, truncated: int = 0, malformed: int = 0,
            restart_lost: int = 0) -> str:
    return (f"tokentop events: received {received}, printed {printed}, upstream dropped "
            f"{upstream}, viewer dropped {viewer}, duplicates {dups}, restarts {restarts}, "
            f"truncated {truncated}, malformed {malformed}, lost in restarts {restart_lost}")


BARE = {"ts": 42, "type": "interaction_click", "category": "interaction", "data": {"x": 3}}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Two envelopes, a gap (3..4), a duplicate, a malformed line, a restart, a bare event."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        env_line(1),
        env_line(2),
        env_line(5, type_="page_load", category="page"),
        env_line(5, type_="page_load", category="page"),  # duplicate
        '{"seq": 6, "event": [1, 2',  # malformed
        env_line(1, type_="cdp_connect", category="connection"),  # restart
        json.dumps(BARE),
    ]) + "\n")
    return path


MIXED_OUT = [
    {"seq": 1, "event": ev(1)},
    {"seq": 2, "event": ev(2)},
    {"dropped": 2, "from_seq": 3, "to_seq": 4, "kind": "upstream"},
    {"seq": 5, "event": ev(5, "page_load", "page")},
    {"dropped": 1, "from_seq": 5, "to_seq": 5, "kind": "duplicate"},
    {"dropped": 0, "from_seq": 1, "to_seq": None, "kind": "restart"},
    {"seq": 1, "event": ev(1, "cdp_connect", "connection")},
    {"seq": 5, "event": BARE},  # a bare event carries its local seq
]


# -- files and stdin ---------------------------------------------------------------------


def test_file_prints_envelopes_and_markers_in_order(mixed: Path) -> None:
    res = run(str(mixed), "--json")
    assert res.returncode == 0, res.stderr
    assert lines(res.stdout) == MIXED_OUT
    # Envelopes come back in the upstream shape, data byte for byte as it was written.
    first = res.stdout.decode().splitlines()[0]
    assert first == env_line(1)
    err = res.stderr.decode().splitlines()
    assert err == [
        summary(5, 5, upstream=2, dups=1, restarts=1, malformed=1),
        f"tokentop: last malformed line: {mixed}:5: not an envelope or event: "
        "Expected `object | null`, got `array` - at `$.event`",
    ]


def test_json_is_the_default(mixed: Path) -> None:
    res = run(str(mixed))
    assert res.returncode == 0
    assert lines(res.stdout) == MIXED_OUT


def test_count_stops_after_n_envelopes(mixed: Path) -> None:
    res = run(str(mixed), "--count", "3")
    assert res.returncode == 0, res.stderr
    assert lines(res.stdout) == MIXED_OUT[:4]  # the gap marker rides on the 3rd envelope
    assert "printed 3," in res.stderr.decode()


def test_stdin_through_a_pipe(mixed: Path) -> None:
    writer = subprocess.Popen(["cat", str(mixed)], stdout=subprocess.PIPE)
    assert writer.stdout is not None
    try:
        res = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "events", "-"],
                             stdin=writer.stdout, capture_output=True, timeout=TIMEOUT,
                             cwd=ROOT, env=child_env())
    finally:
        writer.stdout.close()
        writer.wait(TIMEOUT)
    assert res.returncode == 0, res.stderr
    assert lines(res.stdout) == MIXED_OUT
    assert res.stderr.decode().splitlines()[0] == summary(5, 5, upstream=2, dups=1,
                                                          restarts=1, malformed=1)
    assert "<stdin>:5:" in res.stderr.decode()


def test_big_file_is_not_lost_to_a_slow_reader(tmp_path: Path) -> None:
    """A file source waits for the printer: far more lines than the ring holds, all out."""
    path = tmp_path / "big.jsonl"
    n = 30_000
    path.write_text("".join(env_line(i) + "\n" for i in range(1, n + 1)))
    proc = popen(str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=TIMEOUT)  # the pipe fills; the child must wait
    assert proc.returncode == 0, err
    got = out.decode().splitlines()
    assert len(got) == n
    assert json.loads(got[-1])["seq"] == n
    assert err.decode().splitlines() == [summary(n, n)]


def test_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(env_line(i) + "\n" for i in range(1, 50_001)))  # > a pipe
    proc = popen(str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["seq"] == 1
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(TIMEOUT) == 0
    assert err == b""


def test_head_in_a_shell_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(env_line(i) + "\n" for i in range(1, 50_001)))
    cmd = (f"{sys.executable} -m tokentop.tui.cli events {path} | head -1; "
           "echo \"rc=${PIPESTATUS[0]}\" >&2")
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=TIMEOUT, cwd=ROOT,
                         env=child_env())
    assert lines(res.stdout) == [{"seq": 1, "event": ev(1)}]
    assert res.stderr.decode() == "rc=0\n"


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    res = run(str(tmp_path / "nope.jsonl"))
    assert res.returncode == 2
    assert res.stdout == b""
    assert res.stderr.decode() == f"tokentop: no such file: {tmp_path / 'nope.jsonl'}\n"


def test_directory_is_one_line(tmp_path: Path) -> None:
    res = run(str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.decode().count("\n") == 1
    assert "is a directory" in res.stderr.decode()


def test_unsupported_url_scheme(tmp_path: Path) -> None:
    res = run("ws://127.0.0.1:1/telemetry/stream")
    assert res.returncode == 2
    assert res.stderr.decode().count("\n") == 1
    assert "unsupported URL scheme 'ws'" in res.stderr.decode()


def test_follow_prints_appends_until_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(env_line(1) + "\n")
    proc = popen(str(path), "--follow", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        assert json.loads(proc.stdout.readline()) == {"seq": 1, "event": ev(1)}
        with open(path, "a") as fh:
            fh.write(env_line(4) + "\n")
        assert json.loads(proc.stdout.readline())["kind"] == "upstream"
        assert json.loads(proc.stdout.readline())["seq"] == 4
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.decode().splitlines() == [summary(2, 2, upstream=2)]


# -- SSE -------------------------------------------------------------------------------------


def test_sse_count(tmp_path: Path) -> None:
    plan = [frames(1, 2) + frame(5) + frame(5) + frames(6, 9), HOLD]
    with SseServer(plan) as srv:
        res = run(srv.url, "--json", "--count", "4")
        reqs = srv.requests
    assert res.returncode == 0, res.stderr
    got = lines(res.stdout)
    assert [x.get("seq", x.get("kind")) for x in got] == [1, 2, "upstream", 5, "duplicate", 6]
    assert got[2] == {"dropped": 2, "from_seq": 3, "to_seq": 4, "kind": "upstream"}
    assert got[4] == {"dropped": 1, "from_seq": 5, "to_seq": 5, "kind": "duplicate"}
    assert got[0] == {"seq": 1, "event": {
        "ts": 1_777_984_200_001_000, "type": "console_log", "category": "console",
        "source": {"kind": "cdp", "event": "Runtime.consoleAPICalled"},
        "data": {"message": "line 1"}}}
    err = res.stderr.decode().splitlines()
    assert len(err) == 1 and "printed 4," in err[0] and "upstream dropped 2," in err[0]
    assert "duplicates 1," in err[0]
    assert len(reqs) == 1 and reqs[0].replay is None


def test_sse_replay_asks_for_the_whole_buffer() -> None:
    with SseServer([frames(1, 3), HOLD]) as srv:
        res = run(srv.url, "--replay", "--count", "3")
        reqs = srv.requests
    assert res.returncode == 0, res.stderr
    assert [x["seq"] for x in lines(res.stdout)] == [1, 2, 3]
    assert reqs[0].replay == "all"


def test_sse_401_is_one_line_exit_2() -> None:
    with SseServer(default=[Status(401)]) as srv:
        res = run(srv.url)
        n = len(srv.requests)
    assert res.returncode == 2
    assert res.stdout == b""
    assert res.stderr.decode() == "tokentop: 401 Unauthorized: check KERNEL_API_KEY\n"
    assert n == 1  # not retried


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sse_interrupt_prints_the_summary(sig: int, code: int) -> None:
    with SseServer([frames(1, 3), HOLD]) as srv:
        proc = popen(srv.url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        try:
            got = [json.loads(proc.stdout.readline())["seq"] for _ in range(3)]
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert got == [1, 2, 3]
    assert proc.returncode == code
    assert err.decode().splitlines() == [summary(3, 3)]


# -- viewer drops (in process: a live reader falling behind is not deterministic) ----------


def test_viewer_drop_is_printed_with_local_seqs() -> None:
    from tokentop.store.events.model import Envelope, Event

    stream = EventStream(capacity=4)
    reader = stream.new_reader()
    out = io.BytesIO()
    printer = _Printer(stream, reader, out, None)
    for i in range(1, 11):
        stream.publish(Envelope(Event(ts=i, type="t"), upstream_seq=100 + i))
    first = reader.try_read()
    assert first is not None
    printer.batch(first)
    assert lines(out.getvalue()) == [
        {"dropped": 6, "from_seq": 1, "to_seq": 6, "kind": "viewer"},
        *({"seq": 100 + i, "event": {"ts": i, "type": "t", "data": None}} for i in (7, 8, 9, 10)),
    ]
    assert reader.dropped_total == 6


def test_sse_restart_is_a_marker_line_with_its_loss_and_a_stderr_line() -> None:
    """The server restarts between two connections and its ring kept only 3..4 of its
    new run (tests/events/test_restart.py has the upstream behaviour this copies)."""
    with SseServer(keepalive=0.05) as srv:
        srv.publish(5)
        proc = popen(srv.url, "--replay", "--count", "7", stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
        assert proc.stdout is not None
        try:
            got = [json.loads(proc.stdout.readline()) for _ in range(5)]
            srv.restart(range(3, 5))
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert [g["seq"] for g in got] == [1, 2, 3, 4, 5]
    rest = lines(out)
    assert rest[0] == {"dropped": 2, "from_seq": 1, "to_seq": 2, "kind": "restart"}
    assert [r["seq"] for r in rest[1:]] == [3, 4]
    errs = err.decode().splitlines()
    assert "tokentop: server restarted: 2 events of the new run lost (seq 1-2)" in errs
    assert errs[-1] == summary(7, 7, restarts=1, restart_lost=2)
    assert proc.returncode == 0
