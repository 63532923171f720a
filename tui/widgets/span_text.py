"""How spans look: a row of the span table, its column header, and a trace waterfall.

All plain ``rich.text.Text``: span names, tools, clients and status messages come from
the files and are only appended after ``format.clean``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tokentop.store.gridctl.logs import human_duration
from tokentop.store.gridctl.spans import Span, SpanEvent, WaterfallRow
from tokentop.tui import format as fmt
from tokentop.tui.widgets.cells import fit, share
from tokentop.tui.widgets.log_text import local_clock

STATUS_STYLES = {0: "dim", 1: "#98c379", 2: "bold #e06c75"}
KIND_COLORS = {2: "#61afef", 3: "#98c379", 1: "#c678dd"}  # server, client, internal


# The widest names a row is sized for until the screen has seen longer ones (the
# screen passes what it holds: ``NameWants``).
DEFAULT_WANTS = (14, 20, 11)  # server, tool, client: a row drawn on its own
HEADER_WANTS = (6, 8, 6)  # the screen's start: its headers, until names arrive
MIN_NAMES = (6, 8, 5)  # at 60 columns every number still fits whole
STATUS_W = 5  # ``ERROR``
DURATION_W = 8  # ``12.5 min``
TOKENS_W = 11  # ``10.3k→2.9k``
NARROW = 70  # under this, a row of every server drops the client column


@lru_cache(maxsize=256)
def _columns(width: int, show_server: bool,
             wants: tuple[int, int, int] = DEFAULT_WANTS) -> tuple[int, int, int, int]:
    """(server, tool, client, time) widths for a row of ``width`` cells: each name column
    as wide as its widest name, shrunk (widest first) only when the row is short."""
    time_w = 12 if width >= 90 else 8
    fixed = time_w + 1 + DURATION_W + 1 + STATUS_W + 1 + TOKENS_W
    server_want = wants[0] if show_server else 0
    server_min = MIN_NAMES[0] if show_server else 0
    # Too short for three names: the client goes (the waterfall shows it), so the
    # servers stay told apart.
    client_want = 0 if show_server and width < NARROW else wants[2]
    client_min = MIN_NAMES[2] if client_want else 0
    gaps = 1 + bool(server_want) + bool(client_want)
    server, tool, client = share((server_want, wants[1], client_want),
                                 (server_min, MIN_NAMES[1], client_min),
                                 width - fixed - gaps)
    return server, tool, client, time_w


def span_header(width: int, *, show_server: bool = True,
                wants: tuple[int, int, int] = DEFAULT_WANTS) -> Text:
    server, tool, client, time_w = _columns(width, show_server, wants)
    text = Text(no_wrap=True, overflow="ellipsis", style="bold dim")
    text.append(f"{'time':<{time_w}} ")
    if server:
        text.append(f"{'server':<{server}} ")
    text.append(f"{fit('tool', tool)} ")
    if client:
        text.append(f"{fit('client', client)} ")
    text.append(f"{'duration':>{DURATION_W}} {'status':<{STATUS_W}} tokens")
    return text


def span_row(span: Span, width: int, *, show_server: bool = True,
             wants: tuple[int, int, int] = DEFAULT_WANTS) -> Text:
    """``12:01:00.123 search_code  claude-code  1.25 s  OK  1.4k→350``."""
    server, tool, client, time_w = _columns(width, show_server, wants)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(local_clock(span.start_ns)[:time_w], style="dim")
    text.append(" ")
    if server:
        text.append(fit(fmt.clean(span.server), server), style="#56b6c2")
        text.append(" ")
    name = span.tool or span.name
    text.append(fit(fmt.clean(name), tool), style="bold" if span.tool else "")
    text.append(" ")
    if client:
        text.append(fit(fmt.clean(span.client), client), style="#c678dd")
        text.append(" ")
    text.append(f"{human_duration(span.duration_ns):>{DURATION_W}}",
                style="#e5c07b" if span.duration_ns >= 5_000_000_000 else "")
    text.append(" ")
    status = {0: "-", 1: "OK", 2: "ERROR"}.get(span.status_code, "?")
    text.append(f"{status:<{STATUS_W}}", style=STATUS_STYLES.get(span.status_code, ""))
    text.append(" ")
    tokens = span.tokens
    used = 0
    if tokens:
        shown = (fmt.tokens(tokens.get("input_tokens", 0)), fmt.tokens(
            tokens.get("output_tokens", 0)))
        text.append(shown[0])
        text.append("→", style="dim")
        text.append(shown[1])
        used = len(shown[0]) + 1 + len(shown[1])
    else:
        text.append("—", style="dim")
        used = 1
    if span.is_error and span.status_message:
        # Aligned in a column on a wide row; right after the tokens on a short one.
        text.append(" " * (max(2, TOKENS_W - used + 1) if width >= 90 else 2))
        text.append(fmt.clean(span.status_message), style="#e06c75")
    return text


def name_wants(spans: Iterable[Span], wants: tuple[int, int, int],
               cap: int = 40) -> tuple[int, int, int]:
    """``wants`` grown to the longest server, tool and client names of ``spans``."""
    server, tool, client = wants
    for span in spans:
        server = max(server, min(cap, len(span.server)))
        tool = max(tool, min(cap, len(span.tool or span.name)))
        client = max(client, min(cap, len(span.client)))
    return server, tool, client


def waterfall_text(rows: list[WaterfallRow], width: int) -> Text:
    """Bars scaled to the trace's duration, names indented by depth, durations right.

    ``width`` is the pane's content width; names take about a third of it.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    if not rows:
        text.append("no spans of this trace are held", style="italic dim")
        return text
    start = min(r.span.start_ns for r in rows)
    end = max(r.span.end_ns for r in rows)
    total = max(1, end - start)
    name_w = max(16, min(44, width // 3))
    dur_w = 9
    bar_w = max(10, width - name_w - dur_w - 3)
    # Scale: the trace's start and end, and its midpoint.
    text.append(" " * (name_w + 1))
    mid = human_duration(total // 2)
    right = human_duration(total)
    scale = "0" + " " * max(1, bar_w // 2 - 1 - len(mid) // 2) + mid
    scale += " " * max(1, bar_w - len(scale) - len(right)) + right
    text.append(scale[:bar_w], style="dim")
    text.append("\n")
    for i, row in enumerate(rows):
        span = row.span
        indent = "  " * min(row.depth, 8)
        label = indent + ("↳ " if row.orphan else "") + (span.name or span.span_id)
        text.append(f"{fmt.clean(label)[:name_w]:<{name_w}}",
                    style="bold" if row.depth == 0 else "")
        text.append(" ")
        a = int(row.offset_ns * bar_w / total)
        b = int((row.offset_ns + span.duration_ns) * bar_w / total + 0.999)
        a = min(a, bar_w - 1)
        b = max(a + 1, min(b, bar_w))
        color = "#e06c75" if span.is_error else KIND_COLORS.get(span.kind, "#61afef")
        text.append("·" * a, style="dim")
        text.append("█" * (b - a), style=color)
        text.append(" " * (bar_w - b))
        text.append(" ")
        text.append(f"{human_duration(span.duration_ns):>{dur_w}}")
        if i < len(rows) - 1:
            text.append("\n")
    return text


def trace_title(rows: list[WaterfallRow]) -> str:
    """``trace 4bf92f35… · 3 spans · 1.25 s``: the waterfall pane's border title."""
    if not rows:
        return "trace"
    trace_id = rows[0].span.trace_id
    start = min(r.span.start_ns for r in rows)
    end = max(r.span.end_ns for r in rows)
    n = len(rows)
    return (f"trace {trace_id[:12]}… · {n} span{'s' if n != 1 else ''} · "
            f"{human_duration(max(0, end - start))}")


def span_detail_lines(span: Span) -> Text:
    """The selected span's fields and attributes under the waterfall (plain text)."""
    fields = [("span", span.span_id), ("server", span.server),
              ("start", local_clock(span.start_ns, date=True) + " (local)"),
              ("status", span.status + (f": {span.status_message}"
                                        if span.status_message else ""))]
    fields += [(str(k), v) for k, v in span.attrs.items()]
    width = min(32, max(len(k) for k, _ in fields))
    text = Text()
    text.append("\n")
    for key, value in fields:
        text.append(f"{fmt.clean(key)[:width]:>{width}}  ", style="dim")
        text.append(fmt.clean(value) + "\n")
    for event in span.events:
        _event_lines(text, event, span.start_ns, width)
    text.rstrip()
    return text


def _event_lines(text: Text, event: SpanEvent, start_ns: int, width: int) -> None:
    """``event  +1.20 s exception`` then the event's attributes, indented (an
    ``exception``: ``exception.type`` and ``exception.message`` from ``RecordError``).

    Messages are the server's error text: appended as plain text after ``clean``
    (control characters escaped), never parsed as markup.
    """
    offset = human_duration(max(0, event.time_ns - start_ns)) if event.time_ns else "?"
    text.append(f"{'event':>{width}}  ", style="dim")
    text.append(f"+{offset} ", style="dim")
    is_exception = event.name == "exception"
    text.append(fmt.clean(event.name or "(unnamed)") + "\n",
                style="bold #e06c75" if is_exception else "bold")
    for key, value in event.attrs.items():
        text.append(f"{'':>{width}}  ", style="dim")
        text.append(f"{fmt.clean(key)}: ", style="dim")
        text.append(fmt.clean(value) + "\n", style="#e06c75" if is_exception else "")


class Waterfall:
    """A Rich renderable that draws ``waterfall_text`` at whatever width it is given,
    so the bars fill the pane however wide the terminal is."""

    def __init__(self, rows: list[WaterfallRow]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield waterfall_text(self.rows, options.max_width)
