"""SVG snapshots of the Events screen at 80x24 and 120x40.

A fixed file (``sample_events`` after a run of filler lines) is read once into a ring
of 24, with the fixed clock in UTC; the screen is opened only after the source ended
and the hook waits until it has read and counted everything, so the viewer drop
("12 events not shown"), the upstream gap and the restart are the same on every run.
The file is named by a relative path: no temporary path is ever rendered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from test_events_screen import envelopes, ev, events_app, open_events, sample_events
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


def fixture_lines() -> str:
    filler: list[tuple[int, dict[str, Any]]] = []
    for i, seq in enumerate(range(1170, 1195)):
        if i % 3 == 0:
            item = ev(i - 40, "network_request", "network",
                      {"request_id": f"f{i}", "method": "GET",
                       "url": f"https://cdn.example.net/static/chunk-{i}.js"})
        elif i % 3 == 1:
            item = ev(i - 40, "network_response", "network",  # as cdpmonitor writes it
                      {"request_id": f"f{i - 1}", "status": 200, "method": "GET",
                       "url": f"https://cdn.example.net/static/chunk-{i - 1}.js",
                       "mime_type": "text/javascript"})
        else:
            item = ev(i - 40, "console_log", "console",
                      {"level": "debug", "text": f"render pass {i}: 16 components"})
        filler.append((seq, item))
    return envelopes(filler + sample_events())


@pytest.fixture
def events_file_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    Path("events.jsonl").write_text(fixture_lines())
    return events_app("events.jsonl", capacity=24)


def on_events(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        await open_events(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        await pilot.pause()

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestEvents:
    def test_log(self, snap_compare: SnapCompare, events_file_app: TokentopApp,
                 size: tuple[int, int]) -> None:
        assert snap_compare(events_file_app, terminal_size=size, run_before=on_events())

    def test_detail(self, snap_compare: SnapCompare, events_file_app: TokentopApp,
                    size: tuple[int, int]) -> None:
        hook = on_events("up", "up", "up", "up", "enter")
        assert snap_compare(events_file_app, terminal_size=size, run_before=hook)
