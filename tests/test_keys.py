"""Pilot tests of the Overview's keys and mouse, on real files in a temporary tree.

Expected numbers come from the lines the fixture wrote (``Tree.sums``), from the
headless JSON document (the UI must show the same numbers), and, for a few, from
plain literals worked out once by hand, so a bug shared by the fixture and the app
would still show up.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from conftest import NOW_MINUTE, Tree, make_app, settle
from rich.text import Text
from textual.widgets import OptionList

from tokentop.store.metrics import MetricsSource, metrics_document, window
from tokentop.tui import format as fmt
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.help import HelpScreen, data_rows
from tokentop.tui.screens.overview import OverviewScreen
from tokentop.tui.widgets.chart import TimeChart
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.server_list import ServerList


def overview(app: TokentopApp) -> OverviewScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, OverviewScreen)
    return screen


def kpis(app: TokentopApp) -> dict[str, str]:
    return {card.id or "": card.value for card in overview(app).query(KpiCard)}


def rows(app: TokentopApp) -> list[str]:
    return [r.name for r in overview(app).query_one(ServerList).rows]


def chart_labels(app: TokentopApp, chart_id: str) -> list[str]:
    return [s.label for s in overview(app).query_one(chart_id, TimeChart).data.series]


def expected_kpis(tree: Tree, range_name: str, app: TokentopApp) -> dict[str, str]:
    win = window(app.source.ring, range_name, NOW_MINUTE)
    inp, out, cost = tree.sums(win.start, win.end)
    return {
        "kpi-input": fmt.tokens(inp),
        "kpi-output": fmt.tokens(out),
        "kpi-total": fmt.tokens(inp + out),
        "kpi-cost": fmt.usd(cost),
    }


def append_line(root: Path, server: str, ts: str, inp: int, out: int, cost: int) -> None:
    line = {"ts": ts, "server": server.split("/")[1],
            "diff": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out},
            "total": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
            "cost_diff": {"input_micro_usd": cost}}
    with (root / server / "metrics.jsonl").open("a") as f:
        f.write(json.dumps(line) + "\n")


async def test_r_cycles_ranges_and_kpis_follow(app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = []
        for name in ("30m", "1h", "6h", "24h", "7d", "30m"):
            assert overview(app).range_name == name
            assert kpis(app) == expected_kpis(tree, name, app)
            seen.append(kpis(app)["kpi-input"])
            await pilot.press("r")
            await settle(pilot)
        # Worked out by hand from the fixture's formula (see conftest.write_tree).
        assert seen == ["5.9k", "12.3k", "38.7k", "40.7k", "57.1k", "5.9k"]


async def test_kpis_match_the_headless_document(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for name in ("30m", "1h", "6h", "24h", "7d"):
            doc = metrics_document(app.source, name, None, NOW_MINUTE)
            inp = sum(p["input_tokens"] for p in doc["data_points"])
            out = sum(p["output_tokens"] for p in doc["data_points"])
            assert kpis(app)["kpi-input"] == fmt.tokens(inp)
            assert kpis(app)["kpi-output"] == fmt.tokens(out)
            await pilot.press("r")
            await settle(pilot)


async def test_shift_r_goes_back_and_clicks_pick_a_range(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        assert overview(app).range_name == "7d"
        await pilot.press("R")
        assert overview(app).range_name == "24h"
        await pilot.click("#range-1h")
        await settle(pilot)
        assert overview(app).range_name == "1h"
        assert "last hour" in str(overview(app).query_one("#scope").render())


async def test_space_pauses_the_display_and_resumes(app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = kpis(app)
        assert before["kpi-input"] == "5.9k"
        await pilot.press("space")
        assert app.paused
        assert overview(app).query_one("#paused").display
        append_line(tree.root, "prod/github", "2026-05-05T12:29:30.5Z", 1_000_000, 5, 0)
        assert app.source.rescan() == 1
        app.poll_source()
        await pilot.pause()
        await pilot.pause()
        assert kpis(app) == before  # frozen
        await pilot.press("space")
        await settle(pilot, lambda: kpis(app) != before)
        assert not app.paused
        assert not overview(app).query_one("#paused").display
        assert kpis(app)["kpi-input"] == fmt.tokens(5941 + 1_000_000) == "1.0M"


async def test_slash_filters_the_server_list(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app) == ["prod/github", "prod/slack", "dev/search", "dev/idle"]
        await pilot.press("slash")
        await pilot.press("s", "e")
        await settle(pilot)
        assert rows(app) == ["dev/search"]
        await pilot.press("backspace", "backspace", "d", "e", "v")
        await settle(pilot)
        assert rows(app) == ["dev/search", "dev/idle"]
        assert overview(app).query_one(ServerList).border_title == "Servers (2 of 4)"
        await pilot.press("enter")  # keep the filter, back to the list
        assert isinstance(app.focused, OptionList)
        await pilot.press("escape")
        await settle(pilot)
        assert len(rows(app)) == 4
        assert overview(app).filter_text == ""


async def test_selecting_a_server_draws_it_against_the_fleet(
        app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert chart_labels(app, "#tokens-chart") == ["input", "output"]
        assert chart_labels(app, "#cost-chart") == ["cost (USD)"]
        await pilot.press("down", "enter")  # the second busiest: prod/slack
        await settle(pilot)
        assert overview(app).selected == "prod/slack"
        assert chart_labels(app, "#tokens-chart") == ["fleet", "input", "output"]
        assert chart_labels(app, "#cost-chart") == ["fleet", "prod/slack"]
        tokens = overview(app).query_one("#tokens-chart", TimeChart).data
        win = window(app.source.ring, "30m", NOW_MINUTE)
        assert sum(tokens.series[1].values) == tree.sums(win.start, win.end, "prod/slack")[0]
        assert sum(tokens.series[0].values) == sum(tree.sums(win.start, win.end)[:2])
        # KPIs follow the selection
        inp, out, cost = tree.sums(win.start, win.end, "prod/slack")
        assert kpis(app)["kpi-output"] == fmt.tokens(out)
        assert kpis(app)["kpi-input"] == fmt.tokens(inp)
        assert kpis(app)["kpi-cost"] == fmt.usd(cost)
        await pilot.press("escape")
        await settle(pilot)
        assert overview(app).selected is None
        assert chart_labels(app, "#tokens-chart") == ["input", "output"]


async def test_clicking_a_server_selects_it_and_again_unselects(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Row 0 is prod/github, row 2 dev/search.
        await pilot.click("#server-options", offset=(4, 2))
        await settle(pilot)
        assert overview(app).selected == "dev/search"
        await pilot.click("#server-options", offset=(4, 2))
        await settle(pilot)
        assert overview(app).selected is None


async def test_question_mark_opens_help_and_escape_closes_it(
        app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert ("metrics", tree.root.name) in data_rows(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)


async def test_q_quits(app: TokentopApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.sources.metrics.stop_event.is_set()


async def test_empty_state_names_the_directory(tmp_path: Path) -> None:
    app = make_app(tmp_path / "missing")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = overview(app)
        assert screen.showing_empty
        body = str(screen.query_one("#empty-body").render())
        assert str(tmp_path / "missing") in body
        assert "--metrics-dir" in body and "GRIDCTL_HOME" in body
        # r does nothing useful here and is not offered
        assert screen.check_action("cycle_range", (1,)) is False


async def test_server_names_are_text_not_markup(tmp_path: Path) -> None:
    root = tmp_path / "telemetry"
    evil = "prod/[b]x\x1b[1m"
    (root / "prod" / "[b]x\x1b[1m").mkdir(parents=True)
    append_line(root, evil, "2026-05-05T12:20:00Z", 10, 5, 0)
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app) == [evil]
        options = overview(app).query_one(ServerList).options
        prompt = options.get_option_at_index(0).prompt
        plain = prompt.plain if isinstance(prompt, Text) else str(prompt)
        assert "prod/[b]x\\x1b[1m" in plain
        assert "\x1b" not in plain


async def test_follow_picks_up_new_lines_and_stops_on_exit(tree: Tree) -> None:
    app = make_app(tree.root, follow=True)
    returned = threading.Event()
    follow = app.source.follow

    def watched_follow(stop: threading.Event, **kwargs: object) -> None:
        try:
            follow(stop, **kwargs)  # type: ignore[arg-type]
        finally:
            returned.set()

    app.source.follow = watched_follow  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert kpis(app)["kpi-input"] == "5.9k"
        append_line(tree.root, "dev/search", "2026-05-05T12:29:59Z", 2_000_000, 0, 0)
        for _ in range(1000):  # bounded: the watcher reports within a second or so
            if kpis(app)["kpi-input"] != "5.9k":
                break
            await pilot.pause(0.02)
        assert kpis(app)["kpi-input"] == "2.0M"
        assert not returned.is_set()
    # Leaving the app sets the stop event; follow() notices within its 1 s timeout.
    assert returned.wait(5)


async def test_digits_switch_screens_on_every_visit(tmp_path: Path) -> None:
    """Shown again, a screen must not hand the focus to its hidden filter box: the next
    digit was typed into it instead of switching screens (Overview, Events, Logs)."""
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    names = ["OverviewScreen", "UsageScreen", "EventsScreen", "TracesScreen",
             "AccessScreen", "FilesScreen", "LogsScreen", "SpansScreen"]
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):
            for _ in names:
                await pilot.press("tab")
                await pilot.pause()
        for key in "2345678123456781":
            await pilot.press(key)
            want = names[int(key) - 1]
            for _ in range(200):
                if type(app.screen).__name__ == want:
                    break
                await pilot.pause(0.01)
            assert type(app.screen).__name__ == want, key
            focused = app.focused
            assert focused is None or focused.display, (key, focused)


async def test_a_new_screen_is_not_restyled_from_scratch(tmp_path: Path) -> None:
    """Textual restyled the whole app (50-75 ms) on the first switch to every screen;
    a screen built with the current theme skips that, a theme change still reaches it."""
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    calls: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        original = app.refresh_css

        def counting(animate: bool = True) -> None:
            calls.append(1)
            original(animate)

        app.refresh_css = counting  # type: ignore[method-assign]
        for key in "2345678":
            await pilot.press(key)
            await pilot.pause()
        assert calls == []
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert calls  # the Overview, built before the change, is restyled on its switch


async def test_the_overview_first_focuses_the_server_list(app: TokentopApp) -> None:
    """Issue 17 walk-through: in the first second of ``tokentop --demo`` keys went into
    the Overview's hidden server filter ("no server matches 'rrr'"). Textual focuses a
    screen's ``AUTO_FOCUS`` match (by default the first focusable widget: the filter box,
    not yet hidden then) when the screen is first shown, before ``on_mount`` moves the
    focus, and keys typed in between landed there. The timing cannot be reproduced
    under a pilot, so this checks what AUTO_FOCUS picks, on every screen: never a
    text box."""
    from textual.widgets import Input

    async with app.run_test(size=(80, 24)) as pilot:
        for key in "12345678":
            await pilot.press(key)
            await pilot.pause()
            screen = app.screen
            selector = screen.AUTO_FOCUS or app.AUTO_FOCUS or ""
            first = next((w for w in screen.query(selector) if w.can_focus), None) \
                if selector else None
            assert not isinstance(first, Input), f"{type(screen).__name__}: {first!r}"


# -- one meaning per key ---------------------------------------------------------------
# Actions that are one meaning under two names (the screens predate the rule).
SAME_MEANING = {
    "cycle_window": "cycle_range",  # Usage calls its range a window: r/R on every screen
    "all_categories": "clear_filters",  # Events' x shows every category, as Traces' x
}
# Keys whose action depends on the screen by design, each with its one reading.
SCREEN_LOCAL = {
    "enter": "open the selected row (detail, waterfall, session) or close help",
    "escape": "close / back: the detail, then the search, then the selection",
    "slash": "search or filter the screen's list",
}


def meaning(action: str) -> str:
    """The action without its arguments, under its one name."""
    name = action.split("(", 1)[0]
    return SAME_MEANING.get(name, name)


def every_binding() -> list[tuple[str, str, str]]:
    """(owner, key, action) for the app, every screen and the modal screens."""
    from textual.binding import Binding

    from tokentop.tui.screens import screen_specs
    from tokentop.tui.screens.usage_session import SessionScreen

    owners: list[tuple[str, type]] = [("app", TokentopApp), ("help", HelpScreen),
                                      ("session", SessionScreen)]
    owners += [(spec.mode, spec.factory) for spec in screen_specs()]  # type: ignore[misc]
    found = []
    for owner, cls in owners:
        for b in cls.BINDINGS:
            key, action = (b.key, b.action) if isinstance(b, Binding) else (b[0], b[1])
            for one in key.split(","):
                found.append((owner, one.strip(), action))
    return found


def key_meanings(bindings: list[tuple[str, str, str]]) -> dict[str, dict[str, set[str]]]:
    """key -> meaning -> the owners binding it so (screen-local keys left out)."""
    meanings: dict[str, dict[str, set[str]]] = {}
    for owner, key, action in bindings:
        if key in SCREEN_LOCAL:
            continue
        # ? on the open help closes it: the same key toggling the same help.
        what = "help" if (owner, key) == ("help", "question_mark") else meaning(action)
        meanings.setdefault(key, {}).setdefault(what, set()).add(owner)
    return meanings


def clashes(bindings: list[tuple[str, str, str]]) -> dict[str, dict[str, set[str]]]:
    return {k: seen for k, seen in key_meanings(bindings).items() if len(seen) > 1}


def test_every_key_means_one_thing_on_every_screen() -> None:
    bindings = every_binding()
    assert clashes(bindings) == {}
    meanings = key_meanings(bindings)
    # The rebinding of issue 17, spelled out: one letter, one meaning.
    assert meanings["r"] == {"cycle_range": {"overview", "usage", "access"}}
    assert meanings["s"] == {"next_server": {"logs", "spans"}}
    assert meanings["w"] == {"wipe_row": {"files"}}
    assert meanings["e"] == {"toggle_errors": {"traces", "logs"}}
    assert meanings["u"] == {"cycle_source": {"overview"}}
    assert "d" not in meanings and "i" not in meanings  # Logs' hidden level keys are gone


def test_the_check_catches_a_clash() -> None:
    """The old map fails it: w was window, wipe and warn level."""
    old = [("usage", "w", "cycle_window(1)"), ("files", "w", "wipe_row"),
           ("logs", "w", "set_level('WARN')"), ("logs", "enter", "detail"),
           ("usage", "enter", "open_session")]
    assert clashes(old) == {"w": {"cycle_range": {"usage"}, "wipe_row": {"files"},
                                  "set_level": {"logs"}}}


def test_events_category_keys_are_letters_of_their_names() -> None:
    from tokentop.tui.screens.events import CATEGORY_KEYS

    keys = list(CATEGORY_KEYS.values())
    assert len(set(keys)) == len(keys)
    for cat, key in CATEGORY_KEYS.items():
        assert key.isupper() and key.lower() in cat, (cat, key)


def test_help_names_every_key() -> None:
    """Every key a screen binds is in the help's key column (a category key beside its
    category's name)."""
    from tokentop.tui.screens.events import CATEGORY_KEYS
    from tokentop.tui.screens.help import KEYS

    column = {token for key, _ in KEYS for token in key.split()}
    prose = " ".join(what for _, what in KEYS)
    displays = {"slash": "/", "escape": "esc", "question_mark": "?", "exclamation_mark": "!",
                "right_square_bracket": "]", "left_square_bracket": "[",
                "comma": ",", "full_stop": ".", "less_than_sign": "<",
                "greater_than_sign": ">"}
    for owner, key, _ in every_binding():
        if owner in ("help", "session") or key.isdigit():
            continue
        if owner == "events" and key in CATEGORY_KEYS.values():
            cat = next(c for c, k in CATEGORY_KEYS.items() if k == key)
            assert f"{key} {cat}" in prose, (owner, key)
            continue
        assert displays.get(key, key) in column, (owner, key)
