"""Throughput benchmark for the browser event stream (store.events).

Run it as a script (it is not a pytest test):

    python tests/bench/bench_events.py                    # 1,000,000 events
    python tests/bench/bench_events.py --events 200000    # a quick run

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
- peak RSS of this process (``VmHWM``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.events.filesource import FileSource, parse_line  # noqa: E402
from store.events.model import DEFAULT_CAPACITY, Envelope  # noqa: E402
from store.events.stream import EventStream  # noqa: E402

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
# >>> END-TO-END SSE MEASUREMENT GOES HERE (to be added with store/events/sse.py) <<<
# A local SSE server streaming ``--events`` envelopes into the SSE source, which
# publishes into an EventStream read by an asyncio reader: events/s from the first
# frame sent to the last envelope read, drops, peak RSS. Add its row to the table in
# main() below.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per figure")
    parser.add_argument("--batch", type=int, default=256,
                        help="events per publish/read round in the interleaved figure")
    parser.add_argument("--capacity", type=int, default=DEFAULT_CAPACITY,
                        help="ring capacity for the thread -> asyncio figure")
    parser.add_argument("--file-events", type=int, default=200_000,
                        help="lines in the file-source figure (0 skips it)")
    args = parser.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
