"""Usage screen refresh: ``read_usage`` per window over a store of N events.

    python tests/bench/bench_usage_read.py [--events 5000000] [--db PATH] [--shuffled]

Builds (once, reused if --db exists) a store of N events spread over 90 days (5 models
incl. one unpriced, 3 providers, 2 agents, 20 projects, 10% tool calls, denser in the
last days: ``age = 90 d * random ** 1.3``, about 13,000 events in the last hour of a
5M store; sessions live up to 2 hours, 8 at a time, each in one project with one main model
and haiku for one message in five), opens it once read-write as
tokentop does (schema migration: the hourly rollup is built from the events), then
times one Usage screen refresh per window (median of 5, after a warm-up) at a moment
in the middle of an hour, so both edges of every window are partial hours read from
the events: what the dashboard's worker does when ``PRAGMA data_version`` moves.
``--no-rollup`` times the same reads from the events alone (a foreign store's path).
Then the dashboard itself, headless in a child process on that store: it opens the
Usage screen, waits for each window's read and reports its peak RSS.
Targets: <= 100 ms per refresh over 5M events; dashboard peak RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tokentop.store.usage import rollup
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.read import WINDOWS, read_usage
from tokentop.store.usage.schema import create
from tokentop.store.usage.timefmt import format_ts

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=UTC)
MODELS = (("claude-sonnet-4-5-20250929", "anthropic", "claude_code"),
          ("claude-opus-4-1-20250805", "anthropic", "claude_code"),
          ("claude-haiku-4-5-20251001", "anthropic", "claude_code"),
          ("gpt-5-codex", "openai", "codex"), ("acme-coder-2", "acme", "codex"))


def build(path: Path, n: int, shuffled: bool = False) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    create(conn)
    rng = random.Random(1)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO usage_raw_events VALUES ('r', ?, 'bench', 'jsonl', 'v1', '{}',"
                 " 'h', NULL, NULL)", (format_ts(NOW),))
    rows = []
    span = 90 * 86400
    # More events recently, as a growing user's store looks. Collectors append in
    # time order (batch by batch), so rows are stored in time order unless --shuffled
    # asks for the worst case (every row of a window on its own page).
    ages = [span * rng.random() ** 1.3 for _ in range(n)]
    if not shuffled:
        ages.sort(reverse=True)
    for i, age in enumerate(ages):
        ts = format_ts(NOW - timedelta(seconds=age))
        # A session works in one project with one main model (and a small one for
        # quick tasks, one message in five), as Claude Code and Codex sessions do.
        slot = rng.randrange(8)
        session = int(age // 7200) * 8 + slot
        main = MODELS[session % len(MODELS)]
        model, provider, agent = main if rng.random() < 0.8 or main[1] != "anthropic" else (
            MODELS[2])
        tool = rng.random() < 0.1
        rows.append((
            f"e{i}", ts, provider, agent, f"/home/u/p{session * 7 % 20}",
            f"s{session}", "tool_usage" if tool else "message_usage",
            None if tool else model, 0 if tool else rng.randrange(10, 5000),
            0 if tool else rng.randrange(10, 2000), 0 if tool else rng.randrange(0, 50000),
            0 if tool else rng.randrange(0, 3000), "bash" if tool else None, "ok", f"k{i}",
        ))
        if len(rows) == 50_000:
            _flush(conn, rows)
    _flush(conn, rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _flush(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO usage_events (event_id, occurred_at, provider_id, agent_name,"
        " workspace_id, session_id, event_type, model_raw, input_tokens, output_tokens,"
        " cache_read_tokens, cache_write_tokens, tool_name, status, dedup_key, raw_event_id,"
        " normalization_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'r','v1')", rows)
    rows.clear()


def dashboard_rss(db: Path) -> tuple[float, list[str]]:
    """Run the real dashboard headless on ``db`` in a child; its peak RSS and windows."""
    out = subprocess.run([sys.executable, __file__, "--dashboard-child", str(db)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1:]


def dashboard_child(db: Path) -> int:
    """Open the Usage screen over ``db`` and read every window, as a user would."""
    import asyncio

    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp

    async def run() -> list[str]:
        app = TokentopApp(MetricsSource(str(db.parent / "no-metrics")), follow=False,
                          clock=NOW.timestamp, usage_path=db, usage_collect=False)
        seen = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            for _ in WINDOWS:
                usage = app.sources.usage
                assert usage is not None
                while usage.loaded is None or usage.loaded.view is None or (
                        usage.loaded.view.window != usage.window):
                    await pilot.pause(0.05)
                seen.append(usage.loaded.view.window)
                await pilot.press("r")
        return seen

    seen = asyncio.run(run())
    print(peak_rss_mb(), *seen)
    return 0


def peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--shuffled", action="store_true",
                    help="store rows in random time order (worst case)")
    ap.add_argument("--no-rollup", action="store_true",
                    help="read from the events only (as from a foreign store)")
    ap.add_argument("--dashboard-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dashboard_child:
        return dashboard_child(args.dashboard_child)
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="tokentop-bench-")
        args.db = Path(tmp.name) / "usage.db"
    if not args.db.exists():
        t0 = time.perf_counter()
        build(args.db, args.events, args.shuffled)
        print(f"built {args.events:,} events in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        UsageStore.open(args.db).close()  # tokentop's migration: the rollup
        print(f"opened read-write (rollup built) in {time.perf_counter() - t0:.1f} s")
    uri = f"file:{args.db}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    total = conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    rows = conn.execute(f"SELECT COUNT(*) FROM {rollup.TABLE}").fetchone()[0]
    print(f"store: {total:,} events, {rows:,} rollup rows, "
          f"{args.db.stat().st_size / 1e6:.0f} MB; reads at {NOW:%Y-%m-%d %H:%M:%S} UTC "
          + ("from the events only" if args.no_rollup else "through the rollup"))
    worst = 0.0
    for window in WINDOWS:
        rolled = False if args.no_rollup else None
        in_window = read_usage(conn, window, NOW, rolled=rolled)  # warm-up (page cache)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            read_usage(conn, window, NOW, rolled=rolled)
            times.append(time.perf_counter() - t0)
        ms = statistics.median(times) * 1000
        worst = max(worst, ms)
        print(f"refresh {window:>3}: {ms:7.1f} ms  "
              f"({in_window.totals.messages:,} messages, {in_window.sessions:,} sessions)")
    conn.close()
    rss, seen = dashboard_rss(args.db)
    print(f"dashboard (headless, Usage screen, windows {' '.join(seen)}): peak RSS {rss:.0f} MB")
    print()
    print(f"{'PASS' if worst <= 100 else 'FAIL'}  slowest refresh {worst:.1f} ms (<= 100)")
    print(f"{'PASS' if rss <= 200 else 'FAIL'}  dashboard peak RSS {rss:.0f} MB (<= 200)")
    if tmp is not None:
        tmp.cleanup()
    return 0 if worst <= 100 and rss <= 200 else 1


if __name__ == "__main__":
    sys.exit(main())
