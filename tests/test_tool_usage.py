"""Per-tool usage, skill usage and tool-only lines, as gridctl writes and seeds them.

Upstream (gridctl/gridctl at 7cec4076): the writer is ``MetricsFlusher.flushOnce`` in
``pkg/telemetry/metrics.go`` (a line whenever tokens *or* per-tool calls changed, the
whole cumulative ``tool_usage`` map on every emitted line, a ``__skills__`` line with
zero diff/total and ``prompt_usage``), the reader ``SeedFromFile`` /
``SeedPromptUsageFromFile`` in the same file (skip a zero token diff, latest map wins,
a reset drops it), the value ``metrics.ToolStat`` in ``pkg/metrics/accumulator.go``.
The lines are written by ``tokentop.tui.demo.gridctl`` (the byte-for-byte writer) or
copied from ``pkg/telemetry/metrics_test.go`` where noted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from metrics_files import server_dir, write

from tokentop.store.metrics import MetricsSource
from tokentop.store.metrics.layout import GridctlHomeError, default_root
from tokentop.store.metrics.tools import parse_go_time
from tokentop.tui.demo.gridctl import NS, GridctlWriter, Tokens, ToolStat

T0 = 1_777_982_400 * NS  # 2026-05-05T12:00:00Z
MIN = 60 * NS


def minute_of(ts_ns: int) -> int:
    return ts_ns // MIN


def active_minutes(src: MetricsSource, server: str | None = None) -> list[int]:
    ring = src.ring
    head = ring.head or 0
    return [p.minute for p in ring.buckets(server, head - 1000, head + 1000)]


def replay(root: Path) -> MetricsSource:
    src = MetricsSource(root)
    src.replay()
    return src


# -- item: a zero token diff adds no point ----------------------------------------------


def test_tool_only_line_adds_no_point_but_updates_tools(tmp_path: Path) -> None:
    w = GridctlWriter(tmp_path).server("prod", "github", cost=False)
    w.flush(T0 + 5 * NS, Tokens(100, 50), tools={"create_issue": (1, 100, 50)})
    # A call that counted no tokens: flushOnce still writes (toolChanged), diff zero.
    w.flush(T0 + 3 * MIN + 5 * NS, Tokens(), tools={"list_repos": (2, 0, 0)})
    lines = w.path.read_text().splitlines()
    assert '"diff":{"input_tokens":0,"output_tokens":0,"total_tokens":0}' in lines[-1]
    src = replay(tmp_path)
    assert active_minutes(src) == [minute_of(T0)]
    assert active_minutes(src, "prod/github") == [minute_of(T0)]
    assert src.ring.head == minute_of(T0)  # "updated"/"persisted" stay on the real minute
    tools = src.tools_snapshot()["prod/github"]
    assert tools["list_repos"].calls == 2 and tools["list_repos"].total_tokens == 0
    assert tools["create_issue"].calls == 1 and tools["create_issue"].total_tokens == 150


def test_tool_only_line_followed_live_adds_no_point(tmp_path: Path) -> None:
    """The follow path (``rescan`` of the changed server, what ``follow`` calls)."""
    w = GridctlWriter(tmp_path).server("prod", "github", cost=False)
    w.flush(T0, Tokens(10, 5), tools={"search_code": (1, 10, 5)})
    src = replay(tmp_path)
    version = src.ring.version
    w.flush(T0 + 2 * MIN, Tokens(), tools={"search_code": (3, 0, 0)})
    assert src.rescan([w.path]) == 1
    assert src.ring.version == version  # nothing to redraw as activity
    assert active_minutes(src) == [minute_of(T0)]
    assert src.tools_snapshot()["prod/github"]["search_code"].calls == 4


# -- item: tool_usage per server -------------------------------------------------------


def test_latest_tool_usage_wins_and_a_reset_drops_it(tmp_path: Path) -> None:
    w = GridctlWriter(tmp_path).server("prod", "github", cost=False)
    w.flush(T0, Tokens(100, 50), tools={"create_issue": (9, 100, 50)})
    src = replay(tmp_path)
    assert src.tools_snapshot()["prod/github"]["create_issue"].calls == 9
    # Accumulator.Clear: sentinel + reset line with no tool_usage ("token reset drops
    # carried-over tool usage on seed").
    w.restart(T0 + MIN, Tokens())
    src.rescan()
    assert "prod/github" not in src.tools_snapshot()
    assert replay(tmp_path).tools_snapshot() == {}
    w.flush(T0 + 2 * MIN, Tokens(7, 3), tools={"list_repos": (1, 7, 3)})
    src.rescan()
    assert list(src.tools_snapshot()["prod/github"]) == ["list_repos"]
    assert w.reported_tools == {"list_repos": ToolStat(1, T0 + 2 * MIN, 7, 3)}


def test_legacy_tool_usage_without_tokens_and_local_times(tmp_path: Path) -> None:
    d = server_dir(tmp_path, "prod", "github")
    write(d / "metrics.jsonl", [
        # Copied from metrics_test.go, "legacy tool_usage lines without token fields".
        '{"ts":"2026-05-06T00:00:00Z","server":"github","diff":{"input_tokens":100,'
        '"output_tokens":50,"total_tokens":150},"total":{"input_tokens":100,'
        '"output_tokens":50,"total_tokens":150},"tool_usage":{"create_issue":{"calls":4,'
        '"last_called_at":"2026-05-06T00:00:00Z"}}}',
    ])
    src = replay(tmp_path)
    stat = src.tools_snapshot()["prod/github"]["create_issue"]
    assert (stat.calls, stat.input_tokens, stat.output_tokens) == (4, 0, 0)
    # time.Unix(0, n) is local time: a gateway east of UTC writes an offset, nanoseconds.
    assert parse_go_time("2026-05-06T02:00:00.123456789+02:00") == datetime(
        2026, 5, 6, 0, 0, 0, 123456, tzinfo=UTC)
    assert parse_go_time("0001-01-01T00:00:00Z") is None  # the zero time.Time


def test_malformed_or_null_tool_usage_keeps_the_tokens(tmp_path: Path) -> None:
    w = GridctlWriter(tmp_path).server("prod", "github", cost=False)
    w.flush(T0, Tokens(1, 1), tools={"a": (1, 1, 1)})
    w.flush(T0 + MIN, Tokens(2, 2), extra=',"tool_usage":null')  # no map: keep "a"
    w.write_raw('{"ts":"2026-05-05T12:02:00Z","server":"github","diff":{"input_tokens":3},'
                '"tool_usage":{"a":"not a stat"}}')
    src = replay(tmp_path)
    assert src.tools_snapshot()["prod/github"]["a"].calls == 1
    assert sum(p.input_tokens for p in src.ring.buckets(None, 0, 10**9, 10**9)) == 6
    assert src.state.stats.malformed == 0


# -- item: __skills__ prompt_usage ------------------------------------------------------


def test_skills_prompt_usage_latest_wins_and_is_no_server(tmp_path: Path) -> None:
    writer = GridctlWriter(tmp_path)
    writer.server("prod", "github").flush(T0, Tokens(1, 1))
    writer.skills("prod", T0, {"code-review": ToolStat(1, T0)})
    path = writer.skills("prod", T0 + MIN, {"code-review": ToolStat(3, T0 + MIN),
                                            "release-notes": ToolStat(1, T0 + 30 * NS)},
                         tz_offset_s=-5 * 3600)
    first = path.read_text().splitlines()[0]
    assert first.startswith('{"ts":"2026-05-05T12:00:00Z","server":"__skills__","diff":{')
    assert '"last_called_at":"2026-05-05T07:01:00-05:00"' in path.read_text()
    src = replay(tmp_path)
    assert src.ring.servers() == ["prod/github"]
    skills = src.skills_snapshot()["prod"]
    assert skills["code-review"].calls == 3
    assert skills["code-review"].last_called == datetime(2026, 5, 5, 12, 1, tzinfo=UTC)
    assert skills["release-notes"].calls == 1
    assert active_minutes(src) == [minute_of(T0)]
    # Followed: a new skills line is read by the rescan of its directory.
    writer.skills("prod", T0 + 2 * MIN, {"code-review": ToolStat(5, T0 + 2 * MIN)})
    assert src.rescan([path]) == 1
    assert src.skills_snapshot()["prod"]["code-review"].calls == 5


def test_skills_line_whose_map_go_rejects_falls_back_to_the_line_before(
        tmp_path: Path) -> None:
    """SeedPromptUsageFromFile (pkg/telemetry/metrics.go) unmarshals each line whole: a
    ``prompt_usage`` of a shape ToolStat cannot take drops that line, so the map of the
    line before it is the one restored, read in one batch or followed."""
    writer = GridctlWriter(tmp_path)
    path = writer.skills("prod", T0, {"code-review": ToolStat(2, T0)})
    with path.open("a") as fh:
        fh.write('{"ts":"2026-05-05T12:01:00Z","server":"__skills__",'
                 '"prompt_usage":{"code-review":"lots"}}\n')
    src = replay(tmp_path)
    assert src.skills_snapshot()["prod"]["code-review"].calls == 2
    with path.open("a") as fh:
        fh.write('{"ts":"2026-05-05T12:02:00Z","server":"__skills__",'
                 '"prompt_usage":{"code-review":{"calls":"x"}}}\n')
    assert src.rescan([path]) == 1
    assert src.skills_snapshot()["prod"]["code-review"].calls == 2


# -- headless --------------------------------------------------------------------------


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def current_tree(tmp_path: Path) -> Path:
    """A current gridctl's tree: tokens and tools, no cost_* anywhere, a skills file."""
    writer = GridctlWriter(tmp_path)
    gh = writer.server("prod", "github", cost=False)
    gh.flush(T0 + 5 * NS, Tokens(900, 300), tools={"search_code": (2, 600, 200),
                                                   "create_issue": (1, 300, 100)})
    gh.flush(T0 + MIN + 5 * NS, Tokens(), tools={"create_issue": (1, 0, 0)})
    fs = writer.server("prod", "filesystem", cost=False)
    fs.flush(T0 + 7 * NS, Tokens(50, 2000), tools={"read_file": (4, 50, 2000)})
    writer.skills("prod", T0 + 9 * NS, {"code-review": ToolStat(2, T0 + 9 * NS)})
    return tmp_path


def test_metrics_json_tools_skills_and_no_cost(current_tree: Path) -> None:
    res = run("metrics", str(current_tree), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["cost_recorded"] is False
    assert [p["timestamp"] for p in doc["data_points"]] == ["2026-05-05T12:00:00Z"]
    assert doc["data_points"][0]["cost_usd"] is None  # unknown, not $0
    assert doc["totals"]["prod/github"]["cost_usd"] is None
    assert doc["tools"] == {
        "prod/filesystem": {"read_file": {
            "calls": 4, "last_called_at": "2026-05-05T12:00:07.000000Z",
            "input_tokens": 50, "output_tokens": 2000, "total_tokens": 2050}},
        "prod/github": {
            "search_code": {"calls": 2, "last_called_at": "2026-05-05T12:00:05.000000Z",
                            "input_tokens": 600, "output_tokens": 200, "total_tokens": 800},
            "create_issue": {"calls": 2, "last_called_at": "2026-05-05T12:01:05.000000Z",
                             "input_tokens": 300, "output_tokens": 100, "total_tokens": 400}},
    }
    assert list(doc["tools"]["prod/github"]) == ["search_code", "create_issue"]  # by tokens
    assert doc["skills"] == {"prod": {"code-review": {
        "calls": 2, "last_called_at": "2026-05-05T12:00:09.000000Z"}}}
    one = json.loads(run("metrics", str(current_tree), "--server", "prod/github").stdout)
    assert list(one["tools"]) == ["prod/github"] and list(one["skills"]) == ["prod"]


def test_metrics_text_form(current_tree: Path) -> None:
    res = run("metrics", str(current_tree), "--text")
    assert res.returncode == 0, res.stderr
    out = [line.split() for line in res.stdout.splitlines()]
    at = res.stdout.splitlines().index("tools (cumulative, since each server's last reset)")
    assert out[at + 1][:3] == ["SERVER", "TOOL", "CALLS"]
    # Busiest tool first, with its calls, tokens and last call (UTC).
    assert out[at + 2] == ["prod/filesystem", "read_file", "4", "50", "2,000", "2,050",
                           "2026-05-05", "12:00:07"]
    assert out[at + 3][:2] == ["prod/github", "search_code"]
    assert ["prod", "code-review", "2", "2026-05-05", "12:00:09"] in out
    assert "no cost: gridctl stopped writing cost_* on 2026-08-07" in res.stdout
    both = run("metrics", str(current_tree), "--text", "--json")
    assert both.returncode == 2 and both.stderr == "tokentop: --json and --text: pick one\n"


# -- GRIDCTL_HOME ----------------------------------------------------------------------


def test_default_root_follows_gridctl_home(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """pkg/state/home.go: GRIDCTL_HOME replaces $HOME; relative values are refused."""
    monkeypatch.setenv("GRIDCTL_HOME", str(tmp_path / "h" / ".." / "home"))
    assert default_root() == tmp_path / "home" / ".gridctl" / "telemetry"
    monkeypatch.delenv("GRIDCTL_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_root() == tmp_path / ".gridctl" / "telemetry"
    monkeypatch.setenv("GRIDCTL_HOME", "rel")
    with pytest.raises(GridctlHomeError, match="must be an absolute path"):
        default_root()
    assert os.environ["GRIDCTL_HOME"] == "rel"


def test_untrusted_tool_names_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    """Tool and skill names are whatever an MCP server registered: an escape sequence or
    markup in one is printed escaped by --text, and JSON-escaped by --json."""
    writer = GridctlWriter(tmp_path)
    writer.server("prod", "github", cost=False).flush(
        T0, Tokens(5, 5), tools={"\x1b[2Jwipe": (1, 5, 5), "[bold]x[/bold]": (1, 0, 0)})
    writer.skills("prod", T0, {"\x07bell": ToolStat(1, T0)})
    text = run("metrics", str(tmp_path), "--text").stdout
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2Jwipe" in text and "[bold]x[/bold]" in text and "\\x07bell" in text
    raw = run("metrics", str(tmp_path), "--json").stdout
    assert "\x1b" not in raw and "\\u001b[2Jwipe" in raw
