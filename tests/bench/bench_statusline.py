"""``tokentop statusline`` over a store of N events: what Claude Code waits for.

    python tests/bench/bench_statusline.py [--events 1000000] [--db PATH] [--runs 30]

Builds (once, reused if --db exists) the store of ``bench_usage_read.py`` (events
spread over 90 days, denser lately: ~2,600 events in the last hour of a 1M store),
opens it read-write once as tokentop does (the rollup is built), adds a quota snapshot,
then runs the real command as Claude Code does: a new process, Claude Code's status
JSON on stdin, ``--at`` pinned mid-hour so both edges of "today" and of the last hour
are partial hours read from the events. Prints the median wall time and the median
CPU time (user + system) of the process, cold (every run reads the store) and warm
(the snapshot kept for ``--cache-seconds`` while the store is unchanged), and, for
reference, ``read_glance`` (the read model) and ``glance_fast.read_snapshot`` (what
the command runs) in one warm process, and a bare ``python -c pass``. Each run keeps
its state and the compiled price cache in a temporary directory; the first two runs
(not timed) fill that cache, as a user's first call does.
Target: median wall <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_usage_read import NOW, build

from tokentop.store.usage.db import UsageStore

CLAUDE_INPUT = json.dumps({
    "session_id": "bench", "transcript_path": "/tmp/none.jsonl", "cwd": "/tmp",
    "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
    "workspace": {"current_dir": "/tmp", "project_dir": "/tmp"},
    "cost": {"total_cost_usd": 1.25, "total_duration_ms": 600000},
    "rate_limits": {"five_hour": {"used_percentage": 42,
                                  "resets_at": int(NOW.timestamp()) + 3600}},
}).encode()


def command(db: Path, cold: bool) -> list[str]:
    """Cold: ``--at`` pins the clock at the data's end and skips the kept snapshot, so
    every run reads the store. Warm: the real clock; after the first run the line
    comes from the snapshot kept in the state directory (the store is unchanged)."""
    exe = Path(sys.executable).with_name("tokentop")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "tokentop.tui.cli"]
    pin = ["--at", NOW.isoformat()] if cold else []
    return [*head, "statusline", "--store", str(db), *pin, "--tz", "UTC"]


def add_quota(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    snap = {"provider_id": "openai", "metrics": {"requests": {"limit": 1000, "used": 640}}}
    conn.execute("INSERT OR REPLACE INTO usage_limit_snapshots VALUES ('bench-q', ?, 'openai',"
                 " '', ?)", (NOW.strftime("%Y-%m-%dT%H:%M:%S.000000000Z"), json.dumps(snap)))
    conn.close()


def run_process(db: Path, runs: int, cold: bool, state: Path) -> tuple[float, float, str]:
    cmd = command(db, cold)
    # the state and the compiled price cache (``pricing_cache``) in the run's own
    # directory: the first runs (not timed) fill the cache, as a user's first call does
    env = {**os.environ, "NO_COLOR": "1", "XDG_STATE_HOME": str(state),
           "XDG_CACHE_HOME": str(state / "cache")}
    walls, cpus, line = [], [], ""
    for i in range(runs + 2):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, input=CLAUDE_INPUT, capture_output=True, env=env,
                              check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i < 2:
            continue  # warm the page cache and the bytecode
        walls.append(wall)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        line = done.stdout.decode().strip()
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, line


def in_process(db: Path, runs: int, fast: bool = False) -> float:
    """``read_glance`` (the read model), or with ``fast`` the status line's own reader
    (``glance_fast``, priced from the compiled price cache), in one warm process."""
    from tokentop.store.usage.glance import read_glance
    from tokentop.store.usage.glance_fast import read_snapshot

    read = read_snapshot if fast else read_glance
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    read(conn, NOW)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        read(conn, NOW)
        times.append(time.perf_counter() - t0)
    conn.close()
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="tokentop-bench-")
        args.db = Path(tmp.name) / "usage.db"
    if not args.db.exists():
        t0 = time.perf_counter()
        build(args.db, args.events)
        UsageStore.open(args.db).close()  # tokentop's migration: the rollup
        print(f"built {args.events:,} events and the rollup in {time.perf_counter() - t0:.1f} s")
    add_quota(args.db)
    total = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True).execute(
        "SELECT COUNT(*) FROM usage_events").fetchone()[0]
    print(f"store: {total:,} events; statusline at {NOW:%Y-%m-%d %H:%M:%S} UTC")
    with tempfile.TemporaryDirectory(prefix="tokentop-bench-state-") as state:
        (Path(state) / "tokentop").mkdir()
        cold, cold_cpu, line = run_process(args.db, args.runs, True, Path(state))
        print(f"line: {line}")
        print(f"cold (reads the store), median of {args.runs}: wall {cold:.1f} ms, "
              f"cpu {cold_cpu:.1f} ms")
        warm, warm_cpu, line = run_process(args.db, args.runs, False, Path(state))
        print(f"warm (kept snapshot, store unchanged), median of {args.runs}: wall "
              f"{warm:.1f} ms, cpu {warm_cpu:.1f} ms  [{line}]")
    inner = in_process(args.db, args.runs)
    print(f"read_glance in a warm process, median: {inner:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="tokentop-bench-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # the price cache, in this process
        inner = in_process(args.db, args.runs, fast=True)
    print(f"glance_fast.read_snapshot in a warm process, median: {inner:.1f} ms")
    bare = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t0)
    print(f"python -c pass (this interpreter's floor), median: "
          f"{statistics.median(bare) * 1000:.1f} ms")
    print()
    print(f"{'PASS' if warm <= 50 else 'FAIL'}  statusline median wall, warm {warm:.1f} ms (<= 50)")
    print(f"{'PASS' if cold <= 50 else 'FAIL'}  statusline median wall, cold {cold:.1f} ms (<= 50)")
    if tmp is not None:
        tmp.cleanup()
    return 0 if warm <= 50 and cold <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
