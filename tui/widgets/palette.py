"""Series colours taken from the running Textual theme.

plotext and ``rich.text.Text`` spans need concrete colours, not ``$primary``; this
resolves the theme's variables once per render so charts, sparklines and legends
follow a theme change (and NO_COLOR strips them all the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.color import Color


@dataclass(frozen=True)
class Palette:
    input: str
    output: str
    cost: str
    fleet: str  # the comparison line: present but quiet
    accent: str
    idle: str  # sparkline cells without activity
    warning: str
    error: str


def _hex(variables: dict[str, str], name: str, fallback: str) -> Color:
    try:
        return Color.parse(variables.get(name, fallback))
    except Exception:  # a theme with an unparsable value: keep the UI up
        return Color.parse(fallback)


def palette(app: App[object]) -> Palette:
    """The series colours for the app's current theme."""
    v = app.theme_variables or app.get_css_variables()
    fg = _hex(v, "foreground", "#e0e0e0")
    bg = _hex(v, "surface", "#1e1e1e")
    return Palette(
        input=_hex(v, "primary", "#0178d4").hex,
        output=_hex(v, "accent", "#fea62b").hex,
        cost=_hex(v, "success", "#4ebf71").hex,
        fleet=fg.blend(bg, 0.45).hex,
        accent=_hex(v, "accent", "#fea62b").hex,
        idle=fg.blend(bg, 0.7).hex,
        warning=_hex(v, "warning", "#fea62b").hex,
        error=_hex(v, "error", "#b93c5b").hex,
    )
