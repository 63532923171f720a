"""The Overview's tools panel: which MCP tools burn the tokens, and which skills are used.

Rows come from gridctl's cumulative ``tool_usage`` (per server: calls, last call,
input/output tokens, ``pkg/metrics/accumulator.go`` ``ToolStat``) and from each stack's
``__skills__`` ``prompt_usage`` (calls and last use), as
``tokentop.store.metrics.query.tool_rows``/``skill_rows`` order them: the same rows
``tokentop metrics --json`` prints. They are cumulative since the server's counters
last reset, not per range: gridctl keeps no per-minute history per tool.

Tool, skill and server names come from files: every one is ``Text`` made through
``tokentop.tui.format.clean``, never markup. The stylesheet is here (not in
``app.tcss``) because only the Overview uses the panel; it matches the server list's
width at every breakpoint, so the two stack as one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tokentop.store.metrics.tools import ToolRow
from tokentop.tui import format as fmt

MARKER = 2  # the server list's cursor column: rows line up with its names
CALLS, TOKENS, LAST = 6, 7, 5  # column widths, right-aligned


class ToolPanel(VerticalScroll):
    """Tools by tokens, then skills by calls, as plain lines that scroll."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    #side { width: auto; height: 1fr; }
    #side ServerList { height: 1fr; }
    ToolPanel {
        width: 36; height: 1fr;
        border: round $panel-lighten-2; border-title-color: $text;
        border-title-style: bold; background: $surface;
        scrollbar-size-vertical: 1;
    }
    Screen.-wide ToolPanel { width: 50; }
    Screen.-very-wide ToolPanel { width: 58; }
    Screen.-tall ToolPanel { height: 1fr; }
    ToolPanel > #tool-lines {
        width: 1fr; height: auto; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, can_focus=False)
        self.border_title = "Tools"
        self.tools: list[ToolRow] = []
        self.skills: list[ToolRow] = []
        self.scope: str | None = None
        self.now: float = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="tool-lines")

    def show(self, tools: Sequence[ToolRow], skills: Sequence[ToolRow], scope: str | None,
             now: float) -> None:
        """``scope``: the selected ``stack/server`` (names then drop their owner)."""
        self.tools, self.skills, self.scope, self.now = list(tools), list(skills), scope, now
        self.border_title = f"Tools ({len(self.tools)})" if self.tools else "Tools"
        self.border_subtitle = "since gridctl's last reset"
        self._render_lines()

    def on_resize(self) -> None:
        self._render_lines()

    def _width(self) -> int:
        return self.scrollable_content_region.width or max(20, self.size.width - 3)

    def _height(self) -> int:
        return self.scrollable_content_region.height or max(4, self.size.height - 2)

    def _render_lines(self) -> None:
        if not self.is_mounted:
            return
        width = self._width()
        wide = width >= 70  # input and output too: only when names keep their room
        io = 14 if wide else 0
        name_w = max(8, width - MARKER - CALLS - TOKENS - io - LAST)
        # Both lists stay on screen: a third of the rows for skills at most, the rest for
        # tools, whose tail gives way to a "+N more" line. Busiest first, so the cut
        # rows are the least used.
        avail = max(2, self._height() - 3)  # the two headers and the blank between
        skill_rows = min(max(1, len(self.skills)), max(1, avail // 3))
        tool_rows = max(1, avail - skill_rows)
        spare = tool_rows - max(1, len(self.tools))  # rows the tools leave unused
        if spare > 0:
            skill_rows = min(max(1, len(self.skills)), skill_rows + spare)
        shown = self.tools if len(self.tools) <= tool_rows else self.tools[: tool_rows - 1]
        text = Text(no_wrap=True, overflow="ellipsis")
        head = " " * MARKER + "tool".ljust(name_w) + "calls".rjust(CALLS) + "tokens".rjust(TOKENS)
        head += ("in".rjust(7) + "out".rjust(7) if wide else "") + "last".rjust(LAST)
        text.append(head + "\n", style="bold dim")
        if not self.tools:
            text.append(" " * MARKER + "no tool_usage in these files\n", style="italic dim")
        for row in shown:
            st = row.stat
            text.append(" " * MARKER)
            text.append_text(self._name_cell(row, name_w, self.scope is None))
            text.append(fmt.count(st.calls).rjust(CALLS))
            text.append(fmt.tokens(st.total_tokens).rjust(TOKENS), style="bold")
            if wide:
                text.append(fmt.tokens(st.input_tokens).rjust(7), style="dim")
                text.append(fmt.tokens(st.output_tokens).rjust(7), style="dim")
            text.append(self._last(st.last_called).rjust(LAST) + "\n", style="dim")
        if len(shown) < len(self.tools):
            more = len(self.tools) - len(shown)
            text.append(" " * MARKER + f"+{more} more (metrics --text)\n", style="italic dim")
        skills = "skill" if len(self.skills) < 2 else f"skills ({len(self.skills)})"
        text.append("\n" + " " * MARKER + skills.ljust(name_w) + "calls".rjust(CALLS)
                    + " " * (TOKENS + io) + "last".rjust(LAST) + "\n", style="bold dim")
        if not self.skills:
            text.append(" " * MARKER + "no skill served yet\n", style="italic dim")
        several = len({r.owner for r in self.skills}) > 1
        for row in self.skills[:skill_rows]:
            text.append(" " * MARKER)
            text.append_text(self._name_cell(row, name_w, several))
            text.append(fmt.count(row.stat.calls).rjust(CALLS))
            text.append(" " * (TOKENS + io))
            text.append(self._last(row.stat.last_called).rjust(LAST) + "\n", style="dim")
        text.rstrip()
        self.query_one("#tool-lines", Static).update(text)

    @staticmethod
    def _name_cell(row: ToolRow, width: int, with_owner: bool) -> Text:
        """The tool (or skill) name first, then its server (or stack) dim when several
        share the list: ``search_code github``; cut with an ellipsis to ``width``."""
        name = Text(fmt.clean(row.name), no_wrap=True)
        if with_owner:
            name.append(" " + fmt.clean(row.owner.rsplit("/", 1)[-1]), style="dim")
        if name.cell_len > width:
            name.truncate(max(1, width - 1))
            name.append("…", style="dim")
        name.pad_right(width - name.cell_len)
        return name

    def _last(self, when: datetime | None) -> str:
        """How long since the last call, in at most four cells: ``now``, ``42s``, ``6m``."""
        if when is None:
            return "–"
        seconds = int(max(0.0, self.now - when.timestamp()))
        if seconds < 2:
            return "now"
        for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")):
            if seconds >= size:
                return f"{seconds // size}{unit}"
        return "now"  # pragma: no cover
