"""Lines shaped exactly as gridctl writes them, for the logs and spans tests.

Written by hand here (not with the demo's writer) so the parsers are checked against
the formats themselves: Go ``slog`` JSON with a local offset and nine fractional
digits, and protojson ``TracesData`` (lowerCamelCase, base64 ids, int64 strings, enum
names). ``FIXED`` is a small telemetry tree with known contents for the screens.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

NS = 1_000_000_000
# 2026-05-05T12:00:00Z, the instant the fixed tree is built around.
T0 = 1_777_982_400 * NS

# A real-looking pair: the trace a log line points to.
TRACE_HEX = "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT_HEX = "00f067aa0ba902b7"
CHILD_HEX = "5fb397be34d26b51"
GRANDCHILD_HEX = "a2fb4a1d1a96d312"


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def slog(ts: str, level: str, msg: str, **attrs: object) -> str:
    """A slog JSON record in the handler's key order: ts, level, msg, then attributes."""
    return json.dumps({"ts": ts, "level": level, "msg": msg, **attrs}, separators=(",", ":"))


def attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        v: dict[str, object] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": x} for x in value]}}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def span(trace: str, span_id: str, name: str, start_ns: int, end_ns: int, *,
         parent: str = "", kind: str = "SPAN_KIND_SERVER",
         attrs: list[dict[str, object]] | None = None,
         status: dict[str, object] | None = None) -> dict[str, object]:
    out: dict[str, object] = {"traceId": b64(trace), "spanId": b64(span_id)}
    if parent:
        out["parentSpanId"] = b64(parent)
    out.update({"name": name, "kind": kind, "startTimeUnixNano": str(start_ns),
                "endTimeUnixNano": str(end_ns), "attributes": attrs or [],
                "status": status or {}})
    return out


def tool_span(trace: str, span_id: str, tool: str, start_ns: int, dur_ns: int, *,
              server: str = "github", client: str = "claude-code", inp: int = 0,
              out: int = 0, error: str = "", parent: str = "") -> dict[str, object]:
    attrs = [attr("server.name", server), attr("mcp.tool.name", tool),
             attr("mcp.client.name", client)]
    if inp or out:
        attrs += [attr("gen_ai.usage.input_tokens", inp),
                  attr("gen_ai.usage.output_tokens", out)]
    status = ({"code": "STATUS_CODE_ERROR", "message": error} if error
              else {"code": "STATUS_CODE_OK"})
    return span(trace, span_id, f"tools/call {tool}", start_ns, start_ns + dur_ns,
                parent=parent, attrs=attrs, status=status)


def envelope(*groups: list[dict[str, object]], service: str = "gridctl") -> str:
    """One ``TracesData`` line: one ``resourceSpans`` per group of spans."""
    return json.dumps({"resourceSpans": [
        {"resource": {"attributes": [attr("service.name", service)]},
         "scopeSpans": [{"scope": {"name": "gridctl/gateway"}, "spans": g}]}
        for g in groups]}, separators=(",", ":"))


def hex_id(n: int, size: int) -> str:
    """A fixed, random-looking id of ``size`` bytes (as hex) for ``n``."""
    import hashlib

    return hashlib.sha256(f"{n}:{size}".encode()).hexdigest()[: size * 2]


def write(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def local_ts(ns: int, offset_min: int) -> str:
    """Go's RFC3339Nano of ``ns`` at a UTC offset (trailing zeros trimmed)."""
    import time

    sec, frac = divmod(ns + offset_min * 60 * NS, NS)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    if offset_min == 0:
        return stamp + "Z"
    sign = "+" if offset_min > 0 else "-"
    hh, mm = divmod(abs(offset_min), 60)
    return f"{stamp}{sign}{hh:02d}:{mm:02d}"


# -- the fixed tree the screen tests use ------------------------------------------------------


def fixed_logs(server: str, n: int, *, offset_min: int = 120, start_ns: int = T0 - 600 * NS,
               step_ns: int = 7 * NS) -> list[str]:
    """``n`` records of one server, 7 s apart, a known mix of levels and attributes."""
    out = []
    for i in range(n):
        ns = start_ns + i * step_ns + 123_456_789
        ts = local_ts(ns, offset_min)
        tool = ("search_code", "get_file_contents", "create_issue")[i % 3]
        if i % 10 == 9:
            out.append(slog(ts, "ERROR", "tool call failed", component=server, tool=tool,
                            duration=(i + 1) * 10_000_000, error="upstream 502 Bad Gateway",
                            trace_id=hex_id(i + 1, 16)))
        elif i % 5 == 4:
            out.append(slog(ts, "WARN", "slow tool call", component=server, tool=tool,
                            duration=6_200_000_000, threshold=5_000_000_000,
                            trace_id=hex_id(i + 1, 16)))
        elif i % 4 == 1:
            out.append(slog(ts, "DEBUG", "forwarding request", component=server, tool=tool,
                            method="tools/call", request_id=1000 + i))
        else:
            out.append(slog(ts, "INFO", "tool call completed", component=server, tool=tool,
                            duration=(i % 7 + 1) * 170_000_000, trace_id=hex_id(i + 1, 16),
                            input_tokens=100 + i, output_tokens=20 + i))
    return out


def fixed_spans(server: str, n: int, *, start_ns: int = T0 - 600 * NS,
                step_ns: int = 11 * NS, base: int = 0) -> list[str]:
    """``n`` tool calls of one server (each a 3-span trace), two calls per line."""
    lines = []
    batch: list[dict[str, object]] = []
    for i in range(n):
        k = base + i + 1
        trace = hex_id(k, 16)
        root, child, grand = hex_id(3 * k, 8), hex_id(3 * k + 1, 8), hex_id(3 * k + 2, 8)
        t = start_ns + i * step_ns
        dur = (i % 5 + 1) * 230_000_000
        tool = ("search_code", "get_file_contents", "create_issue")[i % 3]
        err = "403 API rate limit exceeded" if i % 6 == 5 else ""
        batch.append(tool_span(trace, root, tool, t, dur, server=server.split("/")[-1],
                               client=("claude-code", "cursor")[i % 2], inp=500 + 10 * i,
                               out=0 if err else 120 + i, error=err))
        batch.append(span(trace, child, "mcp.transport.send", t + dur // 20, t + dur - dur // 20,
                          parent=root, kind="SPAN_KIND_CLIENT",
                          attrs=[attr("server.name", server.split("/")[-1])]))
        batch.append(span(trace, grand, "POST api.github.com", t + dur // 5, t + dur // 2,
                          parent=child, kind="SPAN_KIND_CLIENT",
                          attrs=[attr("http.response.status_code", 403 if err else 200)]))
        if len(batch) == 6:
            lines.append(envelope(batch))
            batch = []
    if batch:
        lines.append(envelope(batch))
    return lines


def write_fixed_tree(root: Path) -> None:
    """Two stacks; prod/github with a rotated .gz of older logs and traces; dev/search
    with an old-gateway ``server`` key and a malformed line; dev/idle with no logs."""
    gh = root / "prod" / "github"
    write(gh / "logs-2026-05-05T11-40-00.000.jsonl.gz",
          fixed_logs("github", 20, start_ns=T0 - 1800 * NS), gz=True)
    write(gh / "logs.jsonl", fixed_logs("github", 60))
    write(gh / "traces-2026-05-05T11-40-00.000.jsonl.gz",
          fixed_spans("prod/github", 6, start_ns=T0 - 1800 * NS, base=100), gz=True)
    write(gh / "traces.jsonl", fixed_spans("prod/github", 30))
    sl = root / "prod" / "slack"
    write(sl / "logs.jsonl", fixed_logs("slack", 15, offset_min=-300, step_ns=31 * NS))
    write(sl / "traces.jsonl", fixed_spans("prod/slack", 8, step_ns=47 * NS, base=200))
    se = root / "dev" / "search"
    lines = [line.replace('"component":', '"server":') for line in
             fixed_logs("search", 12, offset_min=0, step_ns=41 * NS)]
    lines.insert(5, "{not json")
    write(se / "logs.jsonl", lines)
    idle = root / "dev" / "idle"
    idle.mkdir(parents=True)
    (idle / "metrics.jsonl").write_bytes(b"")


def gateway_call(trace: str, ids: tuple[str, str, str], server: str, tool: str,
                 start_ns: int, dur_ns: int, *, error: str = "", client: str = "claude-code",
                 inp: int = 0, out: int = 0) -> list[dict[str, object]]:
    """The spans gridctl's gateway writes for one ``tools/call`` that was routed, as
    ``HandleToolsCall`` builds them (gridctl/gridctl pkg/mcp/gateway.go @7cec407):

    - root ``mcp.tools.call``, renamed ``<server> › <tool>`` once routed, with
      ``mcp.method.name``, ``mcp.tool.name``, ``server.name``, ``mcp.replica.id``; its
      status is never set (a failed call returns an ``isError`` result);
    - ``mcp.routing``: ``tool.name`` is the prefixed ``<server>__<tool>`` the client
      called (router.go ``ToolNameDelimiter``), then ``server.name``, ``mcp.replica.id``;
    - ``mcp.client.call_tool``: ``mcp.method.name``, ``server.name``, ``mcp.replica.id``,
      ``tool.name``, ``network.transport``. On success ``setGenAISpanAttributes`` adds
      ``mcp.server.name``, ``mcp.tool.name``, ``gen_ai.tool.name``, ``mcp.client.name``
      and ``gen_ai.usage.*``; on error ``span.RecordError(err)`` adds an ``exception``
      event (``exception.type``, ``exception.message``, as the OTel Go SDK writes them)
      and ``SetStatus(codes.Error, err.Error())``. Nothing else.
    """
    root_id, route_id, call_id = ids
    end = start_ns + dur_ns
    root = span(trace, root_id, f"{server} › {tool}", start_ns, end, kind="SPAN_KIND_INTERNAL",
                attrs=[attr("mcp.method.name", "tools/call"), attr("mcp.tool.name", tool),
                       attr("server.name", server), attr("mcp.replica.id", 0)])
    route = span(trace, route_id, "mcp.routing", start_ns + 1_000, start_ns + 50_000,
                 parent=root_id, kind="SPAN_KIND_INTERNAL",
                 attrs=[attr("tool.name", f"{server}__{tool}"), attr("server.name", server),
                        attr("mcp.replica.id", 0)])
    call_attrs = [attr("mcp.method.name", "tools/call"), attr("server.name", server),
                  attr("mcp.replica.id", 0), attr("tool.name", tool),
                  attr("network.transport", "pipe")]
    call = span(trace, call_id, "mcp.client.call_tool", start_ns + 60_000, end - 1_000,
                parent=root_id, kind="SPAN_KIND_INTERNAL", attrs=call_attrs)
    if error:
        call["status"] = {"message": error, "code": "STATUS_CODE_ERROR"}
        call["events"] = [{"timeUnixNano": str(end - 2_000), "name": "exception",
                           "attributes": [attr("exception.type", "*errors.errorString"),
                                          attr("exception.message", error)]}]
    else:
        call_attrs += [attr("mcp.server.name", server), attr("mcp.tool.name", tool),
                       attr("gen_ai.tool.name", tool), attr("mcp.client.name", client)]
        if inp:
            call_attrs.append(attr("gen_ai.usage.input_tokens", inp))
        if out:
            call_attrs.append(attr("gen_ai.usage.output_tokens", out))
    return [root, route, call]
