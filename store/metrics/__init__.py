"""gridctl metrics files: discovery, rotation, replay into the ring, live tail.

    from tokentop.store.metrics import MetricsSource, metrics_document
    src = MetricsSource("~/.gridctl/telemetry")
    src.replay()
    print(metrics_document(src, "24h"))
"""

from tokentop.store.metrics.layout import Layout, default_root
from tokentop.store.metrics.query import RANGE_NAMES, RANGES, Window, metrics_document, window
from tokentop.store.metrics.replay import MetricsState, ReplayStats, ServerTotals
from tokentop.store.metrics.source import MetricsSource, Progress

__all__ = [
    "RANGES",
    "RANGE_NAMES",
    "Layout",
    "MetricsSource",
    "MetricsState",
    "Progress",
    "ReplayStats",
    "ServerTotals",
    "Window",
    "default_root",
    "metrics_document",
    "window",
]
