"""Issue 17: every screen at every size from 60x20 to 200x60, with no number cut.

A cut number reads as another value (``Requests 1`` for 1,919), so it is worse than a
missing one. This walks the eight screens at four sizes on the fixed demo (every source
populated, as ``tests/make_screenshots.py`` renders them) and reads what the terminal
shows, row by row: a number followed by ``…``, a number running into the screen's right
edge, or into a panel's border, was cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from make_screenshots import NOW, fixed_demo, settle_screen

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp

SIZES = [(60, 20), (80, 24), (120, 40), (200, 60)]
SCREENS = {"1": "Overview", "2": "Usage", "3": "Events", "4": "Traces", "5": "Access",
           "6": "Files", "7": "Logs", "8": "Spans"}

# A digit, or a thousands/decimal separator right after one, then an ellipsis: cut.
ELLIPSIS = re.compile(r"(?<![\w./-])[$]?\d[\d,.]*…")
# A digit touching a border drawn by a panel: "1,91│". Borders have padding inside.
BORDER = re.compile(r"(?<![\w./-])[$]?\d[\d,.]*[│┃║]")
# A clock time missing its last digit: "07:3" (a column one cell short of "Dec 06 07:30").
CUT_TIME = re.compile(r"(?<![\d:])\d{1,2}:\d(?![\d])")
# Not numbers: a trace id shortened to its first eight hex digits on purpose.
IDS = re.compile(r"trace_id=[0-9a-f]{8}…")


def cut_numbers(lines: list[str], width: int) -> list[str]:
    found = []
    for y, line in enumerate(lines):
        line = IDS.sub("trace_id=ID", line)
        for match in ELLIPSIS.finditer(line):
            found.append(f"row {y}: {match.group()!r} in {line.strip()!r}")
        for match in CUT_TIME.finditer(line):
            found.append(f"row {y}: a cut time {match.group()!r} in {line.strip()!r}")
        for match in BORDER.finditer(line):
            found.append(f"row {y}: {match.group()!r} at a border in {line.strip()!r}")
        if len(line) >= width and line[width - 1].isdigit():
            found.append(f"row {y}: a number at the right edge in {line.strip()!r}")
    return found


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Any]]:
    with fixed_demo() as sources:
        yield sources


def _clock() -> float:
    return NOW


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_no_screen_cuts_a_number(demo: dict[str, Any], size: tuple[int, int]) -> None:
    source = MetricsSource(Path("telemetry"), clock=_clock)
    app = TokentopApp(source, clock=_clock, follow=False, **demo)
    problems: list[str] = []
    async with app.run_test(size=size) as pilot:
        for key, name in SCREENS.items():
            await settle_screen(app, pilot, source, (key,), demo["usage_path"])
            lines = [strip.text for strip in app.screen._compositor.render_strips()]
            assert type(app.screen).__name__.startswith(name), type(app.screen).__name__
            problems += [f"{name}: {p}" for p in cut_numbers(lines, size[0])]
    assert problems == [], "\n".join(problems)
