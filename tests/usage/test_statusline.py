"""``tokentop statusline`` on a real SQLite store (rows by SQL, the rollup ingest would
keep), numbers worked out by hand.

Claude Code's stdin object follows the "Available data" example of the official docs
(https://code.claude.com/docs/en/statusline): ``session_id``, ``transcript_path``,
``cwd``, ``model {id, display_name}``, ``workspace {current_dir, project_dir}``,
``version``, ``output_style``, ``cost {total_cost_usd, total_duration_ms,
total_api_duration_ms, total_lines_added, total_lines_removed}``, ``context_window`` and
``rate_limits {five_hour, seven_day: {used_percentage, resets_at}}``.

NOW = 2026-11-20 12:00:00 UTC. Prices (bundled table): sonnet 4.5 $3/$15 per M, haiku
4.5 $1/$5.

  E3  2026-11-19T20:00:00Z  sonnet  cost 1.0 given   (yesterday; then 13 h of silence)
  E1  2026-11-20T09:10:00Z  sonnet  100,000 in, 20,000 out = 0.6
  E4  2026-11-20T11:30:00Z  haiku   1000 in, 1000 out = 0.006
  E2  2026-11-20T11:50:00Z  sonnet  cost 0.5 given

today (UTC) = E1 + E4 + E2 = 1.106; the active block starts 09:00 (E1), ends 14:00:
1.106, 120 minutes left; burn over 11:00-12:00 = E4 + E2 = $0.506/h. In
Pacific/Auckland (UTC+13) the day began at 11:00Z: today = E4 + E2 = 0.506. At 04:00Z
in America/New_York the day began at 05:00Z on the 19th: today = E3 = 1.0 (UTC: 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_read import insert, rebuild_rollup

from tokentop.store.usage.schema import create
from tokentop.tui.cli import main

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
AT = "2026-11-20T12:00:00Z"
CLAUDE_INPUT = {
    "hook_event_name": "Status",
    "session_id": "abc123",
    "transcript_path": "/home/u/.claude/projects/-home-u-app/abc123.jsonl",
    "cwd": "/home/u/app",
    "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
    "workspace": {"current_dir": "/home/u/app", "project_dir": "/home/u/app"},
    "version": "1.0.80",
    "output_style": {"name": "default"},
    "cost": {"total_cost_usd": 0.01234, "total_duration_ms": 45000,
             "total_api_duration_ms": 2300, "total_lines_added": 156,
             "total_lines_removed": 23},
    "context_window": {"total_input_tokens": 15234, "total_output_tokens": 4521,
                       "context_window_size": 200000},
    # 2026-11-20T13:30:00Z and 2026-11-23T12:00:00Z
    "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": 1795181400},
                    "seven_day": {"used_percentage": 18.4, "resets_at": 1795435200}},
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    import sqlite3

    path = tmp_path / "usage.db"
    c = sqlite3.connect(path, isolation_level=None)
    create(c)
    insert(c, "2026-11-19T20:00:00Z", model=SONNET, i=4000, cost=1.0)
    insert(c, "2026-11-20T09:10:00Z", model=SONNET, i=100_000, o=20_000)
    insert(c, "2026-11-20T11:30:00Z", model=HAIKU, i=1000, o=1000)
    insert(c, "2026-11-20T11:50:00Z", model=SONNET, i=10, cost=0.5)
    rebuild_rollup(c)
    c.close()
    return path


def add_quota(path: Path, used: float) -> None:
    import sqlite3

    c = sqlite3.connect(path, isolation_level=None)
    snap = {"provider_id": "acme", "metrics": {"requests": {"limit": 100, "used": used,
                                                            "window": "1d"}},
            "resets": {"requests": "2026-11-20T15:00:00Z"}}
    c.execute("INSERT INTO usage_limit_snapshots VALUES ('q1', '2026-11-20T11:55:00Z',"
              " 'acme', '', ?)", (json.dumps(snap),))
    c.close()


def run(store: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["statusline", "--store", str(store), "--at", AT,
                                       *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_without_input_one_line_of_today_block_and_burn(store: Path) -> None:
    code, out, err = run(store, "--no-color", "--tz", "UTC")
    assert code == 0, err
    assert out == "today $1.11 | block $1.11 (2h00m left) | $0.51/h\n"


def test_format_fills_every_placeholder(store: Path) -> None:
    code, out, _ = run(store, "--tz", "UTC", "--format",
                       "T={today} B={block} L={left} R={burn} Q=[{quota}] S=[{session}]")
    assert code == 0
    assert out == "T=$1.11 B=$1.11 L=2h00m R=$0.51/h Q=[] S=[]\n"  # plain: no colors


def test_today_starts_at_local_midnight(store: Path) -> None:
    code, out, _ = run(store, "--tz", "Pacific/Auckland", "--format", "{today}|{block}")
    assert code == 0
    assert out == "$0.51|$1.11\n"  # E4 + E2; the block still runs from 09:00Z
    code, out, _ = run(store, "--tz", "America/New_York", "--format", "{today}|{block}",
                       "--at", "2026-11-20T04:00:00Z")
    assert out == "$1.00|-\n"  # E3; no block: 8 h since the last event
    code, out, _ = run(store, "--tz", "UTC", "--format", "{today}", "--at",
                       "2026-11-20T04:00:00Z")
    assert out == "$0.00\n"


def test_claude_code_input_adds_session_model_and_rate_limits(store: Path) -> None:
    code, out, _ = run(store, "--no-color", "--tz", "UTC", stdin=json.dumps(CLAUDE_INPUT))
    assert code == 0
    assert out == ("Opus | session $0.01 | today $1.11 | block $1.11 (2h00m left) | "
                   "$0.51/h | 5h 42% (resets 1h30m)\n")


def test_nearest_quota_is_the_fullest(store: Path) -> None:
    add_quota(store, 80)
    code, out, _ = run(store, "--tz", "UTC", "--format", "{quota} in {quota_reset}",
                       stdin=json.dumps(CLAUDE_INPUT))
    assert code == 0
    assert out == "acme requests 80% in 3h00m\n"
    hot = json.loads(json.dumps(CLAUDE_INPUT))
    hot["rate_limits"]["seven_day"]["used_percentage"] = 97
    _, out, _ = run(store, "--tz", "UTC", "--format", "{quota} in {quota_reset}",
                    stdin=json.dumps(hot))
    assert out == "7d 97% in 3d00h\n"


def test_colors_by_quota_use(store: Path) -> None:
    add_quota(store, 95)
    code, out, _ = run(store, "--tz", "UTC", "--color")
    assert code == 0
    assert "\x1b[31macme requests 95% (resets 3h00m)\x1b[0m" in out  # red past 90%
    _, out, _ = run(store, "--tz", "UTC", "--no-color")
    assert "\x1b" not in out


def test_no_active_block(store: Path) -> None:
    code, out, _ = run(store, "--no-color", "--tz", "UTC", "--at", "2026-11-20T19:00:00Z")
    assert code == 0
    assert "no active block" in out and "$0.00/h" in out and "today $1.11" in out


def test_bad_input_still_prints_the_line(store: Path) -> None:
    code, out, err = run(store, "--no-color", "--tz", "UTC", stdin="not json{")
    assert code == 0
    assert out.startswith("today $1.11 |")
    assert err == "tokentop: statusline input is not JSON; ignored\n"


def test_untrusted_text_is_escaped(store: Path) -> None:
    evil = dict(CLAUDE_INPUT, model={"display_name": "Op\x1b]52;c;ZXZpbA==\x07us\u202e"})
    code, out, _ = run(store, "--no-color", "--tz", "UTC", stdin=json.dumps(evil))
    assert code == 0
    assert out.startswith("Op\\u001b]52;c;ZXZpbA==\\u0007us\\u202e | ")
    assert "\x1b" not in out and "\u202e" not in out


@pytest.mark.parametrize("template,message", [
    ("{nope}", "unknown placeholder {nope} in --format"),
    ("{today.__class__}", "unknown placeholder {today.__class__}"),
    ("{today!r}", "placeholder {today} takes no conversion"),
    ("{today", "bad --format"),
])
def test_bad_format_one_line(store: Path, template: str, message: str) -> None:
    code, out, err = run(store, "--format", template)
    assert code == 2 and out == ""
    assert err.startswith(f"tokentop: {message}") and err.count("\n") == 1


def test_missing_store_one_line(tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "none.db")
    assert code == 2 and out == ""
    assert err == f"tokentop: usage store not found: {tmp_path / 'none.db'} (run tokentop ingest)\n"


def test_real_process_with_stdin_open_and_silent(store: Path) -> None:
    """A tmux job or a shell pipe that never writes: the line comes anyway."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokentop.tui.cli", "statusline", "--store", str(store),
         "--at", AT, "--tz", "UTC"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert proc.wait(timeout=30) == 0
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.kill()
        proc.wait()
    assert line == "today $1.11 | block $1.11 (2h00m left) | $0.51/h\n"


def test_real_process_reads_claude_codes_json(store: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tokentop.tui.cli", "statusline", "--store", str(store),
         "--at", AT, "--tz", "UTC", "--format", "{model} {session} {quota}"],
        input=json.dumps(CLAUDE_INPUT).encode(), capture_output=True, timeout=60,
        check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Opus $0.01 5h 42%\n"


def test_block_found_from_hours_long_before_it(tmp_path: Path) -> None:
    """Events every 40 minutes from 20:10 the day before: blocks start 20:00, 01:00,
    06:00 and 11:00 (each event more than 5 h after its block's start opens the next),
    so the active block at NOW starts at 11:00 and holds the 11:30 event alone. Where the
    walk began decides that: begun at 07:00 it would find 07:00-12:00, over at NOW.
    The rollup's walk must give the block the reports' event-by-event walk gives."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from tokentop.store.usage import reports
    from tokentop.store.usage.glance import read_glance
    from tokentop.store.usage.timefmt import format_ts

    c = sqlite3.connect(tmp_path / "usage.db", isolation_level=None)
    create(c)
    at = datetime(2026, 11, 19, 20, 10, tzinfo=UTC)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    while at < now:
        insert(c, format_ts(at), model=SONNET, i=1000, o=100)
        at += timedelta(minutes=40)
    rebuild_rollup(c)
    glance = read_glance(c, now)
    (active,) = reports.blocks(c, reports.ReportOptions(now=now), active_only=True)["blocks"]
    assert glance.block is not None
    assert glance.block.start == datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert active["startTime"] == "2026-11-20T11:00:00.000Z"
    assert glance.block.entries == active["entries"] == 1
    assert glance.block.cost == pytest.approx(active["costUSD"]) == pytest.approx(0.0045)
    c.close()


def test_kept_snapshot_served_until_the_store_changes(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --at the line is kept in the state directory: a repeat call within
    --cache-seconds, with the store unchanged, prints it without reading the store; a
    write to the store (any ingest) makes the next call read it again."""
    import sqlite3

    state = tmp_path / "state"
    (state / "tokentop").mkdir(parents=True)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    kept = state / "tokentop" / "statusline.json"

    def line(*args: str) -> str:
        r = CliRunner().invoke(main, ["statusline", "--store", str(store), "--no-color",
                                      "--format", "{today}", *args])
        assert r.exit_code == 0, r.stderr
        return r.stdout

    assert line() == "$0.00\n"  # the real clock: nothing in the store today
    doc = json.loads(kept.read_text())
    assert doc["snapshot"]["today"] == 0.0 and doc["key"]["store"] == str(store)
    assert kept.stat().st_mode & 0o777 == 0o600
    doc["snapshot"]["today"] = 99.0  # what a kept line looks like, told apart
    kept.write_text(json.dumps(doc))
    assert line() == "$99.00\n"  # served from the file
    assert line("--cache-seconds", "0") == "$0.00\n"  # asked not to
    c = sqlite3.connect(store, isolation_level=None)
    c.execute("INSERT INTO tokentop_meta VALUES ('bump', '1')")  # the store moves on
    c.close()
    assert line() == "$0.00\n"
    assert json.loads(kept.read_text())["snapshot"]["today"] == 0.0


def test_the_executable_answers_without_click_as_click_does(store: Path) -> None:
    """tokentop.tui.entry runs a plain statusline command line itself; the same line
    as through click, and anything it does not know goes to click."""
    from tokentop.tui.commands.statusline_run import parse_plain

    base = ["--store", str(store), "--at", AT, "--tz", "UTC"]
    entry = [sys.executable, "-c", "from tokentop.tui.entry import main; main()"]
    fast = subprocess.run([*entry, "statusline", *base, "--no-color"], capture_output=True,
                          timeout=60, check=False)
    _, via_click, _ = run(store, "--no-color", "--tz", "UTC")
    assert fast.returncode == 0 and fast.stdout.decode() == via_click
    assert parse_plain([*base, "--format={today}", "--color"]) == {
        "store_path": str(store), "template": "{today}", "color": True, "tz_name": "UTC",
        "at": AT, "cache_seconds": None}
    for args in (["--help"], ["--store"], ["--bogus"], ["--cache-seconds", "x"]):
        assert parse_plain(args) is None
    helped = subprocess.run([*entry, "statusline", "--help"], capture_output=True,
                            timeout=60, check=False)
    assert helped.returncode == 0 and b"--cache-seconds" in helped.stdout
    bad = subprocess.run([*entry, "statusline", *base, "--tz", "Mars/Olympus"],
                         capture_output=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert bad.stderr == b"tokentop: unknown timezone 'Mars/Olympus'\n"


@pytest.mark.parametrize("text", [
    "Opus 4.1", "Sonnet (1M context)", "https://u:secret@h/x", "password=hunter2",
    "caf\u00e9", "a\tb", "x\x1b[31m", "PASSWORD=x",
])
def test_safe_is_the_output_rule(text: str) -> None:
    from tokentop.tui.commands.statusline_format import safe
    from tokentop.tui.output import escape_output

    assert safe(text) == escape_output(text)


def test_day_that_began_within_the_current_hour(tmp_path: Path) -> None:
    """Asia/Kathmandu is UTC+5:45: at 18:20Z local midnight was 18:15Z, inside the
    current hour, so "today" is that hour's events after 18:15 only (18:17, not 18:10)."""
    import sqlite3
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from tokentop.store.usage.glance import read_glance

    c = sqlite3.connect(tmp_path / "usage.db", isolation_level=None)
    create(c)
    insert(c, "2026-11-20T17:30:00Z", model=SONNET, cost=4.0)
    insert(c, "2026-11-20T18:10:00Z", model=SONNET, cost=2.0)
    insert(c, "2026-11-20T18:17:00Z", model=SONNET, cost=1.0)
    rebuild_rollup(c)
    g = read_glance(c, datetime(2026, 11, 20, 18, 20, tzinfo=UTC), ZoneInfo("Asia/Kathmandu"))
    assert g.today_cost == pytest.approx(1.0)
    assert g.burn.cost_per_hour == pytest.approx(7.0)  # 17:20-18:20: all three
    assert g.block is not None and g.block.cost == pytest.approx(7.0)
    c.close()
