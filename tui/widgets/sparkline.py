"""A one-line sparkline as text, so it can sit inside a list row.

Textual's ``Sparkline`` is a widget of its own; a server row is a single option of an
``OptionList`` whose prompt is one ``Text``, so the sparkline here is a string of
block characters that the row concatenates with the name and the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

BLOCKS = "▁▂▃▄▅▆▇█"


def resample_max(values: Sequence[float], width: int) -> list[float]:
    """``width`` buckets, each the largest value it covers (peaks must stay visible)."""
    n = len(values)
    if width <= 0 or n == 0:
        return []
    if n <= width:
        return list(values)
    out = []
    for i in range(width):
        lo = i * n // width
        hi = max(lo + 1, (i + 1) * n // width)
        out.append(max(values[lo:hi]))
    return out


def spark(values: Sequence[float], width: int) -> str:
    """Block characters for ``values`` squeezed into ``width`` cells, right-aligned.

    Zero is the lowest block, any activity at least the second one, so an idle
    minute and a quiet one look different.
    """
    data = resample_max(values, width)
    if not data:
        return " " * max(0, width)
    top = max(data)
    chars = []
    for v in data:
        if v <= 0 or top <= 0:
            chars.append(BLOCKS[0])
        else:
            level = 1 + round((len(BLOCKS) - 2) * v / top)
            chars.append(BLOCKS[min(level, len(BLOCKS) - 1)])
    return "".join(chars).rjust(width)


def spark_text(values: Sequence[float], width: int, style: str, idle_style: str) -> Text:
    """``spark`` styled: active cells in ``style``, idle ones in ``idle_style``."""
    line = spark(values, width)
    text = Text(no_wrap=True)
    for ch in line:
        text.append(ch, idle_style if ch in (" ", BLOCKS[0]) else style)
    return text
