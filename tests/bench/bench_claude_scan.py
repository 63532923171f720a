"""Claude Code log scan benchmark: cold ingest of a generated corpus, then incremental.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_claude_scan.py                 # the issue's 1 GiB corpus
    python tests/bench/bench_claude_scan.py --size-mb 100   # a quick run
    python tests/bench/bench_claude_scan.py --no-ccusage    # tokentop's figures only
    python tests/bench/bench_claude_scan.py --runs 5        # medians of 5 (default 3)

It writes a Claude Code ``projects/`` tree with ``tests/usage/claude_corpus.py`` (lines
of 1-20 KB, ~30% of the usage lines duplicate copies: streamed, resumed, sidechain),
then measures:

- cold: ``collect_once`` into a fresh store, in a fresh child process, so the wall time,
  MB/s and peak RSS (the child's own ``VmHWM``, and the largest parsing worker's) are the
  collector's and the store's; once as tokentop chooses (a corpus this size is parsed in
  worker processes: ``tokentop.store.usage.shards``) and once forced in process (the
  serial path, for the before/after in one run);
- cold report: ``tokentop report daily --json`` into a fresh store (the issue's figure:
  interpreter, imports, collect and report), beside ``ccusage daily --json --offline``
  on the same home right after it (the native binary; same variables, an empty HOME):
  walls, the ratio tokentop / ccusage per run, peak RSS (``ru_maxrss`` of the child from
  ``os.wait4``: its largest process). ``--runs`` pairs, medians printed;
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
- the writer's floor: every SQL statement the store ran in a cold collect (with its
  parameters, recorded from the pass's connection), replayed into a fresh store in
  the same transactions, with no Python work between them: what the single writer
  costs through CPython's sqlite3 even if validation, keys, costs and rollup sums
  were free (computed elsewhere, on the other core). Beside ccusage's whole run, it
  says whether any split of the Python work can reach the issue's 1.0x;
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
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "usage")]

from claude_corpus import START, write_corpus  # noqa: E402

from tokentop.store.usage.collect import collect_once  # noqa: E402
from tokentop.store.usage.db import UsageStore  # noqa: E402

CCUSAGE = ROOT / "tests" / "support" / "ccusage" / "node_modules" / ".bin" / "ccusage"
CCUSAGE_NATIVE = (ROOT / "tests" / "support" / "ccusage" / "node_modules" / "@ccusage"
                  / "ccusage-linux-x64" / "bin" / "ccusage")
INSTALL = "tests/support/install_ccusage.sh"

CHILD = """
import json, sys, time
from pathlib import Path
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
import resource
corpus, db = Path(sys.argv[1]), Path(sys.argv[2])
parallel = {"auto": None, "serial": False}[sys.argv[3]]
t0 = time.perf_counter()
store = UsageStore.open(db)
rep = collect_once(store, claude_roots=[corpus], codex_dir=corpus / "none",
                   hook_spool=corpus / "none", agents=(), parallel=parallel)
store.close()
wall = time.perf_counter() - t0
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) * 1024
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "hwm": hwm, "workers_rss": kids.ru_maxrss * 1024,
                  "cpu": me.ru_utime + me.ru_stime,
                  "workers_cpu": kids.ru_utime + kids.ru_stime, "report": rep.as_dict()}))
"""



def writer_floor(work: Path, corpus: Path | None, env: dict[str, str] | None = None,
                 ) -> dict:
    """One run of ``writer_floor.py`` in a child (its JSON line)."""
    cmd = [sys.executable, str(Path(__file__).with_name("writer_floor.py")), str(work)]
    if corpus is not None:
        cmd += ["--claude", str(corpus)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def clean_env(work: Path, corpus: Path) -> dict[str, str]:
    """Only the corpus is visible: an empty HOME, every agent's variables dropped."""
    from tokentop.store.usage.agents import AGENTS

    drop = {v for a in AGENTS for v in a.env} | {"XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                  "XDG_STATE_HOME", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("CLAUDE_", "CODEX_", "CCUSAGE"))}
    for d in ("home", "no-codex"):
        (work / d).mkdir(exist_ok=True)
    env.update(HOME=str(work / "home"), CLAUDE_CONFIG_DIR=str(corpus),
               CODEX_HOME=str(work / "no-codex"), XDG_STATE_HOME=str(work / "state"),
               XDG_CONFIG_HOME=str(work / "config"), XDG_DATA_HOME=str(work / "xdg-data"),
               TZ="UTC", NO_COLOR="1", PYTHONPYCACHEPREFIX=str(work / "pycache"))
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """(wall s, peak RSS bytes of the child's largest process, stdout); raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{cmd[0]} failed: {err.read().decode(errors='replace')[-800:]}")
        return wall, usage.ru_maxrss * 1024, out.read().decode()


def report_cmd(db: Path) -> list[str]:
    exe = Path(sys.executable).with_name("tokentop")
    args = ["report", "daily", "--json", "--timezone", "UTC", "--store", str(db)]
    if exe.exists():
        return [str(exe), *args]
    return [sys.executable, "-c", "import sys; from tokentop.tui.commands.report import "
            "report; report(sys.argv[1:], prog_name='tokentop report')", *args[1:]]


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def cold_reports(work: Path, corpus: Path, runs: int, mb: float) -> bool:
    """``--runs`` pairs: tokentop's cold report, then ccusage's on the same home."""
    native = CCUSAGE_NATIVE if CCUSAGE_NATIVE.exists() else CCUSAGE
    have_cc = native.exists()
    env = clean_env(work, corpus)
    db = work / "report.db"
    timed(report_cmd(work / "empty.db"), {**env, "CLAUDE_CONFIG_DIR": str(work / "home")},
          ROOT)  # writes the bytecode cache once, as an installed tokentop has it
    tt, cc, ratio, tt_rss, cc_rss = [], [], [], [], []
    for _ in range(runs):
        for f in work.glob("report.db*"):
            f.unlink()
        w, rss, _out = timed(report_cmd(db), env, ROOT)
        tt.append(w)
        tt_rss.append(rss)
        if have_cc:
            w2, rss2, _out = timed([str(native), "daily", "--json", "--offline",
                                    "--timezone", "UTC"], env, work)
            cc.append(w2)
            cc_rss.append(rss2)
            ratio.append(w / w2)
    print(f"cold tokentop report daily --json ({runs} runs): median {med(tt):.2f} s "
          f"({mb / med(tt):,.0f} MB/s), runs {', '.join(f'{x:.2f}' for x in tt)}; "
          f"peak RSS {max(tt_rss) / 2**20:,.0f} MiB (largest process)")
    if not have_cc:
        print(f"ccusage: not installed, skipped; install it with {INSTALL}")
        return True
    print(f"ccusage daily --json --offline ({native.name}, same home, right after each): "
          f"median {med(cc):.2f} s, runs {', '.join(f'{x:.2f}' for x in cc)}; "
          f"peak RSS {max(cc_rss) / 2**20:,.0f} MiB")
    print(f"tokentop / ccusage cold wall, same run: median {med(ratio):.2f}x "
          f"(runs {', '.join(f'{x:.2f}' for x in ratio)}; target <= 1.0x)")
    return True


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
    ap.add_argument("--runs", type=int, default=3, help="cold runs of each kind (default 3)")
    ap.add_argument("--corpus", type=Path,
                    help="an existing CLAUDE_CONFIG_DIR-shaped corpus (not written, not "
                         "appended to; its truth is unknown, so not compared)")
    ap.add_argument("--no-ccusage", action="store_true",
                    help="skip the ccusage run on the same corpus")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tokentop-bench-claude-"))
    corpus, db = args.corpus or work / "claude", work / "usage.db"
    try:
        truth = None
        if args.corpus is None:
            # the corpus starts on a fixed date; the store refuses events dated past
            # tomorrow (store/usage/bounds.py), so no day may lie after today
            days = max(1, min(args.days, (datetime.now(UTC) - START).days))
            t0 = time.perf_counter()
            truth = write_corpus(corpus, seed=args.seed, days=days,
                                 size_bytes=args.size_mb << 20)
            gen = time.perf_counter() - t0
            dup = truth.duplicate_lines / max(truth.usage_lines, 1)
            print(f"corpus: {truth.bytes / 2**20:,.0f} MiB, {truth.files:,} files, "
                  f"{truth.lines:,} lines, {truth.usage_lines:,} usage lines "
                  f"({dup:.0%} duplicate copies), {truth.messages:,} messages "
                  f"(written in {gen:.1f} s)")
        size = sum(p.stat().st_size for p in (corpus / "projects").rglob("*.jsonl"))
        mb = size / 1e6
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        colds: dict[str, list[dict]] = {"auto": [], "serial": []}
        for _ in range(args.runs):
            for mode in ("auto", "serial"):
                for f in work.glob("usage.db*"):
                    f.unlink()
                out = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(db), mode],
                                     cwd=ROOT, capture_output=True, text=True, check=True)
                colds[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for mode, label in (("serial", "in process (before)"),
                            ("auto", "as tokentop chooses (workers)")):
            runs = colds[mode]
            walls = [c["wall"] for c in runs]
            c = runs[-1]
            rep = c["report"]
            print(f"cold collect, {label}: median {med(walls):.2f} s "
                  f"({mb / med(walls):,.0f} MB/s), runs {', '.join(f'{w:.2f}' for w in walls)}; "
                  f"CPU {c['cpu']:.2f} s + workers {c['workers_cpu']:.2f} s; "
                  f"peak RSS {max(x['hwm'] for x in runs) / 2**20:,.0f} MiB "
                  f"(largest worker {max(x['workers_rss'] for x in runs) / 2**20:,.0f} MiB); "
                  f"{rep['inserted']:,} inserted, {rep['duplicates']:,} store duplicates, "
                  f"{rep['batches']} batches")
        same = {k: v for k, v in colds["auto"][-1]["report"].items() if k != "elapsed_s"} == {
            k: v for k, v in colds["serial"][-1]["report"].items() if k != "elapsed_s"}
        print(f"both paths report the same counts: {same}")
        ok = same
        ours = daily(db)  # the last run's store (in process)
        if truth is not None:
            want = {d: t.total for d, t in truth.daily.items()}
            ok = ok and ours == want
            print(f"per-day totals equal the corpus truth: {ours == want}")
        print(f"store size: {db.stat().st_size / 2**20:,.1f} MiB")
        floors = [writer_floor(work, corpus) for _ in range(args.runs)]
        f, walls = floors[-1], [x["wall"] for x in floors]
        print(f"writer's floor (tests/bench/writer_floor.py: the cold collect's "
              f"{f['statements']:,} SQL statements in {f['batches']} batches and "
              f"{f['commits']} commits, replayed into a fresh store with no Python work "
              f"between them): median "
              f"{med(walls):.2f} s, runs {', '.join(f'{w:.2f}' for w in walls)}; "
              f"last run by kind: {', '.join(f'{k} {v:.2f} s' for k, v in f['kinds'].items())}")

        if args.no_ccusage:
            print("ccusage: skipped (--no-ccusage)")
        else:
            cold_reports(work, corpus, args.runs, mb)
            if CCUSAGE.exists():  # the parity test's invocation, on the same corpus
                cc_wall, _rss, doc, err = run_ccusage(work, corpus)
                if doc is None:
                    print(f"ccusage claude daily failed after {cc_wall:.2f} s: {err}")
                    ok = False
                else:
                    theirs = {d["date"]: d["totalTokens"] for d in doc["daily"]}
                    print(compare_daily(ours, theirs))
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.corpus is not None:  # not ours to append to
            return 0 if ok else 1

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
