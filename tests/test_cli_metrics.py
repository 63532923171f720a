"""``tokentop metrics --json``: the headless document, and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from metrics_files import metrics_line, server_dir, write, write_gz


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokentop.tui.cli", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    gh = server_dir(tmp_path, "stack-a", "github")
    write_gz(gh / "metrics-2026-05-05T11-00-00.000.jsonl.gz", [
        metrics_line("2026-05-05T10:30:10Z", diff=(100, 50), total=(100, 50),
                     cost_diff={"input_micro_usd": 30000}, cost_total={"input_micro_usd": 30000}),
    ])
    write(gh / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:05Z", diff=(20, 10), total=(120, 60),
                     cost_diff={"input_micro_usd": 20000}, cost_total={"input_micro_usd": 50000}),
        metrics_line("2026-05-05T12:01:00.48213Z", diff=(25, 10), total=(145, 70),
                     cost_diff={"input_micro_usd": 50000}, cost_total={"input_micro_usd": 100000}),
        "garbage",
    ])
    b = server_dir(tmp_path, "stack-b", "github")
    write(b / "metrics.jsonl", [metrics_line("2026-05-05T12:01:30Z", diff=(1, 2), total=(1, 2))])
    return tmp_path


def test_all_range_document(tree: Path) -> None:
    res = run("metrics", str(tree), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["range"] == "all"
    assert doc["interval"] == "1m"
    assert doc["data_points"] == [
        {"timestamp": "2026-05-05T10:30:00Z", "input_tokens": 100, "output_tokens": 50,
         "total_tokens": 150, "cost_usd": 0.03},
        {"timestamp": "2026-05-05T12:00:00Z", "input_tokens": 20, "output_tokens": 10,
         "total_tokens": 30, "cost_usd": 0.02},
        {"timestamp": "2026-05-05T12:01:00Z", "input_tokens": 26, "output_tokens": 12,
         "total_tokens": 38, "cost_usd": 0.05},
    ]
    assert list(doc["per_server"]) == ["stack-a/github", "stack-b/github"]
    assert doc["per_server"]["stack-b/github"] == [
        {"timestamp": "2026-05-05T12:01:00Z", "input_tokens": 1, "output_tokens": 2,
         "total_tokens": 3, "cost_usd": 0.0}]
    assert doc["totals"] == {
        "stack-a/github": {"input_tokens": 145, "output_tokens": 70, "total_tokens": 215,
                           "cost_usd": 0.1},
        "stack-b/github": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                           "cost_usd": None},
    }
    assert (doc["files"], doc["lines"], doc["malformed_lines"]) == (3, 5, 1)


def test_hourly_range_until_and_server(tree: Path) -> None:
    res = run("metrics", str(tree), "--json", "--range", "24h", "--until", "2026-05-05T12:30:00Z",
              "--server", "stack-a/github")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["interval"] == "1h"
    assert [(p["timestamp"], p["total_tokens"]) for p in doc["data_points"]] == [
        ("2026-05-05T10:00:00Z", 150), ("2026-05-05T12:00:00Z", 65)]
    assert list(doc["per_server"]) == ["stack-a/github"]


def test_short_range_ends_at_until(tree: Path) -> None:
    res = run("metrics", str(tree), "--range", "30m", "--until", "2026-05-05T14:00:30+02:00")
    doc = json.loads(res.stdout)
    assert [p["timestamp"] for p in doc["data_points"]] == ["2026-05-05T12:00:00Z"]


def test_stack_directory_argument(tree: Path) -> None:
    doc = json.loads(run("metrics", str(tree / "stack-b"), "--json").stdout)
    assert list(doc["totals"]) == ["stack-b/github"]


def test_default_root_from_gridctl_home(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """GRIDCTL_HOME replaces the home directory (gridctl/gridctl pkg/state/home.go,
    ``HomeEnv``), so the root is ``$GRIDCTL_HOME/.gridctl/telemetry``
    (pkg/state/state.go ``TelemetryDir``), not ``$GRIDCTL_HOME/telemetry``."""
    import os

    home = tmp_path_factory.mktemp("home")
    (home / ".gridctl").mkdir()
    (home / ".gridctl" / "telemetry").symlink_to(tree)
    (home / "telemetry").mkdir()  # the old, wrong guess: must not be what is read
    env = {**os.environ, "GRIDCTL_HOME": str(home)}
    res = run("metrics", "--json", env=env)
    assert res.returncode == 0, res.stderr
    assert list(json.loads(res.stdout)["totals"]) == ["stack-a/github", "stack-b/github"]
    # A home without .gridctl/telemetry is reported with the path gridctl would write.
    empty = tmp_path_factory.mktemp("empty-home")
    res = run("metrics", "--json", env={**os.environ, "GRIDCTL_HOME": str(empty)})
    assert res.returncode == 2
    assert res.stderr == (f"tokentop: metrics directory not found: {empty}/.gridctl/telemetry"
                          " (pass DIR or set GRIDCTL_HOME)\n")


def test_relative_gridctl_home_is_refused() -> None:
    """gridctl refuses a relative GRIDCTL_HOME (pkg/state/home.go ``Home``); so does tokentop,
    for the headless commands and the dashboard alike, in one line."""
    import os

    env = {**os.environ, "GRIDCTL_HOME": "relative/home"}
    for args in (["metrics", "--json"], ["inventory"], []):
        res = run(*args, env=env)
        assert res.returncode == 2, args
        assert res.stderr == ("tokentop: GRIDCTL_HOME must be an absolute path, "
                              "got 'relative/home'\n"), args
        assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["metrics", "/nonexistent/tt"], "metrics directory not found: /nonexistent/tt"),
        (["metrics", "{tree}/stack-a/github/metrics.jsonl"], "not a directory"),
        (["metrics", "{tree}", "--until", "soon"], "--until is not an ISO 8601 time"),
        (["metrics", "{tree}", "--server", "nope/x"], "no server 'nope/x'"),
    ],
)
def test_user_errors_are_one_line_exit_2(tree: Path, args: list[str], message: str) -> None:
    res = run(*[a.format(tree=tree) for a in args])
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    assert res.stdout == ""
