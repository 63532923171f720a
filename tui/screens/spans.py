"""The Spans screen (8): gridctl's per-server ``traces.jsonl``, live, with waterfalls.

Same machinery as the Logs screen (``SignalScreen``: a thread worker following every
server's file, bounded buffers, a server selector, search): each row is one tool call
(a span with a tool, or a root span; not gridctl's ``mcp.routing`` step) with its time,
tool, client, duration, status and ``gen_ai.usage`` tokens; ``a`` shows every span. The
tool is ``mcp.tool.name``, else ``tool.name``: gridctl stamps ``mcp.tool.name`` on a
``mcp.client.call_tool`` span only when the call succeeded, so failed calls show theirs
from ``tool.name`` (``Span.tool``). ``enter`` opens the
waterfall of the row's trace: every held span of that trace id (from any server) as a
tree by ``parentSpanId``, bars scaled to the trace's duration, with the chosen span's
attributes and events (an ``exception``'s type and message) below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType

from tokentop.store.gridctl.spans import Span, parse_lines, waterfall
from tokentop.tui import format as fmt
from tokentop.tui.screens.logs import SignalScreen
from tokentop.tui.widgets.span_text import (
    HEADER_WANTS,
    Waterfall,
    name_wants,
    span_detail_lines,
    span_header,
    span_row,
    trace_title,
)


class SpansScreen(SignalScreen):
    """The span table of one server (or all) and a trace waterfall."""

    SIGNAL = "traces"
    PREFIX = "spans"
    NOUN = "span"
    SEARCH_HINT = "search: tool, client, span name, trace id or attribute; esc clears"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="spans.search", key_display="/"),
        Binding("enter", "detail", "Waterfall", id="spans.waterfall"),
        Binding("s", "next_server(1)", "Server", id="spans.next-server"),
        Binding("S", "next_server(-1)", "Prev server", id="spans.prev-server", show=False),
        Binding("a", "toggle_all", "All spans", id="spans.all"),
        Binding("y", "copy", "Copy", id="spans.copy", show=False),
        Binding("escape", "back", "Back", id="spans.back", show=False, key_display="esc"),
    ]

    DEFAULT_CSS = """
    SpansScreen .sig-detail { height: 2fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.all_spans = False  # False: tool calls and roots only
        self.wants = HEADER_WANTS  # the longest server, tool, client names held

    def note_records(self, records: list[Span]) -> bool:
        wants = name_wants(records, self.wants)
        if wants == self.wants:
            return False
        self.wants = wants
        return True

    parse = staticmethod(parse_lines)

    @staticmethod
    def time_of(record: Span) -> int:
        return record.start_ns

    def render_row(self, record: Span, width: int) -> Text:
        return span_row(record, width, show_server=self.server is None, wants=self.wants)

    def header(self, width: int) -> Text | None:
        return span_header(max(20, width), show_server=self.server is None,
                           wants=self.wants)

    def keep(self, record: Span) -> bool:
        return self.all_spans or record.is_call

    def keep_fn(self) -> Callable[[Span], bool]:
        every = self.all_spans
        return lambda r: every or r.is_call

    def filtered(self) -> bool:
        return False

    def scope_extra(self, text: Text) -> None:
        text.append(" · ", style="dim")
        text.append("all spans" if self.all_spans else "tool calls", style="bold")

    def trace_rows(self, trace_id: str) -> list:
        """The held spans of one trace (from any server), in waterfall order."""
        spans = [s for s in self.buffers.all() if s.trace_id == trace_id]
        return list(waterfall(spans))

    def detail(self, record: Span) -> tuple[Text, RenderableType]:
        rows = self.trace_rows(record.trace_id)
        return Text(fmt.clean(trace_title(rows))), Group(Waterfall(rows),
                                                          span_detail_lines(record))

    COPY_WHAT = "span id"

    def copy_of(self, record: Span) -> str:
        return record.span_id

    def action_toggle_all(self) -> None:
        self.all_spans = not self.all_spans
        self.rebuild()
