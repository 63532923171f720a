"""Team store benchmark (issue 18 figures): PostgreSQL ingest from two processes at once.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_pgstore.py                    # 1,000,000 events
    python tests/bench/bench_pgstore.py --events 200000    # quick

It starts a throwaway PostgreSQL (tests/traces/pg_server.py: initdb in a temporary
directory; fsync off, as for every test server), then builds, untimed, two machines'
caches (``tokentop.store.usage.team``: each its own ``XDG_STATE_HOME``) through the
ordinary ``UsageStore.ingest``: machine A holds events ``[0, (1+o)/2 N)`` and B
``[(1-o)/2 N, N)``, so an ``--overlap`` o of the N unique events is in both (the same
message seen by two machines: one event in the end). Timed: two processes push their
whole cache at the same moment (``sync.push_pending``: COPY into a staging table, one
``INSERT ... ON CONFLICT`` per batch of 20,000), each a real process with its own
connection. Printed: the wall time from both starting to both done, unique events
stored per second of that wall, rows sent per second, each process's own time; then
checks that PostgreSQL holds exactly N events whose token sum is the generator's, and
times one pull of the whole store into a fresh replica (the read side).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "traces"))

START = datetime(2026, 10, 1, tzinfo=UTC)
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
BATCH = 5000


def event(n: int):  # -> IngestRequest (imported in the child only)
    from tokentop.store.usage.model import IngestRequest

    h = hashlib.blake2b(n.to_bytes(8, "big"), digest_size=12).hexdigest()
    model = MODELS[n % 3]
    return IngestRequest(
        source_system="claude_code", source_channel="jsonl",
        occurred_at=START + timedelta(seconds=n * 2.5), session_id=f"s-{n // 200}",
        message_id=f"msg_{h}", workspace_id=f"/home/dev/src/project-{n % 17}",
        provider_id="anthropic", agent_name="claude_code", model_raw=model,
        model_canonical=model, input_tokens=n % 50 + 1, output_tokens=n % 2000 + 10,
        cache_read_tokens=n % 200_000, cache_write_tokens=n % 5000, requests=1)


def expected_input(n_events: int) -> int:
    return sum(n % 50 + 1 for n in range(n_events))


def build(url: str, lo: int, hi: int) -> None:
    from tokentop.store.usage.team import sync

    store = sync.open_cache(url)
    try:
        with store.group_commit():
            for start in range(lo, hi, BATCH):
                store.ingest([event(n) for n in range(start, min(start + BATCH, hi))])
    finally:
        store.close()


def push(url: str) -> None:
    from tokentop.store.usage.team import sync

    t = time.perf_counter()
    r = sync.push_pending(url)
    print(json.dumps({"sent": r.sent, "written": r.written,
                      "seconds": round(time.perf_counter() - t, 2)}))


def pull(url: str) -> None:
    from tokentop.store.usage.team import sync

    t = time.perf_counter()
    _path, r = sync.refresh(url)
    print(json.dumps({"events": r.events, "seconds": round(time.perf_counter() - t, 2)}))


def child(mode: str, url: str, state: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, __file__, "--child", mode, url, *extra],
                            env=env, stdout=subprocess.PIPE, text=True)


def done(proc: subprocess.Popen[str]) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def pg_count(url: str) -> tuple[int, int]:
    import asyncio

    import asyncpg

    async def run() -> tuple[int, int]:
        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow("SELECT count(*), sum(input_tokens) FROM usage_events")
            return int(row[0]), int(row[1])
        finally:
            await conn.close()

    return asyncio.run(run())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000, help="unique events")
    ap.add_argument("--overlap", type=float, default=0.2,
                    help="share of the events both machines hold")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, url, *rest = args.child
        {"build": lambda: build(url, int(rest[0]), int(rest[1])),
         "push": lambda: push(url), "pull": lambda: pull(url)}[mode]()
        return 0

    from pg_server import pg_bindir, running_server

    bindir = pg_bindir()
    if bindir is None:
        print("no PostgreSQL binaries (initdb, pg_ctl)")
        return 1
    n = args.events
    a_hi = int(n * (1 + args.overlap) / 2)
    b_lo = n - a_hi
    base = Path(tempfile.mkdtemp(prefix="tokentop-bench-pg-"))
    with running_server(bindir) as server:
        url = server.create_database("bench")
        t = time.perf_counter()
        builds = [child("build", url, base / "a", "0", str(a_hi)),
                  child("build", url, base / "b", str(b_lo), str(n))]
        for p in builds:
            done(p)
        print(f"built two caches ({a_hi:,} + {n - b_lo:,} events, {a_hi - b_lo:,} in both)"
              f" in {time.perf_counter() - t:.1f} s (untimed)")
        t = time.perf_counter()
        pushes = [child("push", url, base / "a"), child("push", url, base / "b")]
        results = [done(p) for p in pushes]
        wall = time.perf_counter() - t
        sent = sum(r["sent"] for r in results)
        count, inputs = pg_count(url)
        print(f"push, two processes at once: wall {wall:.1f} s, {n / wall:,.0f} unique events/s"
              f" stored, {sent / wall:,.0f} rows/s sent")
        for name, r in zip("AB", results, strict=True):
            print(f"  process {name}: {r['sent']:,} sent, {r['written']:,} new or changed,"
                  f" {r['seconds']} s")
        ok = count == n and inputs == expected_input(n)
        print(f"PostgreSQL holds {count:,} events (want {n:,}), input tokens"
              f" {'match' if inputs == expected_input(n) else 'DIFFER'}: {'ok' if ok else 'FAIL'}")
        r = done(child("pull", url, base / "reader"))
        print(f"pull into a fresh replica: {r['events']:,} events in {r['seconds']} s"
              f" ({r['events'] / max(r['seconds'], 1e-9):,.0f} events/s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
