"""Hostile gridctl metrics lines (issue 16): counts that overflow 64 bits, and one box's
clock days ahead. Real files in gridctl's layout (``tests/metrics_files.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metrics_files import metrics_line, server_dir, write

from tokentop.store.metrics import MetricsSource

NOW = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "metrics", *args],
                          capture_output=True, text=True, timeout=60)


def test_counts_past_64_bits_are_malformed_not_a_traceback(tmp_path: Path) -> None:
    gh = server_dir(tmp_path, "prod", "github")
    write(gh / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:05Z", diff=(20, 10), total=(20, 10)),
        metrics_line("2026-05-05T12:01:05Z", diff=(2**62, 1), total=(2**62, 1)),
        metrics_line("2026-05-05T12:01:06Z", diff=(2**62, 1), total=(2**63, 2)),
        metrics_line("2026-05-05T12:02:05Z", diff=(5, 5), total=(25, 15)),
    ])
    out = run(str(tmp_path), "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    doc = json.loads(out.stdout)
    assert doc["malformed_lines"] == 2
    assert sum(p["input_tokens"] for p in doc["data_points"]) == 25


def test_a_box_days_ahead_does_not_erase_the_fleets_history(tmp_path: Path) -> None:
    a = server_dir(tmp_path, "prod", "github")
    write(a / "metrics.jsonl", [metrics_line(ts(NOW - timedelta(days=d, minutes=5)),
                                             diff=(100, 10), total=(100 * (7 - d), 10))
                                for d in range(6, -1, -1)])
    b = server_dir(tmp_path, "prod", "skewed")
    write(b / "metrics.jsonl", [
        metrics_line(ts(NOW - timedelta(minutes=3)), diff=(7, 1), total=(7, 1)),
        metrics_line(ts(NOW + timedelta(days=5)), diff=(9, 9), total=(16, 10)),  # clock skew
    ])
    clock = [NOW.timestamp()]
    source = MetricsSource(tmp_path, clock=lambda: clock[0])
    source.replay()
    ring = source.ring
    assert ring.head is not None and ring.head <= int(NOW.timestamp()) // 60 + 60
    assert source.state.stats.ahead_of_clock == 1
    doc_points = _points(source, "prod/github")
    assert doc_points == 7  # a week of history kept, every day of it
    # the clock gets there: the held point lands, and only then
    clock[0] = (NOW + timedelta(days=5)).timestamp()
    source.rescan()
    assert source.state.ahead == {}
    assert _points(source, "prod/skewed") == 2


def _points(source: MetricsSource, server: str) -> int:
    from tokentop.store.metrics import metrics_document

    doc = metrics_document(source, "all", server, None)
    return len(doc["data_points"])
