"""Start the dashboard: build the source (or the demo tree), run the app, clean up.

Imported by ``tui.cli`` only when the dashboard is asked for; Textual itself is
imported inside ``run_dashboard`` so this module stays cheap to import too.
"""

from __future__ import annotations

import sys

from store.ring import DEFAULT_CAPACITY_MINUTES


def run_dashboard(
    *,
    demo: bool = False,
    metrics_dir: str | None = None,
    poll: bool = False,
    capacity_minutes: int = DEFAULT_CAPACITY_MINUTES,
) -> int:
    """Run the dashboard until the user quits; returns the process exit code."""
    from store.metrics import MetricsSource

    tree = None
    try:
        if demo:
            try:
                from tui.demo import build_demo
            except ImportError as exc:
                print(f"tokentop: demo data is not available: {exc}", file=sys.stderr)
                return 2
            tree = build_demo()
            tree.start()
            metrics_dir = str(tree.root)
        source = MetricsSource(metrics_dir, capacity_minutes=capacity_minutes)

        from tui.app import TokentopApp

        app = TokentopApp(source, poll=poll)
        try:
            app.run()
        finally:
            app.stop_source()
        return app.return_code or 0
    except KeyboardInterrupt:
        return 130
    finally:
        if tree is not None:
            tree.stop()
