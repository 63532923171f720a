"""Usage screen refresh: ``read_usage`` per window over a store of N events.

    python tests/bench/bench_usage_read.py [--events 1000000] [--db PATH] [--shuffled]

Builds (once, reused if --db exists) a store of N message_usage events spread over 90
days (5 models incl. one unpriced, 3 providers, 2 agents, 20 projects, 2,000 sessions,
10% tool calls, denser in the last days), then times one Usage screen refresh per
window (median of 5, after a warm-up): what the dashboard's worker does when
``PRAGMA data_version`` moves. Target: <= 100 ms.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store.usage.read import WINDOWS, read_usage
from store.usage.schema import create
from store.usage.timefmt import format_ts

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
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
    # Squared: more events recently, as a growing user's store looks. Collectors
    # append in time order (batch by batch), so rows are stored in time order unless
    # --shuffled asks for the worst case (every row of a window on its own page).
    ages = [span * rng.random() ** 2 for _ in range(n)]
    if not shuffled:
        ages.sort(reverse=True)
    for i, age in enumerate(ages):
        ts = format_ts(NOW - timedelta(seconds=age))
        model, provider, agent = MODELS[rng.randrange(len(MODELS))]
        tool = rng.random() < 0.1
        rows.append((
            f"e{i}", ts, provider, agent, f"/home/u/p{rng.randrange(20)}",
            f"s{rng.randrange(2000)}", "tool_usage" if tool else "message_usage",
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--shuffled", action="store_true",
                    help="store rows in random time order (worst case)")
    args = ap.parse_args()
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="tokentop-bench-")
        args.db = Path(tmp.name) / "usage.db"
    if not args.db.exists():
        t0 = time.perf_counter()
        build(args.db, args.events, args.shuffled)
        print(f"built {args.events:,} events in {time.perf_counter() - t0:.1f} s")
    uri = f"file:{args.db}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    total = conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    print(f"store: {total:,} events, {args.db.stat().st_size / 1e6:.0f} MB")
    for window in WINDOWS:
        in_window = read_usage(conn, window, NOW)  # warm-up (page cache)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            read_usage(conn, window, NOW)
            times.append(time.perf_counter() - t0)
        print(f"refresh {window:>3}: {statistics.median(times) * 1000:7.1f} ms  "
              f"({in_window.totals.messages:,} messages in window)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
