"""Benchmark: the Logs and Spans screens' readers on large gridctl files.

    python tests/bench/bench_gridlogs.py            # 100 MB logs.jsonl + a 100 MB .gz backup
    python tests/bench/bench_gridlogs.py --mb 20    # quick

Builds one server with a gzipped backup and an active logs.jsonl of ``--mb`` MB each
(gridctl's slog lines), nine more servers with 10,000 records each, and a traces.jsonl
of the same size. Prints, beside its target:

- first load: ``SignalFollower.load()`` of the 10 servers (newest 10,000 records each;
  the big server's backward read must not scale with its file);
- logs rate: records parsed per second (``parse_lines`` on 100,000 lines);
- spans rate: spans parsed per second (OTLP-JSON, 3 spans per call, 6 calls per line);
- append latency: p95 from an append to ``rescan()`` returning it;
- view snapshot: what a keystroke in ``/`` costs the UI thread with 10 servers x
  10,000 records held (copying the deques); view merge: the worker's merge + first
  search over them (building every record's search text);
- memory: tracemalloc peak of loading and holding 10 x 10,000 log records.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "gridctl"))

from gridlog_lines import fixed_logs, fixed_spans  # noqa: E402

from tokentop.store.gridctl.buffer import ServerBuffers, merge_view  # noqa: E402
from tokentop.store.gridctl.follow import SignalFollower  # noqa: E402
from tokentop.store.gridctl.logs import ParseCounts  # noqa: E402
from tokentop.store.gridctl.logs import parse_lines as parse_logs  # noqa: E402
from tokentop.store.gridctl.spans import parse_lines as parse_spans  # noqa: E402

TARGETS = {
    "first load (s)": 1.0,
    "logs rate (records/s)": 75_000,
    "spans rate (spans/s)": 100_000,
    "append p95 (ms)": 50,
    "view snapshot, UI (ms)": 20,
    "view merge, worker (ms)": 600,
    "memory (MB)": 250,
}
HIGHER_IS_BETTER = {"logs rate (records/s)", "spans rate (spans/s)"}


def fill(path: Path, unit: list[str], mb: int) -> int:
    block = ("\n".join(unit) + "\n").encode()
    reps = max(1, mb * 1_000_000 // len(block))
    with open(path, "wb") as fh:
        for _ in range(reps):
            fh.write(block)
    return reps * len(unit)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    args = ap.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tokentop-bench-gridlogs-") as tmp:
        root = Path(tmp) / "telemetry"
        big = root / "prod" / "github"
        big.mkdir(parents=True)
        unit = fixed_logs("github", 1000)
        backup = big / "logs-2026-05-05T10-00-00.000.jsonl"
        n = fill(backup, unit, args.mb)
        backup.with_name(backup.name + ".gz").write_bytes(
            gzip.compress(backup.read_bytes(), compresslevel=1))
        backup.unlink()
        n += fill(big / "logs.jsonl", unit, args.mb)
        fill(big / "traces.jsonl", fixed_spans("prod/github", 600), args.mb)
        for i in range(9):
            d = root / "prod" / f"server{i}"
            d.mkdir(parents=True)
            (d / "logs.jsonl").write_text("\n".join(fixed_logs(f"server{i}", 10_000)) + "\n")
        print(f"data: {n:,} log lines for prod/github ({2 * args.mb} MB, half gzipped), "
              f"9 x 10,000 more")

        t = time.perf_counter()
        f = SignalFollower(root, "logs", parse_logs)
        records = f.load()
        figures["first load (s)"] = time.perf_counter() - t
        print(f"first load: {len(records):,} records of 10 servers in "
              f"{figures['first load (s)']:.3f} s")

        lines = [x.encode() for x in unit] * 100
        t = time.perf_counter()
        parse_logs(lines, "prod/github", ParseCounts())
        figures["logs rate (records/s)"] = len(lines) / (time.perf_counter() - t)

        span_lines = [x.encode() for x in fixed_spans("prod/github", 6000)]
        t = time.perf_counter()
        spans = parse_spans(span_lines, "prod/github", ParseCounts())
        figures["spans rate (spans/s)"] = len(spans) / (time.perf_counter() - t)

        waits = []
        active = big / "logs.jsonl"
        for i in range(100):
            line = unit[i % len(unit)]
            t = time.perf_counter()
            with open(active, "a") as fh:
                fh.write(line + "\n")
            got = f.rescan()
            waits.append((time.perf_counter() - t) * 1000)
            assert len(got) == 1, got
        figures["append p95 (ms)"] = statistics.quantiles(waits, n=20)[-1]

        del records, f
        tracemalloc.start()
        fresh = SignalFollower(root, "logs", parse_logs)
        buffers: ServerBuffers = ServerBuffers(10_000, lambda r: r.ns, lambda r: r.server)
        buffers.add(fresh.load())
        figures["memory (MB)"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        gc.collect()  # a pending full collection is not the snapshot's cost
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            parts = buffers.snapshot(None)
            runs.append((time.perf_counter() - t) * 1000)
        print("view snapshot runs (ms): " + ", ".join(f"{r:.1f}" for r in runs))
        figures["view snapshot, UI (ms)"] = statistics.median(runs)
        t = time.perf_counter()
        shown = merge_view(parts, lambda r: r.ns, lambda r: "gateway" in r.search_text, 10_000)
        figures["view merge, worker (ms)"] = (time.perf_counter() - t) * 1000
        print(f"view: {len(buffers):,} held, {len(shown):,} match")

    failed = 0
    for name, target in TARGETS.items():
        value = figures[name]
        ok = value >= target if name in HIGHER_IS_BETTER else value <= target
        failed += not ok
        sign = ">=" if name in HIGHER_IS_BETTER else "<="
        print(f"{'PASS' if ok else 'FAIL'}  {name:<24} {value:>12,.3f}  (target {sign} {target:,})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
