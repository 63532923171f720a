"""The Traces screen's KPI cards at every width: a number whole or abbreviated, never cut.

The shared card (``tui/widgets/kpi.py``) shows whatever string it is given and lets the
terminal clip it: at 60x20 five cards get 11 cells each, and ``Requests 1,919`` came out
as ``Requests 1,`` (issue 17, defect 1). The screen therefore offers each card a few
spellings, longest first (``Requests 1,919``, ``Requests 1.9k``, ``Reqs 1.9k``), and
shows the first one that fits the cells the card really has.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokentop.tui import format as fmt


def fit_card(width: int, labels: Sequence[str], values: Sequence[str],
             inline: bool) -> tuple[str, str]:
    """The (label, value) to show in a card ``width`` cells wide.

    ``labels`` and ``values`` are spellings from longest to shortest, each one exact or
    honestly abbreviated. ``inline``: the label shares the line (short terminals);
    otherwise it is the border title and only the value must fit. The value is
    shortened before the label (a number reads better beside its whole name); with no
    width known yet (before layout), the longest spellings.
    """
    if width <= 0:
        return labels[0], values[0]
    for label in labels:
        for value in values:
            used = len(value) + (len(label) + 1 if inline else 0)
            if used <= width:
                return label, value
    return labels[-1], values[-1]


def count_spellings(n: int) -> list[str]:
    """``1,919`` then ``1.9k``: exact first, the five-cell abbreviation next."""
    return list(dict.fromkeys((fmt.count(n), fmt.tokens(n))))


def usd_spellings(value: float | None) -> list[str]:
    """``$1,234.56``, then ``$1,235``, then ``$1.2k``: cents go before digits do."""
    if value is None:
        return ["—"]
    whole = fmt.usd(round(value * 1_000_000))
    out = [whole]
    if value >= 1:
        out.append(f"${value:,.0f}")
        out.append(f"${fmt.tokens(round(value))}")
    return list(dict.fromkeys(out))


def rate_spellings(rate: float | None) -> list[str]:
    """``8.0%`` then ``8%``."""
    if rate is None:
        return ["—"]
    return list(dict.fromkeys((f"{rate:.1%}", f"{rate:.0%}")))
