"""Remote collection over loopback SSH: append-to-visible latency, warm-poll bytes, backlog.

Run it as a script (it is not a pytest test); it needs Debian's openssh-server
(``/usr/sbin/sshd``) and starts one on 127.0.0.1 as ``tests/support/sshd.py`` does for
the tests:

    python tests/bench/bench_remote.py                  # 40 appends, a 20 MB backlog
    python tests/bench/bench_remote.py --appends 100 --backlog-mb 100

Figures:

- backlog: the first poll of a box holding ``--backlog-mb`` of Claude Code logs (wall
  time, MB/s, bytes on the wire: ``tcpi_bytes_received`` of ssh's TCP socket from
  ``ss -ti``, compressed by ssh);
- warm poll: a poll with nothing new, the bytes tokentop writes and reads on the
  session (protocol bytes) and the bytes the TCP connection carries both ways (what
  ssh's encryption and packets add), median of 20; the box also holds Gemini CLI,
  Qwen Code and OpenCode files and OpenCode's database (read by this venv's tokentop
  as the box's), so every agent's roots are listed on each poll;
- append->visible: the dashboard's loop (``tui/sources/remote.py``: a poll every
  ``POLL_S``) running in a thread; a line appended to a log on the box at a random
  moment, timed until its message is in the store (a reader polls every 5 ms);
  ``--appends`` of them, p50/p95/max. Target p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "usage"))

import shutil

from opencode_support import build_db, copy_storage
from support import sshd

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.remote import RemoteCollector
from tokentop.tui.sources.remote import POLL_S

WORDS = ("the", "file", "function", "returns", "error", "test", "import", "value", "self",
         "path", "None", "config", "request", "def", "class", "result", "0x3f", "line")


def claude_line(i: int, pad: int = 0) -> str:
    """A Claude Code assistant line; ``pad`` words of text content so the backlog
    compresses about as a real session does, not as a run of one letter."""
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    obj = {
        "parentUuid": None, "isSidechain": False, "cwd": "/home/u/app", "sessionId": "s1",
        "version": "2.0.14",
        "message": {"id": f"msg_{i}", "type": "message", "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "text", "text": " ".join(
                        random.choice(WORDS) + str(random.randrange(1000))
                        for _ in range(pad))}], "stop_reason": None,
                    "usage": {"input_tokens": 4, "cache_creation_input_tokens": 100,
                              "cache_read_input_tokens": 1000, "output_tokens": 10}},
        "requestId": f"req_{i}", "type": "assistant", "uuid": f"u-{i}", "timestamp": ts,
    }
    return json.dumps(obj, separators=(",", ":")) + "\n"


def wire_bytes(port: int) -> tuple[int, int]:
    """(sent, received) by the client side of every TCP connection to the box's port."""
    out = subprocess.run(["ss", "-tinH", "state", "established", "dst",
                          f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    sent = sum(int(m) for m in re.findall(r"bytes_sent:(\d+)", out))
    got = sum(int(m) for m in re.findall(r"bytes_received:(\d+)", out))
    return sent, got


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--appends", type=int, default=40)
    ap.add_argument("--backlog-mb", type=float, default=20.0)
    args = ap.parse_args()
    reason = sshd.missing_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="tt-bench-"))
    os.environ["XDG_STATE_HOME"] = str(tmp / "state")
    box = sshd.make()
    os.environ.update(box.env())
    box.start()
    results: list[tuple[str, str, bool | None]] = []
    try:
        log = box.home / ".claude" / "projects" / "-home-u-app" / "s1.jsonl"
        log.parent.mkdir(parents=True)
        n = 0
        with log.open("w") as fh:
            while fh.tell() < args.backlog_mb * 1e6:
                fh.write(claude_line(n, pad=300))
                n += 1
        fixtures = Path(__file__).resolve().parents[1] / "usage" / "fixtures"
        shutil.copytree(fixtures / "gemini" / "tmp", box.home / ".gemini" / "tmp")
        shutil.copytree(fixtures / "qwen" / "qwen" / "projects", box.home / ".qwen" / "projects")
        opencode = box.home / ".local" / "share" / "opencode"
        build_db(opencode / "opencode.db", "opencode").close()
        copy_storage(opencode)
        db = tmp / "usage.db"
        store = UsageStore.open(db)
        col = RemoteCollector("box", tokentop=str(Path(sys.executable).with_name("tokentop")))
        t0 = time.perf_counter()
        first = col.collect(store)
        others = {name: c.requests for name, c in first.agents.items() if c.requests}
        print(f"other agents on the box, first poll: {others}; notes: {col.status.notes}")
        cold = time.perf_counter() - t0
        w1 = wire_bytes(box.port)
        mb = first.claude.bytes_read / 1e6
        print(f"backlog: {mb:.1f} MB, {first.claude.requests:,} messages in {cold:.2f} s "
              f"({mb / cold:.1f} MB/s); on the wire {w1[1]:,} bytes received "
              f"(ssh compression)")
        ups, downs, wire_up, wire_down = [], [], [], []
        for _ in range(20):
            a, b = col.traffic, wire_bytes(box.port)
            col.collect(store)
            c, d = col.traffic, wire_bytes(box.port)
            ups.append(c[0] - a[0])
            downs.append(c[1] - a[1])
            wire_up.append(d[0] - b[0])
            wire_down.append(d[1] - b[1])
        proto = statistics.median(ups) + statistics.median(downs)
        wire = statistics.median(wire_up) + statistics.median(wire_down)
        print(f"warm poll: protocol {statistics.median(ups):.0f} B up + "
              f"{statistics.median(downs):.0f} B down; TCP {statistics.median(wire_up):.0f} B "
              f"sent + {statistics.median(wire_down):.0f} B received (median of 20)")
        results.append(("warm poll, protocol bytes", f"{proto:.0f} B (<= 300)", proto <= 300))
        results.append(("warm poll, TCP bytes", f"{wire:.0f} B (<= 600)", wire <= 600))

        # append -> visible, with the dashboard's poll loop running in a thread with a
        # store connection of its own (as tui/sources/remote.py runs it)
        store.close()
        col.close()
        col = RemoteCollector("box")
        stop = threading.Event()

        def loop_own() -> None:
            own = UsageStore.open(db)
            try:
                while not stop.is_set():
                    col.collect(own)
                    stop.wait(POLL_S)
            finally:
                own.close()

        poller = threading.Thread(target=loop_own, daemon=True)
        poller.start()
        reader = sqlite3.connect(db)
        lat: list[float] = []
        rng = random.Random(7)
        time.sleep(POLL_S * 2)  # the loop's first (catch-up) pass
        for k in range(args.appends):
            time.sleep(rng.uniform(0.1, POLL_S * 1.3))
            mid = n + k
            with log.open("a") as fh:
                fh.write(claude_line(mid))
            t = time.perf_counter()
            while True:
                row = reader.execute("SELECT 1 FROM usage_events WHERE message_id = ?",
                                     (f"msg_{mid}",)).fetchone()
                if row is not None:
                    lat.append(time.perf_counter() - t)
                    break
                if time.perf_counter() - t > 10:
                    lat.append(float("inf"))
                    break
                time.sleep(0.005)
        stop.set()
        poller.join()
        reader.close()
        col.close()
        p50, p95 = pct(lat, 50), pct(lat, 95)
        print(f"append->visible over {args.appends} appends: p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms (poll every {POLL_S} s)")
        results.append(("append->visible p95", f"{p95 * 1000:.0f} ms (<= 2000)", p95 <= 2.0))
    finally:
        sshd.cleanup(box)
    print("\nsummary")
    for name, value, ok in results:
        print(f"  {name:<28} {value:<22} {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
