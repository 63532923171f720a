"""Claude Code log scan benchmark: cold ingest of a generated corpus, then incremental.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_claude_scan.py                 # the issue's 1 GiB corpus
    python tests/bench/bench_claude_scan.py --size-mb 100   # a quick run
    python tests/bench/bench_claude_scan.py --no-ccusage    # tokentop's figures only

It writes a Claude Code ``projects/`` tree with ``tests/usage/claude_corpus.py`` (lines
of 1-20 KB, ~30% of the usage lines duplicate copies: streamed, resumed, sidechain),
then measures:

- cold: ``collect_once`` into a fresh store, in a fresh child process, so the wall time,
  MB/s and peak RSS (the child's own ``VmHWM``) are the collector's and the store's;
- the store's per-day totals against the corpus truth (each message once);
- ccusage on the same corpus, in the same run, right after tokentop's cold ingest (so
  both read the same bytes from the same warm page cache): the pinned ccusage 20.0.24
  (tests/support/install_ccusage.sh), invoked as the parity test invokes it,
  ``ccusage claude daily --json --offline --timezone UTC`` with ``CLAUDE_CONFIG_DIR`` at
  the corpus, ``HOME`` at an empty directory and ``TZ=UTC``. Printed: its wall time
  (a whole process: Node wrapper plus the native binary it spawns), MB/s, peak RSS (the
  child's ``ru_maxrss`` from ``os.wait4``: the largest single process of the two, not
  their sum), the ratio ccusage wall / tokentop cold wall, and how ccusage's per-day
  ``totalTokens`` compare with the store's per-day totals (reported, not asserted:
  ccusage counts some duplicate patterns twice by design, see the README's "Counting
  like ccusage"). ``--no-ccusage`` skips it; without ccusage installed it says how to
  install it and carries on;
- incremental: one line appended to one session file, then ``collect_once`` again
  (store opened, offsets loaded, every file stat'ed, the new bytes read), best of 5.

The ``report daily`` timing lives with the reports' benchmark (bench_report.py).
Exit status 1 if the store's per-day totals differ from the corpus truth or ccusage fails.
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

from tokentop.store.usage.collect import collect_once  # noqa: E402
from tokentop.store.usage.db import UsageStore  # noqa: E402

CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
INSTALL = "tests/support/install_ccusage.sh"

CHILD = """
import json, sys, time
from pathlib import Path
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
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


def run_ccusage(work: Path, corpus: Path) -> tuple[float, int, dict | None, str]:
    """``ccusage claude daily --json`` over ``corpus``: wall s, peak RSS bytes, JSON, stderr.

    The environment and arguments are the parity test's (tests/usage/test_ccusage_parity).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_", "CODEX_", "XDG_", "CCUSAGE"))}
    home = work / "ccusage-home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(corpus), CODEX_HOME=str(work / "codex"),
               XDG_STATE_HOME=str(work / "state"), XDG_CONFIG_HOME=str(work / "config"),
               TZ="UTC", NO_COLOR="1")
    cmd = [str(CCUSAGE), "claude", "daily", "--json", "--offline", "--timezone", "UTC"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # Linux: KiB
    if proc.returncode != 0:
        return wall, rss, None, f"exit {proc.returncode}: {stderr.strip()[-1000:]}"
    return wall, rss, json.loads(stdout), stderr


def compare_daily(ours: dict[str, int], theirs: dict[str, int]) -> str:
    """One line: ccusage's per-day totalTokens against the store's."""
    days = sorted(set(ours) | set(theirs))
    diff = {d: theirs.get(d, 0) - ours.get(d, 0) for d in days}
    bad = [d for d in days if diff[d] or (d in ours) != (d in theirs)]
    a, b = sum(ours.values()), sum(theirs.values())
    if not bad:
        return (f"ccusage per-day totalTokens equal the store's: True "
                f"({len(days)} days, {a:,} tokens)")
    worst = max(bad, key=lambda d: abs(diff[d]))
    only = [d for d in days if (d in ours) != (d in theirs)]
    return (f"ccusage per-day totalTokens equal the store's: False, {len(bad)} of "
            f"{len(days)} days differ"
            + (f" ({len(only)} in one report only)" if only else "")
            + f"; ccusage {b:,} vs store {a:,} tokens overall ({b - a:+,}, "
            f"{(b - a) / max(a, 1):+.3%}); largest on {worst}: {diff[worst]:+,} "
            f"({diff[worst] / max(ours.get(worst, 0), 1):+.3%})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="corpus size (default 1024)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="leave the data directory")
    ap.add_argument("--no-ccusage", action="store_true",
                    help="skip the ccusage run on the same corpus")
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

        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(db)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        proc_wall = time.perf_counter() - t0  # interpreter start and imports included
        cold = json.loads(out.stdout.strip().splitlines()[-1])
        mb = truth.bytes / 1e6
        rep = cold["report"]
        print(f"cold ingest: {cold['wall']:.2f} s, {mb / cold['wall']:,.0f} MB/s, "
              f"{rep['claude']['usage_lines'] / cold['wall']:,.0f} usage lines/s, "
              f"peak RSS {cold['hwm'] / 2**20:,.0f} MiB, "
              f"{rep['inserted']:,} inserted, {rep['duplicates']:,} store duplicates, "
              f"{rep['batches']} batches")
        want = {d: t.total for d, t in truth.daily.items()}
        ours = daily(db)
        ok = ours == want
        print(f"per-day totals equal the corpus truth: {ok}")
        print(f"store size: {db.stat().st_size / 2**20:,.1f} MiB "
              f"({db.stat().st_size / max(rep['inserted'], 1):,.0f} B/event)")

        # ccusage before the incremental part: that appends to the corpus
        if args.no_ccusage:
            print("ccusage: skipped (--no-ccusage)")
        elif not CCUSAGE.exists():
            print(f"ccusage: not installed, skipped; install it with {INSTALL} "
                  "(needs Node >= 20 and npm), or pass --no-ccusage")
        else:
            cc_wall, cc_rss, doc, err = run_ccusage(work, corpus)
            if doc is None:
                print(f"ccusage claude daily failed after {cc_wall:.2f} s: {err}")
                ok = False
            else:
                print(f"ccusage claude daily --json --offline (same corpus): "
                      f"{cc_wall:.2f} s, {mb / cc_wall:,.0f} MB/s, "
                      f"peak RSS {cc_rss / 2**20:,.0f} MiB; "
                      f"ccusage / tokentop cold wall = {cc_wall / cold['wall']:.2f}x "
                      f"({cc_wall / proc_wall:.2f}x against tokentop's whole process, "
                      f"{proc_wall:.2f} s with interpreter start)")
                theirs = {d["date"]: d["totalTokens"] for d in doc["daily"]}
                print(compare_daily(ours, theirs))

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
