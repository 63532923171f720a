"""Browser events as text: one log row per envelope or marker, and the detail JSON.

Everything an event carries is untrusted (a page's console text, a URL, a click
target): it only ever becomes ``rich.text.Text`` through ``fmt.clean``, never
markup, so ``[bold]`` stays literal and an escape sequence shows as ``\\x1b``.
Summaries read a handful of fields per known type and fall back to a generic line
when any is missing or odd; ``data`` is decoded here once per row (and never for
screenshots or payloads above ``DECODE_LIMIT``, so a 1 MB event costs a slice).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tokentop.store.events.model import Envelope, Marker
from tokentop.tui import format as fmt

# Category -> colour of its badge. Fixed colours: a category must look the same in
# every theme (and NO_COLOR strips them all the same way).
CATEGORY_COLORS: dict[str, str] = {
    "console": "#e5c07b",
    "network": "#61afef",
    "page": "#98c379",
    "interaction": "#c678dd",
    "control": "#56b6c2",
    "connection": "#2bbac5",
    "system": "#e06c75",
    "screenshot": "#d19a66",
    "captcha": "#f0a8d0",
    "monitor": "#abb2bf",
}
# Narrow screens: badges of at most eight cells.
SHORT_CATEGORY = {"interaction": "interact", "connection": "connect", "screenshot": "screen"}
OTHER = "other"  # the toggle and counter every unknown category falls under
CATEGORIES: tuple[str, ...] = (*CATEGORY_COLORS, OTHER)
OTHER_COLOR = "#9da5b4"

DECODE_LIMIT = 64 * 1024  # bigger payloads are not decoded for a one-line summary
TEXT_LIMIT = 400  # characters of a console text or URL kept in a summary
DETAIL_LIMIT = 60_000  # characters of pretty JSON rendered in the detail pane
STRING_LIMIT = 200  # longer strings are collapsed in the detail pane
PAIRS = 10_000  # network requests remembered for pairing with their response

_B64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


def category_key(category: str) -> str:
    """The toggle/counter a category belongs to: itself if known, else ``other``."""
    return category if category in CATEGORY_COLORS else OTHER


def category_color(category: str) -> str:
    return CATEGORY_COLORS.get(category, OTHER_COLOR)


def one_line(value: object, limit: int = TEXT_LIMIT) -> str:
    """Untrusted text on one line: newlines shown as ``↵``, controls escaped, capped."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    if "\n" in text or "\r" in text:
        text = " ↵ ".join(part for part in text.replace("\r\n", "\n").replace("\r", "\n")
                          .split("\n"))
    return fmt.clean(text)


def local_time(ts_us: int) -> str:
    """``HH:MM:SS.mmm`` in local time (``TZ`` honoured); ``--:--:--.---`` if unknown."""
    if ts_us <= 0:
        return "--:--:--.---"
    try:
        dt = datetime.fromtimestamp(ts_us / 1_000_000)
    except (OverflowError, OSError, ValueError):
        return "--:--:--.---"
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def nbytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    if n < 1_000_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{n / 1_000_000_000:.1f} GB"


# -- rows -------------------------------------------------------------------------------


Pair = tuple[str, str, int]  # the request a response answers: (method, url, ts in µs)


class LogRow(msgspec.Struct, gc=False):
    """One line of the log: an event (``envelope`` set) or a marker (``kind``).

    An event row is cheap to make: its summary, search text and local time are built
    the first time something asks (the line is drawn, a text filter looks at it, the
    detail pane opens). A burst of thousands of events a second is mostly rows that
    are never on screen, so the screen keeps up by not summarising them at all. Not
    tracked by the cyclic collector (nothing in it points back), for the same reason
    as ``Envelope``.
    """

    id: int
    kind: str  # "event" | "upstream" | "viewer" | "restart" | "notice"
    text: Text | None = None  # the summary, once built
    category: str = ""
    type: str = ""
    stamp: str | None = None  # local time, once built (markers: given)
    seq: int | None = None
    envelope: Envelope | None = None
    pair: Pair | None = None  # a network response's request, paired when it arrived
    search_text: str | None = None

    @property
    def is_marker(self) -> bool:
        return self.kind != "event"

    @property
    def summary(self) -> Text:
        text = self.text
        if text is None:
            assert self.envelope is not None
            try:
                text = summarize(self.envelope, self.pair)
            except Exception:  # an odd payload never breaks the log: say what we can
                text = Text("(unreadable data)", style="dim italic")
            self.text = text
        return text

    @property
    def search(self) -> str:
        """The lower-cased text ``/`` matches against (markers: none)."""
        if self.search_text is None:
            self.search_text = ("" if self.is_marker else
                                f"{self.category} {self.type} {self.summary.plain}".lower())
        return self.search_text

    @property
    def when(self) -> str:
        if self.stamp is None:
            self.stamp = local_time(self.envelope.event.ts) if self.envelope else ""
        return self.stamp


MARKER_STYLE = {"upstream": "bold #e06c75", "viewer": "bold #e5c07b",
                "restart": "bold #56b6c2", "notice": "italic #9da5b4"}


def marker_text(marker: Marker) -> str:
    """The words for a gap in what the viewer got (issue 4's wording)."""
    if marker.kind == "upstream":
        n = marker.dropped
        return (f"{n:,} event{'s' if n != 1 else ''} dropped upstream "
                f"(seq {marker.from_seq}-{marker.to_seq})")
    if marker.kind == "restart":
        n = marker.dropped
        if n:  # found before resuming: the new run's first events were already gone
            return (f"server restarted: {n:,} event{'s' if n != 1 else ''} of the new run "
                    f"lost (seq {marker.from_seq}-{marker.to_seq})")
        return f"stream restarted (seq back to {marker.from_seq})"
    if marker.kind == "viewer":
        n = marker.dropped
        return f"{n:,} event{'s' if n != 1 else ''} not shown: viewer fell behind"
    return f"{marker.dropped} duplicate event(s) (seq {marker.from_seq}) dropped"


def render_row(row: LogRow, width: int, *, show_type: bool = True) -> Text:
    """The row as one line ``width`` cells wide (time, seq, badge, type, summary)."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    if row.is_marker:
        style = MARKER_STYLE.get(row.kind, "bold")
        line.append(f"{row.when:<12} ", style="dim")
        line.append("── ", style=style)
        line.append_text(row.summary)
        line.append(" ──", style=style)
    else:
        seq = "" if row.seq is None else str(row.seq)
        narrow = width < 100
        line.append(f"{row.when:<12} ", style="dim")
        line.append(f"{seq:>6} ", style="dim")
        cat = fmt.clean(row.category) or "?"
        if narrow:
            cat = SHORT_CATEGORY.get(cat, cat)[:8]
        line.append(f"{cat:<{8 if narrow else 11}} ",
                    style=f"bold {category_color(row.category)}")
        if show_type:
            type_width = 24 if width >= 110 else 12 if narrow else 18
            name = fmt.clean(row.type) or "?"
            if narrow and name.startswith(f"{row.category}_") and name != f"{row.category}_":
                name = name[len(row.category) + 1:]  # "console_log" under "console": "log"
            if len(name) > type_width:
                name = name[: type_width - 1] + "…"
            line.append(f"{name:<{type_width}} ")
        line.append_text(row.summary)
    line.truncate(max(1, width), overflow="ellipsis", pad=True)
    return line


# -- summaries ----------------------------------------------------------------------------


class _Net(msgspec.Struct):
    """The fields of a network event that pairing needs (the rest is skipped)."""

    request_id: Any = None
    method: Any = None
    url: Any = None


_net_decoder = msgspec.json.Decoder(_Net)


class EventSummarizer:
    """Makes rows from envelopes, pairing network responses with their requests.

    Pairing is the one thing that must happen in arrival order, so it is done when a
    row is made (a small typed decode of network events only); everything else waits
    until the row is shown. One per log; not thread-safe: the screen calls it on the
    event loop, a batch at a time.
    """

    def __init__(self) -> None:
        self._requests: OrderedDict[str, Pair] = OrderedDict()
        self._next_id = 0

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def marker_row(self, marker: Marker, when: str = "") -> LogRow:
        text = Text(marker_text(marker), style=MARKER_STYLE.get(marker.kind, "bold"))
        return LogRow(self._id(), marker.kind, text, stamp=when)

    def notice_row(self, words: str, when: str = "") -> LogRow:
        return LogRow(self._id(), "notice", Text(words, style=MARKER_STYLE["notice"]),
                      stamp=when)

    def event_row(self, env: Envelope) -> LogRow:
        ev = env.event
        seq = env.upstream_seq if env.upstream_seq is not None else env.seq
        pair = None
        if ev.type in _PAIRED and ev.has_data and not ev.truncated:
            pair = self._pair(ev.type, ev.data, ev.ts)
        self._next_id += 1
        return LogRow(self._next_id, "event", None, ev.category, ev.type, None, seq, env,
                      pair)

    def _pair(self, type_: str, raw: msgspec.Raw, ts: int) -> Pair | None:
        if len(raw) > DECODE_LIMIT:
            return None
        try:
            net = _net_decoder.decode(raw)
        except msgspec.DecodeError:  # not an object: the summary says so later
            return None
        rid = net.request_id
        if not isinstance(rid, str | int) or isinstance(rid, bool):
            return None
        if type_ == "network_response":
            return self._requests.pop(str(rid), None)
        if isinstance(net.url, str):
            method = net.method if isinstance(net.method, str) else "GET"
            self._requests[str(rid)] = (method, net.url, ts)
            if len(self._requests) > PAIRS:
                self._requests.popitem(last=False)
        return None


_PAIRED = frozenset({"network_request", "network_response"})


def summarize(env: Envelope, pair: Pair | None = None) -> Text:
    """The one-line summary of an event (``pair``: the request a response answers)."""
    ev = env.event
    if ev.truncated:
        text = Text()
        text.append("payload truncated", style="bold #d19a66")
        text.append(f" ({nbytes(env.size)} received, data dropped)" if env.size
                    else " (data dropped upstream)", style="dim")
        return text
    if ev.type == "monitor_screenshot" or ev.category == "screenshot":
        return _screenshot(env)
    raw = bytes(ev.data)
    if len(raw) > DECODE_LIMIT:
        return Text(f"{{…}} {nbytes(len(raw))} of data", style="dim")
    data: Any = None
    if ev.has_data:
        data = msgspec.json.decode(raw)
    d = data if isinstance(data, dict) else {}
    handler = _HANDLERS.get(ev.type)
    if handler is not None:
        out = handler(pair, d, ev.ts)
        if out is not None:
            return out
    return generic(data)


def _screenshot(env: Envelope) -> Text:
    raw = bytes(env.event.data)
    size = len(raw)
    d: dict[str, Any] = {}
    if size <= DECODE_LIMIT and env.event.has_data:
        with _quiet():
            obj = msgspec.json.decode(raw)
            d = obj if isinstance(obj, dict) else {}
    text = Text("screenshot")
    w, h = d.get("width"), d.get("height")
    if isinstance(w, int) and isinstance(h, int):
        text.append(f" {w}x{h}")
    fmt_name = d.get("format")
    if isinstance(fmt_name, str):
        text.append(f" {one_line(fmt_name, 10)}")
    text.append(f" · {nbytes(size)}", style="dim")
    return text


def _request(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    method, url = d.get("method"), d.get("url")
    if not isinstance(url, str):
        return None
    method = method if isinstance(method, str) else "GET"
    text = Text("→ ", style="dim")
    text.append(one_line(method, 10), style="bold")
    text.append(" ")
    text.append(one_line(url))
    return text


def _response(pair: Pair | None, d: dict[str, Any], ts: int) -> Text | None:
    status = d.get("status")
    url = d.get("url")
    method = pair[0] if pair else d.get("method")
    if not isinstance(url, str):
        url = pair[1] if pair else None
    if not isinstance(status, int) or not isinstance(url, str):
        return None
    color = "#98c379" if status < 300 else "#e5c07b" if status < 400 else "#e06c75"
    text = Text("← ", style="dim")
    text.append(str(status), style=f"bold {color}")
    if isinstance(method, str):
        text.append(f" {one_line(method, 10)}")
    text.append(" ")
    text.append(one_line(url))
    duration = d.get("duration_ms")
    if not isinstance(duration, int | float) and pair is not None and ts and pair[2]:
        duration = (ts - pair[2]) / 1000
    if isinstance(duration, int | float) and duration >= 0:
        text.append(f" {duration:,.0f} ms", style="dim")
    return text


class _quiet:
    """Swallow a decode error: a screenshot's odd payload just shows less."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], msgspec.DecodeError)  # type: ignore[arg-type]


def _s(d: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        v = d.get(key)
        if isinstance(v, str) and v:
            return v
    return None


def _n(d: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        v = d.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return v
    return None


def _console(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    text = _s(d, "text", "message")
    if text is None:
        return None
    level = _s(d, "level") or "log"
    color = {"error": "#e06c75", "warning": "#e5c07b", "warn": "#e5c07b",
             "info": "#61afef", "debug": "#9da5b4"}.get(level.lower(), "")
    out = Text()
    out.append(f"{one_line(level, 8):<5} ", style=f"bold {color}".strip())
    out.append(one_line(text))
    return out


def _failed(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    url = _s(d, "url")
    err = _s(d, "error_text", "error", "reason")
    if url is None and err is None:
        return None
    out = Text("✗ ", style="bold #e06c75")
    if url:
        out.append(one_line(url))
    if err:
        out.append(f" {one_line(err, 120)}", style="#e06c75")
    return out


def _fields(*spec: tuple[str, ...] | tuple[str, tuple[str, ...], str]) -> Any:
    """A summary made of the first present field of each ``(label, keys, style[,
    suffix])``; ``None`` (the generic line) when none is present."""

    def summary(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
        out = Text()
        for label, keys, style, *rest in spec:
            for key in keys:
                v = d.get(key)
                if v is None or isinstance(v, dict | list):
                    continue
                if out:
                    out.append(" ")
                if label:
                    out.append(f"{label} ", style="dim")
                out.append(one_line(v), style=style)
                if rest:
                    out.append(rest[0], style=style or "dim")
                break
        return out if out else None

    return summary


def _api(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    op = _s(d, "operation", "method", "name", "path")
    if op is None:
        return None
    out = Text(one_line(op, 120), style="bold")
    status = d.get("status")
    if isinstance(status, int | str) and not isinstance(status, bool):
        ok = (isinstance(status, int) and status < 400) or status in ("ok", "success")
        out.append(f" {one_line(status, 20)}", style="#98c379" if ok else "#e06c75")
    ms = _n(d, "duration_ms")
    if ms is not None:
        out.append(f" {ms:,.0f} ms", style="dim")
    return out


def _oom(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    proc = _s(d, "process", "name", "comm")
    rss = _n(d, "rss_bytes", "rss")
    if proc is None and rss is None:
        return None
    out = Text("OOM killed ", style="bold #e06c75")
    out.append(one_line(proc or "?", 80), style="bold")
    pid = _n(d, "pid")
    if pid is not None:
        out.append(f" (pid {int(pid)})", style="dim")
    if rss is not None:
        out.append(f" RSS {nbytes(int(rss))}")
    return out


def _click(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    target = _s(d, "target", "selector", "text")
    x, y = _n(d, "x"), _n(d, "y")
    if target is None and (x is None or y is None):
        return None
    out = Text("click ", style="dim")
    if target is not None:
        out.append(one_line(target, 160))
    if x is not None and y is not None:
        out.append(f" @{int(x)},{int(y)}", style="dim")
    return out


def _captcha(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    ok = d.get("success", d.get("solved"))
    if not isinstance(ok, bool):
        return None
    out = Text("solved" if ok else "not solved",
               style="bold #98c379" if ok else "bold #e06c75")
    kind = _s(d, "provider", "kind", "type")
    if kind:
        out.append(f" {one_line(kind, 40)}")
    ms = _n(d, "duration_ms")
    if ms is not None:
        out.append(f" {ms:,.0f} ms", style="dim")
    return out


_HANDLERS: dict[str, Any] = {
    "console_log": _console,
    "console_error": _console,
    "network_request": _request,
    "network_response": _response,
    "network_loading_failed": _failed,
    "network_idle": _fields(("", ("url",), ""), ("in flight", ("inflight", "pending"), "")),
    "proxy_error": _failed,
    "page_navigation": _fields(("", ("url",), "bold")),
    "page_dom_content_loaded": _fields(("", ("url",), ""), ("", ("duration_ms",), "dim", " ms")),
    "page_load": _fields(("", ("url",), ""), ("", ("duration_ms",), "dim", " ms")),
    "page_tab_opened": _fields(("", ("url",), ""), ("tab", ("tab_id", "target_id"), "dim")),
    "page_layout_shift": _fields(("score", ("score", "value"), "bold")),
    "page_lcp": _fields(("LCP", ("lcp_ms", "value", "duration_ms"), "bold", " ms"),
                        ("", ("element", "selector"), "dim")),
    "page_layout_settled": _fields(("", ("url",), ""), ("after", ("duration_ms",), "dim", " ms")),
    "page_navigation_settled": _fields(("", ("url",), ""),
                                       ("after", ("duration_ms",), "dim", " ms")),
    "interaction_click": _click,
    "interaction_key": _fields(("key", ("key", "code"), "bold"), ("on", ("target",), "")),
    "interaction_scroll_settled": _fields(("x", ("x", "scroll_x"), ""),
                                          ("y", ("y", "scroll_y"), "")),
    "api_call": _api,
    "api": _api,
    "cdp_connect": _fields(("", ("url", "target"), ""), ("", ("reason",), "dim")),
    "cdp_disconnect": _fields(("", ("reason", "url"), "")),
    "live_view_connect": _fields(("viewer", ("viewer", "client", "remote_addr"), "")),
    "live_view_disconnect": _fields(("viewer", ("viewer", "client", "remote_addr"), ""),
                                    ("", ("reason",), "dim")),
    "system_oom_kill": _oom,
    "service_crashed": _fields(("", ("service", "name"), "bold #e06c75"),
                               ("exit", ("exit_code", "signal"), ""),
                               ("", ("reason", "error"), "dim")),
    "captcha_solve_result": _captcha,
    "monitor_disconnected": _fields(("", ("reason", "error"), "")),
    "monitor_reconnected": _fields(("attempts", ("attempts", "attempt"), ""),
                                   ("down", ("downtime_ms", "duration_ms"), "dim", " ms")),
    "monitor_reconnect_failed": _fields(("", ("error", "reason"), "#e06c75"),
                                        ("attempt", ("attempt", "attempts"), "dim")),
    "monitor_init_failed": _fields(("", ("error", "reason"), "#e06c75")),
}


def generic(data: Any) -> Text:
    """An unknown type (or a known one missing its fields): a few ``key=value`` pairs."""
    out = Text(style="")
    if data is None:
        out.append("(no data)", style="dim")
        return out
    if not isinstance(data, dict):
        out.append(one_line(json.dumps(data, ensure_ascii=False)[:200], 200), style="dim")
        return out
    shown = 0
    for key, value in data.items():
        if shown >= 4:
            out.append(" …", style="dim")
            break
        if isinstance(value, dict | list):
            value = "{…}" if isinstance(value, dict) else f"[{len(value)}]"
        if out:
            out.append(" ")
        out.append(f"{one_line(key, 30)}=", style="dim")
        out.append(one_line(value, 80))
        shown += 1
    if not shown:
        out.append("{}", style="dim")
    return out


# -- detail pane ----------------------------------------------------------------------------


def _looks_base64(value: str) -> bool:
    if len(value) <= STRING_LIMIT:
        return False
    head = value[:4096]
    if head.startswith("data:") and ";base64," in head[:100]:
        return True
    return bool(_B64.match(head.rstrip("=")))


def _collapse(value: Any) -> Any:
    """Long base64-looking strings become ``<base64, N bytes>``; other long strings
    are cut at ``STRING_LIMIT`` with their length."""
    if isinstance(value, str):
        if len(value) > STRING_LIMIT:
            if _looks_base64(value):
                body = value.split(";base64,", 1)[-1]
                size = len(body) * 3 // 4 - body[-2:].count("=")
                return f"<base64, {size:,} bytes>"
            return value[:STRING_LIMIT] + f"… ({len(value):,} chars)"
        return value
    if isinstance(value, dict):
        return {k: _collapse(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 200:
            return [_collapse(v) for v in value[:200]] + [f"… {len(value) - 200:,} more"]
        return [_collapse(v) for v in value]
    return value


def _decode(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return f"<undecodable JSON, {len(raw):,} bytes>"


def envelope_document(env: Envelope) -> dict[str, Any]:
    """The envelope as plain values, ``data`` and ``metadata`` decoded now (lazily)."""
    ev = env.event
    doc: dict[str, Any] = {"seq": env.upstream_seq if env.upstream_seq is not None else None,
                           "local_seq": env.seq, "size": env.size}
    event: dict[str, Any] = {"ts": ev.ts, "type": ev.type, "category": ev.category,
                             "source": {"kind": ev.source.kind, "event": ev.source.event,
                                        "metadata": _decode(bytes(ev.source.metadata))}}
    event["data"] = _decode(bytes(ev.data))
    if ev.truncated:
        event["truncated"] = True
    doc["event"] = event
    return doc


_highlight = JSONHighlighter()


def detail_text(env: Envelope, limit: int = DETAIL_LIMIT) -> Text:
    """Pretty JSON of ``env`` for the detail pane: blobs collapsed, controls escaped,
    at most ``limit`` characters (a note says how much was left out)."""
    pretty = json.dumps(_collapse(envelope_document(env)), indent=2, ensure_ascii=False)
    cut = len(pretty) > limit
    if cut:
        pretty = pretty[:limit]
    lines = [fmt.clean(line) for line in pretty.split("\n")]
    text = Text("\n".join(lines), no_wrap=False)
    _highlight.highlight(text)
    if cut:
        text.append(f"\n… cut at {limit:,} characters", style="italic dim")
    if env.event.truncated:
        text.append("\n(the payload was above 1,000,000 bytes: its data was dropped)",
                    style="italic #d19a66")
    return text


# -- fast line rendering ---------------------------------------------------------------


@lru_cache(maxsize=1024)
def _parse_style(style: str) -> Style:
    return Style.parse(style)


def _as_style(style: str | Style) -> Style:
    return style if isinstance(style, Style) else _parse_style(style)


def text_segments(text: Text) -> list[Segment]:
    """``text`` as segments, for a line built by appends (spans that do not overlap).

    ``Text.render`` recomputes a style stack per span boundary and is the most
    expensive part of drawing a log line; a row's spans are laid end to end, so the
    segments follow from the spans directly. Overlapping spans (a cursor highlight,
    a stylized range) take rich's general path.
    """
    plain = text.plain
    base = _as_style(text.style) if text.style else None
    spans = text.spans
    last = 0
    for span in spans:
        if span.start < last:
            console = _console_for_segments()
            return [s for s in text.render(console) if s.text != "\n"]
        last = span.end
    out: list[Segment] = []
    pos = 0
    for span in spans:
        start, end = span.start, span.end
        if start > pos:
            out.append(Segment(plain[pos:start], base))
        if end > start:
            style = _as_style(span.style)
            out.append(Segment(plain[start:end], base + style if base else style))
        pos = max(pos, end)
    if pos < len(plain):
        out.append(Segment(plain[pos:], base))
    return out


@lru_cache(maxsize=1)
def _console_for_segments() -> Console:
    return Console(width=10_000, color_system="truecolor", legacy_windows=False)
