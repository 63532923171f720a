"""Replay, live-latency and first-paint benchmark for the gridctl metrics store.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_replay.py                  # the issue's 1,000,000 lines
    python tests/bench/bench_replay.py --lines 100000   # a quick run

It writes its own gridctl tree in a temporary directory with the demo's writer (so the
bytes are gridctl's: Go timestamps, cost fields, lumberjack names): ``--lines`` lines
over ``--servers`` servers, each with two rotated siblings (the oldest gzipped, the
other plain) and an active file, spread over the last seven days. Then it measures:

- replay: ``MetricsSource(root).replay()`` in a fresh child process pinned to one core,
  so the wall time, lines/s and peak RSS (the child's own ``VmHWM``) are the replay's;
- live latency: with ``follow()`` running, 200 single-line appends to active files,
  each timed from the write until the ring holds that line's tokens (p50, p95);
- bare parse: the same files read, gunzipped and parsed line by line by orjson (the
  floor; ``replay / bare`` is issue 19's ratio, target <= 1.3x), in the same conditions;
- first paint: ``tokentop --metrics-dir ROOT`` under a pseudo-terminal, until the text
  "Token Usage" appears (``n/a`` while the dashboard does not exist yet).

Targets (from the issue): >= 400,000 lines/s on one core, peak RSS <= 300 MB,
append-to-ring p95 <= 150 ms, first paint <= 1 s whatever the history size.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tokentop.store.metrics import MetricsSource  # noqa: E402
from tokentop.tui.demo.gridctl import NS, Cost, GridctlWriter, Tokens  # noqa: E402

TARGET_LINES_PER_S = 400_000
TARGET_BARE_RATIO = 1.3  # issue 19: replay at the speed of parsing
TARGET_RSS_MB = 300
TARGET_P95_MS = 150
TARGET_PAINT_S = 1.0

SERVER_NAMES = (
    "github", "filesystem", "postgres", "slack", "browser",
    "linear", "jira", "notion", "sentry", "stripe",
)
SPAN_S = 7 * 24 * 3600 - 3600  # inside the ring's default seven days


# -- data ------------------------------------------------------------------------------


def server_names(count: int) -> list[tuple[str, str]]:
    """(stack, server) pairs: two stacks, realistic names, numbered beyond ten."""
    out = []
    for i in range(count):
        name = SERVER_NAMES[i] if i < len(SERVER_NAMES) else f"mcp-{i + 1}"
        out.append(("prod" if i % 2 == 0 else "staging", name))
    return out


def _rows(start_ns: int, step_ns: int, first: int, count: int, salt: int):
    """Deterministic, varied lines: token counts, sub-second times, 1 in 8 without cost."""
    for i in range(first, first + count):
        h = (i * 2_654_435_761 + salt) & 0xFFFFFFFF
        inp = 20 + h % 6_000
        out = 5 + (h >> 13) % 2_500
        ts = start_ns + i * step_ns + h % 900_000_000
        if h % 8 == 0:
            yield ts, inp, out, 0, 0
        else:
            yield ts, inp, out, inp * 3, out * 15


def build_data(
    root: Path, lines: int, servers: int, now_ns: int, cadence_s: float | None = None
) -> GridctlWriter:
    """The benchmark tree: per server, an old ``.gz`` backup, a plain backup, the active file.

    Lines are spread evenly over the last seven days (several per minute at a million
    lines), or with ``cadence_s`` one per server every that many seconds going back as
    far as the count requires (60: gridctl's real flush cadence).
    """
    writer = GridctlWriter(root)
    pairs = server_names(servers)
    per = [lines // servers + (1 if i < lines % servers else 0) for i in range(servers)]
    for idx, ((stack, name), count) in enumerate(zip(pairs, per, strict=True)):
        w = writer.server(stack, name)
        even = max(1, SPAN_S * NS // max(count, 1))
        step = even if cadence_s is None else int(cadence_s * NS)
        start = now_ns - step * count - NS
        cuts = [0, count * 4 // 10, count * 7 // 10, count]
        for part in range(3):
            n = cuts[part + 1] - cuts[part]
            w.flush_many(_rows(start, step, cuts[part], n, salt=idx * 7_919))
            if part < 2:
                # Rotated as the next line arrived; the oldest backup is compressed.
                w.rotate(start + cuts[part + 1] * step + 1_000, compress=part == 0)
    return writer


def dir_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


# -- replay ----------------------------------------------------------------------------

CHILD = r"""
import json, os, resource, sys, time
try:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
except (AttributeError, OSError):
    pass
def peak_kb():
    # VmHWM is this process image's own peak. ru_maxrss is not enough on Linux: it
    # keeps the high-water mark of the image exec replaced, i.e. the parent's RSS.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
from tokentop.store.metrics import MetricsSource
t1 = time.perf_counter()
base_kb = peak_kb()
src = MetricsSource(sys.argv[1], capacity_minutes=int(sys.argv[2]))
lines = src.replay()
t2 = time.perf_counter()
ring = src.ring
head = ring.head
fleet = ring.total(None, head - ring.capacity + 1, head) if head is not None else None
st = src.state.stats
print(json.dumps({
    "lines": lines, "stats_lines": st.lines, "malformed": st.malformed, "files": st.files,
    "truncated_gz": st.truncated_gz, "import_s": t1 - t0, "replay_s": t2 - t1,
    "maxrss_kb": peak_kb(), "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "base_kb": base_kb,
    "ring": [fleet.input_tokens, fleet.output_tokens, fleet.cost_micro_usd] if fleet else None,
    "too_old": ring.too_old,
}))
"""


BARE = r"""
import gzip, json, os, sys, time
try:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the replay
except (AttributeError, OSError):
    pass
try:
    from orjson import loads
    name = "orjson"
except ImportError:  # the bench still runs; the ratio is then against msgspec
    import msgspec
    loads, name = msgspec.json.decode, "msgspec (orjson not installed)"
t0 = time.perf_counter()
n = 0
for dirpath, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.startswith("metrics") or not f.endswith((".jsonl", ".jsonl.gz")):
            continue
        path = os.path.join(dirpath, f)
        with open(path, "rb") as fh:
            data = fh.read()
        if f.endswith(".gz"):
            data = gzip.decompress(data)
        for line in data.split(b"\n"):
            if line:
                loads(line)
                n += 1
print(json.dumps({"lines": n, "bare_s": time.perf_counter() - t0, "parser": name}))
"""


def measure_bare(root: Path) -> dict:
    """The floor the replay is held to (issue 19): every metrics file read, gunzipped and
    each line parsed by orjson into Python objects, nothing kept, in a fresh interpreter
    on one core, as the replay runs."""
    proc = subprocess.run([sys.executable, "-c", BARE, str(root)], capture_output=True,
                          text=True, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bare parse child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_replay(root: Path, capacity_minutes: int) -> dict:
    """Replay ``root`` in a fresh interpreter: its peak RSS is the replay's alone."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(capacity_minutes)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if proc.returncode != 0:
        raise SystemExit(f"replay child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- live latency ----------------------------------------------------------------------


def measure_live(
    root: Path, writer: GridctlWriter, appends: int, capacity_minutes: int
) -> tuple[list[float], int]:
    """Seconds from one appended line to the ring holding it, ``appends`` times.

    Each line goes to the current minute of one server, so "the ring holds it" is
    exact: that minute's bucket grew by this line's tokens. (Not future minutes: a line
    dated over an hour past the clock is held aside, by design, and never reaches the
    ring.) Busy-polling (1 ms) is the measurement itself, not synchronisation. Returns
    the samples and the timeouts.
    """
    src = MetricsSource(root, capacity_minutes=capacity_minutes)
    src.replay()
    ring = src.ring
    stop = threading.Event()
    follower = threading.Thread(target=src.follow, args=(stop,), daemon=True)
    follower.start()
    names = list(writer.servers)
    samples: list[float] = []
    timeouts = 0
    try:
        for i in range(appends + 1):  # the first one only proves the watcher is up
            name = names[i % len(names)]
            w = writer.servers[name]
            inp = 1_000_000 + i
            now_ns = time.time_ns()
            minute = now_ns // (60 * NS)
            had = ring.buckets(name, minute, minute)
            want = (had[0].input_tokens if had else 0) + inp
            version = ring.version
            t0 = time.perf_counter()
            w.flush(now_ns, Tokens(inp, 7), Cost(input=inp))
            limit = 10.0 if i == 0 else 5.0
            while True:
                if ring.version != version:
                    got = ring.buckets(name, minute, minute)
                    if got and got[0].input_tokens == want:
                        break
                if time.perf_counter() - t0 > limit:
                    timeouts += 1
                    break
                time.sleep(0.001)
            elapsed = time.perf_counter() - t0
            if i > 0:
                samples.append(elapsed)
            time.sleep(0.005 + (i * 7 % 11) / 1000)  # appends at irregular moments
    finally:
        stop.set()
        follower.join(5)
    return samples, timeouts


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation, rank = p * (n - 1) (as DESIGN 2.5 does for latencies)."""
    s = sorted(values)
    if not s:
        return float("nan")
    rank = p * (len(s) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (rank - lo)


# -- first paint -----------------------------------------------------------------------

_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def measure_first_paint(
    root: Path,
    *,
    timeout: float = 15.0,
    notes: list[str] | None = None,
) -> float | None:
    """Seconds from launching ``tokentop --metrics-dir ROOT`` until "Token Usage" shows.

    FIRST PAINT. The dashboard runs under a pseudo-terminal (120x40, xterm-256color)
    exactly as a user would start it; its output is scanned, escape sequences removed,
    for the Overview's "Token Usage" title. Then ``q`` is sent, and the process is
    killed if it is still alive. Returns None (and says why in ``notes``) when the
    dashboard cannot be started or never paints within ``timeout``.
    """
    notes = notes if notes is not None else []
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40",
           "PYTHONPATH": str(REPO)}
    env.pop("NO_COLOR", None)
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokentop.tui.cli", "--metrics-dir", str(root)],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
            start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        os.close(master)
        os.close(slave)
        notes.append(f"could not start the dashboard: {exc}")
        return None
    os.close(slave)
    buf = bytearray()
    painted: float | None = None
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    break
                buf += data
                if b"Token Usage" in _ANSI.sub(b"", bytes(buf)):
                    painted = time.perf_counter() - t0
                    break
            elif proc.poll() is not None:
                break
        if painted is None:
            text = _ANSI.sub(b"", bytes(buf)).decode(errors="replace").strip()
            last = text.splitlines()[-1].strip() if text else ""
            if proc.poll() is not None:
                notes.append(f"dashboard exited ({proc.returncode}) before painting: "
                             f"{last[:160] or 'no output'}")
            else:
                notes.append(f"no 'Token Usage' within {timeout:.0f} s")
    finally:
        with contextlib.suppress(OSError):
            os.write(master, b"q")
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(3)
        with contextlib.suppress(OSError):
            # Drain what is left so the child never blocks on a full terminal.
            while select.select([master], [], [], 0)[0] and os.read(master, 1 << 16):
                pass
        os.close(master)
    return painted


# -- main ------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "N/A" if ok is None else ("PASS" if ok else "FAIL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in total")
    parser.add_argument("--servers", type=int, default=10, help="servers (two stacks)")
    parser.add_argument("--appends", type=int, default=200, help="live appends to time")
    parser.add_argument("--cadence", type=float, metavar="SECONDS",
                        help="one line per server every SECONDS (60 = gridctl's real "
                        "cadence) instead of spreading the lines over seven days")
    parser.add_argument("--repeat", type=int, default=1, help="replay runs (best is kept)")
    parser.add_argument("--skip-paint", action="store_true", help="do not start the UI")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args(argv)
    if args.lines < args.servers or args.servers < 1:
        parser.error("need at least one line per server")

    root = Path(tempfile.mkdtemp(prefix="tokentop-bench-"))
    try:
        t = time.perf_counter()
        now_ns = time.time_ns()
        writer = build_data(root, args.lines, args.servers, now_ns, args.cadence)
        # The ring must hold the whole history for the exact-totals check (the CLI
        # allows up to 90 days); seven days, the default, when that is enough.
        span_min = 0 if args.cadence is None else int(
            args.cadence * -(-args.lines // args.servers) // 60)
        capacity = max(7 * 24 * 60, span_min + 24 * 60)
        files, size = dir_size(root)
        print(f"data      {args.lines:,} lines, {args.servers} servers, {files} files, "
              f"{size / 1e6:.1f} MB on disk, written in {time.perf_counter() - t:.1f} s")
        print(f"          {root}")

        if capacity > 7 * 24 * 60:
            print(f"          ring capacity {capacity // 1440} days to hold the whole history")
        runs = [measure_replay(root, capacity) for _ in range(max(1, args.repeat))]
        best = min(runs, key=lambda r: r["replay_s"])
        rate = best["lines"] / best["replay_s"]
        rss_mb = best["maxrss_kb"] / 1024
        fleet = writer.expected_ring_tokens()
        fleet_cost = sum(w.ring_cost for w in writer.servers.values())
        expected_ring = [fleet.input, fleet.output, fleet_cost]
        correct = (best["lines"] == args.lines and best["malformed"] == 0
                   and best["ring"] == expected_ring and best["truncated_gz"] == 0)
        for r in runs:
            print(f"replay    {r['replay_s']:.2f} s  {r['lines'] / r['replay_s']:,.0f} lines/s  "
                  f"peak RSS {r['maxrss_kb'] / 1024:.0f} MB (after imports "
                  f"{r['base_kb'] / 1024:.0f} MB; imports {r['import_s'] * 1000:.0f} ms; "
                  f"ru_maxrss {r['ru_maxrss_kb'] / 1024:.0f} MB, inherits the parent's)")
        bares = [measure_bare(root) for _ in range(max(1, args.repeat))]
        bare = min(bares, key=lambda r: r["bare_s"])
        ratio = best["replay_s"] / bare["bare_s"]
        print(f"bare      {bare['bare_s']:.2f} s  {bare['lines'] / bare['bare_s']:,.0f} lines/s "
              f"({bare['parser']}: read, gunzip, parse each line, keep nothing)  "
              f"replay / bare {ratio:.2f}x")
        print(f"          lines {best['lines']:,}  malformed {best['malformed']}  "
              f"files {best['files']}  ring matches writer: {best['ring'] == expected_ring}")

        samples, timeouts = measure_live(root, writer, args.appends, capacity)
        p50 = percentile(samples, 0.50) * 1000
        p95 = percentile(samples, 0.95) * 1000
        print(f"live      {len(samples)} appends  p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
              f"max {max(samples) * 1000:.1f} ms  timeouts {timeouts}")

        paint: float | None = None
        notes: list[str] = []
        if args.skip_paint:
            notes.append("skipped (--skip-paint)")
        else:
            paint = measure_first_paint(root, notes=notes)
        paint_text = f"{paint:.2f} s" if paint is not None else "n/a"
        print(f"paint     {paint_text}" + (f"  ({'; '.join(notes)})" if notes else ""))

        rows = [
            ("replay rate", f"{rate:,.0f} lines/s", f">= {TARGET_LINES_PER_S:,}",
             rate >= TARGET_LINES_PER_S),
            ("replay / bare", f"{ratio:.2f}x", f"<= {TARGET_BARE_RATIO}x",
             ratio <= TARGET_BARE_RATIO),
            ("replay correct", f"{best['lines']:,} lines, {best['malformed']} malformed",
             "exact", correct),
            ("peak RSS", f"{rss_mb:.0f} MB", f"<= {TARGET_RSS_MB} MB", rss_mb <= TARGET_RSS_MB),
            ("append->ring p50", f"{p50:.1f} ms", "", None if timeouts else True),
            ("append->ring p95", f"{p95:.1f} ms", f"<= {TARGET_P95_MS} ms",
             p95 <= TARGET_P95_MS and timeouts == 0),
            ("first paint", paint_text, f"<= {TARGET_PAINT_S:.0f} s",
             None if paint is None else paint <= TARGET_PAINT_S),
        ]
        print()
        print("=" * 72)
        print(f"{'figure':<18} {'measured':<30} {'target':<14} result")
        print("-" * 72)
        for name, value, target, ok in rows:
            print(f"{name:<18} {value:<30} {target:<14} {verdict(ok) if target else ''}")
        print("=" * 72)
        return 0 if all(ok is not False for _, _, target, ok in rows if target) else 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
