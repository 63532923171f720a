"""A KPI card: one big number with its name in the border.

The value arrives already formatted by ``tokentop.tui.format``, so a screen never decides
how a number looks; the card decides only how much of it fits. On short terminals the
stylesheet drops the border and shows the name inline (``Input 378k``), giving the charts
two more rows. Five cards on a 60-column terminal get eleven columns each, and a value
cut by the terminal reads as another number (``Requests 1`` for 1,919, issue 17): so the
card fits its text to its own width (:func:`fit_card`), abbreviating the number
(``1.9k``, ``52%``) before it shortens the name, and never cuts a digit.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tokentop.tui import format as fmt

# A formatted figure: a prefix ($, <$), a number with separators and decimals, a
# magnitude suffix (k, M…), a unit (%, /h, " ms"), then perhaps a remark: a parenthesis
# or a second figure (``52% (1,919)``, ``$1.65/h 2.3k/min``).
_NUMBER = re.compile(
    r"^(?P<pre>[^\d\-]*)(?P<sign>-?)(?P<num>\d[\d,]*(?:\.\d+)?)(?P<mag>[kMBT]?)"
    r"(?P<unit>%|/[a-z]+| ?(?:µs|ms|s|min|h|d)\b|×|x)?"
    r"(?P<remark>\s+\(.*\)|\s+\S*\d\S*)?$")
LABEL_GAP = 1  # the label's margin-right in the stylesheet


def shorter_numbers(value: str) -> list[str]:
    """Ever shorter spellings of one formatted figure, each still at least two
    significant digits (``$13.36`` → ``$13.4``, ``$13``; ``1,919`` → ``1.9k``; ``52.3%`` →
    ``52%``); a trailing remark (``52% (1,919)``) is the first thing to go. Empty for text
    that is no single number (``—``, ``not in files``)."""
    match = _NUMBER.match(value)
    if match is None:
        return []
    pre, sign, num, mag = match.group("pre", "sign", "num", "mag")
    unit = match.group("unit") or ""
    out: list[str] = []
    if match.group("remark"):
        out.append(f"{pre}{sign}{num}{mag}{unit}")
    if unit.startswith(" "):  # "123 ms" → "123ms"
        unit = unit.strip()
        out.append(f"{pre}{sign}{num}{mag}{unit}")
    number = Decimal(num.replace(",", ""))
    if not mag and number >= 1000 and "." not in num:  # an exact count: 1,919 → 1.9k
        short = fmt.tokens(int(number))
        out.append(f"{pre}{sign}{short}{unit}")
        m = _NUMBER.match(short)
        if m is not None:
            num, mag = m.group("num"), m.group("mag")
            number = Decimal(num)
    decimals = len(num.split(".")[1]) if "." in num else 0
    for d in range(decimals - 1, -1, -1):
        shorter = str(number.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))
        if len(shorter.replace(".", "").lstrip("0")) < 2:
            break  # $0.01 must not become $0, nor 1.5M become 2M
        out.append(f"{pre}{sign}{shorter}{mag}{unit}")
    seen: set[str] = {value}
    return [v for v in out if not (v in seen or seen.add(v))]


def fit_card(label: str, value: str, width: int, inline: bool) -> tuple[str, str]:
    """The label and value a card of ``width`` cells shows.

    Bordered (``inline`` False), the label sits in the border and only the value must
    fit. Inline, the order of sacrifice is: shorter number, then a label cut with ``…``,
    then no label. A number that fits in no spelling shows as ``…`` rather than a cut
    that reads as another value; text that is no number is cut with ``…``.
    """
    values = [value, *shorter_numbers(value)]
    numeric = any(c.isdigit() for c in value)
    if inline:
        for v in values:
            if cell_len(label) + LABEL_GAP + cell_len(v) <= width:
                return label, v
        for v in values:
            room = width - LABEL_GAP - cell_len(v)
            if room >= 3:  # "In…": two letters of a name still say something
                return label[: room - 1] + "…", v
        width -= LABEL_GAP
        label = ""
    for v in values:
        if cell_len(v) <= width:
            return label, v
    if numeric or width < 2:
        return label, "…"
    return label, value[: max(1, width - 1)].rstrip() + "…"


class KpiCard(Horizontal):
    """A bordered card holding one formatted value."""

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id, classes="kpi")
        self.label = label
        self.border_title = label
        self.value = "–"  # the whole value, as the screen set it (what tests read)
        self.shown: tuple[str, str] = (label, self.value)  # what fits, as drawn

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="kpi-label")
        yield Label(self.value, classes="kpi-value")

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def set_label(self, label: str) -> None:
        """Rename the card: the Overview's cards mean other figures per data source."""
        if label == self.label:
            return
        self.label = label
        self.border_title = label
        self._fit()

    def set_value(self, value: str) -> None:
        if value == self.value:
            return
        self.value = value
        self._fit()

    def _fit(self) -> None:
        if not self.is_mounted:
            return
        label_widget = self.query_one(".kpi-label", Label)
        inline = label_widget.styles.display != "none"
        width = self.content_size.width
        if width <= 0:
            width = 10_000  # not laid out yet: the resize that follows fits it
        label, value = fit_card(self.label, self.value, width, inline)
        if (label, value) == self.shown:
            return
        self.shown = (label, value)
        label_widget.update(Text(label))
        self.query_one(".kpi-value", Label).update(Text(value, style="bold"))
        if value != self.value:
            self.tooltip = f"{self.label}: {self.value}"  # the whole figure, on hover
        else:
            self.tooltip = None
