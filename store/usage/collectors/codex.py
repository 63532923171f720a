"""Codex rollout logs (``$CODEX_HOME/sessions/**/rollout-*.jsonl``) -> ``message_usage``
and ``limit_snapshot`` events.

Rules, checked against ccusage 20.0.24 (run on fixtures) and openusage's Codex collector
(``internal/providers/codex/telemetry_usage.go`` in janekbaraniewski/openusage):

- ``event_msg``/``token_count``: Codex re-emits these with an unchanged
  ``info.total_token_usage`` (rate-limit refreshes, ccusage issue #1288): such an event
  is no new usage and is skipped. Otherwise the usage is ``info.last_token_usage`` when
  present, else the change of the total since the previous one (saturating at 0), as
  ccusage 20.0.24 does; an all-zero usage is no event.
- ``token_usage_record`` (CLI 0.151+, one per model response, ``payload.usage``): read
  where present, but paired with the token counts so a response is counted once, in
  whichever order the two lines come (see ``CodexState.pending``).
- A fork or sub-agent thread (first ``session_meta`` with ``forked_from_id`` or
  ``source.subagent.thread_spawn``) starts by copying its parent's history, token events
  included. Those are not new usage: they only set the baseline totals. The copy ends at
  the first native turn (``task_started``/``turn_started`` whose ``started_at`` is not
  before the fork), or at the first record written a second or more after the one
  before it that is not older than the fork itself (the copy is one write burst, or
  keeps the parent's older timestamps). The session is the fork's own id (the first
  ``session_meta``; the parent's copied ``session_meta`` renames nothing).
- Tokens as openusage writes Codex rows: ``provider_id = "codex"``, ``input_tokens``
  INCLUDES the cached input (``cache_read_tokens = cached``, capped at input),
  ``output_tokens`` includes reasoning (``reasoning_tokens`` is the part),
  ``total_tokens`` is Codex's total (input + output). Readers subtract the cached input
  for provider ``codex`` rows (openusage's semantics).
- ``rate_limits`` on a token count (primary = the 5 h window, secondary = the weekly one)
  become a ``limit_snapshot`` (metrics ``rate_limit_primary``/``rate_limit_secondary`` in
  percent, openusage's names) whenever they change, so the quota gauges work from the
  logs alone.
- The model is the event's own (``model``/``model_name``/``metadata.model``), else the
  last ``turn_context``'s, else ``gpt-5``.

On a resumed read (from a stored offset) the state is re-derived by scanning the file's
prefix; only lines carrying one of ``_MARKERS`` are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.reader import LineReader
from tokentop.store.usage.collectors.claude import parse_ts
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

COLLECTOR = "codex"
PROVIDER = "codex"  # openusage's provider id for Codex rows
ACCOUNT = "codex"  # openusage's account id for Codex rows and snapshots
FALLBACK_MODEL = "gpt-5"
_MARKERS = (b'"turn_context"', b'"token_count"', b'"session_meta"', b'"token_usage_record"',
            b'"task_started"', b'"turn_started"')
_BURST_GAP = timedelta(seconds=1)


class _Raw(msgspec.Struct):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


class _Meta(msgspec.Struct):
    model: str | None = None


class _Info(msgspec.Struct):
    last_token_usage: _Raw | None = None
    total_token_usage: _Raw | None = None
    model: str | None = None
    model_name: str | None = None
    metadata: _Meta | None = None


class _Payload(msgspec.Struct):
    type: str | None = None
    model: str | None = None
    model_name: str | None = None
    metadata: _Meta | None = None
    info: _Info | None = None
    cwd: str | None = None
    id: str | None = None
    forked_from_id: str | None = None
    source: Any = None
    rate_limits: Any = None
    usage: _Raw | None = None
    response_id: str | None = None
    started_at: float | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    payload: _Payload | None = None


_decoder = msgspec.json.Decoder(_Line)


def _model_of(*parts: _Payload | _Info | None) -> str | None:
    for p in parts:
        if p is None:
            continue
        for m in (p.model, p.model_name, p.metadata.model if p.metadata else None):
            if m and m.strip():
                return m.strip()
    return None


def _is_fork(p: _Payload) -> bool:
    if p.forked_from_id:
        return True
    src = p.source
    return isinstance(src, dict) and isinstance(src.get("subagent"), dict) and (
        "thread_spawn" in src["subagent"])


@dataclass
class CodexState:
    """What a file's earlier lines established."""

    session_id: str
    model: str | None = None
    cwd: str | None = None
    totals: _Raw | None = None
    own_meta: bool = False  # the file's own (first) session_meta was seen
    fork_at: datetime | None = None  # set while a fork's copied history is being read
    last_at: datetime | None = None  # the previous record's time, during the copy
    # "count": a token count was counted and no response record paired with it yet;
    # "record": the reverse. The other line of the same response is then not counted.
    pending: str | None = None
    limits: Any = None  # the last rate_limits (as logged) turned into a snapshot


def session_from_path(path: Path) -> str:
    stem = path.stem
    return stem[len("rollout-") :] if stem.startswith("rollout-") else stem


def _percent(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _window(minutes: Any) -> str:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        return ""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def limit_snapshot(rate_limits: Any, at: datetime) -> dict[str, Any] | None:
    """openusage's snapshot shape for Codex's ``rate_limits`` (None when it has none)."""
    if not isinstance(rate_limits, dict):
        return None
    metrics: dict[str, Any] = {}
    resets: dict[str, str] = {}
    for key, name in (("primary", "rate_limit_primary"), ("secondary", "rate_limit_secondary")):
        w = rate_limits.get(key)
        used = _percent(w.get("used_percent")) if isinstance(w, dict) else None
        if used is None:
            continue
        metrics[name] = {"limit": 100.0, "used": used, "remaining": 100.0 - used, "unit": "%",
                         "window": _window(w.get("window_minutes"))}
        reset = None
        if _percent(w.get("resets_at")) is not None:
            reset = datetime.fromtimestamp(float(w["resets_at"]), UTC)
        elif _percent(w.get("resets_in_seconds")) is not None:
            reset = at + timedelta(seconds=float(w["resets_in_seconds"]))
        if reset is not None:
            resets[name] = reset.isoformat().replace("+00:00", "Z")
    if not metrics:
        return None
    return {"provider_id": PROVIDER, "account_id": ACCOUNT, "metrics": metrics,
            "resets": resets}


class CodexParser:
    """Stateful parser of one rollout file."""

    def __init__(self, path: Path, counts: Counts, state: CodexState | None = None) -> None:
        self.path = path
        self.counts = counts
        self.state = state or CodexState(session_from_path(path))
        self.extra: list[IngestRequest] = []  # limit snapshots of the last parsed line

    def prime(self, end: int) -> None:
        """Rebuild the state from the file's bytes before ``end`` (a resumed read)."""
        reader = LineReader(self.path, 0)
        scratch = Counts()
        saved, self.counts = self.counts, scratch
        try:
            for batch in reader.batches():
                stop = False
                if reader.result.end > end:  # the last batch may run past the offset
                    pos, keep = reader.result.end, 0
                    for i in range(len(batch) - 1, -1, -1):
                        pos -= len(batch[i]) + 1
                        if pos < end:
                            keep = i + 1
                            break
                    batch = batch[:keep]
                    stop = True
                for line in batch:
                    self.parse(line, emit=False)
                if stop:
                    break
        except OSError:
            pass
        finally:
            self.counts = saved
            self.extra = []

    def feed(self, line: bytes) -> list[IngestRequest]:
        """Every event one line gives (usage first, then a limit snapshot)."""
        req = self.parse(line)
        out = [req] if req is not None else []
        out.extend(self.extra)
        self.extra = []
        return out

    def _in_copy(self, e: _Line, ts: datetime | None) -> bool:
        """Whether this record still belongs to a fork's copy of its parent's history."""
        st = self.state
        if st.fork_at is None:
            return False
        p = e.payload
        if (e.type == "event_msg" and p is not None and p.type in ("task_started", "turn_started")
                and p.started_at is not None
                and p.started_at >= st.fork_at.timestamp() - 1):
            st.fork_at = st.last_at = None  # the fork's own first turn
            return False
        if ts is None:
            return True
        if ts < st.fork_at or st.last_at is None or ts - st.last_at < _BURST_GAP:
            st.last_at = max(ts, st.last_at) if st.last_at else ts
            return True
        st.fork_at = st.last_at = None
        return False

    def parse(self, line: bytes, emit: bool = True) -> IngestRequest | None:
        if not any(m in line for m in _MARKERS):
            return None
        try:
            e = _decoder.decode(line)
        except msgspec.ValidationError:
            self.counts.skip("invalid")
            return None
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return None
        p = e.payload
        st = self.state
        # times are parsed only where used: the usage lines, and every line of a fork's copy
        timed = (st.fork_at is not None or e.type in ("token_usage_record", "session_meta")
                 or (p is not None and p.type == "token_count"))
        ts = (parse_ts(e.timestamp.strip()) if timed and e.timestamp and e.timestamp.strip()
              else None)
        if e.type == "session_meta" and p is not None:
            if not st.own_meta:  # later ones are a fork's copy of its parent's
                st.own_meta = True
                if p.id:
                    st.session_id = p.id
                if p.cwd:
                    st.cwd = p.cwd
                if _is_fork(p) and ts is not None:
                    st.fork_at = st.last_at = ts
            else:
                self._in_copy(e, ts)
            return None
        copy = self._in_copy(e, ts)
        if e.type == "turn_context" and p is not None:
            m = _model_of(p)
            if m:
                st.model = m
            if p.cwd and not copy:
                st.cwd = p.cwd
            return None
        if e.type == "token_usage_record" and p is not None:
            return self._record(e, p, ts, copy, emit)
        if e.type != "event_msg" or p is None or p.type != "token_count":
            return None
        return self._token_count(e, p, ts, copy, emit)

    def _token_count(self, e: _Line, p: _Payload, ts: datetime | None, copy: bool,
                     emit: bool) -> IngestRequest | None:
        st = self.state
        if ts is None:
            if emit:
                self.counts.skip("bad_timestamp")
            return None
        changed = not copy and p.rate_limits is not None and p.rate_limits != st.limits
        snap = limit_snapshot(p.rate_limits, ts) if changed else None
        if snap is not None:
            st.limits = p.rate_limits  # also on a resumed read's prefix: no repeat
            if emit:
                self.extra.append(IngestRequest(
                    source_system="codex", source_channel=SourceChannel.JSONL,
                    event_type=EventType.LIMIT_SNAPSHOT, occurred_at=ts, provider_id=PROVIDER,
                    account_id=ACCOUNT, agent_name="codex", session_id=st.session_id,
                    message_id=f"codex-limits:{st.session_id}:{e.timestamp}",
                    payload={"snapshot": snap}))
        info = p.info
        total = info.total_token_usage if info else None
        if total is not None and st.totals is not None and total == st.totals:
            if emit and not copy:
                self.counts.skip("unchanged_total")
            return None
        raw = info.last_token_usage if info else None
        if raw is None and total is not None:
            prev = st.totals or _Raw()
            raw = _Raw(
                max(0, total.input_tokens - prev.input_tokens),
                max(0, total.cached_input_tokens - prev.cached_input_tokens),
                max(0, total.output_tokens - prev.output_tokens),
                max(0, total.reasoning_output_tokens - prev.reasoning_output_tokens),
                max(0, total.total_tokens - prev.total_tokens),
            )
        if total is not None:
            st.totals = total
        if copy:
            return None
        if raw is None:
            if emit:
                self.counts.skip("no_usage")
            return None
        if not (raw.input_tokens or raw.cached_input_tokens or raw.output_tokens
                or raw.reasoning_output_tokens):
            if emit:
                self.counts.skip("zero_usage")
            return None
        model = _model_of(p, info)
        if model:
            st.model = model
        if st.pending == "record":  # this response was counted from its record
            st.pending = None
            if emit:
                self.counts.skip("counted_by_record")
            return None
        st.pending = "count"
        return self._request(raw, ts, None) if emit else None

    def _record(self, e: _Line, p: _Payload, ts: datetime | None, copy: bool,
                emit: bool) -> IngestRequest | None:
        st = self.state
        if copy or p.usage is None:
            return None
        if st.pending == "count":  # this response was counted from its token count
            st.pending = None
            if emit:
                self.counts.skip("counted_by_token_count")
            return None
        if ts is None:
            if emit:
                self.counts.skip("bad_timestamp")
            return None
        u = p.usage
        if not (u.input_tokens or u.cached_input_tokens or u.output_tokens
                or u.reasoning_output_tokens):
            return None
        model = _model_of(p)
        if model:
            st.model = model
        st.pending = "record"
        return self._request(u, ts, p.response_id) if emit else None

    def _request(self, raw: _Raw, ts: datetime, response_id: str | None) -> IngestRequest:
        st = self.state
        model = st.model or FALLBACK_MODEL
        cached = min(raw.cached_input_tokens, raw.input_tokens)
        self.counts.usage_lines += 1
        return IngestRequest(
            source_system="codex",
            source_channel=SourceChannel.JSONL,
            event_type=EventType.MESSAGE_USAGE,
            occurred_at=ts,
            provider_id=PROVIDER,
            account_id=ACCOUNT,
            agent_name="codex",
            workspace_id=st.cwd,
            session_id=st.session_id,
            message_id=response_id,
            model_raw=model,
            model_canonical=model,
            input_tokens=raw.input_tokens,
            cache_read_tokens=cached,
            cache_write_tokens=0,
            output_tokens=raw.output_tokens,
            reasoning_tokens=raw.reasoning_output_tokens,
            total_tokens=raw.total_tokens or raw.input_tokens + raw.output_tokens,
            requests=1,
        )
