"""``tokentop spans`` as a user runs it: a real process over real traces.jsonl files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gridlog_lines import TRACE_HEX, write_fixed_tree

from tokentop.store.gridctl.logs import parse_rfc3339_ns

ENV = {**os.environ, "TZ": "UTC"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args], capture_output=True,
                          text=True, timeout=60, env=ENV,
                          cwd=Path(__file__).resolve().parents[2])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "telemetry"
    write_fixed_tree(r)
    return r


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.splitlines()]


def test_spans_and_one_trace_waterfall(root: Path) -> None:
    res = run("spans", str(root), "--server", "prod/github")
    assert res.returncode == 0, res.stderr
    docs = lines(res.stdout)
    assert len(docs) == 3 * (30 + 6)  # rotated .gz and active, three spans per call
    roots = [d for d in docs if d["tool"]]
    assert roots[0]["client"] == "claude-code" and roots[0]["tokens"] == {
        "input_tokens": 500, "output_tokens": 120}
    assert all(len(str(d["traceId"])) == 32 and len(str(d["spanId"])) == 16 for d in docs)
    trace = str(roots[-1]["traceId"])
    wf = lines(run("spans", str(root), "--trace", trace.upper()).stdout)
    assert [(d["depth"], d["name"]) for d in wf] == [
        (0, f"tools/call {roots[-1]['tool']}"), (1, "mcp.transport.send"),
        (2, "POST api.github.com")]
    assert wf[0]["offsetNs"] == 0 and int(str(wf[2]["offsetNs"])) > 0
    assert TRACE_HEX not in res.stdout  # only the fixed tree's ids


def test_spans_of_all_servers_sorted_and_empty_dirs(root: Path, tmp_path: Path) -> None:
    docs = lines(run("spans", str(root)).stdout)
    assert {d["server"] for d in docs} == {"prod/github", "prod/slack"}
    starts = [parse_rfc3339_ns(str(d["start"]))[0] for d in docs]
    assert starts == sorted(starts)
    empty = tmp_path / "empty"
    (empty / "s" / "x").mkdir(parents=True)
    res = run("spans", str(empty))
    assert res.returncode == 0 and res.stdout == "" and "0 spans printed" in res.stderr
