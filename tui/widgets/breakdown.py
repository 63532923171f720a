"""A breakdown table: usage per model, provider, agent, project or tool.

A ``DataTable`` whose cells are ``rich.text.Text`` built with ``tokentop.tui.format.safe``:
model names and project paths come from agent logs and are never parsed as markup.

Names are cut with ``…`` only to the room the number columns leave, and never so that
two rows look alike: ``claude-sonnet-4-5-20250929`` and ``claude-sonnet-4-5`` in eight
cells are ``clau…0929`` and ``claude-…`` rather than two ``claude-…`` (issue 17).

The tool view counts calls: an agent log records a tool call as an event of its own,
without tokens (Claude Code's ``tool_use`` block sits in a message whose tokens are the
message's), so tokens and cost columns appear only when some tool has tokens attributed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tokentop.store.usage.read import BreakdownRow
from tokentop.tui import format as fmt
from tokentop.tui.widgets.sorting import SortKey, SortState

TITLES = {"model": "Model", "provider": "Provider", "agent": "Agent",
          "project": "Project", "tool": "Tool", "host": "Host"}
TOKENS_W, COST_W, SHARE_W, COUNT_W = 6, 9, 5, 7  # widest value each column shows
MIN_NAME = 8


def _unpriced(r: BreakdownRow) -> bool:
    return r.sums.unpriced_tokens > 0 and r.sums.unpriced_tokens == r.sums.tokens


def sort_keys(kind: str) -> tuple[SortKey[BreakdownRow], ...]:
    """What ``o`` cycles in a view: first the order the rows arrive in (most tokens
    first; tools: most calls first), then each column. An unpriced cost has no value."""
    name: SortKey[BreakdownRow] = SortKey(
        "name", "name", lambda r: fmt.clean(r.key).casefold(), descending=False)
    tokens: SortKey[BreakdownRow] = SortKey("tokens", "tokens", lambda r: r.sums.tokens)
    cost: SortKey[BreakdownRow] = SortKey(
        "cost", "cost", lambda r: None if _unpriced(r) else r.sums.cost)
    if kind == "tool":
        return (SortKey("messages", "calls"), name, tokens, cost)
    return (SortKey("tokens", "tokens"), name, cost,
            SortKey("messages", "messages", lambda r: r.sums.messages))


def money(usd: float, unpriced: bool = False) -> str:
    """Dollars for the table: ``—`` when nothing in the row has a price."""
    if unpriced:
        return "—"
    return fmt.usd(round(usd * 1_000_000))


def _cut(name: str, width: int, tail: int) -> str:
    """``name`` in ``width`` cells: whole, or its head, ``…`` and ``tail`` last cells."""
    if len(name) <= width:
        return name
    head = width - 1 - tail
    return name[:head] + "…" + (name[-tail:] if tail else "")


def fit_names(names: Sequence[str], width: int) -> list[str]:
    """Every name in ``width`` cells, cut at the end where that keeps them apart, else
    cut in the middle (head … tail) with the split that keeps the clashing ones apart."""
    width = max(2, width)
    out = [_cut(n, width, 0) for n in names]
    for _ in range(2):  # a re-cut name could clash anew with another; twice settles it
        seen: dict[str, list[int]] = {}
        for i, shown in enumerate(out):
            seen.setdefault(shown, []).append(i)
        clashes = [ix for ix in seen.values() if len(ix) > 1 and len({names[i] for i in ix}) > 1]
        if not clashes:
            break
        taken = set(out)
        for ix in clashes:
            group = [names[i] for i in ix]
            tails = sorted(range(1, width - 1), key=lambda t: abs(t - (width - 1) // 2))
            for tail in tails:
                cut = [_cut(n, width, tail) for n in group]
                if len(set(cut)) == len(set(group)) and not (set(cut) & (taken - {out[ix[0]]})):
                    for i, c in zip(ix, cut, strict=True):
                        out[i] = c
                    break
            taken = set(out)
    return out


class BreakdownTable(DataTable[Text]):
    """One row per key, busiest first, with tokens, cost, share and messages; tools:
    calls and their share, tokens and cost only where some were attributed."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=False)
        self.kind = "model"
        self.rows_shown: list[BreakdownRow] = []
        self._given: list[BreakdownRow] = []  # as handed in, before the sort
        self._sorts: dict[str, SortState[BreakdownRow]] = {}  # each view keeps its own
        self._wide = False
        self._tool_tokens = False

    @property
    def sort(self) -> SortState[BreakdownRow]:
        """The sort of the view shown (``o``, ``O``; tui/widgets/sorting.py)."""
        key = "tool" if self.kind == "tool" else "usage"
        if key not in self._sorts:
            self._sorts[key] = SortState(sort_keys(self.kind))
        return self._sorts[key]

    def sort_next(self) -> None:
        self.sort.cycle({str(k.value) for k in self.columns})
        self.show(self.kind, self._given, force=True)

    def sort_reverse(self) -> None:
        self.sort.reverse()
        self.show(self.kind, self._given, force=True)

    def _add(self, label: str | Text, key: str, width: int | None = None) -> None:
        """A column; the sort key's header carries the arrow (a cell wider for it)."""
        label = self.sort.header(label, key)
        self.add_column(label, key=key, width=None if width is None else
                        max(width, label.cell_len))

    def on_mount(self) -> None:
        self._columns()

    @property
    def wide(self) -> bool:
        """Room for the share and message columns too."""
        return self.content_size.width >= 56

    def _columns(self) -> None:
        self.clear(columns=True)
        self._wide = self.wide
        self._add(TITLES[self.kind], "name")
        if self.kind == "tool":
            self._add(Text("Calls", justify="right"), "messages", COUNT_W)
            self._add(Text("Share", justify="right"), "share", SHARE_W)
            if self._tool_tokens:
                self._add(Text("Tokens", justify="right"), "tokens", TOKENS_W)
                if self._wide:
                    self._add(Text("Cost", justify="right"), "cost", COST_W)
            return
        self._add(Text("Tokens", justify="right"), "tokens", TOKENS_W)
        self._add(Text("Cost", justify="right"), "cost", COST_W)
        if self._wide:
            self._add(Text("Share", justify="right"), "share", SHARE_W)
            self._add(Text("Msgs", justify="right"), "messages", COUNT_W)

    def on_resize(self) -> None:
        if self.wide != getattr(self, "_wide", None) or self._given:
            self.show(self.kind, self._given, force=True)

    def show(self, kind: str, rows: Sequence[BreakdownRow], *, force: bool = False) -> None:
        tool_tokens = kind == "tool" and any(r.sums.tokens for r in rows)
        if (force or kind != self.kind or not self.columns or self.wide != self._wide
                or tool_tokens != self._tool_tokens):
            self.kind = kind
            self._tool_tokens = tool_tokens
            self._columns()
        else:
            self.clear()
        self._given = list(rows)
        if kind == "tool":
            rows = sorted(rows, key=lambda r: (-r.sums.messages, -r.sums.tokens, r.key))
        rows = self.sort.apply(rows)
        self.rows_shown = list(rows)
        # Name column: what the fixed columns (and one cell of padding each side) leave.
        fixed = sum(c.width for c in list(self.columns.values())[1:]) + 2 * len(self.columns)
        width = max(MIN_NAME, self.content_size.width - fixed - 1)
        calls = sum(r.sums.messages for r in rows) or 1
        names = fit_names([fmt.clean(r.key) for r in rows], width)
        for r, shown in zip(rows, names, strict=True):
            s = r.sums
            name = Text(shown)
            unpriced = _unpriced(r)
            if kind == "tool":
                cells = [name, Text(fmt.count(s.messages), justify="right"),
                         Text(f"{s.messages / calls:.0%}", justify="right", style="dim")]
                if self._tool_tokens:
                    cells.append(Text(fmt.tokens(s.tokens) if s.tokens else "—",
                                      justify="right"))
                    if self._wide:
                        cells.append(Text(money(s.cost, unpriced) if s.tokens else "—",
                                          justify="right"))
                self.add_row(*cells)
                continue
            cells = [
                name,
                Text(fmt.tokens(s.tokens), justify="right"),
                Text(money(s.cost, unpriced), justify="right"),
            ]
            if self._wide:
                cells += [Text(f"{r.share:.0%}", justify="right", style="dim"),
                          Text(fmt.count(s.messages), justify="right", style="dim")]
            self.add_row(*cells)
        if not rows:
            self.add_row(Text("nothing in this window", style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
        elif kind == "tool" and not self._tool_tokens:
            words = next((w for w in ("tokens are per message, not per tool",
                                      "tokens: per message") if len(w) <= width), "")
            self.add_row(Text(words, style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
