"""Start the dashboard: build the source (or the demo tree), run the app, clean up.

Imported by ``tokentop.tui.cli`` only when the dashboard is asked for; Textual itself is
imported inside ``run_dashboard`` so this module stays cheap to import too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokentop.store.ring import DEFAULT_CAPACITY_MINUTES


def run_dashboard(
    *,
    demo: bool = False,
    metrics_dir: str | None = None,
    poll: bool = False,
    capacity_minutes: int = DEFAULT_CAPACITY_MINUTES,
    store: str | None = None,
    events: str | None = None,
    events_replay: bool = False,
    traces: str | None = None,
    latency_cache: str = "auto",
    diagnostics: str | None = None,
    access: str | None = None,
    hosts: tuple[str, ...] = (),
    prefs: Mapping[str, Any] | None = None,
) -> int:
    """Run the dashboard until the user quits; returns the process exit code.

    ``prefs``: the app's preference arguments from the config file (start screen, start
    ranges, theme, refresh: ``Settings.app_prefs``)."""
    from tokentop.store.metrics import MetricsSource
    from tokentop.store.usage.team.location import is_team_url

    tree = None
    usage = None
    team: str | None = None
    follower = None
    demo_events = demo_access = demo_traces = None
    try:
        if demo:
            try:
                from tokentop.tui.demo import build_demo
            except ImportError as exc:
                print(f"tokentop: demo data is not available: {exc}", file=sys.stderr)
                return 2
            tree = build_demo()
            tree.start()
            metrics_dir = str(tree.root)
            from tokentop.tui.demo.usage import build_demo_usage

            usage = build_demo_usage()
            usage.start()
            usage_path, collect = usage.path, False
            if events is None:
                from tokentop.tui.demo.events import build_demo_events

                demo_events = build_demo_events()
                demo_events.start()
                events = str(demo_events.path)
            if access is None:
                from tokentop.tui.demo.access import build_demo_access

                demo_access = build_demo_access()
                demo_access.start()
                access = str(demo_access.path)
            if traces is None:
                from tokentop.tui.demo.traces import build_demo_traces

                demo_traces = build_demo_traces()  # 3,000 traces, then one a second
                demo_traces.start()
                traces = str(demo_traces.path)
                latency_cache = "memory"  # a throwaway store: leave no cache file behind
                if diagnostics is None:
                    diagnostics = str(demo_traces.diagnostics_path)
        elif is_team_url(store):
            assert store is not None
            from tokentop.store.usage.db import UsageStoreError
            from tokentop.store.usage.team.sync import prepare_replica

            try:  # local files only: the server is reached by the team source's worker
                usage_path, collect, team = prepare_replica(store), False, store
            except (UsageStoreError, OSError) as exc:
                print(f"tokentop: cannot open the team store's replica: {exc}",
                      file=sys.stderr)
                return 2
        else:
            usage_path, collect = usage_store(store)
        if not demo:
            follower = remote_metrics(metrics_dir)
            if follower is not None:
                metrics_dir = str(follower.mirror.local)
        source = MetricsSource(metrics_dir, capacity_minutes=capacity_minutes)

        from tokentop.tui.app import TokentopApp

        app = TokentopApp(source, poll=poll, usage_path=usage_path, usage_collect=collect,
                          usage_team=team,
                          events=events, events_replay=events_replay, traces=traces,
                          latency_cache=latency_cache, diagnostics=diagnostics,
                          access=access, remote_hosts=() if demo else hosts,
                          **(prefs or {}))
        try:
            app.run()
        finally:
            app.stop_source()
        return app.return_code or 0
    except KeyboardInterrupt:
        return 130
    finally:
        if follower is not None:
            follower.stop()
        for demo_source in (demo_traces, demo_access, demo_events):
            if demo_source is not None:
                demo_source.stop()
        if usage is not None:
            usage.stop()
        if tree is not None:
            tree.stop()


def usage_store(store: str | None) -> tuple[Path, bool]:
    """The usage store to show, and whether the dashboard collects into it.

    Without ``--store``: tokentop's own (created on first use), collected into. With it:
    collected into only when it is tokentop's (the default path, or a database with
    tokentop's owner mark, see ``is_own_store``); anything else, such as openusage's
    ``telemetry.db``, is only read.
    """
    from tokentop.store.usage.db import is_own_store
    from tokentop.store.usage.paths import default_db_path

    default = default_db_path()
    if store is None:
        return default, True
    path = Path(store).expanduser()
    if path.resolve() == default.resolve():
        return path, True
    return path, is_own_store(path)


def remote_metrics(metrics_dir: str | None, *, follow: bool = True) -> Any:
    """``--metrics-dir user@box:PATH``: a copy of the box's telemetry tree under
    tokentop's state directory, kept up to date by a thread (``store.remote.mirror``),
    or None for a local directory. A box that cannot be reached now: one line, and the
    last copy is shown while it is tried again."""
    if metrics_dir is None or Path(metrics_dir).exists():
        return None
    from tokentop.store.remote.mirror import (
        Follower,
        Mirror,
        default_copy_dir,
        split_target,
    )
    from tokentop.store.remote.session import RemoteError

    target = split_target(metrics_dir)
    if target is None:
        return None
    host, path = target
    try:
        follower = Follower(Mirror(host, path, default_copy_dir(host, path)))
    except RemoteError as exc:
        print(f"tokentop: --metrics-dir: {exc}", file=sys.stderr)
        return None
    error = follower.first()
    if not follow:  # a headless command: one copy, then the connection ends
        follower.mirror.close()
        return follower
    if error is not None:
        print(f"tokentop: --metrics-dir: {error}; showing the last copy, trying again",
              file=sys.stderr)
    follower.start()
    return follower
