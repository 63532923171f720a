"""Render the screenshots in ``screenshots/``: ``python tests/make_screenshots.py``.

The Overview runs on the demo fleet (``tokentop.tui.demo``) built with a fixed seed and a fixed
"now", read with a fixed clock in UTC, so the SVGs only change when the UI does; the
Events screen reads the demo browser's fixed excerpt (``tokentop.tui.demo.events.sample_lines``).
``python tests/make_screenshots.py events.svg`` renders only the named ones. The
app is the real one, driven headless through ``App.run_test``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "screenshots"
NOW = datetime(2026, 5, 5, 15, 30, tzinfo=UTC).timestamp()
SEED = 7



def _clock() -> float:
    return NOW


async def _shoot(root: Path, name: str, size: tuple[int, int], keys: tuple[str, ...],
                 usage_path: Path | None = None, events: str | None = None,
                 **sources: str) -> Path:
    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp

    source = MetricsSource(root, clock=_clock)
    app = TokentopApp(source, clock=_clock, follow=False, usage_path=usage_path,
                      events=events, **sources)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await settle_screen(app, pilot, source, keys, usage_path)
        path = OUT / name
        app.save_screenshot(filename=name, path=str(OUT))
    return path


async def settle_screen(app: Any, pilot: Any, source: Any, keys: tuple[str, ...],
                       usage_path: Path | None) -> None:
    """Press ``keys``, then wait (bounded) until every reader of the screen shown has
    drawn what it read: the replay, the event file, the Logs/Spans/Files/Traces/Access
    workers and the usage store. Shared with tests/test_cut_numbers.py."""
    events_source = app.sources.events.reads if app.sources.events else None
    for _ in range(1000):  # bounded wait: the demo event file read to its end
        if events_source is None or events_source.stats.state in ("ended", "failed"):
            break
        await pilot.pause(0.01)
    for _ in range(1000):  # bounded wait for the replay worker
        if source.progress.replayed:
            break
        await pilot.pause(0.01)
    for worker in list(app.workers):
        if worker.group == "metrics":  # the usage worker polls until the app ends
            await worker.wait()
    app.poll_source(force=True)
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
        for _ in range(500):  # the Logs/Spans screens read their files in a worker
            if getattr(app.screen, "loaded", True):
                break
            await pilot.pause(0.01)
    for _ in range(500):  # bounded wait for the Events screen to read everything
        feed = app.sources.events
        reader, stream = (feed.reader, feed.stream) if feed else (None, None)
        if reader is None or stream is None or not hasattr(app.screen, "rows_read") or (
                reader.next_seq > stream.seq and events_source is not None
                and getattr(app.screen, "shown_received", -1)
                == events_source.stats.received):
            break
        await pilot.pause(0.01)
    for _ in range(500):  # bounded wait for the Files screen's first whole scan
        if getattr(app.screen, "scans", 1):
            break
        await pilot.pause(0.01)
    for _ in range(500):  # bounded wait for the usage worker's first read
        view = getattr(app.screen, "view", None)
        if usage_path is None or (view is None and not hasattr(app.screen, "view")) or (
                view is not None and view.window == app.screen.window):
            break
        await pilot.pause(0.01)
    for _ in range(1000):  # bounded wait for the Traces/Access screens' first reads
        screen = app.screen
        if hasattr(screen, "pages_loaded") and not screen.error and not (
                screen.pages_loaded and screen.analytics is not None
                and screen.diagnostics is not None):
            await pilot.pause(0.01)
            continue
        log = getattr(screen, "access_log", None)
        if log is not None and (log.stats.state not in ("ended", "failed")
                                or screen.drawn_version != log.version):
            await pilot.pause(0.01)
            continue
        break
    await pilot.pause()
    await pilot.pause()


SHOTS: tuple[tuple[str, tuple[int, int], tuple[str, ...]], ...] = (
    ("overview.svg", (120, 40), ()),
    ("overview-80x24.svg", (80, 24), ()),
    ("overview-server.svg", (120, 40), ("down", "enter", "r")),
    ("help.svg", (120, 40), ("question_mark",)),
    ("usage.svg", (120, 40), ("2",)),
    ("usage-80x24.svg", (80, 24), ("2",)),
    ("events.svg", (120, 40), ("3",)),
    ("events-80x24.svg", (80, 24), ("3",)),
    ("logs.svg", (120, 40), ("7",)),
    ("logs-80x24.svg", (80, 24), ("7", "l", "l")),
    ("spans.svg", (120, 40), ("8", "s", "s", "s", "up", "up", "enter")),
    ("spans-80x24.svg", (80, 24), ("8",)),
    ("traces.svg", (120, 40), ("4",)),
    ("traces-80x24.svg", (80, 24), ("4",)),
    ("access.svg", (120, 40), ("5",)),
    ("access-80x24.svg", (80, 24), ("5",)),
    ("files.svg", (120, 40), ("6", "down")),
    ("files-80x24.svg", (80, 24), ("6",)),
)
ONLY = set(sys.argv[1:])  # names to render (all when none given)


@contextlib.contextmanager
def fixed_demo() -> Iterator[dict[str, Any]]:
    """The demo's files for every source, built with a fixed seed and "now", in a
    temporary directory made the working directory (relative paths: the help screen
    shows the root, and a temp path would change every run). Yields the keyword
    arguments of ``_shoot`` after the root."""
    from tokentop.tui.demo import build_demo
    from tokentop.tui.demo.access import sample_lines as access_lines
    from tokentop.tui.demo.events import FILE_NAME, sample_lines
    from tokentop.tui.demo.traces import build_demo_traces
    from tokentop.tui.demo.usage import build_demo_usage

    back = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="tokentop-shots-") as tmp:
        os.chdir(tmp)
        tree = build_demo(Path("telemetry"), now=NOW, seed=SEED)
        usage = build_demo_usage(datetime.fromtimestamp(NOW, UTC), seed=SEED,
                                 root=Path("usage"))
        Path(FILE_NAME).write_text("\n".join(sample_lines(NOW, SEED)) + "\n")
        Path("access.jsonl").write_text("\n".join(access_lines(NOW, SEED)) + "\n")
        gateway = build_demo_traces(SEED, now=NOW, root=Path("gateway"))
        try:
            yield {"usage_path": Path("usage/usage.db"), "events": FILE_NAME,
                   "traces": "gateway/traces.db",
                   "diagnostics": "gateway/trace-pipeline-diagnostics.json",
                   "access": "access.jsonl"}
        finally:
            gateway.stop()
            usage.stop()
            tree.stop()
            os.chdir(back)


async def main() -> int:
    os.environ["TZ"] = "UTC"
    time.tzset()
    sys.path.insert(0, str(REPO))
    OUT.mkdir(exist_ok=True)
    with fixed_demo() as sources:
        for name, size, keys in SHOTS:
            if ONLY and name not in ONLY:
                continue
            path = await _shoot(Path("telemetry"), name, size, keys, **sources)
            print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
