"""Alert checks: the usage figures (today, block, burn, quotas) and ``tokentop watch``.

    python tests/bench/bench_alerts.py [--events 1000000] [--db PATH]

Builds (once, reused if --db exists) the store of bench_usage_read.py (N events over 90
days, denser in the last days), opens it read-write once as tokentop does (the rollup
is built), then times ``usage_figures`` for every usage rule (median of 5 after a
warm-up) at the store's newest event, and ``tokentop watch`` as a child process
(median of 5 wall times: start-up, config, the read, the JSON). The dashboard's alert
source runs the same read every ``check-seconds`` in a thread.
Targets: figures <= 50 ms over 1M events; watch <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_usage_read import build

from tokentop.store.alerts.figures import USAGE_RULES, usage_figures
from tokentop.store.timeparse import parse_instant
from tokentop.store.usage.db import UsageStore


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "usage.db"
    if not db.exists():
        build(db, args.events)
    UsageStore.open(db).close()  # as tokentop opens it: the rollup is built
    with UsageStore.open(db, read_only=True) as store:
        newest = store.conn.execute("SELECT MAX(occurred_at) FROM usage_events").fetchone()[0]
        now = parse_instant(newest)
        usage_figures(store.conn, now, USAGE_RULES)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            figures = usage_figures(store.conn, now, USAGE_RULES)
            times.append(time.perf_counter() - t)
    figures_ms = statistics.median(times) * 1000
    print(f"usage_figures ({len(figures)} figures) at {newest}: {figures_ms:.1f} ms")
    walls = []
    env = {**os.environ, "XDG_CONFIG_HOME": str(Path(tmp.name) / "config")}
    for _ in range(5):
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tokentop.tui.cli", "watch", "--no-ingest", "--store",
             str(db), "--at", newest, "--set", "cost-per-day=1e9", "--set",
             "cost-per-block=1e9", "--set", "burn-rate=1e9", "--set", "quota-percent=100"],
            capture_output=True, text=True, env=env, check=False)
        walls.append(time.perf_counter() - t)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
    watch_ms = statistics.median(walls) * 1000
    print(f"tokentop watch wall time: {watch_ms:.0f} ms")
    ok = [("figures", figures_ms, 50.0), ("watch", watch_ms, 1000.0)]
    for name, value, target in ok:
        print(f"{name}: {value:.1f} ms (target <= {target:g} ms) "
              f"{'PASS' if value <= target else 'FAIL'}")
    return 0 if all(v <= t for _, v, t in ok) else 1


if __name__ == "__main__":
    sys.exit(main())
