"""Codex rollout logs (``$CODEX_HOME/sessions/**/rollout-*.jsonl``) -> ``message_usage``.

``turn_context`` lines set the model (and cwd); ``event_msg``/``token_count`` lines carry
``info.last_token_usage`` (used when present) and ``info.total_token_usage`` (the
difference of consecutive totals otherwise). Following ccusage's Codex parser
(``rust/crates/ccusage/src/adapter/codex/parser.rs`` in ryoppippi/ccusage): every
total updates the running total; differences saturate at 0; an all-zero usage is no
event; ``cached_input_tokens`` is capped at ``input_tokens``; the model is the token
count's own (``model``/``model_name``/``metadata.model``) else the last turn_context's,
else ``gpt-5``. Codex's ``input_tokens`` include the cached ones, so a request carries
``input_tokens = input - cached`` and ``cache_read_tokens = cached``; ``output_tokens``
is Codex's output (which includes reasoning) and ``reasoning_tokens`` the reasoning part
of it; ``total_tokens`` is Codex's total.

The model, cwd, session id and previous totals are state built from earlier lines. On a
resumed read (from a stored offset) that state is re-derived by scanning the file's
prefix, cheaply: only ``turn_context``/``session_meta``/``token_count`` lines are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from tokentop.store.tail.reader import LineReader
from tokentop.store.usage.collectors.claude import parse_ts
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

COLLECTOR = "codex"
FALLBACK_MODEL = "gpt-5"
_MARKERS = (b'"turn_context"', b'"token_count"', b'"session_meta"')


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


@dataclass
class CodexState:
    """What a file's earlier lines established."""

    session_id: str
    model: str | None = None
    cwd: str | None = None
    totals: _Raw | None = None


def session_from_path(path: Path) -> str:
    stem = path.stem
    return stem[len("rollout-") :] if stem.startswith("rollout-") else stem


class CodexParser:
    """Stateful parser of one rollout file."""

    def __init__(self, path: Path, counts: Counts, state: CodexState | None = None) -> None:
        self.path = path
        self.counts = counts
        self.state = state or CodexState(session_from_path(path))

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
        if e.type == "session_meta" and p is not None:
            if p.id:
                st.session_id = p.id
            if p.cwd:
                st.cwd = p.cwd
            return None
        if e.type == "turn_context" and p is not None:
            m = _model_of(p)
            if m:
                st.model = m
            if p.cwd:
                st.cwd = p.cwd
            return None
        if e.type != "event_msg" or p is None or p.type != "token_count":
            return None
        if not e.timestamp or not e.timestamp.strip():
            if emit:
                self.counts.skip("bad_timestamp")
            return None
        info = p.info
        total = info.total_token_usage if info else None
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
        if raw is None:
            if emit:
                self.counts.skip("no_usage")
            return None
        if not (
            raw.input_tokens
            or raw.cached_input_tokens
            or raw.output_tokens
            or raw.reasoning_output_tokens
        ):
            if emit:
                self.counts.skip("zero_usage")
            return None
        model = _model_of(p, info)
        if model:
            st.model = model
        model = st.model or FALLBACK_MODEL
        ts = parse_ts(e.timestamp.strip())
        if ts is None:
            if emit:
                self.counts.skip("bad_timestamp")
            return None
        if not emit:
            return None
        cached = min(raw.cached_input_tokens, raw.input_tokens)
        self.counts.usage_lines += 1
        return IngestRequest(
            source_system="codex",
            source_channel=SourceChannel.JSONL,
            event_type=EventType.MESSAGE_USAGE,
            occurred_at=ts,
            provider_id="openai",
            agent_name="codex",
            workspace_id=st.cwd,
            session_id=st.session_id,
            model_raw=model,
            model_canonical=model,
            input_tokens=raw.input_tokens - cached,
            cache_read_tokens=cached,
            cache_write_tokens=0,
            output_tokens=raw.output_tokens,
            reasoning_tokens=raw.reasoning_output_tokens,
            total_tokens=raw.total_tokens or raw.input_tokens + raw.output_tokens,
            requests=1,
        )
