"""Gateway trace store: analytics and the trace list over 1,000,000 traces.

    python tests/bench/bench_traces.py [--rows 1000000] [--body-bytes 1000] [--db PATH]
                                       [--skip-pg] [--repeat 5]

Builds a gateway SQLite file (reused if --db exists) with the gateway's schema and
exactly its indexes (tests/traces/gateway_db.py: migrations sqlite/001+002; tokentop
opens the gateway's database read-only and cannot add any), and, when PostgreSQL
binaries exist, a throwaway server (tests/traces/pg_server.py) loaded with the same
rows by binary COPY. Rows: 8 models of 3 providers over 30 days, 4% NULL latencies,
3% 4xx/5xx, 20 gateway keys, headers ~120 B and bodies of --body-bytes in total.

Then, through the real store (tokentop.store.traces, the code the CLI and the screen use),
warm (after one warm-up), median of --repeat:

- latency percentiles per model (``latency_percentiles(group_by="model")``) over
  the whole store: SQLite target <= 500 ms (warm: with the latency cache on disk,
  the store reopened for each call as a new process would); PostgreSQL reported.
  Also printed: the same call scanning (cache off) and the cold call that builds
  the cache; all three must give identical numbers. And windows of 1 and 14 days;
- one list page (50) at depth 0 and 500,000 deep via the keyset cursor: <= 20 ms
  on both (PostgreSQL target too: the cursor is an index seek on both);
- for the record: usage summary, day series by model, model stats, error rates.

For the Traces screen's first-paint figure: ``build_sqlite(path, rows)`` (and
``bench_rows``) make the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "traces"))

from gateway_db import Row, write_postgres, write_sqlite  # noqa: E402
from pg_server import pg_bindir, running_server  # noqa: E402

from tokentop.store.traces import AnalyticsFilter, TraceFilter, open_trace_store  # noqa: E402
from tokentop.store.traces.cursor import encode_cursor  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN_S = 30 * 86400
MODELS = (("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("openai", "o3"),
          ("anthropic", "claude-sonnet-4"), ("anthropic", "claude-opus-4"),
          ("anthropic", "claude-haiku-4"), ("google", "gemini-2.5-pro"),
          ("google", "gemini-2.5-flash"))
ROUTES = ("/v1/chat/completions", "/v1/messages", "/v1/responses")
DEEP = 500_000
TARGET_PCT_MS = 500.0
TARGET_PAGE_MS = 20.0


def created_at(i: int, n: int) -> datetime:
    """Strictly increasing with i: the list's order is the reverse of i."""
    return START + timedelta(microseconds=i * (SPAN_S * 1_000_000 // n))


def bench_rows(n: int, body_bytes: int = 1000) -> Iterator[Row]:
    rng = random.Random(5)
    filler = "x" * max(0, body_bytes)
    req_len = body_bytes * 2 // 5
    for i in range(n):
        provider, model = MODELS[rng.randrange(len(MODELS))]
        created = created_at(i, n)
        latency = None if rng.random() < 0.04 else int(rng.lognormvariate(6.5, 0.8))
        status = 200
        r = rng.random()
        if r < 0.02:
            status = rng.choice((400, 401, 429))
        elif r < 0.03:
            status = rng.choice((500, 502, 503))
        inp = rng.randrange(50, 8000)
        out = rng.randrange(10, 2000)
        key = f"gk_{rng.randrange(20):02d}"
        yield Row(
            id=f"tr-{i:07d}", trace_group_id=f"grp-{i // 5}", org_id="default",
            workspace_id="default", timestamp=created - timedelta(milliseconds=latency or 0),
            provider=provider, model=model, request_method="POST",
            request_path=ROUTES[i % 3],
            request_headers='{"content-type":"application/json","user-agent":"bench/1.0",'
                            f'"x-request-id":"req-{i:07d}"}}',
            request_body=f'{{"model":"{model}","input":"{filler[:req_len]}"}}',
            response_status=status,
            response_headers='{"content-type":"application/json"}',
            response_body=f'{{"output":"{filler[req_len:]}"}}',
            input_tokens=inp, output_tokens=out, total_tokens=inp + out, latency_ms=latency,
            time_to_first_token_ms=None if latency is None else latency // 3,
            time_to_first_token_us=None if latency is None else latency * 333,
            api_key_hash=f"hash-{rng.randrange(50):02d}",
            estimated_cost_usd=round((inp * 2.5 + out * 10) / 1e6, 8),
            metadata=f'{{"gateway_key_id":"{key}"}}', created_at=created, gateway_key_id=key)


def build_sqlite(path: Path, rows: int, body_bytes: int = 1000) -> None:
    """A gateway SQLite file of ``rows`` traces (indexes built after the load)."""
    write_sqlite(path, bench_rows(rows, body_bytes), indexes_after=True)


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    """Median wall milliseconds of ``repeat`` calls after one warm-up; and the last result."""
    result = await call()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


async def latency_figures(target: str, n: int, repeat: int) -> dict[str, float]:
    """Latency percentiles per model over the whole store, three ways.

    - scan: no cache, every call reads every row (what the gateway's schema allows);
    - cold: the first call ever on this store, building the per-day histograms
      (store/traces/latency_cache.py) into an empty cache directory: one run;
    - warm: a fresh process's call with that cache on disk (store reopened each
      time, so loading the cache file is counted), median of ``repeat``.
    """
    everything = AnalyticsFilter()
    out: dict[str, float] = {}

    async def once(mode: str, cache_dir: Path) -> float:
        store = await open_trace_store(target, latency_cache=mode, cache_dir=cache_dir)
        try:
            t0 = time.perf_counter()
            lat = await store.latency_percentiles(everything, "model")
            ms = (time.perf_counter() - t0) * 1000
        finally:
            await store.close()
        assert sum(s.request_count for s in lat) > n * 0.9
        results.append(lat)
        return ms

    results: list[Any] = []
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-latency-cache-"))
    await once("off", cache_dir)
    out["latency per model, scan"] = statistics.median(
        [await once("off", cache_dir) for _ in range(max(1, repeat // 2))])
    out["latency per model, cold"] = await once("file", cache_dir)
    out["latency per model"] = statistics.median(
        [await once("file", cache_dir) for _ in range(repeat)])
    assert all(r == results[0] for r in results), "the cache changed a number"
    return out


async def measure(target: str, n: int, repeat: int) -> dict[str, float]:
    out = await latency_figures(target, n, repeat)
    # What the dashboard and the CLI do by default (auto: the cache on SQLite, off on
    # PostgreSQL), with the cache already built by the call above the loop.
    store = await open_trace_store(target, latency_cache="auto",
                                   cache_dir=Path(tempfile.mkdtemp(prefix="bench-auto-")))
    everything = AnalyticsFilter()
    try:
        await store.latency_percentiles(everything, "model")
        for days in (1, 14):
            window = AnalyticsFilter(since=START + timedelta(days=10, hours=5),
                                     until=START + timedelta(days=10 + days, hours=7))
            out[f"latency per model, {days} d window"], _ = await timed(
                lambda w=window: store.latency_percentiles(w, "model"), repeat)
        out["list page 1"], first = await timed(
            lambda: store.query_traces(TraceFilter(limit=50)), repeat)
        assert first.items[0].id == f"tr-{n - 1:07d}"
        deep = min(DEEP, n - 50)
        cursor = encode_cursor(created_at(n - deep, n), f"tr-{n - deep:07d}")
        out[f"list page at {deep:,}"], page = await timed(
            lambda: store.query_traces(TraceFilter(limit=50, cursor=cursor)), repeat)
        assert page.items[0].id == f"tr-{n - deep - 1:07d}", page.items[0].id
        out["usage summary"], _ = await timed(lambda: store.usage_summary(everything), repeat)
        out["day series by model"], _ = await timed(
            lambda: store.usage_series(everything, "model", "day"), repeat)
        out["model stats"], _ = await timed(lambda: store.model_stats(everything), repeat)
        out["error rates by route"], _ = await timed(
            lambda: store.error_rates(everything, "route"), repeat)
    finally:
        await store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--body-bytes", type=int, default=1000)
    ap.add_argument("--db", type=Path, help="SQLite file to build or reuse")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.rows
    tmp = Path(tempfile.mkdtemp(prefix="bench-traces-"))
    db = args.db or tmp / "ongoingai.db"
    if not db.exists():
        t0 = time.perf_counter()
        build_sqlite(db, n, args.body_bytes)
        print(f"built {db} ({n:,} traces, {db.stat().st_size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    figures = {"sqlite": asyncio.run(measure(str(db), n, args.repeat))}
    bindir = None if args.skip_pg else pg_bindir()
    if bindir is not None:
        settings = ("shared_buffers=1GB", "work_mem=64MB")
        with running_server(bindir, settings=settings) as server:
            dsn = server.create_database("bench")
            t0 = time.perf_counter()
            asyncio.run(write_postgres(dsn, bench_rows(n, args.body_bytes), indexes_after=True))
            print(f"loaded PostgreSQL by COPY ({', '.join(settings)}) in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            figures["postgresql"] = asyncio.run(measure(dsn, n, args.repeat))
    else:
        print("PostgreSQL: skipped (no binaries)" if not args.skip_pg else "PostgreSQL: skipped")
    print(f"\nwarm, median of {args.repeat} (ms):")
    for backend, values in figures.items():
        for name, ms in values.items():
            print(f"  {backend:<11} {name:<34} {ms:9.1f}")
    checks = [("sqlite latency per model", figures["sqlite"]["latency per model"],
               TARGET_PCT_MS)]
    for backend, values in figures.items():
        for name in values:
            if name.startswith("list page"):
                checks.append((f"{backend} {name}", values[name], TARGET_PAGE_MS))
    print()
    failed = False
    for name, ms, target in checks:
        ok = ms <= target
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {ms:.1f} ms (target <= {target:g} ms)")
    print(json.dumps({b: {k: round(v, 1) for k, v in f.items()} for b, f in figures.items()},
                     separators=(",", ":")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
