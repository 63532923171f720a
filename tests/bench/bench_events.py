"""Throughput benchmark for the browser event stream (tokentop.store.events).

Run it as a script (it is not a pytest test):

    python tests/bench/bench_events.py                    # 1,000,000 events
    python tests/bench/bench_events.py --events 200000    # a quick run
    python tests/bench/bench_events.py --e2e-only         # only the end-to-end SSE figures
    python tests/bench/bench_events.py --e2e-only --rate 5000 --seconds 2 --e2e cli

Every envelope carries a realistic event (a console log with a small JSON payload,
decoded from one JSONL line, so ``data`` is a ``msgspec.Raw`` slice as in the sources).
It measures, each in events/s:

- publish: ``EventStream.publish`` alone, one thread, the default capacity;
- read: ``Reader.try_read`` and ``Reader.read_many`` over a ring holding every event;
- interleaved: one thread publishing ``--batch`` events then reading them back with
  ``read_many`` (the default capacity, no drops), as a UI tick would;
- thread -> asyncio: a publisher thread while an asyncio task awaits ``Reader.read()``
  (default capacity): wall rate from first publish to the last read, and how many
  events the reader lost to drops (the GIL decides how far it falls behind);
- file: ``FileSource`` reading a JSONL file of envelopes once (decode + track + publish);
- peak RSS of this process (``VmHWM``);
- end to end (issue 4): a loopback SSE server sending ``--rate`` events/s (20,000) for
  ``--seconds`` (10) of realistic envelopes (~500 bytes, mixed categories, a 50 KB
  screenshot now and then) into a consumer in a child process: ``app``, the headless
  dashboard on its Events screen (``TokentopApp(events=URL)``; ``asyncio``, a bare
  ``await Reader.read()`` loop, when the app has no event source), and ``cli``,
  ``tokentop events URL --json > /dev/null``. Printed: sent, received, upstream and
  viewer dropped, duplicates, whether received + dropped == sent exactly, the longest
  event-loop stall (a 10 ms watchdog; target <= 100 ms), peak RSS (target <= 200 MB)
  and wall time; exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "tests" / "events"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from sse_server import SseServer  # noqa: E402

from tokentop.store.events.filesource import FileSource, parse_line  # noqa: E402
from tokentop.store.events.model import DEFAULT_CAPACITY, Envelope  # noqa: E402
from tokentop.store.events.stream import EventStream  # noqa: E402

SAMPLE = {
    "seq": 1,
    "event": {
        "ts": 1_763_800_000_000_000, "type": "console_log", "category": "console",
        "source": {"kind": "cdp", "event": "Runtime.consoleAPICalled",
                   "metadata": {"target_id": "8F3A0C", "session_id": "s-42"}},
        "data": {"level": "log", "text": "fetched 20 items from /api/items?page=3",
                 "url": "https://app.example.com/static/app.js", "line": 1234},
    },
}


def sample_envelope() -> Envelope:
    line = json.dumps(SAMPLE).encode()
    parsed = parse_line(line)
    assert not isinstance(parsed, str)
    event, seq = parsed
    return Envelope(event, upstream_seq=seq, size=len(line))


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} events/s  ({seconds:.3f} s)"


# -- single thread ---------------------------------------------------------------------


def bench_publish(env: Envelope, n: int) -> float:
    s = EventStream()
    publish = s.publish
    t = time.perf_counter()
    for _ in range(n):
        publish(env)
    return time.perf_counter() - t


def bench_read(env: Envelope, n: int) -> tuple[float, float]:
    """(try_read seconds, read_many seconds) over a ring holding all ``n`` events."""
    s = EventStream(capacity=n)
    for _ in range(n):
        s.publish(env)
    r = s.new_reader()
    t = time.perf_counter()
    got = 0
    while r.try_read() is not None:
        got += 1
    t_try = time.perf_counter() - t
    assert got == n
    r = s.new_reader()
    t = time.perf_counter()
    got = 0
    while batch := r.read_many(1024):
        got += len(batch)
    t_many = time.perf_counter() - t
    assert got == n and r.dropped_total == 0
    return t_try, t_many


def bench_interleaved(env: Envelope, n: int, batch: int) -> float:
    s = EventStream()
    r = s.new_reader()
    publish = s.publish
    got = 0
    t = time.perf_counter()
    for _ in range(n // batch):
        for _ in range(batch):
            publish(env)
        got += len(r.read_many(batch))
    elapsed = time.perf_counter() - t
    assert got == (n // batch) * batch and r.dropped_total == 0
    return elapsed


# -- publisher thread, asyncio reader ----------------------------------------------------


def bench_thread_to_asyncio(env: Envelope, n: int, capacity: int) -> tuple[float, int, int]:
    """(seconds, envelopes read, events dropped) for ``n`` events."""
    s = EventStream(capacity=capacity)
    r = s.new_reader()

    def publisher() -> None:
        publish = s.publish
        for _ in range(n):
            publish(env)

    async def reader() -> tuple[int, int]:
        read = dropped = 0
        last = 0
        while last < n:
            res = await r.read()
            if res.envelope is not None:
                read += 1
                last = res.envelope.seq
            else:
                dropped += res.dropped
        return read, dropped

    async def main() -> tuple[float, int, int]:
        task = asyncio.create_task(reader())
        await asyncio.sleep(0)  # the reader is waiting before the first publish
        t = time.perf_counter()
        th = threading.Thread(target=publisher)
        th.start()
        read, dropped = await task
        elapsed = time.perf_counter() - t
        th.join()
        return elapsed, read, dropped

    return asyncio.run(main())


# -- file source -----------------------------------------------------------------------


def bench_file(n: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="tokentop-bench-events-") as d:
        path = Path(d) / "events.jsonl"
        with open(path, "wb") as fh:
            for i in range(1, n + 1):
                SAMPLE["seq"] = i
                SAMPLE["event"]["ts"] += 1_000  # type: ignore[index,operator]
                fh.write(json.dumps(SAMPLE).encode() + b"\n")
        size = path.stat().st_size
        s = EventStream()
        src = FileSource(path, s)
        t = time.perf_counter()
        src.run(threading.Event())
        elapsed = time.perf_counter() - t
        assert src.stats.received == n and src.stats.malformed == 0, src.stats
        return elapsed, size


# -- end-to-end SSE ----------------------------------------------------------------------
#
# A loopback SSE server (tests/events/sse_server.py, frames encoded before the clock
# starts) paced at ``--rate`` events/s for ``--seconds`` into a consumer in a child
# process, so the child's peak RSS is its own:
#
# - app: the real dashboard, ``TokentopApp(events=URL)`` run headless (``run_test``) on
#   its Events screen (what the user watches): the SSE source in its thread worker,
#   the screen taking up to 2,000 results per 0.1 s tick. A watchdog coroutine in the
#   app's event loop wakes every 10 ms and records its longest lateness (the stall).
# - cli: ``tokentop events URL --json --replay --count SENT > /dev/null``; the counts
#   come from its stderr summary, its peak RSS from polling /proc/PID/status (VmHWM).
#
# Exactness: the source's ``received + upstream dropped`` must equal what the server
# sent (nothing vanishes without being counted); the consumer's ``shown + viewer
# dropped`` must equal ``received`` (a slow viewer's loss is counted too).

E2E_STALL_TARGET_MS = 100.0
E2E_RSS_TARGET_MB = 200.0
WATCHDOG_S = 0.010
LONG_STALL_S = 0.050  # stalls above this are listed (when, how long)


class Watchdog:
    """A ``WATCHDOG_S`` timer on the running loop: its worst lateness is the longest
    stall; stalls over ``LONG_STALL_S`` are kept with when they happened."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()
        self.stall = 0.0
        self.ticks = 0
        self.long: list[tuple[float, float]] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = self.loop
        while True:
            t = loop.time()
            await asyncio.sleep(WATCHDOG_S)
            late = loop.time() - t - WATCHDOG_S
            self.stall = max(self.stall, late)
            if late > LONG_STALL_S:
                self.long.append((round(t - self.start, 2), round(late * 1000, 1)))
            self.ticks += 1

    def stop(self) -> dict[str, object]:
        self.task.cancel()
        return {"stall_ms": self.stall * 1000, "watchdog_ticks": self.ticks,
                "long_stalls": sorted(self.long, key=lambda x: -x[1])[:5]}
PACE_STEP_S = 0.010
BIG_EVERY = 2000  # one 50 KB screenshot event in this many
BIG_BYTES = 50_000

_META = {"target_id": "8F3A0C2D91B4E7A6", "session_id": "s-42", "frame_id": "F-7781"}
_HEADERS = {"accept": "application/json", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) "
            "AppleWebKit/537.36 Chrome/131.0", "content-type": "application/json",
            "x-request-id": "b1f0c8e2-6a4d-4c55-9f0e-3d2a7c1e9b44"}


def _realistic_event(seq: int) -> dict[str, object]:
    """One event of a mix close to a busy page: console 35 %, network 40 %, page 10 %,
    interaction 10 %, control 5 %; 300-600 bytes serialized, a 50 KB screenshot now
    and then."""
    ts = 1_777_984_200_000_000 + seq * 50
    src = {"kind": "cdp", "event": "", "metadata": _META}
    if seq % BIG_EVERY == 0:
        return {"ts": ts, "type": "monitor_screenshot", "category": "screenshot",
                "source": {**src, "kind": "kernel_api", "event": "screenshot"},
                "data": {"format": "png", "width": 1280, "height": 800,
                         "png_base64": "iVBORw0KGgo" + "A" * BIG_BYTES}}
    k = seq % 20
    if k < 7:
        lvl = "error" if k == 6 else "log"
        return {"ts": ts, "type": f"console_{lvl}", "category": "console",
                "source": {**src, "event": "Runtime.consoleAPICalled"},
                "data": {"level": lvl, "text": f"fetched {seq % 97} items from "
                         f"/api/items?page={seq % 13} in {seq % 350} ms",
                         "url": "https://app.example.com/static/js/main.4f2a9c.js",
                         "line": 1000 + seq % 4000, "column": seq % 80,
                         "stack": ["at loadItems (main.4f2a9c.js:1234:17)",
                                   "at async refresh (main.4f2a9c.js:988:5)"] if k == 6
                         else None}}
    if k < 15:
        req = f"{seq % 100000}.{seq % 7}"
        url = f"https://api.example.com/v2/items/{seq % 5000}?include=owner,tags&page={k}"
        if k % 2:
            return {"ts": ts, "type": "network_request", "category": "network",
                    "source": {**src, "event": "Network.requestWillBeSent"},
                    "data": {"request_id": req, "method": "GET", "url": url,
                             "resource_type": "Fetch", "headers": _HEADERS,
                             "initiator": "script"}}
        return {"ts": ts, "type": "network_response", "category": "network",
                "source": {**src, "event": "Network.responseReceived"},
                "data": {"request_id": req, "status": 200 if seq % 31 else 503, "url": url,
                         "mime_type": "application/json", "encoded_length": 1000 + seq % 9000,
                         "timing": {"dns": 0.1, "connect": 1.4, "ssl": 2.2, "send": 0.1,
                                    "wait": 38.5 + seq % 50, "receive": 1.7},
                         "headers": {"content-type": "application/json",
                                     "cache-control": "no-store", "server": "envoy"}}}
    if k < 17:
        typ = ("page_navigation", "page_load")[k % 2]
        return {"ts": ts, "type": typ, "category": "page",
                "source": {**src, "event": "Page.frameNavigated"},
                "data": {"url": f"https://app.example.com/items/{seq % 5000}",
                         "frame_id": "F-7781", "loader_id": f"L-{seq % 999}",
                         "transition": "link", "duration_ms": seq % 900}}
    if k < 19:
        return {"ts": ts, "type": "interaction_click", "category": "interaction",
                "source": {**src, "kind": "extension", "event": "click"},
                "data": {"selector": "main > div.items > ul > li:nth-child(3) > button.open",
                         "x": seq % 1280, "y": seq % 800, "button": "left",
                         "text": "Open item", "modifiers": []}}
    return {"ts": ts, "type": "api_call", "category": "control",
            "source": {**src, "kind": "kernel_api", "event": "api"},
            "data": {"method": "POST", "path": "/browsers/b-123/playwright/execute",
                     "status": 200, "duration_ms": seq % 700, "caller": "agent-7"}}


def e2e_frames(n: int) -> tuple[list[tuple[int, bytes]], int]:
    """(the ``n`` frames ``(seq, bytes)`` for seqs 1..n, total bytes), encoded up front."""
    out = []
    total = 0
    for seq in range(1, n + 1):
        body = json.dumps(_realistic_event(seq), separators=(",", ":")).encode()
        fr = b'id: %d\ndata: {"seq":%d,"event":%s}\n\n' % (seq, seq, body)
        total += len(fr)
        out.append((seq, fr))
    return out, total


def pace(server: SseServer, frames: list[tuple[int, bytes]], rate: int) -> tuple[int, float]:
    """Publish ``frames`` into the server's log at ``rate``/s (a batch every 10 ms);
    (frames sent, seconds taken)."""
    n = len(frames)
    i = 0
    t0 = time.perf_counter()
    tick = 0
    while i < n:
        due = min(n, int((time.perf_counter() - t0) * rate) + 1)
        if due > i:
            server.publish_frames(frames[i:due])
            i = due
        tick += 1
        delay = t0 + tick * PACE_STEP_S - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return n, time.perf_counter() - t0


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# the app path: a child process runs the dashboard headless -------------------------------


def app_child(url: str, mode: str) -> int:
    """``--e2e-child MODE URL``: run the consumer (``app``: the headless dashboard on its
    Events screen; ``asyncio``: a bare asyncio reader); print ``ready`` once connected,
    read the sent count from stdin, print one JSON result."""

    def say(obj: object) -> None:  # Textual captures sys.stdout while the app runs
        os.write(1, (json.dumps(obj) + "\n").encode())

    sent_box: list[int] = []
    got_sent = threading.Event()

    def read_sent() -> None:
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(0, 64)
            if not chunk:
                break
            data += chunk
        sent_box.append(int(data.strip() or 0))
        got_sent.set()

    async def wait_sent_then(stats: Any, reader: Any, stream: Any,
                             loop: asyncio.AbstractEventLoop) -> int:
        threading.Thread(target=read_sent, daemon=True).start()
        say({"ready": True, "state": stats.state})
        while not got_sent.is_set():
            await asyncio.sleep(0.05)
        sent = sent_box[0]
        deadline = loop.time() + 60
        while (stats.received + stats.upstream_dropped + stats.malformed < sent
               and loop.time() < deadline):
            await asyncio.sleep(0.01)
        deadline = loop.time() + 10
        while reader.next_seq <= stream.seq and loop.time() < deadline:
            await asyncio.sleep(0.01)
        return sent

    async def measure_asyncio() -> dict[str, object]:
        """No dashboard: the SSE source in a thread, an asyncio task awaiting
        ``Reader.read()`` in a loop (what a screen would do), and the watchdog."""
        from tokentop.store.events.sse import SseSource
        from tokentop.store.events.stream import EventStream

        stream = EventStream()
        reader = stream.new_reader()
        source = SseSource(url, stream, replay=True)
        stop = threading.Event()
        th = threading.Thread(target=source.run_in_thread, args=(stop,), daemon=True)
        th.start()
        loop = asyncio.get_running_loop()
        shown = 0

        async def consume() -> None:
            nonlocal shown
            while True:
                r = await reader.read()
                if r.envelope is not None:
                    shown += 1

        deadline = loop.time() + 20
        while source.stats.state != "connected" and loop.time() < deadline:
            await asyncio.sleep(0.01)
        wd = Watchdog()
        consumer = asyncio.create_task(consume())
        sent = await wait_sent_then(source.stats, reader, stream, loop)
        await asyncio.sleep(0.05)
        watched = wd.stop()
        consumer.cancel()
        stop.set()
        th.join(5)
        st = source.stats
        return {"sent": sent, "received": st.received, "upstream_dropped": st.upstream_dropped,
                "viewer_dropped": reader.dropped_total, "duplicates": st.duplicates,
                "malformed": st.malformed, "truncated": st.truncated, "restarts": st.restarts,
                "shown": shown, **watched,
                "peak_rss_mb": peak_rss_mb(), "last_error": st.last_error}

    async def measure() -> dict[str, object]:
        from tokentop.store.metrics import MetricsSource
        from tokentop.tui.app import TokentopApp

        with tempfile.TemporaryDirectory(prefix="tokentop-bench-e2e-") as d:
            app = TokentopApp(MetricsSource(d), events=url, events_replay=True)
            async with app.run_test(size=(160, 50)) as pilot:
                await pilot.press("3")  # the Events screen: its reader is the one drained
                feed = app.sources.events
                assert feed is not None
                source, reader, stream = feed.reads, feed.reader, feed.stream
                stats = source.stats
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 20
                while stats.state != "connected" and loop.time() < deadline:
                    await asyncio.sleep(0.01)
                wd = Watchdog()
                sent = await wait_sent_then(stats, reader, stream, loop)
                await asyncio.sleep(0.2)  # one more screen tick for the header
                watched = wd.stop()
                shown = getattr(app.screen, "rows_read", None)
                return {"sent": sent, "received": stats.received,
                        "upstream_dropped": stats.upstream_dropped,
                        "viewer_dropped": reader.dropped_total, "duplicates": stats.duplicates,
                        "malformed": stats.malformed, "truncated": stats.truncated,
                        "restarts": stats.restarts, "shown": shown, **watched,
                        "peak_rss_mb": peak_rss_mb(), "last_error": stats.last_error,
                        "screen": type(app.screen).__name__}

    say(asyncio.run(measure() if mode == "app" else measure_asyncio()))
    return 0


def app_has_events() -> bool:
    """Whether the dashboard takes an event source (``TokentopApp(events=...)``)."""
    import inspect

    try:
        from tokentop.tui.app import TokentopApp
    except Exception:
        return False
    return "events" in inspect.signature(TokentopApp.__init__).parameters


def bench_e2e_app(frames: list[tuple[int, bytes]], rate: int,
                  mode: str = "app") -> dict[str, Any]:
    with SseServer() as server:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--e2e-child", mode, server.url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            ready = json.loads(proc.stdout.readline() or b"{}")
            if not ready.get("ready"):
                raise RuntimeError(f"the app child did not start: {ready}")
            t = time.perf_counter()
            sent, pace_s = pace(server, frames, rate)
            proc.stdin.write(b"%d\n" % sent)
            proc.stdin.flush()
            result = json.loads(proc.stdout.readline() or b"{}")
            wall = time.perf_counter() - t
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    result.update(pace_s=pace_s, wall_s=wall, bytes_sent=server.bytes_sent)
    return result


# the CLI path: ``tokentop events URL --json > /dev/null`` ----------------------------------

_SUMMARY = re.compile(
    r"received (\d+), printed (\d+), upstream dropped (\d+), viewer dropped (\d+), "
    r"duplicates (\d+), restarts (\d+), truncated (\d+), malformed (\d+)")


def bench_e2e_cli(frames: list[tuple[int, bytes]], rate: int) -> dict[str, Any]:
    n = len(frames)
    with SseServer() as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokentop.tui.cli", "events", server.url, "--json", "--replay",
             "--count", str(n)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
        hwm = [0.0]
        done = threading.Event()

        def watch_rss() -> None:
            while not done.wait(0.1):
                v = _vm_hwm_mb(proc.pid)
                if v is not None:
                    hwm[0] = max(hwm[0], v)

        watcher = threading.Thread(target=watch_rss, daemon=True)
        watcher.start()
        try:
            server.wait_requests(1, timeout=20)
            t = time.perf_counter()
            sent, pace_s = pace(server, frames, rate)
            interrupted = False
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:  # viewer drops: --count is never reached
                v = _vm_hwm_mb(proc.pid)
                hwm[0] = max(hwm[0], v or 0.0)
                proc.send_signal(signal.SIGINT)
                interrupted = True
                _, err = proc.communicate(timeout=30)
            wall = time.perf_counter() - t
        finally:
            done.set()
            if proc.poll() is None:
                proc.kill()
    text = err.decode(errors="replace")
    m = _SUMMARY.search(text)
    if m is None:
        raise RuntimeError(f"no summary from tokentop events: {text.strip()!r}")
    rec, printed, up, viewer, dups, restarts, trunc, bad = map(int, m.groups())
    return {"sent": sent, "received": rec, "shown": printed, "upstream_dropped": up,
            "viewer_dropped": viewer, "duplicates": dups, "restarts": restarts,
            "truncated": trunc, "malformed": bad, "peak_rss_mb": hwm[0], "pace_s": pace_s,
            "wall_s": wall, "exit": proc.returncode, "interrupted": interrupted,
            "bytes_sent": server.bytes_sent}


def print_e2e(name: str, r: dict[str, Any]) -> list[tuple[str, bool]]:
    """Print one path's figures; (target, met) pairs."""
    sent, rec = int(r["sent"]), int(r["received"])
    up, viewer = int(r["upstream_dropped"]), int(r["viewer_dropped"])
    dups, bad = int(r["duplicates"]), int(r["malformed"])
    shown = r.get("shown")
    diff = sent - (rec + up + bad)
    exact = diff == 0
    print(f"e2e SSE [{name}]")
    print(f"  sent              {sent:,} events, {int(r['bytes_sent']) / 1e6:,.1f} MB "
          f"(paced over {float(r['pace_s']):.2f} s)")
    print(f"  received          {rec:,}  upstream dropped {up:,}  viewer dropped {viewer:,}  "
          f"duplicates {dups:,}  malformed {bad:,}  truncated {r['truncated']}  "
          f"restarts {r['restarts']}")
    print(f"  received + dropped == sent: {exact}"
          + ("" if exact else f"  (sent - received - dropped = {diff:,})"))
    if shown is not None:
        vdiff = rec - (int(shown) + viewer)
        print(f"  shown {int(shown):,} + viewer dropped {viewer:,} == received: {vdiff == 0}"
              + ("" if vdiff == 0 else f"  (difference {vdiff:,})"))
    results = [(f"{name}: received + dropped == sent", exact)]
    if "stall_ms" in r:
        stall = float(r["stall_ms"])
        print(f"  longest event-loop stall {stall:.1f} ms "
              f"(target <= {E2E_STALL_TARGET_MS:.0f} ms; {r['watchdog_ticks']} watchdog ticks)")
        results.append((f"{name}: stall <= {E2E_STALL_TARGET_MS:.0f} ms",
                        stall <= E2E_STALL_TARGET_MS))
    rss = float(r["peak_rss_mb"])
    print(f"  peak RSS          {rss:.0f} MB (the consumer process; target <= "
          f"{E2E_RSS_TARGET_MB:.0f} MB)")
    results.append((f"{name}: peak RSS <= {E2E_RSS_TARGET_MB:.0f} MB", rss <= E2E_RSS_TARGET_MB))
    print(f"  wall time         {float(r['wall_s']):.2f} s (first frame published to the "
          "consumer done)")
    if r.get("long_stalls"):
        print("  stalls > 50 ms    " + ", ".join(f"{ms:.0f} ms at {t:.2f} s"
                                             for t, ms in r["long_stalls"])
              + " (s after the consumer was ready; pacing starts then)")
    for key in ("exit", "interrupted", "screen", "last_error"):
        if key in r:
            print(f"  {key:<17} {r[key]}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per figure")
    parser.add_argument("--batch", type=int, default=256,
                        help="events per publish/read round in the interleaved figure")
    parser.add_argument("--capacity", type=int, default=DEFAULT_CAPACITY,
                        help="ring capacity for the thread -> asyncio figure")
    parser.add_argument("--file-events", type=int, default=200_000,
                        help="lines in the file-source figure (0 skips it)")
    parser.add_argument("--rate", type=int, default=20_000,
                        help="end-to-end SSE: events/s the server sends")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="end-to-end SSE: for this long")
    parser.add_argument("--e2e", default="app,cli",
                        help="end-to-end SSE paths, comma-separated: app (the headless "
                        "dashboard; asyncio when the app has no event source), asyncio, cli; "
                        "none skips them")
    parser.add_argument("--e2e-only", action="store_true",
                        help="only the end-to-end SSE figures")
    parser.add_argument("--e2e-child", nargs=2, metavar=("MODE", "URL"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.e2e_child:
        return app_child(args.e2e_child[1], args.e2e_child[0])
    if args.e2e_only:
        return run_e2e(args)
    n = args.events
    env = sample_envelope()
    print(f"events    {n:,} per figure, envelope {env.size} bytes, "
          f"default capacity {DEFAULT_CAPACITY:,}")

    t_pub = bench_publish(env, n)
    print(f"publish           {rate(n, t_pub)}")
    t_try, t_many = bench_read(env, n)
    print(f"read (try_read)   {rate(n, t_try)}")
    print(f"read (read_many)  {rate(n, t_many)}")
    t_int = bench_interleaved(env, n, args.batch)
    done = (n // args.batch) * args.batch
    print(f"interleaved       {rate(done, t_int)}  publish+read, batches of {args.batch}")
    t_thr, got, dropped = bench_thread_to_asyncio(env, n, args.capacity)
    print(f"thread->asyncio   {rate(n, t_thr)}  read {got:,}, dropped {dropped:,} "
          f"(capacity {args.capacity:,}; read + dropped = {got + dropped:,})")
    if args.file_events:
        t_file, size = bench_file(args.file_events)
        print(f"file source       {rate(args.file_events, t_file)}  "
              f"{size / 1e6:.1f} MB, {size / t_file / 1e6:.0f} MB/s")
    print(f"peak RSS          {peak_rss_mb():.0f} MB (this process, all figures)")
    return run_e2e(args)


def run_e2e(args: argparse.Namespace) -> int:
    paths = [p.strip() for p in args.e2e.split(",") if p.strip() and p.strip() != "none"]
    if not paths:
        return 0
    n = int(args.rate * args.seconds)
    t = time.perf_counter()
    frames, size = e2e_frames(n)
    print(f"e2e SSE: {n:,} events at {args.rate:,}/s for {args.seconds:g} s, "
          f"{size / 1e6:,.1f} MB of frames ({size / n:,.0f} bytes/frame on average, one "
          f"{BIG_BYTES // 1000} KB screenshot in {BIG_EVERY:,}), encoded in "
          f"{time.perf_counter() - t:.1f} s")
    results: list[tuple[str, bool]] = []
    for path in paths:
        if path == "app":
            if app_has_events():
                r = bench_e2e_app(frames, args.rate, "app")
                results += print_e2e("app: TokentopApp(events=URL) headless, Events screen", r)
            else:
                print("e2e SSE: the dashboard takes no event source yet: measuring the "
                      "asyncio consumer instead")
                path = "asyncio"
        if path == "asyncio":
            r = bench_e2e_app(frames, args.rate, "asyncio")
            results += print_e2e("asyncio: SseSource thread -> await Reader.read()", r)
        elif path == "cli":
            r = bench_e2e_cli(frames, args.rate)
            results += print_e2e("cli: tokentop events URL --json > /dev/null", r)
        elif path != "app":
            print(f"e2e SSE: unknown path {path!r}")
            return 2
    print("summary")
    for name, ok in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
