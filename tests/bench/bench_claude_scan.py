"""Claude Code log scan benchmark: cold ingest of a generated corpus, then incremental.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_claude_scan.py                 # the issue's 1 GiB corpus
    python tests/bench/bench_claude_scan.py --size-mb 100   # a quick run

It writes a Claude Code ``projects/`` tree with ``tests/usage/claude_corpus.py`` (lines
of 1-20 KB, ~30% of the usage lines duplicate copies: streamed, resumed, sidechain),
then measures:

- cold: ``collect_once`` into a fresh store, in a fresh child process, so the wall time,
  MB/s and peak RSS (the child's own ``VmHWM``) are the collector's and the store's;
- the store's per-day totals against the corpus truth (each message once);
- incremental: one line appended to one session file, then ``collect_once`` again
  (store opened, offsets loaded, every file stat'ed, the new bytes read), best of 5.

The ccusage comparison and ``report daily`` timing live with the reports' benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "usage")]

from claude_corpus import write_corpus  # noqa: E402

from store.usage.collect import collect_once  # noqa: E402
from store.usage.db import UsageStore  # noqa: E402

CHILD = """
import json, sys, time
from pathlib import Path
from store.usage.collect import collect_once
from store.usage.db import UsageStore
corpus, db = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
store = UsageStore.open(db)
rep = collect_once(store, claude_roots=[corpus], codex_dir=corpus / "none",
                   hook_spool=corpus / "none")
store.close()
wall = time.perf_counter() - t0
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) * 1024
print(json.dumps({"wall": wall, "hwm": hwm, "report": rep.as_dict()}))
"""


def daily(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute(
            "SELECT substr(occurred_at, 1, 10), SUM(input_tokens + output_tokens + "
            "cache_read_tokens + cache_write_tokens) FROM usage_events "
            "WHERE agent_name = 'claude_code' GROUP BY 1").fetchall())
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="corpus size (default 1024)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="leave the data directory")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tokentop-bench-claude-"))
    corpus, db = work / "claude", work / "usage.db"
    try:
        t0 = time.perf_counter()
        truth = write_corpus(corpus, seed=args.seed, days=args.days,
                             size_bytes=args.size_mb << 20)
        gen = time.perf_counter() - t0
        dup = truth.duplicate_lines / max(truth.usage_lines, 1)
        print(f"corpus: {truth.bytes / 2**20:,.0f} MiB, {truth.files:,} files, "
              f"{truth.lines:,} lines, {truth.usage_lines:,} usage lines "
              f"({dup:.0%} duplicate copies), {truth.messages:,} messages "
              f"(written in {gen:.1f} s)")

        out = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(db)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        cold = json.loads(out.stdout.strip().splitlines()[-1])
        mb = truth.bytes / 1e6
        rep = cold["report"]
        print(f"cold ingest: {cold['wall']:.2f} s, {mb / cold['wall']:,.0f} MB/s, "
              f"{rep['claude']['usage_lines'] / cold['wall']:,.0f} usage lines/s, "
              f"peak RSS {cold['hwm'] / 2**20:,.0f} MiB, "
              f"{rep['inserted']:,} inserted, {rep['duplicates']:,} store duplicates, "
              f"{rep['batches']} batches")
        want = {d: t.total for d, t in truth.daily.items()}
        ok = daily(db) == want
        print(f"per-day totals equal the corpus truth: {ok}")
        print(f"store size: {db.stat().st_size / 2**20:,.1f} MiB "
              f"({db.stat().st_size / max(rep['inserted'], 1):,.0f} B/event)")

        target = sorted((corpus / "projects").rglob("*.jsonl"))[0]
        line = next(x for x in target.read_bytes().split(b"\n")
                    if b'"usage":{' in x and b'"id":"msg_01' in x)  # a real assistant line
        best = float("inf")
        for i in range(5):
            with target.open("ab") as fh:  # a new message: its id changed
                fh.write(line.replace(b'"id":"msg_01', f'"id":"msg_b{i}'.encode(), 1) + b"\n")
            t0 = time.perf_counter()
            store = UsageStore.open(db)
            r = collect_once(store, claude_roots=[corpus], codex_dir=corpus / "none",
                             hook_spool=corpus / "none")
            store.close()
            best = min(best, time.perf_counter() - t0)
            assert r.claude.files_read == 1 and r.ingest.inserted == 1, r.as_dict()
        print(f"incremental (one appended line, {truth.files:,} files): {best * 1000:.0f} ms "
              f"(best of 5; open store + stat all files + read {len(line) + 1:,} B)")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            os.sync()


if __name__ == "__main__":
    sys.exit(main())
