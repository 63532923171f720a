"""Issue 17, defect 13: with ``TERM=xterm`` (16 colours) the footer's key hints turned
bright red, the themes' orange downgraded, and read as errors. They are yellow there;
with true colour the theme's own colour stays."""

from __future__ import annotations

import pytest
import textual.constants
from rich.color import ColorSystem
from textual.widgets._footer import FooterKey

from tokentop.tui.app import TokentopApp


def key_color(app: TokentopApp) -> int | None:
    """The key hints' colour as a 16-colour terminal shows it (its ANSI number)."""
    key = app.screen.query(FooterKey).first()
    color = key.get_component_rich_style("footer-key--key").color
    assert color is not None
    return color.downgrade(ColorSystem.STANDARD).number


@pytest.mark.parametrize("system", ["standard", "truecolor"])
async def test_key_hints_are_never_red_on_16_colours(
        monkeypatch: pytest.MonkeyPatch, app: TokentopApp, system: str) -> None:
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    fresh = type(app)(app.source, clock=app.clock, follow=False)
    async with fresh.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        few = system == "standard"
        assert fresh.has_class("-few-colors") is few
        if few:
            assert key_color(fresh) == 11  # bright yellow, never 9 (bright red) or 1 (red)
        else:  # the theme's own colour (orange, which 16 colours would show as red)
            assert key_color(fresh) == 9
