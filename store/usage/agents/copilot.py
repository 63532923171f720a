"""GitHub Copilot CLI (``copilot``): per-process totals in its session logs, and calls in
its OpenTelemetry export.

Where (ccusage 20.0.24's rules, checked against its binary: the 20.0.11 source in the
mirror reads only the OTel export):

- ``${COPILOT_HOME:-~/.copilot}/session-state/<session id>/events.jsonl``: the CLI's
  own event log, append-only (``LinesAgent``).
- ``${COPILOT_HOME:-~/.copilot}/otel/*.jsonl`` and the file named by
  ``$COPILOT_OTEL_FILE_EXPORTER_PATH``: OpenTelemetry spans and log records, one JSON
  object a line (``WholeFileAgent``: which records count depends on the whole file).

Session logs (format: github/copilot-cli writes them; field names as ccusage's adapter
README, ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/copilot/README.md``, and
committed sessions, see ``tests/usage/fixtures/copilot/README.md``)::

    {"type":"session.start","data":{"sessionId":"…","context":{"cwd":"/repo"}},"id":"…",
     "timestamp":"2026-05-26T10:00:00.123Z"}
    {"type":"session.shutdown","data":{"modelMetrics":{"claude-sonnet-4.5":{
       "requests":{"count":3,"cost":1},"usage":{"inputTokens":10000,"outputTokens":500,
       "cacheReadTokens":6000,"cacheWriteTokens":1000,"reasoningTokens":200}}}},
     "id":"<uuid>","timestamp":"2026-05-26T11:00:00.000Z"}

- Only top-level ``type == "session.shutdown"`` lines carry usage: one per process
  (a resumed session appends another), per model. ``inputTokens`` includes the cache:
  input is ``inputTokens - cacheReadTokens - cacheWriteTokens`` (saturating).
- ccusage 20.0.24 reads a session's shutdowns as running totals per model: each one
  counts what grew since the previous shutdown of the same model in that file, field by
  field, saturating at 0 (a shutdown that grew nothing counts nothing). tokentop does
  the same (``prime`` rebuilds the previous totals when reading resumes mid-file), so
  its numbers are ccusage's. Copilot's own docs call the shutdown a per-process figure;
  if it is, both tools undercount resumed sessions alike.
- ``reasoningTokens`` are part of ``outputTokens`` (ccusage adds nothing for them):
  kept as ``reasoning_tokens`` (at most the output), ``output_tokens`` unchanged.
- The session id is the directory name (ccusage's); ``workspace_id`` is
  ``session.start``'s ``context.cwd``. ``message_id`` is
  ``<session>:<shutdown event id>:<model>`` (line offset when the event has no id), so
  re-reads and copies dedup; a shutdown id seen earlier in the file is skipped.
- The date is the shutdown's ``timestamp`` (the RFC 3339 shapes ccusage parses).
  ``requests.cost`` (premium requests) is no USD figure: tokentop prices the tokens.

OpenTelemetry export (ccusage's ``adapter/copilot/parser.rs``, attribute names also in
the 20.0.24 binary): spans and log records with ``gen_ai.usage.input_tokens``
(including cache reads: input is it minus ``gen_ai.usage.cache_read.input_tokens``),
``gen_ai.usage.output_tokens``, ``gen_ai.usage.cache_write.input_tokens`` /
``cache_creation.input_tokens``, ``gen_ai.usage.reasoning.output_tokens`` /
``reasoning_tokens`` (20.0.24 neither adds nor prices them, unlike 20.0.11: they are
part of the output, kept as ``reasoning_tokens`` at most the output), and a
``total_tokens`` / ``total.token_count`` larger than the parts: the difference is the
output when output is 0, else extra that ccusage adds to its total and prices as output
but leaves out of ``outputTokens``; tokentop keeps it in ``output_tokens``.
One call is recorded up to four times: a ``chat`` span,
an inference log record, an agent-turn log record and an ``invoke_agent`` summary span;
within a file, a lower one counts only when no higher one has its trace or response id.
``message_id`` is ccusage's key (``<trace>:<span>`` for spans), so the same record in
two files counts once (ccusage counts each file).

Not counted twice: an OTel record whose session (``gen_ai.conversation.id`` and the
others ccusage reads) has a ``session-state/<id>/`` directory is skipped, because the
session's shutdowns count it. ccusage skips it only once that session has a shutdown
with usage; tokentop skips it as soon as the directory exists, since spans it stored
before the shutdown could not be taken back (a session that never shuts down, e.g.
killed, counts in ccusage through its spans and not in tokentop).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents.base import LineParser, LinesAgent, WholeFileAgent
from tokentop.store.usage.agents.fields import as_u64, clean_string, rfc3339
from tokentop.store.usage.agents.paths import copilot_home
from tokentop.store.usage.agents.paths import copilot_otel_roots as otel_roots
from tokentop.store.usage.agents.paths import copilot_session_roots as session_roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

SYSTEM = "copilot_cli"
HOME_ENV = "COPILOT_HOME"
OTEL_ENV = "COPILOT_OTEL_FILE_EXPORTER_PATH"

_decoder = msgspec.json.Decoder()


_u64 = as_u64
_string = clean_string


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


_when = rfc3339


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)


# --- session-state/<id>/events.jsonl


Totals = tuple[int, int, int, int, int]  # input (no cache), output, cache write, read, reasoning


def _totals(usage: Any) -> Totals:
    raw_in = _u64(_get(usage, "inputTokens"))
    cr, cw = _u64(_get(usage, "cacheReadTokens")), _u64(_get(usage, "cacheWriteTokens"))
    return (max(raw_in - cr - cw, 0), _u64(_get(usage, "outputTokens")), cw, cr,
            _u64(_get(usage, "reasoningTokens")))


class SessionParser(LineParser):
    """One ``events.jsonl``: the growth of each model's totals at each shutdown."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.session = path.parent.name
        self.cwd: str | None = None
        self.last: dict[str, Totals] = {}
        self.seen: set[str] = set()
        self.offset = 0
        self.priming = False  # rebuilding state: the totals move, no request is made

    def prime(self, offset: int) -> None:
        """Rebuild the cwd and the previous totals from the lines before ``offset``
        (every shutdown before it: a session's file holds one a process)."""
        quiet = Counts()
        real, self.counts = self.counts, quiet
        self.priming = True
        try:
            with open_binary(self.path) as fh:
                for line in fh.read(offset).splitlines(keepends=True):
                    for _ in self.feed(line):
                        pass
        finally:
            self.counts = real
            self.priming = False

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        at = self.offset
        self.offset += len(line)
        if b"session.shutdown" not in line and b"session.start" not in line:
            return ()
        try:
            doc = _decoder.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError):
            self.counts.malformed += 1
            return ()
        kind = _get(doc, "type")
        if kind == "session.start":
            self.cwd = _string(_get(_get(_get(doc, "data"), "context"), "cwd")) or self.cwd
            return ()
        if kind != "session.shutdown":
            return ()
        return self._shutdown(doc, at)

    def _shutdown(self, doc: dict[str, Any], at: int) -> list[IngestRequest]:
        eid = _string(doc.get("id")) or f"@{at}"
        if eid in self.seen:
            self.counts.skip("shutdown seen before")
            return []
        self.seen.add(eid)
        when = _when(_string(doc.get("timestamp")))
        metrics = _get(_get(doc, "data"), "modelMetrics")
        if when is None or not isinstance(metrics, dict):
            self.counts.skip("shutdown without time or model metrics")
            return []
        out: list[IngestRequest] = []
        for model, metric in metrics.items():
            now = _totals(_get(metric, "usage"))
            before = self.last.get(model, (0, 0, 0, 0, 0))
            self.last[model] = now
            i, o, cw, cr, think = (max(a - b, 0) for a, b in zip(now, before, strict=True))
            if i + o + cw + cr == 0:
                self.counts.skip("shutdown with no new tokens")
                continue
            self.counts.usage_lines += 1
            if self.priming:
                continue
            out.append(IngestRequest(
                source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
                event_type=EventType.MESSAGE_USAGE, occurred_at=when,
                session_id=self.session, workspace_id=self.cwd,
                message_id=f"{self.session}:{eid}:{model}", model_raw=model,
                input_tokens=i, output_tokens=o, reasoning_tokens=min(think, o),
                cache_write_tokens=cw, cache_read_tokens=cr, total_tokens=i + o + cw + cr,
                payload={"path": str(self.path), "event_id": eid, "model": model,
                         "metric": metric, "since": list(before)}))
        return out


# --- OpenTelemetry JSONL (ccusage's parser.rs, rule for rule)

_CHAT, _INFERENCE, _TURN, _SUMMARY = 0, 1, 2, 3
_MODEL_ATTRS = ("gen_ai.response.model", "gen_ai.request.model")
_SESSION_ATTRS = (("gen_ai.conversation.id", 3), ("copilot_chat.session_id", 3),
                  ("copilot_chat.chat_session_id", 3), ("session.id", 3),
                  ("github.copilot.interaction_id", 2), ("gen_ai.response.id", 1))


def _number(value: Any) -> int | None:
    if type(value) is int:
        return value if value >= 0 else None
    if isinstance(value, str):
        try:
            n = int(value.strip())
        except ValueError:
            return None
        return n if n >= 0 else None
    return None


def _attr_number(attrs: dict[str, Any], *keys: str) -> int:
    """The first key with a value above 0 (``attr_number_first``)."""
    for key in keys:
        n = _number(attrs.get(key)) or 0
        if n > 0:
            return n
    return 0


def _best_session(attrs: dict[str, Any]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for key, priority in _SESSION_ATTRS:
        value = _string(attrs.get(key))
        if value is not None and (best is None or priority > best[1]):
            best = (value, priority)
    return best


def _first_model(attrs: dict[str, Any]) -> str | None:
    return next((m for k in _MODEL_ATTRS if (m := _string(attrs.get(k)))), None)


def _nested(record: dict[str, Any], key: str) -> str | None:
    return _string(record.get(key)) or _string(_get(record.get("spanContext"), key))


def _is_span(record: dict[str, Any]) -> bool:
    kind = record.get("type")
    if isinstance(kind, str):
        return kind == "span"
    return _string(record.get("name")) is not None and (
        _string(record.get("spanId")) is not None or _string(record.get("traceId")) is not None
        or any(k in record for k in ("startTime", "endTime", "duration", "kind")))


def _source(record: dict[str, Any], attrs: dict[str, Any]) -> int | None:
    op = _string(attrs.get("gen_ai.operation.name"))
    name = _string(record.get("name")) or ""
    event = _string(attrs.get("event.name"))
    body = _string(record.get("body")) or _string(record.get("_body")) or ""
    span = _is_span(record)
    if span and (op == "chat" or name.startswith("chat ")):
        return _CHAT
    if not span and (event == "gen_ai.client.inference.operation.details"
                     or body.startswith("GenAI inference:")):
        return _INFERENCE
    if not span and (event == "copilot_chat.agent.turn"
                     or body.startswith("copilot_chat.agent.turn")):
        return _TURN
    if span and (op == "invoke_agent" or name.startswith("invoke_agent ")):
        return _SUMMARY
    return None


def _parts_ms(value: Any) -> int | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    s, ns = _number(value[0]), _number(value[1])
    return None if s is None or ns is None else s * 1000 + ns // 1_000_000


def _scalar_ms(value: Any) -> int | None:
    raw = _number(value)
    if raw is None:
        return None
    if raw >= 10**17:
        return raw // 1_000_000
    if raw >= 10**14:
        return raw // 1000
    return raw if raw >= 10**11 else raw * 1000


def _record_ms(record: dict[str, Any]) -> int | None:
    for key in ("endTime", "startTime", "hrTime", "_hrTime", "time"):
        if (ms := _parts_ms(record.get(key))) is not None:
            return ms
    for key in ("timestamp", "observedTimestamp"):
        if (ms := _scalar_ms(record.get(key))) is not None:
            return ms
    nanos = _number(record.get("timeUnixNano"))
    return nanos // 1_000_000 if nanos else None


def _dedup_key(source: int, record: dict[str, Any], attrs: dict[str, Any], trace: str | None,
               session: str, ms: int, index: int) -> str:
    span = _nested(record, "spanId")
    if source in (_CHAT, _SUMMARY):
        return f"{trace}:{span}" if trace and span else f"span:{session}:{ms}:{index}"
    if source == _INFERENCE:
        return f"log:{trace}:{span}" if trace and span else f"log:{session}:{ms}:{index}"
    turn = _number(attrs.get("turn.index"))
    if turn is None:
        turn = _number(attrs.get("copilot_chat.turn.index"))
    turn_s = f"idx-{index}" if turn is None else str(turn)
    return f"agent-turn:{trace}:{turn_s}" if trace else f"agent-turn:{session}:{turn_s}:{index}"


def _has_session_state(session: str) -> bool:
    if not session or "/" in session or session in (".", ".."):
        return False
    return (copilot_home() / "session-state" / session).is_dir()


def parse_otel(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    """One OTel file -> one event per model call it records (ccusage's candidates)."""
    records: list[dict[str, Any]] = []
    for line in data.splitlines():
        if b'"attributes"' not in line:
            continue
        try:
            record = _decoder.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError):
            counts.malformed += 1
            continue
        if isinstance(record, dict):
            records.append(record)
    contexts: dict[str, list[Any]] = {}  # trace -> [model, session, priority]
    for record in records:
        trace = _nested(record, "traceId")
        attrs = record.get("attributes")
        if trace is None or not isinstance(attrs, dict):
            continue
        ctx = contexts.setdefault(trace, [None, None, 0])
        if ctx[0] is None:
            ctx[0] = _first_model(attrs)
        best = _best_session(attrs)
        if best is not None and best[1] > ctx[2]:
            ctx[1], ctx[2] = best
    try:
        st = path.stat()
        fallback_ms = st.st_mtime_ns // 1_000_000
    except OSError:
        return ()
    candidates: list[tuple[int, str | None, str | None, dict[str, Any]]] = []
    for index, record in enumerate(records):
        attrs = record.get("attributes")
        if not isinstance(attrs, dict):
            continue
        source = _source(record, attrs)
        if source is None:
            continue
        inp = _attr_number(attrs, "gen_ai.usage.input_tokens")
        out = _attr_number(attrs, "gen_ai.usage.output_tokens")
        cr = _attr_number(attrs, "gen_ai.usage.cache_read.input_tokens")
        cw = _attr_number(attrs, "gen_ai.usage.cache_write.input_tokens",
                          "gen_ai.usage.cache_creation.input_tokens")
        think = _attr_number(attrs, "gen_ai.usage.reasoning.output_tokens",
                             "gen_ai.usage.reasoning_tokens")
        total = _attr_number(attrs, "gen_ai.usage.total_tokens",
                             "gen_ai.usage.total.token_count")
        inp = inp - min(inp, cr)
        extra = max(total - (inp + out + cw + cr), 0)  # reasoning is not a part here
        if extra and out == 0:
            out, extra = extra, 0
        if inp + out + extra + cw + cr == 0:
            continue
        trace = _nested(record, "traceId")
        ctx = contexts.get(trace) if trace else None
        model = _first_model(attrs) or (ctx[0] if ctx else None) or "unknown"
        best = _best_session(attrs)
        session = (best[0] if best else None) or (ctx[1] if ctx else None) or trace \
            or "unknown-session"
        ms = _record_ms(record)
        ms = fallback_ms if ms is None else ms
        candidates.append((source, trace, _string(attrs.get("gen_ai.response.id")), {
            "key": _dedup_key(source, record, attrs, trace, session, ms, index),
            "model": model, "session": session, "ms": ms,
            "tokens": (inp, out, extra, cw, cr, think), "record": record}))
    traces: list[set[str]] = [set(), set(), set(), set()]
    responses: list[set[str]] = [set(), set(), set(), set()]
    for source, trace, response, _ in candidates:
        if trace:
            traces[source].add(trace)
        if response:
            responses[source].add(response)
    result: list[IngestRequest] = []
    for source, trace, response, c in candidates:
        if any((trace and trace in traces[higher]) or (response and response in
                                                       responses[higher])
               for higher in range(source)):
            counts.skip("recorded again by a higher OTel record")
            continue
        if _has_session_state(c["session"]):
            counts.skip("counted by the session's shutdown")
            continue
        inp, out, extra, cw, cr, think = c["tokens"]
        counts.usage_lines += 1
        result.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=_from_ms(c["ms"]),
            session_id=c["session"], message_id="otel:" + c["key"], model_raw=c["model"],
            input_tokens=inp, output_tokens=out + extra, reasoning_tokens=min(think, out),
            cache_write_tokens=cw, cache_read_tokens=cr,
            total_tokens=inp + out + extra + cw + cr,
            payload={"path": str(path), "record": c["record"], "extra_total_tokens": extra}))
    return result


COPILOT_SESSIONS = LinesAgent(
    name="copilot", system=SYSTEM, label="GitHub Copilot CLI", env=(HOME_ENV,),
    roots=session_roots, patterns=("events.jsonl",), parser=SessionParser,
)
COPILOT_OTEL = WholeFileAgent(
    name="copilot", system=SYSTEM, label="GitHub Copilot CLI", env=(HOME_ENV, OTEL_ENV),
    roots=otel_roots, patterns=("*.jsonl",), parse=parse_otel,
)
AGENTS = (COPILOT_SESSIONS, COPILOT_OTEL)
