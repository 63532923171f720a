"""gridctl's ``traces.jsonl``: one OTLP-JSON ``TracesData`` envelope per line.

gridctl's ``TracesFileClient`` writes each exporter batch as ``protojson`` of
``TracesData`` (DESIGN 2.1, seed 001), so the reader follows protojson's rules rather
than OTLP/HTTP's JSON variant:

- keys are lowerCamelCase (``resourceSpans``, ``scopeSpans``, ``startTimeUnixNano``);
  the proto names (``resource_spans``) are accepted too, as protojson parsers do;
- ``traceId``/``spanId``/``parentSpanId`` are ``bytes``: base64. They are shown as hex,
  the form every trace UI and ``trace_id`` log attribute uses; a hex id (OTLP/HTTP
  style) is recognised by its length and kept;
- 64-bit integers are strings (``"1777982460123456789"``), numbers accepted too;
- enums are names (``SPAN_KIND_SERVER``, ``STATUS_CODE_ERROR``) or numbers;
- attributes are ``[{key, value: {stringValue|intValue|doubleValue|boolValue|
  arrayValue|kvlistValue|bytesValue}}]``.

What gridctl's gateway writes for one ``tools/call`` (pkg/mcp/gateway.go,
gridctl/gridctl@7cec407): a root ``mcp.tools.call`` span (renamed ``<server> › <tool>``
once routed) with ``mcp.tool.name``; an ``mcp.routing`` child with ``tool.name`` (the
prefixed ``<server>__<tool>`` the client called); an ``mcp.client.call_tool`` child with
``tool.name``, which gets ``mcp.tool.name`` (and ``gen_ai.*``) only when the call
succeeded. A failed call is that span with status ERROR, the error as its message and,
from ``span.RecordError``, an ``exception`` event (``exception.type``,
``exception.message``). So a span's tool is ``mcp.tool.name``, else ``gen_ai.tool.name``,
else ``tool.name`` (the routing prefix dropped), and events are kept (``SpanEvent``).

A line may hold several ``resourceSpans`` (one per resource) and each several
``scopeSpans``; a span's server is the file's server (gridctl routes by the
``server.name`` attribute, which is kept as an attribute too). A line that is not a
``TracesData`` object is malformed: counted, skipped; a span without ids is skipped
and counted the same way.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tokentop.store.gridctl.logs import iso_utc

_decoder = msgspec.json.Decoder(dict[str, Any])

STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
KIND_NAMES = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER",
              5: "CONSUMER"}

TOOL_KEYS = ("mcp.tool.name", "gen_ai.tool.name", "tool.name", "tool")
ROUTING_SPAN = "mcp.routing"  # a step of a call, not a call: its tool is prefixed
GATEWAY_ROOT = "mcp.tools.call"  # the root's name until routed (then "<server> › <tool>")
TOOL_DELIMITER = "__"  # pkg/mcp/router.go ToolNameDelimiter: <server>__<tool>
CLIENT_KEYS = ("mcp.client.name", "client.name", "mcp.client", "user_agent.original")
USAGE_PREFIX = "gen_ai.usage."


class Malformed(ValueError):
    """A line that is not an OTLP-JSON ``TracesData`` envelope."""


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def span_id_hex(value: Any, size: int) -> str:
    """A protojson ``bytes`` id (base64) as lower-case hex; ``""`` when absent/empty.

    ``size`` is the id's byte length (16 for traces, 8 for spans): a string of exactly
    ``2 * size`` hex digits is already hex (OTLP/HTTP JSON writes ids that way).
    Raises ValueError for anything else.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError(f"id is not a string: {value!r}")
    if len(value) == 2 * size:
        try:
            bytes.fromhex(value)
            return value.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=False,
                               altchars=b"-_" if ("-" in value or "_" in value) else None)
    except (binascii.Error, ValueError):
        raise ValueError(f"id is neither base64 nor hex: {value!r}") from None
    if len(raw) != size:
        raise ValueError(f"id has {len(raw)} bytes, expected {size}: {value!r}")
    return raw.hex()


def _int64(value: Any) -> int:
    """protojson int64/uint64/fixed64: a decimal string, or a number."""
    if isinstance(value, bool):
        raise ValueError("bool is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value)
    raise ValueError(f"not an integer: {value!r}")


def any_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a Python value (ints from their string form)."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value or "string_value" in value:
        return _get(value, "stringValue", "string_value")
    if "intValue" in value or "int_value" in value:
        try:
            return _int64(_get(value, "intValue", "int_value"))
        except ValueError:
            return _get(value, "intValue", "int_value")
    if "doubleValue" in value or "double_value" in value:
        v = _get(value, "doubleValue", "double_value")
        if isinstance(v, str):  # protojson: "NaN", "Infinity", "-Infinity"
            try:
                return float(v)
            except ValueError:
                return v
        return v
    if "boolValue" in value or "bool_value" in value:
        return bool(_get(value, "boolValue", "bool_value"))
    if "arrayValue" in value or "array_value" in value:
        arr = _get(value, "arrayValue", "array_value") or {}
        return [any_value(v) for v in (arr.get("values") or [])]
    if "kvlistValue" in value or "kvlist_value" in value:
        kv = _get(value, "kvlistValue", "kvlist_value") or {}
        return attributes(kv.get("values") or [])
    if "bytesValue" in value or "bytes_value" in value:
        return _get(value, "bytesValue", "bytes_value")  # base64 text, shown as is
    return None  # an empty AnyValue


def attributes(items: Any) -> dict[str, Any]:
    """``[{key, value}]`` -> ``{key: value}`` (later duplicates win)."""
    out: dict[str, Any] = {}
    if not isinstance(items, list):
        return out
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = any_value(item.get("value"))
    return out


def _enum(value: Any, names: dict[int, str], prefix: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        short = value.removeprefix(prefix)
        for number, name in names.items():
            if name == short:
                return number
    return 0


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """One OTLP span event: ``exception`` (``span.RecordError``) or any other."""

    time_ns: int
    name: str
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """What happened, in one line: an exception's type and message, else the name."""
        text = self.attrs.get("exception.message")
        if text is None:
            return self.name
        kind = self.attrs.get("exception.type")
        return f"{kind}: {text}" if kind else str(text)

    def to_json(self) -> dict[str, Any]:
        return {"time": iso_utc(self.time_ns), "name": self.name, "attributes": self.attrs}


def _events(items: Any) -> list[SpanEvent]:
    """protojson ``events``: ``[{timeUnixNano, name, attributes}]``; odd entries skipped."""
    out: list[SpanEvent] = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            when = _int64(_get(item, "timeUnixNano", "time_unix_nano") or 0)
        except ValueError:
            when = 0
        name = item.get("name", "")
        out.append(SpanEvent(when, name if isinstance(name, str) else str(name),
                             attributes(item.get("attributes"))))
    return out


@dataclass(slots=True)
class Span:
    """One span of one server (``server`` is the file's ``stack/server``)."""

    server: str
    trace_id: str  # hex
    span_id: str  # hex
    parent_id: str  # hex, "" for a root
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int = 0  # 0 unset, 1 ok, 2 error
    status_message: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""
    events: list[SpanEvent] = field(default_factory=list)
    seq: int = 0  # arrival order within a reader: a stable id for the UI
    _search: str | None = None

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def tool(self) -> str:
        """The tool called: ``mcp.tool.name`` (root, and successful calls), else the
        GenAI name, else ``tool.name`` (every ``mcp.client.call_tool``, failed ones too;
        on ``mcp.routing`` without its ``<server>__`` prefix), else ``tool``."""
        for key in TOOL_KEYS:
            value = self.attrs.get(key)
            if value:
                text = str(value)
                server = self.server_name
                if key == "tool.name" and server and text.startswith(server + TOOL_DELIMITER):
                    return text[len(server) + len(TOOL_DELIMITER):]
                return text
        return ""

    @property
    def is_gateway_root(self) -> bool:
        """gridctl's ``mcp.tools.call`` root, renamed ``<server> › <tool>`` once routed:
        the envelope of a call whose own span is its ``mcp.client.call_tool`` child."""
        if self.parent_id or self.attrs.get("mcp.method.name") != "tools/call":
            return False
        tool = self.attrs.get("mcp.tool.name")
        return self.name == GATEWAY_ROOT or self.name == f"{self.server_name} › {tool}"

    @property
    def is_call(self) -> bool:
        """A row of the "tool calls" view: one per call. A span with a tool, or a root;
        but not gridctl's routing step nor its gateway root: a current gridctl call is
        its ``mcp.client.call_tool`` span (client, tokens, error), an older writer's
        call its root span (all of those on it)."""
        if self.name == ROUTING_SPAN or self.is_gateway_root:
            return False
        return bool(self.tool) or not self.parent_id

    @property
    def client(self) -> str:
        for key in CLIENT_KEYS:
            value = self.attrs.get(key) or self.resource.get(key)
            if value:
                return str(value)
        return ""

    @property
    def server_name(self) -> str:
        value = self.attrs.get("server.name") or self.resource.get("server.name") or ""
        return str(value)

    @property
    def status(self) -> str:
        return STATUS_NAMES.get(self.status_code, str(self.status_code))

    @property
    def is_error(self) -> bool:
        return self.status_code == 2

    @property
    def tokens(self) -> dict[str, int]:
        """``gen_ai.usage.*`` integer attributes, keyed by the part after the prefix."""
        out: dict[str, int] = {}
        for key, value in self.attrs.items():
            if key.startswith(USAGE_PREFIX) and isinstance(value, int | float) \
                    and not isinstance(value, bool) and math.isfinite(value):
                out[key[len(USAGE_PREFIX):]] = int(value)
        return out

    @property
    def total_tokens(self) -> int:
        t = self.tokens
        if "total_tokens" in t:
            return t["total_tokens"]
        return t.get("input_tokens", 0) + t.get("output_tokens", 0)

    @property
    def search_text(self) -> str:
        if self._search is None:
            parts = [self.name, self.tool, self.client, self.trace_id, self.status,
                     self.status_message]
            parts.extend(f"{k}={v}" for k, v in self.attrs.items())
            parts.extend(f"{e.name} {e.message}" for e in self.events)
            self._search = "\n".join(parts).lower()
        return self._search

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server, "traceId": self.trace_id, "spanId": self.span_id,
            "parentSpanId": self.parent_id, "name": self.name,
            "kind": KIND_NAMES.get(self.kind, str(self.kind)),
            "start": iso_utc(self.start_ns), "durationNs": self.duration_ns,
            "tool": self.tool, "client": self.client,
            "status": {"code": self.status, "message": self.status_message},
            "tokens": self.tokens, "attributes": self.attrs, "resource": self.resource,
            "events": [e.to_json() for e in self.events],
        }


def _span(obj: Any, server: str, resource: dict[str, Any], scope: str) -> Span:
    if not isinstance(obj, dict):
        raise ValueError("span is not an object")
    trace_id = span_id_hex(_get(obj, "traceId", "trace_id"), 16)
    span_id = span_id_hex(_get(obj, "spanId", "span_id"), 8)
    if not trace_id or not span_id:
        raise ValueError("span without traceId or spanId")
    parent = span_id_hex(_get(obj, "parentSpanId", "parent_span_id"), 8)
    start = _int64(_get(obj, "startTimeUnixNano", "start_time_unix_nano") or 0)
    end = _int64(_get(obj, "endTimeUnixNano", "end_time_unix_nano") or start)
    status = obj.get("status") or {}
    code = _enum(status.get("code"), STATUS_NAMES, "STATUS_CODE_") if isinstance(
        status, dict) else 0
    message = status.get("message", "") if isinstance(status, dict) else ""
    name = obj.get("name", "")
    return Span(
        server, trace_id, span_id, parent, name if isinstance(name, str) else str(name),
        _enum(obj.get("kind"), KIND_NAMES, "SPAN_KIND_"), start, end, code,
        message if isinstance(message, str) else str(message),
        attributes(obj.get("attributes")), resource, scope, _events(obj.get("events")),
    )


def parse_envelope(raw: bytes | str, server: str) -> tuple[list[Span], int]:
    """Every span of one ``TracesData`` line, and how many spans in it were unusable.

    Raises ``Malformed`` when the line itself is not a ``TracesData`` object.
    """
    try:
        obj = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise Malformed(f"not a JSON object: {exc}") from None
    rs_list = _get(obj, "resourceSpans", "resource_spans")
    if not isinstance(rs_list, list):
        raise Malformed("no resourceSpans")
    spans: list[Span] = []
    bad = 0
    for rs in rs_list:
        if not isinstance(rs, dict):
            bad += 1
            continue
        res = rs.get("resource") or {}
        resource = attributes(res.get("attributes")) if isinstance(res, dict) else {}
        for ss in _get(rs, "scopeSpans", "scope_spans") or []:
            if not isinstance(ss, dict):
                bad += 1
                continue
            scope_obj = ss.get("scope") or {}
            scope = scope_obj.get("name", "") if isinstance(scope_obj, dict) else ""
            for obj_span in ss.get("spans") or []:
                try:
                    spans.append(_span(obj_span, server, resource, str(scope)))
                except (ValueError, TypeError):
                    bad += 1
    return spans, bad


def parse_lines(lines: list[bytes], server: str, counts: Any) -> list[Span]:
    """Parse a batch (``counts``: lines, malformed, blank, last_error are updated)."""
    out: list[Span] = []
    counts.lines += len(lines)
    for raw in lines:
        if not raw.strip():
            counts.blank += 1
            continue
        try:
            spans, bad = parse_envelope(raw, server)
        except Malformed as exc:
            counts.malformed += 1
            counts.last_error = str(exc)
            continue
        if bad:
            counts.malformed += bad
            counts.last_error = f"{bad} unusable span{'s' if bad != 1 else ''} in a line"
        out.extend(spans)
    return out


# -- traces -----------------------------------------------------------------------------


@dataclass
class Trace:
    """The spans held for one trace id, across servers."""

    trace_id: str
    spans: list[Span]

    @property
    def start_ns(self) -> int:
        return min(s.start_ns for s in self.spans)

    @property
    def end_ns(self) -> int:
        return max(s.end_ns for s in self.spans)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def root(self) -> Span:
        rows = list(waterfall(self.spans))
        return rows[0].span


def group_traces(spans: Iterable[Span]) -> dict[str, Trace]:
    """Spans by trace id, in order of first appearance."""
    out: dict[str, Trace] = {}
    for span in spans:
        trace = out.get(span.trace_id)
        if trace is None:
            out[span.trace_id] = Trace(span.trace_id, [span])
        else:
            trace.spans.append(span)
    return out


@dataclass(frozen=True, slots=True)
class WaterfallRow:
    """One bar of a trace waterfall: a span, its depth, its offset from the trace start."""

    span: Span
    depth: int
    offset_ns: int
    orphan: bool  # its parent is not among the spans held (not written, or evicted)


def waterfall(spans: Iterable[Span]) -> Iterator[WaterfallRow]:
    """A trace's spans as a tree by ``parentSpanId``, depth first, children by start.

    Spans whose parent is missing are roots too (marked ``orphan``): a partial trace is
    still drawn. A cycle in bad data cannot loop: each span is visited once. A span id
    written twice (a retried export) is shown once.
    """
    by_id: dict[str, Span] = {}
    for span in spans:
        by_id.setdefault(span.span_id, span)
    items = list(by_id.values())
    if not items:
        return
    start = min(s.start_ns for s in items)
    children: dict[str, list[Span]] = {}
    roots: list[Span] = []
    for span in items:
        if span.parent_id and span.parent_id in by_id and span.parent_id != span.span_id:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)

    def order(s: Span) -> tuple[int, int, str]:
        return (s.start_ns, s.seq, s.span_id)

    seen: set[str] = set()
    stack: list[tuple[Span, int]] = [(s, 0) for s in sorted(roots, key=order, reverse=True)]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        yield WaterfallRow(span, depth, span.start_ns - start,
                           bool(span.parent_id) and span.parent_id not in by_id)
        for child in sorted(children.get(span.span_id, []), key=order, reverse=True):
            stack.append((child, depth + 1))
    # Spans only reachable through a cycle: show them flat rather than lose them.
    for span in sorted(items, key=order):
        if span.span_id not in seen:
            seen.add(span.span_id)
            yield WaterfallRow(span, 0, span.start_ns - start, True)
