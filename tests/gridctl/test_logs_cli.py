"""``tokentop logs`` and ``tokentop spans`` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from gridlog_lines import append, slog, write_fixed_tree

from tokentop.store.gridctl.logs import parse_rfc3339_ns

ENV = {**os.environ, "TZ": "UTC"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args], capture_output=True,
                          text=True, timeout=60, env=ENV,
                          cwd=cwd or Path(__file__).resolve().parents[2])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "telemetry"
    write_fixed_tree(r)
    return r


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.splitlines()]


def test_logs_all_servers_merged_by_time(root: Path) -> None:
    res = run("logs", str(root), "--json")
    assert res.returncode == 0, res.stderr
    docs = lines(res.stdout)
    # prod/github: 20 rotated (.gz) + 60 active; prod/slack 15; dev/search 12 (+1 malformed)
    assert len(docs) == 107
    times = [parse_rfc3339_ns(str(d["time"]))[0] for d in docs]
    assert times == sorted(times)
    assert {d["server"] for d in docs} == {"prod/github", "prod/slack", "dev/search"}
    slack = next(d for d in docs if d["server"] == "prod/slack")
    assert str(slack["ts"]).endswith("-05:00") and str(slack["time"]).endswith("Z")
    assert "1 malformed" in res.stderr and "last malformed line" in res.stderr


def test_logs_filters(root: Path) -> None:
    res = run("logs", str(root), "--server", "prod/github", "--level", "warn")
    docs = lines(res.stdout)
    assert docs and {d["level"] for d in docs} == {"WARN", "ERROR"}
    assert {d["server"] for d in docs} == {"prod/github"}
    grep = lines(run("logs", str(root), "--grep", "BAD GATEWAY").stdout)
    assert grep and all(d["msg"] == "tool call failed" for d in grep)
    tail = lines(run("logs", str(root), "--server", "prod/github", "--tail", "5").stdout)
    assert len(tail) == 5 and tail[-1]["time"] == docs[-1]["time"]  # the newest, github's


@pytest.mark.parametrize(("args", "message"), [
    (("logs", "{root}/nope"), "telemetry directory not found"),
    (("logs", "{root}", "--level", "loud"), "--level: unknown level 'loud'"),
    (("logs", "{root}", "--server", "prod/nope"), "no server 'prod/nope'"),
    (("spans", "{root}", "--trace", "ffff"), "no spans of trace 'ffff'"),
])
def test_user_errors_are_one_line_exit_2(root: Path, args: tuple[str, ...], message: str) -> None:
    res = run(*(a.format(root=root) for a in args))
    assert res.returncode == 2
    assert res.stderr.startswith("tokentop: ") and message in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_logs_follow_prints_appends(root: Path) -> None:
    active = root / "prod" / "slack" / "logs.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tokentop.tui.cli", "logs", str(root),
                             "--follow", "--server", "prod/slack", "--grep", "appended"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=Path(__file__).resolve().parents[2])
    out: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [out.put(x) for x in stdout], daemon=True).start()
    try:
        got = []
        for n in (1, 2):  # each one printed once, whether loaded or followed
            append(active, slog("2026-05-05T07:00:00-05:00", "INFO", f"appended {n}",
                                component="slack") + "\n")
            got.append(json.loads(out.get(timeout=30)))
        append(active, slog("2026-05-05T07:00:01-05:00", "INFO", "not matched",
                            component="slack") + "\n")
        append(active, slog("2026-05-05T07:00:02-05:00", "INFO", "appended 3",
                            component="slack") + "\n")
        got.append(json.loads(out.get(timeout=30)))
        assert [d["msg"] for d in got] == ["appended 1", "appended 2", "appended 3"]
        assert all(d["server"] == "prod/slack" for d in got)
    finally:
        proc.terminate()
        proc.wait(10)
