"""Alerts in the dashboard: the banner, the bell, notify-send and the user's command.

The app is the real one over the fixed usage store (conftest.usage_requests, fixed
clock: today's cost is $1.00) with ``cost-per-day = 0.5``. notify-send and the alert
command are real executables written into a directory put first on PATH: each records
its arguments, stdin and TOKENTOP_ALERT_* environment to a file, so what tokentop
passed is read back from a real process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Tree, fixed_clock, settle_overview, write_usage_store
from textual.pilot import Pilot

from tokentop.store.alerts.rules import Alert
from tokentop.store.metrics import MetricsSource
from tokentop.tui.alert_delivery import deliver
from tokentop.tui.app import TokentopApp
from tokentop.tui.config.alerts import AlertSettings
from tokentop.tui.widgets.alert_banner import AlertBanner

MESSAGE = "cost today $1.00 (over $0.50)"
RECORDER = """#!{python}
import json, os, sys
out = {{"argv": sys.argv[1:], "stdin": sys.stdin.read() if {read_stdin} else "",
        "env": {{k: v for k, v in os.environ.items() if k.startswith("TOKENTOP_ALERT_")}}}}
with open({record!r}, "a") as f:
    f.write(json.dumps(out) + "\\n")
if os.environ.get("FAIL_ALERT_COMMAND"):
    print("boom: disk full", file=sys.stderr)
    sys.exit(3)
"""


def recorder(bin_dir: Path, name: str, record: Path, read_stdin: bool) -> Path:
    script = bin_dir / name
    script.write_text(RECORDER.format(python=sys.executable, record=str(record),
                                      read_stdin=read_stdin))
    script.chmod(0o755)
    return script


def records(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A fake notify-send first on PATH, and an alert command; their record files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    found = {"notify": tmp_path / "notify-send.jsonl", "command": tmp_path / "command.jsonl"}
    recorder(bin_dir, "notify-send", found["notify"], read_stdin=False)
    found["program"] = recorder(bin_dir, "on-alert", found["command"], read_stdin=True)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return found


def alert_app(tree: Tree, monkeypatch: pytest.MonkeyPatch, **settings: object) -> TokentopApp:
    monkeypatch.chdir(tree.root.parent)
    write_usage_store(Path("usage.db"))
    source = MetricsSource(tree.root.name, clock=fixed_clock)
    alerts = AlertSettings(thresholds={"cost-per-day": 0.5}, **settings)  # type: ignore[arg-type]
    return TokentopApp(source, clock=fixed_clock, follow=False, usage_path=Path("usage.db"),
                       alerts=alerts)


async def wait_for(pilot: Pilot[int], done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30  # a loaded machine: bounded by time, not rounds
    while not done():
        if time.monotonic() > deadline:  # pragma: no cover
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()


def checks(app: TokentopApp) -> int:
    feed = app.sources.get("alerts")
    return getattr(feed, "checks", 0)


def banner(app: TokentopApp) -> AlertBanner:
    return app.screen.query_one(AlertBanner)


async def test_the_banner_shows_once_and_the_bell_rings_once(
        tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    app = alert_app(tree, monkeypatch, desktop=False)
    rung: list[None] = []
    monkeypatch.setattr(app, "bell", lambda: rung.append(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await wait_for(pilot, lambda: bool(app.alerts_shown), "the first alert")
        assert banner(app).display
        assert MESSAGE in str(banner(app).render())
        feed = app.sources.get("alerts")
        assert feed is not None
        seen = checks(app)
        for _ in range(2):  # two more looks at the same figures: no new crossing
            before = checks(app)
            feed.wake()
            await wait_for(pilot, lambda b=before: checks(app) > b, "another look")
        assert checks(app) >= seen + 2
        assert [a.message for a in app.alerts_shown] == [MESSAGE]
        assert len(rung) == 1 and app.bells == 1
        await pilot.press("2")  # every screen has the banner
        await pilot.pause()
        assert banner(app).display and MESSAGE in str(banner(app).render())
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert app.alerts_shown == () and not banner(app).display
        await pilot.press("1")
        await pilot.pause()
        assert not banner(app).display  # dismissed everywhere


async def test_a_click_dismisses_the_banner(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    app = alert_app(tree, monkeypatch, desktop=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_overview(pilot)
        await wait_for(pilot, lambda: bool(app.alerts_shown), "the first alert")
        assert app.bells == 0  # bell = false
        await pilot.click(AlertBanner)
        await pilot.pause()
        assert app.alerts_shown == ()


async def test_notify_send_and_the_command_get_the_alert(
        tree: Tree, monkeypatch: pytest.MonkeyPatch, tools: dict[str, Path]) -> None:
    app = alert_app(tree, monkeypatch, command=(str(tools["program"]), "--flag", "$HOME;x"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await wait_for(pilot, lambda: bool(records(tools["command"])
                                           and records(tools["notify"])), "the deliveries")
    (note,) = records(tools["notify"])
    assert note["argv"] == ["--app-name=tokentop", "--urgency=critical",
                            "tokentop: cost today", MESSAGE]
    (ran,) = records(tools["command"])
    assert ran["argv"] == ["--flag", "$HOME;x"]  # no shell: passed as written
    doc = json.loads(str(ran["stdin"]))
    assert (doc["alert"], doc["value"], doc["threshold"], doc["message"]) == \
        ("cost-per-day", 1.0, 0.5, MESSAGE)
    assert ran["env"] == {"TOKENTOP_ALERT_RULE": "cost-per-day", "TOKENTOP_ALERT_SUBJECT": "",
                          "TOKENTOP_ALERT_VALUE": "1.0", "TOKENTOP_ALERT_THRESHOLD": "0.5",
                          "TOKENTOP_ALERT_UNIT": "$", "TOKENTOP_ALERT_MESSAGE": MESSAGE}


async def test_a_failing_command_is_one_line_on_screen(
        tree: Tree, monkeypatch: pytest.MonkeyPatch, tools: dict[str, Path]) -> None:
    monkeypatch.setenv("FAIL_ALERT_COMMAND", "1")
    app = alert_app(tree, monkeypatch, desktop=False, command=(str(tools["program"]),))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await wait_for(pilot, lambda: any("exited 3" in n.message for n in app._notifications),
                       "the failure notice")
        (note,) = [n for n in app._notifications if "exited 3" in n.message]
        assert note.message == f"alert command {tools['program']} exited 3: boom: disk full"
        assert banner(app).display  # the banner stays: the alert itself is not lost


def test_untrusted_text_reaches_notify_send_escaped_and_no_shell_runs(
        tmp_path: Path, tools: dict[str, Path]) -> None:
    """A quota's subject comes from the store: markup for the desktop is escaped, and
    shell syntax in it is an argument, not a command."""
    from datetime import UTC, datetime

    hostile = '<a href="http://x">me</a> $(touch pwned)'
    alert = Alert("quota-percent", hostile, 95.0, 90.0, "%", datetime(2026, 5, 5, tzinfo=UTC))
    problems = deliver([alert], desktop=True, command=(str(tools["program"]),))
    assert problems == []
    (note,) = records(tools["notify"])
    assert note["argv"][-1] == ("quota used &lt;a href=\"http://x\"&gt;me&lt;/a&gt; "
                                "$(touch pwned) 95.0% (over 90.0%)")
    (ran,) = records(tools["command"])
    assert ran["env"]["TOKENTOP_ALERT_SUBJECT"] == hostile  # type: ignore[index]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_missing_command_is_one_line() -> None:
    from datetime import UTC, datetime

    alert = Alert("burn-rate", "", 9.0, 5.0, "$/h", datetime(2026, 5, 5, tzinfo=UTC))
    assert deliver([alert], desktop=False, command=("/nonexistent/on-alert",)) == \
        ["alert command not found: /nonexistent/on-alert"]


async def test_the_event_streams_drop_rate_rings_in_the_dashboard(
        tree: Tree, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """kernel-images' envelopes (tests/events/fixtures, see its README) with seqs 11-20
    cut: 10 of 37 lost, over the 20% threshold."""
    fixture = Path(__file__).parent / "events" / "fixtures" / "kernel_events.jsonl"
    kept = [line for line in fixture.read_text().splitlines()
            if not 11 <= json.loads(line)["seq"] <= 20]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(kept) + "\n")
    monkeypatch.chdir(tree.root.parent)
    app = TokentopApp(MetricsSource(tree.root.name, clock=fixed_clock), clock=fixed_clock,
                      follow=False, events=str(events),
                      alerts=AlertSettings(thresholds={"drop-rate": 20.0}, desktop=False))
    async with app.run_test(size=(120, 40)) as pilot:
        feed = app.sources.get("alerts")
        assert feed is not None

        def rang() -> bool:
            feed.wake()  # the file may be read after the first look: look again
            return bool(app.alerts_shown)

        await wait_for(pilot, rang, "the drop-rate alert")
        (alert,) = app.alerts_shown
        assert alert.rule == "drop-rate" and alert.value == pytest.approx(100 * 10 / 37)
        assert "event drops 27.0% (over 20.0%)" in str(banner(app).render())


async def test_an_unreadable_store_is_one_notice_and_the_app_keeps_running(
        tree: Tree, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 200)
    monkeypatch.chdir(tree.root.parent)
    app = TokentopApp(MetricsSource(tree.root.name, clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=junk,
                      alerts=AlertSettings(thresholds={"burn-rate": 1.0}, desktop=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: checks(app) >= 1, "a look")
        feed = app.sources.get("alerts")
        assert feed is not None
        before = checks(app)
        feed.wake()
        await wait_for(pilot, lambda: checks(app) > before, "a second look")
        notes = [n for n in app._notifications if n.title == "alert checks"]
        assert len(notes) == 1 and notes[0].message.startswith("usage store: ")
        assert "\n" not in notes[0].message and app.alerts_shown == ()
        await pilot.press("2")  # still answering keys
        await pilot.pause()
        assert app.current_mode == "usage"
    assert junk.read_bytes() == b"not a database" * 200


def test_no_threshold_no_alert_checks(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a threshold nothing is read for alerts: no source, no banner text."""
    monkeypatch.chdir(tree.root.parent)
    app = TokentopApp(MetricsSource(tree.root.name, clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=Path("usage.db"))
    assert app.sources.get("alerts") is None and app.alert_settings.thresholds == {}
