"""Shared fixtures: a fixed gridctl telemetry tree, a fixed clock, UTC, and app helpers.

The tree is written line by line from a formula, so tests can compute the numbers a
range must show without trusting the code under test, and snapshots are identical
on every machine: the clock is fixed, the time zone is UTC, the cursor does not
blink, and no temporary path is ever rendered (the empty state uses a fixed,
non-existent path).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from textual.pilot import Pilot

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp

# appended, not prepended: tests/traces has a conftest.py too, and ``from conftest
# import ...`` in a test module must keep finding this one
sys.path.append(str(Path(__file__).parent / "traces"))
from pg_server import PgServer, pg_bindir, running_server

NOW = datetime(2026, 5, 5, 12, 30, 0, tzinfo=UTC)
NOW_TS = NOW.timestamp()
NOW_MINUTE = int(NOW_TS) // 60
MISSING_ROOT = "/nonexistent/tokentop-test"


def fixed_clock() -> float:
    return NOW_TS


@dataclass(frozen=True)
class Activity:
    """One written line's contribution to the time series."""

    server: str
    minute: int
    input_tokens: int
    output_tokens: int
    cost_micro: int


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}"[:5] + "Z"


class TreeWriter:
    """Writes gridctl metrics lines and remembers what each one adds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.activity: list[Activity] = []
        self._totals: dict[str, list[int]] = {}

    def lines(self, server: str, start: datetime, step: timedelta, n: int, *,
              cost: bool = True, seed: int = 0) -> list[str]:
        """``n`` lines of one server, ``step`` apart, with running totals."""
        out = []
        tot = self._totals.setdefault(server, [0, 0, 0])
        for i in range(n):
            dt = start + step * i + timedelta(seconds=7, microseconds=482130)
            k = i + seed
            inp = 100 + (k * 37) % 50
            outp = 20 + (k * 11) % 30
            tot[0] += inp
            tot[1] += outp
            line: dict[str, object] = {
                "ts": _ts(dt),
                "server": server.split("/")[1],
                "diff": {"input_tokens": inp, "output_tokens": outp,
                         "total_tokens": inp + outp},
                "total": {"input_tokens": tot[0], "output_tokens": tot[1],
                          "total_tokens": tot[0] + tot[1]},
            }
            c = 0
            if cost:
                c = inp * 3 + outp * 15
                tot[2] += c
                line["cost_diff"] = {"input_micro_usd": inp * 3, "output_micro_usd": outp * 15}
                line["cost_total"] = {"input_micro_usd": tot[2]}
            minute = int(dt.timestamp()) // 60
            self.activity.append(Activity(server, minute, inp, outp, c))
            out.append(json.dumps(line))
        return out

    def write(self, server: str, name: str, lines: list[str], *, gz: bool = False,
              extra: tuple[str, ...] = ()) -> Path:
        path = self.root / server / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = ("\n".join([*lines, *extra]) + "\n").encode() if lines or extra else b""
        if gz:
            path.write_bytes(gzip.compress(data, mtime=0))
        else:
            path.write_bytes(data)
        return path


def write_tree(root: Path) -> TreeWriter:
    """The fixed tree: two stacks, four servers, rotated plain and gz siblings.

    - prod/github: a .gz rotation (hourly, May 1-3), a plain rotation (every 10 min,
      May 4 morning), the active file (every minute, 11:00-12:29 on May 5)
    - prod/slack: every 2 minutes from 06:00 to 12:28, with cost
    - dev/search: every 5 minutes from 09:00 to 12:25, no cost (an older gridctl),
      plus one malformed and one blank line
    - dev/idle: an empty active file (a server with no activity yet)
    - dev/__skills__: prompt_usage only, not a server
    """
    w = TreeWriter(root)
    d = datetime
    gh = "prod/github"
    w.write(gh, "metrics-2026-05-03T12-00-00.000.jsonl.gz",
            w.lines(gh, d(2026, 5, 1, 0, tzinfo=UTC), timedelta(hours=1), 60), gz=True)
    w.write(gh, "metrics-2026-05-04T12-00-00.000.jsonl",
            w.lines(gh, d(2026, 5, 4, 0, tzinfo=UTC), timedelta(minutes=10), 72, seed=3))
    w.write(gh, "metrics.jsonl",
            w.lines(gh, d(2026, 5, 5, 11, 0, tzinfo=UTC), timedelta(minutes=1), 90, seed=5))
    w.write("prod/slack", "metrics.jsonl",
            w.lines("prod/slack", d(2026, 5, 5, 6, 0, tzinfo=UTC), timedelta(minutes=2), 195,
                    seed=7))
    w.write("dev/search", "metrics.jsonl",
            w.lines("dev/search", d(2026, 5, 5, 9, 0, tzinfo=UTC), timedelta(minutes=5), 42,
                    cost=False, seed=11),
            extra=("{not json", ""))
    w.write("dev/idle", "metrics.jsonl", [])
    skills = root / "dev" / "__skills__"
    skills.mkdir(parents=True, mode=0o700)
    (skills / "metrics.jsonl").write_text(
        json.dumps({"ts": "2026-05-05T12:00:00Z", "server": "__skills__",
                    "prompt_usage": {"p": 1}}) + "\n")
    return w


@dataclass
class Tree:
    root: Path
    writer: TreeWriter

    def sums(self, start: int, end: int, server: str | None = None) -> tuple[int, int, int]:
        """(input, output, cost micro-USD) over minutes ``start..end``, from the lines."""
        picked = [a for a in self.writer.activity
                  if start <= a.minute <= end and (server is None or a.server == server)]
        return (sum(a.input_tokens for a in picked), sum(a.output_tokens for a in picked),
                sum(a.cost_micro for a in picked))


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC in every test (the UI shows local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """tokentop's state (the latency cache, a default usage store) never lands in the
    real home; a test that cares sets its own XDG_STATE_HOME over this one."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
    # Nor is the developer's own config.toml (or pricing.toml) read by a test.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    # Nor the status line's compiled price cache (``pricing_cache``).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursor and no colour switch from the host's environment."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    root = tmp_path / "telemetry"
    root.mkdir(mode=0o700)
    return Tree(root, write_tree(root))


def make_app(root: str | os.PathLike[str], *, follow: bool = False,
             clock: Callable[[], float] = fixed_clock) -> TokentopApp:
    """The real app over ``root`` with the fixed clock; replay only, unless ``follow``."""
    source = MetricsSource(root, clock=clock)
    return TokentopApp(source, clock=clock, follow=follow)


@pytest.fixture
def app(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    """The app over the fixed tree, named by a relative path: no tmp path is ever shown."""
    monkeypatch.chdir(tree.root.parent)
    return make_app(tree.root.name)


async def settle(pilot: Pilot[int], until: Callable[[], bool] | None = None) -> None:
    """Wait (bounded) until the replay is done and shown, then for the screen to idle."""
    app = cast(TokentopApp, pilot.app)
    for _ in range(500):
        replayed = app.source.progress.replayed or not app.source.root_exists()
        shown = getattr(app.screen_stack[0], "frame", None) is not None
        if replayed and shown and (until is None or until()):
            break
        await pilot.pause(0.01)
    else:  # pragma: no cover - a hang is a failure, not a wait forever
        raise AssertionError("the app did not settle")
    if not app.follow:  # a following worker never completes
        await app.workers.wait_for_complete()
    app.poll_source(force=True)
    await pilot.pause()
    await pilot.pause()


def run_before(
    extra: Callable[[Pilot[int]], Awaitable[None]] | None = None,
    until: Callable[[TokentopApp], bool] | None = None,
) -> Callable[[Pilot[int]], Awaitable[None]]:
    """A ``snap_compare`` hook: settle, then do ``extra`` (keys, clicks), then settle."""

    async def hook(pilot: Pilot[int]) -> None:
        app = cast(TokentopApp, pilot.app)
        await settle(pilot, None if until is None else lambda: until(app))
        if extra is not None:
            await extra(pilot)
            await settle(pilot)

    return hook


# -- the usage store ---------------------------------------------------------------------

USAGE_SONNET = "claude-sonnet-4-5-20250929"


def usage_requests() -> list[list[object]]:
    """The fixed usage store, as ingest batches (worked out by hand in test_usage_screen).

    NOW is 2026-05-05 12:30 UTC. Costs are given (``cost_usd``) except for the model
    nobody prices, so the expected dollars are plain sums.
    """
    from tokentop.store.usage.model import EventType, IngestRequest

    def msg(ts: datetime, model: str, i: int, o: int, cost: float | None, *,
            agent: str = "claude_code", provider: str = "anthropic",
            project: str = "/home/u/app", session: str = "s1") -> IngestRequest:
        return IngestRequest(
            source_system=agent, source_channel="jsonl", occurred_at=ts,
            message_id=f"m-{ts.isoformat()}", session_id=session, workspace_id=project,
            provider_id=provider, agent_name=agent, model_raw=model, input_tokens=i,
            output_tokens=o, cost_usd=cost)

    def snapshot(ts: datetime, used: int) -> IngestRequest:
        return IngestRequest(
            source_system="provider_poller", source_channel="api", occurred_at=ts,
            provider_id="anthropic", account_id="me", agent_name="provider_poller",
            event_type=EventType.LIMIT_SNAPSHOT, payload={"snapshot": {
                "provider_id": "anthropic", "account_id": "me", "status": "ok",
                "metrics": {"weekly": {"limit": 100, "remaining": 100 - used, "used": used,
                                       "unit": "percent", "window": "7d"}}}})

    d = datetime
    messages = [
        msg(d(2026, 5, 5, 12, 0, tzinfo=UTC), USAGE_SONNET, 1000, 500, 0.25),
        msg(d(2026, 5, 5, 11, 0, tzinfo=UTC), "gpt-5-codex", 3000, 1000, 0.75,
            agent="codex", provider="openai", project="/home/u/api", session="s2"),
        msg(d(2026, 5, 5, 12, 10, tzinfo=UTC), "mystery-x", 100, 100, None),
        msg(d(2026, 5, 3, 10, 0, tzinfo=UTC), USAGE_SONNET, 20000, 0, 2.0, session="s3"),
        msg(d(2026, 4, 30, 9, 0, tzinfo=UTC), USAGE_SONNET, 100000, 0, 10.0,
            project="/home/u/web", session="s4"),
        msg(d(2026, 4, 10, 9, 0, tzinfo=UTC), "gpt-5-codex", 500000, 0, 50.0,
            agent="codex", provider="openai", project="/home/u/api", session="s5"),
        msg(d(2026, 1, 1, 9, 0, tzinfo=UTC), "gpt-5-codex", 300, 0, 0.03,
            agent="codex", provider="openai", project="/home/u/api", session="s6"),
        IngestRequest(source_system="claude_code", source_channel="jsonl",
                      occurred_at=d(2026, 5, 5, 12, 1, tzinfo=UTC), session_id="s1",
                      workspace_id="/home/u/app", agent_name="claude_code",
                      event_type=EventType.TOOL_USAGE, tool_call_id="toolu_1",
                      tool_name="Bash"),
    ]
    # One snapshot per batch: tokentop keeps the first payload of each batch.
    return [messages, [snapshot(d(2026, 5, 5, 11, 30, tzinfo=UTC), 40)],
            [snapshot(d(2026, 5, 5, 12, 20, tzinfo=UTC), 50)]]


def write_usage_store(path: Path) -> Path:
    from tokentop.store.usage.db import UsageStore

    with UsageStore.open(path) as store:
        for batch in usage_requests():
            store.ingest(batch)  # type: ignore[arg-type]
    return path


@pytest.fixture
def usage_app(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    """The app over the fixed tree and the fixed usage store (relative paths only)."""
    monkeypatch.chdir(tree.root.parent)
    write_usage_store(Path("usage.db"))
    source = MetricsSource(tree.root.name, clock=fixed_clock)
    return TokentopApp(source, clock=fixed_clock, follow=False, usage_path=Path("usage.db"))


async def settle_usage(pilot: Pilot[int], until: Callable[[], bool] | None = None) -> None:
    """Wait (bounded) until the Usage screen shows a read of its window, then idle."""
    app = cast(TokentopApp, pilot.app)
    # bounded by time, not by rounds: a loaded machine (two cores, a full suite) needs
    # more than 500 rounds of 10 ms for a collector pass and a read
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        screen = app.screen
        view = getattr(screen, "view", None)
        shown = getattr(screen, "error", None) is not None or (
            view is not None and view.window == getattr(screen, "window", None))
        if shown and (until is None or until()):
            break
        await pilot.pause(0.01)
    else:  # pragma: no cover
        raise AssertionError("the usage screen did not settle")
    await pilot.pause()
    await pilot.pause()


async def settle_overview(pilot: Pilot[int]) -> None:
    """``settle`` for an app with a usage store: its usage worker never completes, so
    wait for the metrics worker's group only."""
    app = cast(TokentopApp, pilot.app)
    for _ in range(500):
        if app.source.progress.replayed and getattr(app.screen_stack[0], "frame", None):
            break
        await pilot.pause(0.01)
    else:  # pragma: no cover
        raise AssertionError("the app did not settle")
    for worker in list(app.workers):
        if worker.group == "metrics":
            await worker.wait()
    app.poll_source(force=True)
    await pilot.pause()
    await pilot.pause()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL for the session (tests/traces/pg_server.py); the trace-store
    and team usage store tests each create their own databases in it. Skips only when
    no PostgreSQL binaries exist (CI installs Debian's ``postgresql``)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    with running_server(bindir) as server:
        yield server
