"""Bench the Files screen: inventory scan time and the screen's first paint.

    python tests/bench/bench_files.py                # 200 servers x 3 signals x 6 files
    python tests/bench/bench_files.py --servers 1000 --runs 3

Builds a telemetry tree in a temporary directory (each (server, signal): the active
file, two plain backups, three ``.gz`` backups; metrics files hold valid lines, so the
dashboard's replay reads them as it would gridctl's), then measures:

- inventory scan: ``tokentop.store.gridctl.inventory.inventory(root)``, best and median of runs;
- first paint: ``tokentop --metrics-dir ROOT`` under a 120x40 pseudo-terminal, as a
  user runs it; once the Overview has painted and gone quiet (replay done), ``6`` is
  typed and the time runs until the first row's server name is on the terminal
  (the first scan posts its first rows early); median over fresh processes. For
  reference, the same over an empty root (until its message shows): what switching
  to the screen costs without any data. Also, headless (``App.run_test``): until the
  table holds its visible rows, and all rows;
- loop stall: the longest gap of a 10 ms timer on the app's event loop while the
  screen rescans live for 3 s and a file grows every 100 ms (the rescans run in a
  thread and reuse unchanged records; the table is diffed; labels update on change).

Prints the figures and PASS/FAIL against the targets; exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import os
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "gridctl"))

from files_tree import NOW, Backup, family  # noqa: E402

_ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
SETTLE_S = 2.0
FIRST_PAINT_TARGET_MS = 300.0
SCAN_TARGET_MS = 150.0
STALL_TARGET_MS = 100.0
SIGNALS = ("logs", "metrics", "traces")


def build(root: Path, servers: int) -> int:
    """``servers`` servers over stacks of 20, each signal with 6 files. Returns files."""
    files = 0
    for i in range(servers):
        server_dir = root / f"stack-{i // 20:02d}" / f"server-{i:04d}"
        for signal in SIGNALS:
            backups = tuple(
                Backup(f"2026-05-0{1 + k}T00-00-00.000", NOW - (5 - k) * 86400, 400 + 40 * k,
                       gz=k < 3, plain=k >= 3)
                for k in range(5))
            files += len(family(server_dir, signal, active=(600 + i % 97, NOW - i),
                                backups=backups))
    return files


def bench_scan(root: Path, runs: int) -> tuple[float, float, int]:
    from tokentop.store.gridctl.inventory import inventory

    times = []
    records = 0
    for _ in range(runs):
        t = time.perf_counter()
        records = len(inventory(root))
        times.append((time.perf_counter() - t) * 1000)
    return min(times), statistics.median(times), records


async def first_paint(root: Path, rows: int) -> tuple[float, float]:
    """ms from pressing 6 to (the visible rows drawn, every row in the table)."""
    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp
    from tokentop.tui.screens.files import FilesScreen
    from tokentop.tui.widgets.files_table import FilesTable

    source = MetricsSource(root)
    app = TokentopApp(source, follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(6000):  # bounded: the replay of every metrics family
            if source.progress.replayed:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        t = time.perf_counter()
        await pilot.press("6")
        first = None
        for _ in range(100_000):
            screen = app.screen
            if isinstance(screen, FilesScreen) and screen.is_mounted:
                table = screen.query_one(FilesTable)
                visible = max(1, table.size.height - 1)  # the header takes a line
                if first is None and table.row_count >= min(rows, visible):
                    await pilot.pause()  # the refresh that draws them
                    first = (time.perf_counter() - t) * 1000
                if table.row_count == rows and screen.complete:
                    break
            await asyncio.sleep(0.001)
        else:
            raise SystemExit("the Files screen never showed its rows")
        await pilot.pause()
        assert first is not None
        return first, (time.perf_counter() - t) * 1000


def pty_paint(root: Path, expect: bytes, timeout: float = 60.0) -> float:
    """ms from typing ``6`` in ``tokentop --metrics-dir ROOT`` (120x40 pty) until
    ``expect`` is on the terminal: the user's first paint, terminal output included.

    The dashboard is started as a user starts it; ``6`` is typed once the Overview
    has painted (its source switch shows) and ``SETTLE_S`` more seconds have passed
    (the replay of the bench tree takes well under that; the Overview's status line
    ticks every second, so waiting for silence would wait forever).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40",
           "PYTHONPATH": str(REPO)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "tokentop.tui.cli", "--metrics-dir", str(root)],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    buf = bytearray()

    def read(wait: float) -> bool:
        ready, _, _ = select.select([master], [], [], wait)
        if not ready:
            return False
        try:
            data = os.read(master, 1 << 16)
        except OSError:
            data = b""
        if not data:
            raise SystemExit("the dashboard closed its terminal")
        buf.extend(data)
        return True

    try:
        start = time.perf_counter()
        while b"metrics  usage  both" not in _ANSI.sub(b"", bytes(buf)):  # the Overview
            read(0.05)
            if time.perf_counter() - start > timeout:
                raise SystemExit("the Overview never painted")
        settle = time.perf_counter()
        while time.perf_counter() - settle < SETTLE_S:  # the replay ends meanwhile
            read(0.05)
        buf.clear()
        t = time.perf_counter()
        os.write(master, b"6")
        while expect not in _ANSI.sub(b"", bytes(buf)):
            read(0.005)
            if time.perf_counter() - t > timeout:
                raise SystemExit(f"{expect!r} never showed")
        return (time.perf_counter() - t) * 1000
    finally:
        with contextlib.suppress(OSError):
            os.write(master, b"q")
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(3)
        with contextlib.suppress(OSError):
            while select.select([master], [], [], 0)[0] and os.read(master, 1 << 16):
                pass
        os.close(master)


async def loop_stall(root: Path, rows: int, seconds: float = 3.0) -> float:
    """The longest gap of a 10 ms timer while the screen rescans live."""
    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp
    from tokentop.tui.screens.files import FilesScreen

    source = MetricsSource(root)
    app = TokentopApp(source, follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(6000):
            if source.progress.replayed:
                break
            await pilot.pause(0.01)
        await pilot.press("6")
        for _ in range(10_000):
            if isinstance(app.screen, FilesScreen) and app.screen.scans:
                break
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        gaps: list[float] = []
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

        # The apps measured before this one left garbage behind: collect it now, or a
        # full collection of it would land in this window and be blamed on the screen.
        gc.collect()
        timer = app.set_interval(0.01, tick)
        # Keep the inventory moving: a file grows every 100 ms, so every rescan posts.
        grow = root / "stack-00" / "server-0000" / "logs.jsonl"
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            with open(grow, "ab") as fh:
                fh.write(b"x" * 99 + b"\n")
            await asyncio.sleep(0.1)
        timer.stop()
        return max(gaps[1:]) * 1000 if len(gaps) > 1 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="fresh apps for the first paint")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    os.environ.setdefault("TZ", "UTC")
    tmp = Path(tempfile.mkdtemp(prefix="tokentop-bench-files-"))
    root = tmp / "telemetry"
    try:
        t = time.perf_counter()
        files = build(root, args.servers)
        rows = args.servers * len(SIGNALS)
        print(f"tree: {args.servers} servers x {len(SIGNALS)} signals, {files} files "
              f"({time.perf_counter() - t:.1f} s to write) in {root}")
        best, median, records = bench_scan(root, 10)
        assert records == rows, (records, rows)
        print(f"inventory scan: best {best:.1f} ms, median {median:.1f} ms ({records} records)")
        empty = tmp / "empty"
        empty.mkdir()
        base = statistics.median(pty_paint(empty, b"no telemetry files under")
                                 for _ in range(args.runs))
        paints = [pty_paint(root, b"stack-00/server-0000") for _ in range(args.runs)]
        paint = statistics.median(paints)
        print("first paint, pty (type 6 -> first row on the terminal): "
              + ", ".join(f"{p:.0f}" for p in paints) + f" ms; median {paint:.0f} ms")
        print(f"  reference: the same over an empty root (its message): {base:.0f} ms")
        runs = [asyncio.run(first_paint(root, rows)) for _ in range(args.runs)]
        seen = statistics.median(r[0] for r in runs)
        whole = statistics.median(r[1] for r in runs)
        print(f"headless: visible rows in the table {seen:.0f} ms, all {rows} rows "
              f"{whole:.0f} ms (medians)")
        stall = asyncio.run(loop_stall(root, rows))
        print(f"loop stall while rescanning live: max {stall:.0f} ms")
        results = [
            ("inventory scan (median)", median, SCAN_TARGET_MS),
            ("first paint (median)", paint, FIRST_PAINT_TARGET_MS),
            ("loop stall (max)", stall, STALL_TARGET_MS),
        ]
        ok = True
        print()
        for name, value, target in results:
            passed = value <= target
            ok &= passed
            print(f"{name:<26} {value:8.1f} ms  target <= {target:.0f} ms  "
                  f"{'PASS' if passed else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
