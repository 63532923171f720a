"""A FIFO named like a signal file (issue 16): ``metrics``, ``logs`` and ``spans`` used to
block in ``open`` waiting for a writer. Only regular files are opened now
(``store/tail/regular.py``): the FIFO is named and skipped, the rest is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gridctl"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gridlog_lines import write_fixed_tree
from metrics_files import metrics_line, server_dir, write


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "telemetry"
    write_fixed_tree(root)
    write(server_dir(root, "prod", "github") / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:05Z", diff=(20, 10), total=(20, 10))])
    trap = server_dir(root, "prod", "trap")
    for name in ("metrics.jsonl", "logs.jsonl", "traces.jsonl"):
        os.mkfifo(trap / name)  # nobody ever writes to them
    return root


@pytest.mark.parametrize("command", ["metrics", "logs", "spans"])
def test_a_fifo_never_hangs_a_command(tree: Path, command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", command, str(tree),
                          "--json"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TZ": "UTC"})
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 1, 2), out.stderr
    assert out.stdout.strip(), out.stderr  # what the regular files hold is printed
