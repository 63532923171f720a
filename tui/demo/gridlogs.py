"""The demo's gridctl ``logs.jsonl`` and ``traces.jsonl``, in gridctl's exact shapes.

Each MCP tool call of a demo server leaves what gridctl leaves for it:

- log records (Go ``slog`` JSON: ``ts`` with the fleet's *local* offset and trimmed
  nanoseconds, ``level``, ``msg``, then flat attributes: ``component`` (newer
  subsystems) or ``server`` (the old gateway), ``tool``, ``duration`` in ns,
  ``trace_id``...), with now and then a slow call (WARN), a retry, a failure (ERROR),
  debug chatter and a reconnect;
- one trace, the three spans gridctl's gateway writes (pkg/mcp/gateway.go,
  gridctl/gridctl@7cec407): the root ``mcp.tools.call`` named ``<server> › <tool>``
  with ``mcp.tool.name``; ``mcp.routing`` with the prefixed ``tool.name``; and
  ``mcp.client.call_tool`` with ``tool.name``, plus ``mcp.tool.name``,
  ``mcp.client.name`` and ``gen_ai.usage.*`` when it succeeded, or an error status and
  an ``exception`` event when it failed. Spans are batched the way the OTel batch
  processor exports them: several calls per ``TracesData`` line, protojson (base64
  ids, int64 as strings), and now and then a batch split over two ``resourceSpans``.

Nothing reads the clock or the global random generator: every call is drawn from a
generator seeded with the demo seed and the server name, so a seed and a "now" give the
same files byte for byte. Only a recent slice of the day gets logs and traces (logs are
verbose; a day of them would slow the start-up the demo promises).
"""

from __future__ import annotations

import base64
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from tokentop.tui.demo.activity import Profile, rhythm
from tokentop.tui.demo.gridctl import FILE_MODE, NS, compress_file, rotation_stamp

HISTORY_MINUTES = 180  # logs and traces cover the last three hours of the history
TRACE_BATCH_NS = 5 * NS  # the batch span processor's default schedule delay

TOOLS: dict[str, tuple[str, ...]] = {
    "github": ("search_code", "get_file_contents", "list_pull_requests", "create_issue",
               "get_pull_request_diff"),
    "filesystem": ("read_file", "list_directory", "search_files", "write_file"),
    "postgres": ("query", "list_tables", "describe_table"),
    "browser": ("navigate", "screenshot", "click", "extract_text"),
    "slack": ("post_message", "list_channels"),
    "linear": ("list_issues", "create_issue", "update_issue"),
}
REMOTE = {"github": "api.github.com", "slack": "slack.com", "linear": "api.linear.app"}
CLIENTS = ("claude-code", "cursor", "codex")
ERRORS = {
    "github": "GET https://api.github.com/search/code: 403 API rate limit exceeded",
    "filesystem": "open /srv/repo/.env: permission denied",
    "postgres": "ERROR: canceling statement due to statement timeout (SQLSTATE 57014)",
    "browser": "navigation timeout of 30000 ms exceeded",
    "slack": "slack: channel_not_found",
    "linear": "linear: 429 Too Many Requests",
}
SLOW_NS = 5 * NS


def local_offset_min(tz_offset_s: int) -> int:
    """The fleet's UTC offset as a real zone would have it: whole quarter hours, ±12 h."""
    signed = tz_offset_s % 86400
    if signed > 12 * 3600:
        signed -= 86400
    return round(signed / 900) * 15


def go_local_time(ts_ns: int, offset_min: int) -> str:
    """Go's RFC3339Nano in a local zone: ``2026-05-05T14:01:00.48213+02:00``."""
    sec, frac = divmod(ts_ns + offset_min * 60 * NS, NS)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    if offset_min == 0:
        return stamp + "Z"
    sign = "+" if offset_min > 0 else "-"
    hh, mm = divmod(abs(offset_min), 60)
    return f"{stamp}{sign}{hh:02d}:{mm:02d}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _attr(key: str, value: object) -> dict[str, object]:
    """An OTLP ``KeyValue`` as protojson writes it (int64 as a string)."""
    if isinstance(value, bool):
        v: dict[str, object] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list | tuple):
        v = {"arrayValue": {"values": [{"stringValue": str(x)} for x in value]}}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


_encode = msgspec.json.Encoder().encode


def _dumps(obj: object) -> str:
    """Compact JSON, as gridctl's zap encoder writes it (UTF-8, not ASCII-escaped); by
    msgspec, in C: the demo's history is written before its first paint, and
    ``json.dumps`` was a quarter of it."""
    return _encode(obj).decode()


@dataclass
class SignalFile:
    """One server's ``logs.jsonl`` or ``traces.jsonl``: append, rotate like lumberjack."""

    dir: Path
    signal: str
    lines: int = 0
    last_ns: int | None = None

    @property
    def path(self) -> Path:
        return self.dir / f"{self.signal}.jsonl"

    def append(self, texts: list[str], ts_ns: int) -> None:
        if not texts:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with os.fdopen(fd, "ab") as fh:
            fh.write(("\n".join(texts) + "\n").encode())
        self.lines += len(texts)
        self.last_ns = ts_ns

    def rotate(self, ts_ns: int) -> Path | None:
        """Rename the active file to its backup name and gzip it (lumberjack's mill)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        backup = self.dir / f"{self.signal}-{rotation_stamp(ts_ns)}.jsonl"
        os.rename(self.path, backup)
        gz = compress_file(backup)
        os.utime(gz, ns=(ts_ns, ts_ns))
        return gz


@dataclass
class CallLog:
    """What one server's calls write: its two files, its generator, its pending spans."""

    profile: Profile
    rng: random.Random
    offset_min: int
    logs: SignalFile
    traces: SignalFile
    legacy: bool  # the old gateway: tags records with ``server`` instead of ``component``
    tz_offset_s: int = 0  # the fleet's clock, for the daily rhythm
    traced: bool = True  # writes traces.jsonl (gridctl's prod stack exports traces)
    pending: list[dict[str, object]] = field(default_factory=list)
    batch_start: int | None = None
    calls: int = 0

    @property
    def name(self) -> str:
        return self.profile.server

    def _ids(self) -> tuple[bytes, bytes]:
        return self.rng.getrandbits(128).to_bytes(16, "big"), self._span_id()

    def _span_id(self) -> bytes:
        return self.rng.getrandbits(64).to_bytes(8, "big")

    def _record(self, ts_ns: int, level: str, msg: str, **attrs: object) -> str:
        head = {"ts": go_local_time(ts_ns, self.offset_min), "level": level, "msg": msg}
        route = {"server": self.name} if self.legacy else {"component": self.name}
        return _dumps({**head, **route, **attrs})

    def call(self, ts_ns: int) -> list[str]:
        """One tool call starting at ``ts_ns``: its log records; its spans are queued."""
        rng = self.rng
        prof = self.profile
        self.calls += 1
        tool = rng.choice(TOOLS.get(prof.server, ("call",)))
        client = CLIENTS[0] if rng.random() < 0.6 else rng.choice(CLIENTS[1:])
        trace_raw, root_raw = self._ids()
        trace_id = trace_raw.hex()
        base = {"github": 0.6, "browser": 2.2, "postgres": 0.15}.get(prof.server, 0.3)
        duration = int(rng.lognormvariate(math.log(base), 0.9) * NS)
        failed = rng.random() < 0.04
        retried = not failed and prof.server in REMOTE and rng.random() < 0.06
        inp = max(1, int(rng.lognormvariate(math.log(prof.input_per_call) - 0.32, 0.8)))
        out = 0 if failed else max(1, int(rng.lognormvariate(
            math.log(prof.output_per_call) - 0.5, 1.0)))
        end_ns = ts_ns + duration
        req = rng.randrange(1, 1 << 20)
        records: list[str] = []
        if rng.random() < 0.25:
            records.append(self._record(ts_ns, "DEBUG", "forwarding request", tool=tool,
                                        method="tools/call", request_id=req, client=client))
        if retried:
            records.append(self._record(ts_ns + duration // 3, "WARN",
                                        "upstream rate limited, retrying", tool=tool,
                                        attempt=1, retry_after=1_000_000_000,
                                        trace_id=trace_id))
        if failed:
            records.append(self._record(end_ns, "ERROR", "tool call failed", tool=tool,
                                        duration=duration, error=ERRORS.get(prof.server, "error"),
                                        trace_id=trace_id, request_id=req))
        else:
            if duration > SLOW_NS:
                records.append(self._record(end_ns, "WARN", "slow tool call", tool=tool,
                                            duration=duration, threshold=SLOW_NS,
                                            trace_id=trace_id))
            records.append(self._record(end_ns, "INFO", "tool call completed", tool=tool,
                                        duration=duration, trace_id=trace_id,
                                        input_tokens=inp, output_tokens=out, client=client))
        # The trace, as gridctl's HandleToolsCall writes it (pkg/mcp/gateway.go):
        # root ``mcp.tools.call`` renamed ``<server> › <tool>``, ``mcp.routing``, and
        # ``mcp.client.call_tool`` (mcp.tool.name and gen_ai.* only when it succeeded;
        # status, message and an ``exception`` event when it failed).
        route_raw, call_raw = self._span_id(), self._span_id()
        t0 = ts_ns + rng.randrange(50_000, 400_000)
        t1 = end_ns - rng.randrange(20_000, 200_000)
        replica = _attr("mcp.replica.id", 0)
        spans = [self._span(trace_raw, root_raw, b"", f"{prof.server} › {tool}",
                            "SPAN_KIND_INTERNAL", ts_ns, end_ns,
                            [_attr("mcp.method.name", "tools/call"), _attr("mcp.tool.name", tool),
                             _attr("server.name", prof.server), replica], {})]
        spans.append(self._span(trace_raw, route_raw, root_raw, "mcp.routing",
                                "SPAN_KIND_INTERNAL", ts_ns + 20_000, t0 - 10_000,
                                [_attr("tool.name", f"{prof.server}__{tool}"),
                                 _attr("server.name", prof.server), replica], {}))
        call_attrs: list[dict[str, object]] = [
            _attr("mcp.method.name", "tools/call"), _attr("server.name", prof.server), replica,
            _attr("tool.name", tool),
            _attr("network.transport", "tcp" if prof.server in REMOTE else "pipe"),
        ]
        call = self._span(trace_raw, call_raw, root_raw, "mcp.client.call_tool",
                          "SPAN_KIND_INTERNAL", t0, t1, call_attrs, {})
        if failed:
            error = ERRORS.get(prof.server, "error")
            call["status"] = {"message": error, "code": "STATUS_CODE_ERROR"}
            call["events"] = [{"timeUnixNano": str(t1 - 1_000), "name": "exception",
                               "attributes": [_attr("exception.type", "*errors.errorString"),
                                              _attr("exception.message", error)]}]
        else:
            call_attrs += [
                _attr("mcp.server.name", prof.server), _attr("mcp.tool.name", tool),
                _attr("gen_ai.tool.name", tool), _attr("mcp.client.name", client),
                _attr("gen_ai.usage.input_tokens", inp),
                _attr("gen_ai.usage.output_tokens", out),
            ]
        spans.append(call)
        self.pending.extend(spans)
        if self.batch_start is None:
            self.batch_start = ts_ns
        return records

    def _span(self, trace: bytes, span: bytes, parent: bytes, name: str, kind: str,
              start: int, end: int, attrs: list[dict[str, object]],
              status: dict[str, object]) -> dict[str, object]:
        out: dict[str, object] = {"traceId": _b64(trace), "spanId": _b64(span)}
        if parent:
            out["parentSpanId"] = _b64(parent)
        out.update({"name": name, "kind": kind, "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(end), "attributes": attrs, "status": status})
        return out

    def flush_traces(self, ts_ns: int, force: bool = False) -> list[str]:
        """The batch processor's export: one ``TracesData`` line for what is queued."""
        if not self.pending or self.batch_start is None:
            return []
        if not force and ts_ns - self.batch_start < TRACE_BATCH_NS:
            return []
        spans, self.pending, self.batch_start = self.pending, [], None
        resource = {"attributes": [_attr("service.name", "gridctl"),
                                   _attr("service.version", "0.1.0-beta.9")]}
        scope = {"name": "github.com/gridctl/gridctl/pkg/mcp/gateway"}
        if len(spans) > 4 and self.rng.random() < 0.3:
            cut = len(spans) // 2  # two resourceSpans in one envelope
            groups = [spans[:cut], spans[cut:]]
        else:
            groups = [spans]
        envelope = {"resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": scope, "spans": g}]}
            for g in groups
        ]}
        return [_dumps(envelope)]

    def lifecycle(self, ts_ns: int) -> str:
        transport = "streamable-http" if self.profile.server in REMOTE else "stdio"
        return self._record(ts_ns, "INFO", "MCP server connected", transport=transport,
                            tools=len(TOOLS.get(self.profile.server, ())),
                            pid=self.rng.randrange(2000, 60000))


def new_call_log(profile: Profile, server_dir: Path, *, seed: int,
                 tz_offset_s: int) -> CallLog:
    """The writer of one demo server's logs and traces (staging runs the old gateway)."""
    return CallLog(profile, random.Random(f"{seed}:{profile.name}:gridlogs"),
                   local_offset_min(tz_offset_s), SignalFile(server_dir, "logs"),
                   SignalFile(server_dir, "traces"), legacy=profile.stack == "staging",
                   tz_offset_s=tz_offset_s, traced=profile.stack == "prod")


def calls_per_minute(profile: Profile, t: float, tz_offset_s: int) -> float:
    """The server's call rate at ``t`` (the Activity's daily rhythm, without bursts)."""
    hour = ((t + tz_offset_s) % 86400) / 3600.0
    return profile.calls_per_minute * rhythm(hour, profile.night)


def write_history(log: CallLog, *, first_ns: int, end_ns: int) -> None:
    """The calls of ``[first_ns, end_ns)``; prod/github's logs rotated once on the way."""
    rng = log.rng
    start = max(first_ns, end_ns - HISTORY_MINUTES * 60 * NS)
    logs: list[str] = [log.lifecycle(start)]
    traces: list[str] = []
    rotate_at = start + (end_ns - start) // 2 if log.profile.name == "prod/github" else None
    minute_ns = start
    while minute_ns < end_ns:
        if rotate_at is not None and minute_ns >= rotate_at:
            log.logs.append(logs, minute_ns)
            if log.traced:
                log.traces.append(traces, minute_ns)
            logs, traces = [], []
            log.logs.rotate(minute_ns + 123_000_000)
            if log.traced:
                log.traces.rotate(minute_ns + 124_000_000)
            rotate_at = None
        rate = calls_per_minute(log.profile, minute_ns / NS, log.tz_offset_s)
        n = min(12, _poisson(rng, rate * 0.5))  # half the calls: logs stay readable
        for ts in sorted(minute_ns + rng.randrange(60 * NS) for _ in range(n)):
            if ts >= end_ns:
                continue
            traces.extend(log.flush_traces(ts))
            logs.extend(log.call(ts))
        minute_ns += 60 * NS
    traces.extend(log.flush_traces(end_ns, force=True))
    log.logs.append(logs, end_ns)
    if log.traced:
        log.traces.append(traces, end_ns)
    for f in (log.logs, log.traces):
        if f.last_ns is not None and f.path.exists():
            os.utime(f.path, ns=(f.last_ns, f.last_ns))


def live_tick(log: CallLog, now_ns: int, seconds: float) -> int:
    """One second of a live server: the calls that just finished, and any batch due.

    Busier than the history (a demo must visibly move): about three times the rate.
    A call is logged when it completes, so it is drawn as having started before now.
    """
    rate = calls_per_minute(log.profile, now_ns / NS, log.tz_offset_s)
    chance = min(0.9, rate * seconds / 60.0 * 3)
    logs: list[str] = []
    if log.rng.random() < chance:
        started = now_ns - log.rng.randrange(50_000_000, 1_500_000_000)
        logs.extend(log.call(started))
    traces = log.flush_traces(now_ns)
    if not log.traced:
        traces = []  # this gridctl does not export traces: the spans go nowhere
    log.logs.append(logs, now_ns)
    log.traces.append(traces, now_ns)
    return len(logs) + len(traces)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
