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
from tokentop.tui.widgets.cells import cut_line

# Category -> colour of its badge: the categories kernel-images assigns
# (server/lib/events/category_gen.go, generated from its OpenAPI spec: ``platform`` holds
# ``platform_api_call``, the API calls that manage the VM). Fixed colours: a category must
# look the same in every theme (and NO_COLOR strips them all the same way).
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
    "platform": "#7f9fbf",
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
    return cut_line(line, width, pad=True)


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
    """``monitor_screenshot``: ``{"png": <base64>}`` plus the nav context
    (kernel-images ``server/lib/cdpmonitor/screenshot.go``); never decoded past
    ``DECODE_LIMIT``, so a big one shows its size only."""
    raw = bytes(env.event.data)
    size = len(raw)
    d: dict[str, Any] = {}
    if size <= DECODE_LIMIT and env.event.has_data:
        with _quiet():
            obj = msgspec.json.decode(raw)
            d = obj if isinstance(obj, dict) else {}
    text = Text("screenshot png")
    png = d.get("png")
    if isinstance(png, str) and png:
        text.append(f" {nbytes(len(png) * 3 // 4)}")
    url = _s(d, "url")
    if url:
        text.append(f" {one_line(url, 120)}", style="dim")
    text.append(f" · {nbytes(size)} event", style="dim")
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


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:,.1f} ms"


def _dim(out: Text, words: str) -> None:
    out.append(f" {words}", style="dim")


# The summaries read the fields kernel-images writes (kernel/kernel-images: the CDP
# handlers in server/lib/cdpmonitor/handlers.go at ae4b8d3b and its README's "Per-event
# data fields"; the api_call middleware in server/cmd/api/api/middleware.go; the other
# producers through the generated schema, kernel/kernel-node-sdk
# src/resources/browsers/telemetry.ts). Each returns None when its fields are missing,
# and the row falls back to the generic ``key=value`` line.


def _request(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``network_request``: method, url; ``is_redirect`` + ``redirect_url``."""
    method, url = d.get("method"), d.get("url")
    if not isinstance(url, str):
        return None
    method = method if isinstance(method, str) and method else "GET"
    text = Text("→ ", style="dim")
    text.append(one_line(method, 10), style="bold")
    text.append(" ")
    text.append(one_line(url))
    if d.get("is_redirect") is True:
        _dim(text, "(redirect)")
    return text


def _response(pair: Pair | None, d: dict[str, Any], ts: int) -> Text | None:
    """``network_response`` (sent at ``Network.loadingFinished``): status, method, url,
    mime_type; the time since its request is tokentop's (paired by request_id)."""
    status = d.get("status")
    url = d.get("url")
    method = d.get("method") or (pair[0] if pair else None)
    if not isinstance(url, str) or not url:
        url = pair[1] if pair else None
    if not isinstance(status, int) or isinstance(status, bool) or not isinstance(url, str):
        return None
    color = "#98c379" if status < 300 else "#e5c07b" if status < 400 else "#e06c75"
    text = Text("← ", style="dim")
    text.append(str(status), style=f"bold {color}")
    if isinstance(method, str) and method:
        text.append(f" {one_line(method, 10)}")
    text.append(" ")
    text.append(one_line(url))
    if pair is not None and ts and pair[2] and ts >= pair[2]:
        _dim(text, _ms((ts - pair[2]) / 1000))
    mime = _s(d, "mime_type")
    if mime:
        _dim(text, one_line(mime, 40))
    return text


def _failed(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``network_loading_failed``: error_text, canceled; url only when the request was
    seen (absent otherwise)."""
    url = _s(d, "url")
    err = _s(d, "error_text")
    if url is None and err is None:
        return None
    out = Text("✗ ", style="bold #e06c75")
    out.append(one_line(url) if url else f"request {one_line(d.get('request_id', '?'), 40)}")
    if err:
        out.append(f" {one_line(err, 120)}", style="#e06c75")
    if d.get("canceled") is True:
        _dim(out, "(canceled)")
    return out


def _proxy(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``proxy_error``: code, status (502); method, url, resource_type when known."""
    code = _s(d, "code")
    if code is None:
        return None
    out = Text("proxy ", style="dim")
    out.append(one_line(code, 40), style="bold #e06c75")
    status = _n(d, "status")
    if status is not None:
        out.append(f" {int(status)}", style="#e06c75")
    method, url = _s(d, "method"), _s(d, "url")
    if method:
        out.append(f" {one_line(method, 10)}")
    if url:
        out.append(f" {one_line(url)}")
    rtype = _s(d, "resource_type")
    if rtype:
        _dim(out, one_line(rtype, 20))
    return out


def _console(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``console_log``: level (the CDP console type), text (the first argument)."""
    text = _s(d, "text")
    if text is None:
        return None
    level = _s(d, "level") or "log"
    color = {"error": "#e06c75", "warning": "#e5c07b", "warn": "#e5c07b",
             "assert": "#e06c75", "info": "#61afef", "debug": "#9da5b4"}.get(level.lower(), "")
    out = Text()
    out.append(f"{one_line(level, 8):<5} ", style=f"bold {color}".strip())
    out.append(one_line(text))
    return out


def _console_error(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``console_error``: an error either way. From ``Runtime.consoleAPICalled`` it has
    ``level`` and ``text``; from ``Runtime.exceptionThrown`` no ``level`` but ``text``,
    ``source_url``, ``line``, ``column`` (CDP's zero-based numbers, shown as sent)."""
    text = _s(d, "text")
    if text is None:
        return None
    out = Text()
    out.append("error ", style="bold #e06c75")
    out.append(one_line(text))
    where = _s(d, "source_url")
    if where:
        line, col = _n(d, "line"), _n(d, "column")
        pos = f":{int(line)}" if line is not None else ""
        pos += f":{int(col)}" if line is not None and col is not None else ""
        _dim(out, f"at {one_line(where, 160)}{pos}")
    return out


def _url_only(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """The nav-context events (``network_idle``, ``page_dom_content_loaded``,
    ``page_load``, ``page_layout_settled``, ``page_navigation_settled``): the page URL
    (``cdp_timestamp`` is Chrome's monotonic clock, not a time to show)."""
    url = _s(d, "url")
    return Text(one_line(url)) if url else None


def _navigation(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``page_navigation``: url; ``parent_frame_id`` only for an iframe."""
    url = _s(d, "url")
    if url is None:
        return None
    out = Text(one_line(url), style="bold")
    if _s(d, "parent_frame_id"):
        _dim(out, "(iframe)")
    return out


def _tab(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``page_tab_opened``: url, title, opener_id."""
    url, title = _s(d, "url"), _s(d, "title")
    if url is None and title is None:
        return None
    out = Text("tab ", style="dim")
    if title:
        out.append(one_line(title, 80), style="bold")
    if url:
        out.append(f" {one_line(url)}" if title else one_line(url))
    if _s(d, "opener_id"):
        _dim(out, "(opened by another tab)")
    return out


def _crashed(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``page_crashed``: target_id, target_type, url (the renderer died, the browser
    did not)."""
    out = Text("renderer crashed", style="bold #e06c75")
    url = _s(d, "url")
    if url:
        out.append(f" {one_line(url)}")
    ttype = _s(d, "target_type")
    if ttype and ttype != "page":
        _dim(out, f"({one_line(ttype, 20)})")
    return out


def _shift(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``page_layout_shift``: the score is ``layout_shift_details.value``."""
    details = d.get("layout_shift_details")
    if not isinstance(details, dict):
        return None
    value = _n(details, "value")
    if value is None:
        return None
    out = Text("shift ", style="dim")
    out.append(f"{value:.4f}", style="bold")
    if details.get("had_recent_input") is True:
        _dim(out, "after input (not in CLS)")
    return out


def _lcp(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``page_lcp``: ``lcp_details`` {render_time, load_time, size, element_id, url,
    node_id}: the element (id or URL) and its area."""
    details = d.get("lcp_details")
    if not isinstance(details, dict):
        return None
    out = Text("LCP", style="bold")
    element = _s(details, "element_id")
    if element:
        out.append(f" #{one_line(element, 60)}")
    url = _s(details, "url")
    if url:
        out.append(f" {one_line(url)}")
    size = _n(details, "size")
    if size is not None:
        _dim(out, f"{size:,.0f} px²")
    return out if len(out) > 3 else None


def _click(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``interaction_click``: selector, tag, text (empty for sensitive inputs), x, y."""
    selector, label = _s(d, "selector"), _s(d, "text")
    x, y = _n(d, "x"), _n(d, "y")
    if selector is None and label is None and (x is None or y is None):
        return None
    out = Text("click ", style="dim")
    out.append(one_line(selector or _s(d, "tag") or "?", 160))
    if label:
        out.append(f" “{one_line(label, 60)}”")
    if x is not None and y is not None:
        _dim(out, f"@{int(x)},{int(y)}")
    return out


def _key(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``interaction_key``: key, selector (of the focused element), tag."""
    key = _s(d, "key")
    if key is None:
        return None
    out = Text("key ", style="dim")
    out.append(one_line(key, 30), style="bold")
    target = _s(d, "selector", "tag")
    if target:
        _dim(out, "on")
        out.append(f" {one_line(target, 160)}")
    return out


def _scroll(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``interaction_scroll_settled``: from_x/from_y → to_x/to_y, target_selector."""
    to_x, to_y = _n(d, "to_x"), _n(d, "to_y")
    if to_x is None or to_y is None:
        return None
    from_x, from_y = _n(d, "from_x") or 0, _n(d, "from_y") or 0
    out = Text("scroll ", style="dim")
    out.append(f"{int(from_x)},{int(from_y)} → {int(to_x)},{int(to_y)}")
    target = _s(d, "target_selector")
    if target:
        _dim(out, "in")
        out.append(f" {one_line(target, 160)}")
    return out


def _api(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``api_call`` and ``platform_api_call`` (the in-VM API's middleware): operation_id,
    status (HTTP), duration_ms, request_id; ``code`` (Playwright source) is left to the
    detail pane."""
    op = _s(d, "operation_id")
    if op is None:
        return None
    out = Text(one_line(op, 80), style="bold")
    status = _n(d, "status")
    if status is not None:
        out.append(f" {int(status)}", style="#98c379" if status < 400 else "#e06c75")
    ms = _n(d, "duration_ms")
    if ms is not None:
        _dim(out, _ms(ms))
    return out


_CDP_ARGS = ("event_type", "type", "button", "key", "x", "y", "click_count", "text_length",
             "url_host", "format", "accept")


def _cdp_command(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``cdp_command`` (the CDP proxy): ``method`` plus that command's sanitized
    arguments (lengths, counts, enums, URL hosts: never the typed text); up to four
    are shown."""
    method = _s(d, "method")
    if method is None:
        return None
    out = Text(one_line(method, 60), style="bold")
    shown = 0
    for key, value in d.items():
        if shown >= 4:
            break
        if key in ("method", "connection_id") or isinstance(value, dict | list) or value is None:
            continue
        out.append(f" {one_line(key, 20)}=", style="dim")
        out.append(one_line(value, 60))
        shown += 1
    return out


def _cdp_connect(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``cdp_connect``: connection_id (optional: an older image sends no data)."""
    cid = _s(d, "connection_id")
    out = Text("CDP client connected")
    if cid:
        _dim(out, one_line(cid, 40))
    return out


def _cdp_disconnect(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``cdp_disconnect``: reason, duration_ms, message_count, telemetry_dropped/_excluded."""
    reason = _s(d, "reason")
    if reason is None:
        return None
    out = Text("CDP client gone ")
    out.append(one_line(reason, 30), style="bold" if reason == "client_close" else "#e5c07b")
    ms, msgs = _n(d, "duration_ms"), _n(d, "message_count")
    if ms is not None:
        _dim(out, f"after {ms / 1000:,.1f} s")
    if msgs is not None:
        _dim(out, f"{int(msgs):,} messages")
    dropped = _n(d, "telemetry_dropped")
    if dropped:
        out.append(f" {int(dropped):,} commands not reported", style="#e5c07b")
    return out


def _live_view(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``live_view_connect`` / ``live_view_disconnect``: session_id; duration_ms on
    disconnect."""
    sid = _s(d, "session_id")
    if sid is None:
        return None
    out = Text("live view ", style="dim")
    out.append(one_line(sid, 40))
    ms = _n(d, "duration_ms")
    if ms is not None:
        _dim(out, f"after {ms / 1000:,.1f} s")
    return out


def _oom(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``system_oom_kill``: process_name, pid, rss_kb (KiB), constraint."""
    proc = _s(d, "process_name")
    if proc is None:
        return None
    out = Text("OOM killed ", style="bold #e06c75")
    out.append(one_line(proc, 40), style="bold")
    pid = _n(d, "pid")
    if pid is not None:
        _dim(out, f"(pid {int(pid)})")
    rss = _n(d, "rss_kb")
    if rss is not None:
        out.append(f" RSS {nbytes(int(rss) * 1024)}")
    constraint = _s(d, "constraint")
    if constraint and constraint != "none":
        _dim(out, f"({one_line(constraint, 20)} limit)")
    return out


def _service(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``service_crashed``: service_name, phase (startup, running, gave_up), pid."""
    name = _s(d, "service_name")
    if name is None:
        return None
    out = Text(one_line(name, 40), style="bold #e06c75")
    phase = _s(d, "phase")
    out.append(" gave up restarting" if phase == "gave_up" else " crashed", style="#e06c75")
    if phase and phase != "gave_up":
        _dim(out, f"while {one_line(phase, 20)}")
    pid = _n(d, "pid")
    if pid is not None:
        _dim(out, f"(pid {int(pid)})")
    return out


_CAPTCHA_OK = frozenset({"success", "solved"})


def _captcha(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``captcha_solve_result`` (status success|failure|timeout|abandoned, error_code) and
    ``captcha_challenge_result`` (status solved|failure|timeout|abandoned): with
    captcha_type, duration_ms and website_host."""
    status = _s(d, "status")
    if status is None:
        return None
    ok = status in _CAPTCHA_OK
    out = Text(one_line(status, 20), style="bold #98c379" if ok else "bold #e06c75")
    kind = _s(d, "captcha_type")
    if kind:
        out.append(f" {one_line(kind, 30)}")
    code = _s(d, "error_code")
    if code:
        out.append(f" {one_line(code, 60)}", style="#e06c75")
    ms = _n(d, "duration_ms")
    if ms is not None:
        _dim(out, _ms(ms))
    host = _s(d, "website_host")
    if host:
        _dim(out, f"on {one_line(host, 80)}")
    return out


def _captcha_started(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``captcha_solve_started``: captcha_type, website_host."""
    kind = _s(d, "captcha_type")
    if kind is None:
        return None
    out = Text("solving ", style="dim")
    out.append(one_line(kind, 30), style="bold")
    host = _s(d, "website_host")
    if host:
        _dim(out, f"on {one_line(host, 80)}")
    return out


def _monitor(field: str, label: str, style: str = "") -> Any:
    """The collector-health events: one field each (``reason``, ``step``)."""

    def summary(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
        value = _s(d, field)
        if value is None:
            return None
        out = Text(label, style="dim")
        out.append(one_line(value, 80), style=style)
        return out

    return summary


def _reconnected(_: Pair | None, d: dict[str, Any], __: int) -> Text | None:
    """``monitor_reconnected``: reconnect_duration_ms."""
    ms = _n(d, "reconnect_duration_ms")
    if ms is None:
        return None
    return Text(f"CDP monitor back after {_ms(ms)}")


_HANDLERS: dict[str, Any] = {
    "console_log": _console,
    "console_error": _console_error,
    "network_request": _request,
    "network_response": _response,
    "network_loading_failed": _failed,
    "network_idle": _url_only,
    "proxy_error": _proxy,
    "page_navigation": _navigation,
    "page_dom_content_loaded": _url_only,
    "page_load": _url_only,
    "page_tab_opened": _tab,
    "page_crashed": _crashed,
    "page_layout_shift": _shift,
    "page_lcp": _lcp,
    "page_layout_settled": _url_only,
    "page_navigation_settled": _url_only,
    "interaction_click": _click,
    "interaction_key": _key,
    "interaction_scroll_settled": _scroll,
    "api_call": _api,
    "platform_api_call": _api,
    "cdp_command": _cdp_command,
    "cdp_connect": _cdp_connect,
    "cdp_disconnect": _cdp_disconnect,
    "live_view_connect": _live_view,
    "live_view_disconnect": _live_view,
    "system_oom_kill": _oom,
    "service_crashed": _service,
    "captcha_solve_started": _captcha_started,
    "captcha_solve_result": _captcha,
    "captcha_challenge_result": _captcha,
    "monitor_disconnected": _monitor("reason", "CDP monitor lost: ", "#e5c07b"),
    "monitor_reconnected": _reconnected,
    "monitor_reconnect_failed": _monitor("reason", "CDP monitor gave up: ", "#e06c75"),
    "monitor_init_failed": _monitor("step", "CDP monitor init failed at ", "#e06c75"),
}
KNOWN_TYPES = frozenset(_HANDLERS) | {"monitor_screenshot"}


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
