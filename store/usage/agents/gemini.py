"""Gemini CLI's chat recordings -> ``message_usage`` requests (``--source gemini``).

Where: every ``*.jsonl`` and ``*.json`` under ``~/.gemini/tmp`` (recursively), or under
each directory of ``$GEMINI_DATA_DIR`` (a comma-separated list, as ccusage reads it).
Gemini CLI writes ``<tmp>/<project>/chats/session-<date>-<id8>.jsonl`` and, for
sub-agents, ``chats/<parent session>/<session>.jsonl``; versions before 2026-04 wrote one
pretty-printed ``chats/session-*.json`` document rewritten in place. ``<project>`` is the
SHA-256 of the project root in older versions and a short project name in newer ones
(gemini-cli ``packages/core/src/config/storage.ts``, which renames the first to the
second). ccusage reads every .json/.jsonl there; so does tokentop (logs.json and
checkpoint files are JSON arrays and carry nothing).

The writer (google-gemini/gemini-cli ``packages/core/src/services/chatRecordingService.ts``
and ``chatRecordingTypes.ts``):

- ``.jsonl``: line 1 is the session's metadata (``sessionId``, ``projectHash``,
  ``startTime``, ``kind``); then every message record in full
  (``{"id", "timestamp", "type": "user"|"gemini"|..., "content", "model", "tokens"}``),
  appended AGAIN whenever it changes (tokens arrive, tool calls update): the same ``id``
  several times, the last copy wins. ``{"$set": {...}}`` lines update metadata (a
  ``$set.messages`` checkpoint repeats messages already written) and ``{"$rewindTo":
  id}`` drops messages from the resumed history (their tokens were still spent).
- ``tokens`` is the API's ``usageMetadata``: ``input`` = promptTokenCount (INCLUDES
  ``cached`` = cachedContentTokenCount), ``output`` = candidatesTokenCount (EXCLUDES
  ``thoughts`` = thoughtsTokenCount), ``tool`` = toolUsePromptTokenCount, ``total`` =
  totalTokenCount (= input + output + thoughts + tool).
- Resuming a legacy ``session-X.json`` writes ``session-X.jsonl`` with every message
  copied (same ids, same sessionId) and leaves the ``.json`` in place.

Counting follows ccusage 20.0.24 (``rust/crates/ccusage/src/adapter/gemini/parser.rs``):

- a record counts when ``type == "gemini"`` and ``tokens`` is an object, with a
  non-blank ``model`` (the record's, else in ``.jsonl`` the last ``model`` any earlier
  line carried); token fields also accept ccusage's aliases (``prompt``,
  ``input_tokens``, ...). Records with ``stats`` (or ``result.stats``: a headless
  ``--output-format json`` result) count per model, cached always taken out of input.
- cache: when ``cached > 0`` and ``total == input + output + thoughts + tool``, the
  cached part is inside ``input`` and is taken out (``input_tokens = input - cached``);
  otherwise ``input`` is taken as given (the total says the cache is apart). ``tool``
  tokens are input. ``cache_read_tokens = cached``; no cache writes.
- output: ``output_tokens = output + thoughts`` plus whatever ``total`` has beyond all
  parts: Google bills thoughts as output, ccusage prices them as output, and tokentop's
  ``output_tokens`` includes reasoning (``reasoning_tokens`` = thoughts, the part).
  ccusage's JSON shows ``outputTokens`` WITHOUT the thoughts and adds them to
  ``totalTokens`` only, so tokentop's ``outputTokens`` is ccusage's plus the thoughts;
  input, cache and ``totalTokens`` are equal.
- a record whose every count is 0 is skipped; the time is the record's ``timestamp``
  (or ``created_at``), else the session's ``startTime``/``lastUpdated`` (``.json``),
  else the file's mtime.

Identity: ``message_id`` = ``<sessionId>/<id>``, ``workspace_id`` = the ``projectHash``
the file records (else the project directory's name), so the rewritten copies in one
``.jsonl``, and a legacy ``.json`` with its migrated ``.jsonl``, are one event each (the
store keeps the copy with more tokens; Gemini sets a message's tokens once). ccusage
also keeps one copy per id within a ``.jsonl``, but counts a message of a legacy
``.json`` AND its migrated copy in the ``.jsonl``: twice; tokentop counts it once. A
record without ``id`` (ccusage counts each) is keyed by its content: identical id-less
records count once. Nothing here writes Gemini CLI's files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents.base import LineParser, LinesAgent, WholeFileAgent
from tokentop.store.usage.agents.paths import (
    gemini_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.timefmt import parse_ts

NAME = "gemini"
SYSTEM = "gemini_cli"
LABEL = "Gemini CLI"
ENV = "GEMINI_DATA_DIR"
PROVIDER = "google"
DEFAULT_MODEL = "unknown"  # ccusage's model for a ``stats`` record that names none

_INPUT = ("input", "prompt", "input_tokens", "prompt_tokens")
_OUTPUT = ("output", "candidates", "output_tokens", "candidates_tokens")
_CACHED = ("cached", "cached_tokens")
_THOUGHTS = ("thoughts", "reasoning", "thoughts_tokens", "reasoning_tokens")
_TOOL = ("tool", "tool_tokens")
PRIME_SCAN = 1 << 20  # resuming within the first MiB: look at every line before
PRIME_BLOCK = 1 << 18  # beyond: read backwards this much at a time for the last model
# Lines worth decoding in a .jsonl: usage, or state a later usage line needs.
_MARKERS = (b'"tokens"', b'"stats"', b'"model"', b'"sessionId"', b'"session_id"',
            b'"projectHash"')


class _Line(msgspec.Struct):
    """The fields of one record tokentop reads; ``content`` and the rest are skipped."""

    type: Any = None
    id: Any = None
    timestamp: Any = None
    created_at: Any = None
    model: Any = None
    tokens: Any = None
    sessionId: Any = None
    session_id: Any = None
    projectHash: Any = None
    stats: Any = None
    result: Any = None


class _Doc(_Line):
    """A whole ``.json``: a session document (``messages``) or one record."""

    startTime: Any = None
    lastUpdated: Any = None
    messages: msgspec.Raw = msgspec.Raw(b"")  # empty: no such field


_line_decoder = msgspec.json.Decoder(_Line)
_doc_decoder = msgspec.json.Decoder(_Doc)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


def _text(value: Any) -> str | None:
    """ccusage's ``non_empty_json_string``: a string, trimmed, not empty."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _time(value: Any) -> datetime | None:
    text = value if isinstance(value, str) else None
    if not text:
        return None
    try:
        return parse_ts(text)
    except (ValueError, IndexError):
        return None


def _count(value: Any) -> int | None:
    """ccusage's ``value_u64``: any finite JSON number, truncated, at least 0."""
    kind = type(value)
    if kind is int:
        return value if value > 0 else 0
    if kind is float and math.isfinite(value):
        return max(int(value), 0)
    return None


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> int:
    for key in keys:
        n = _count(record.get(key))
        if n is not None:
            return n
    return 0


class _Tokens(msgspec.Struct):
    input: int
    output: int
    cached: int
    thoughts: int
    tool: int
    total: int | None


def _tokens(value: Any) -> _Tokens | None:
    if not isinstance(value, dict):
        return None
    total = value["total"] if "total" in value else value.get("total_tokens")
    return _Tokens(_first(value, _INPUT), _first(value, _OUTPUT), _first(value, _CACHED),
                   _first(value, _THOUGHTS), _first(value, _TOOL), _count(total))


def _subtract_cached(t: _Tokens) -> tuple[int, int]:
    return t.input - min(t.input, t.cached), t.cached


def _session_input(t: _Tokens) -> tuple[int, int]:
    """(input without cache, cache read): the cache comes out of ``input`` only when the
    total shows it is inside (ccusage's ``normalize_session_input``)."""
    inclusive = t.input + t.output + t.thoughts + t.tool
    if t.cached > 0 and t.total == inclusive and t.total != inclusive + t.cached:
        return _subtract_cached(t)
    return t.input, t.cached


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return datetime.fromtimestamp(0, UTC)


class _Context:
    """What a record's request needs besides the record: file, session, project."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session = path.stem
        self.project: str | None = None
        self.model: str | None = None
        parts = path.parts
        self.directory = (parts[parts.index("chats") - 1]
                          if "chats" in parts[1:] else path.parent.name)

    def request(self, t: _Tokens, model: str | None, when: datetime, mid: str | None,
                split: Any, payload: Any) -> IngestRequest | None:
        """ccusage's ``build_event``; None when it would skip the record."""
        if not model:
            return None
        without_cache, cache_read = split(t)
        input_ = without_cache + t.tool
        output = t.output
        extra = t.thoughts
        total = t.total if t.total is not None else input_ + output + cache_read + extra
        missing = max(total - (input_ + output + cache_read + extra), 0)
        if missing:  # ccusage's apply_total_token_fallback: all of it priced as output
            if output == 0:
                output = missing
            else:
                extra += missing
        if not (input_ or output or cache_read or extra):
            return None
        key = mid if mid is not None else (
            f"~{when.isoformat()}|{model}|{input_}|{output}|{cache_read}|{extra}")
        return IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL, occurred_at=when,
            workspace_id=self.project or self.directory, session_id=self.session,
            message_id=f"{self.session}/{key}", provider_id=PROVIDER, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, model_raw=model, model_canonical=model,
            input_tokens=input_, output_tokens=output + extra,
            reasoning_tokens=min(t.thoughts, output + extra), cache_read_tokens=cache_read,
            cache_write_tokens=0, total_tokens=input_ + output + extra + cache_read,
            payload=payload)

    def direct(self, rec: _Line, hint: str | None, fallback: datetime,
               payload: Any) -> IngestRequest | None:
        t = _tokens(rec.tokens)
        if t is None:
            return None
        when = _time(rec.timestamp) or _time(rec.created_at) or fallback
        return self.request(t, _text(rec.model) or hint, when, _text(rec.id),
                            _session_input, payload)

    def stats(self, rec: _Line, hint: str | None, when: datetime) -> list[IngestRequest]:
        """ccusage's ``parse_stats_events``: per model in ``stats.models``, else the
        stats object itself under the hinted model."""
        stats = rec.stats
        if stats is None and isinstance(rec.result, dict):
            stats = rec.result.get("stats")
        if not isinstance(stats, dict):
            return []
        out: list[IngestRequest] = []
        models = stats.get("models")
        if isinstance(models, dict):
            for model, data in models.items():
                t = _tokens(data.get("tokens")) if isinstance(data, dict) else None
                if t is not None:  # ccusage keeps the key as written (untrimmed)
                    name = model if model.strip() else None
                    req = self.request(t, name, when, None, _subtract_cached, None)
                    if req is not None:
                        out.append(req)
            if out:
                return out
        t = _tokens(stats)
        req = None if t is None else self.request(t, hint or DEFAULT_MODEL, when, None,
                                                  _subtract_cached, None)
        return [] if req is None else [req]


class GeminiLines(LineParser):
    """One ``.jsonl``: metadata first, then message records appended as they change."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.ctx = _Context(path)
        self.fallback = _mtime(path)

    def prime(self, offset: int) -> None:
        """The session, project and last model the lines before ``offset`` set.

        Up to ``PRIME_SCAN`` bytes, every line is looked at (exactly what a read from 0
        would have set). Beyond, a long session being appended to is not read again
        whole on every new message: the session and project come from the first line
        (the metadata line, the only one with a top-level ``sessionId`` in every file
        Gemini CLI writes) and the model from the last line before ``offset`` that
        names one, found reading backwards.
        """
        with open_binary(self.path) as fh:
            if offset <= PRIME_SCAN:
                for line in fh.read(offset).splitlines():
                    self._prime_line(line, _MARKERS[2:])
                return
            self._prime_line(fh.readline(), _MARKERS[2:])
            pos, carry = offset, b""
            while pos > 0 and self.ctx.model is None:
                start = max(0, pos - PRIME_BLOCK)
                fh.seek(start)
                lines = (fh.read(pos - start) + carry).split(b"\n")
                carry = lines.pop(0) if start > 0 else b""
                for line in reversed(lines):
                    if self._prime_line(line, (b'"model"',), model_only=True):
                        break
                pos = start

    def _prime_line(self, line: bytes, markers: tuple[bytes, ...],
                    model_only: bool = False) -> bool:
        """Take what ``line`` sets; True when it named a model."""
        if not any(m in line for m in markers):
            return False
        try:
            rec = _line_decoder.decode(line)
        except msgspec.MsgspecError:
            return False
        if model_only:
            self.ctx.model = _text(rec.model)
            return self.ctx.model is not None
        self._state(rec)
        return _text(rec.model) is not None

    def _state(self, rec: _Line) -> None:
        if rec.sessionId is not None or rec.session_id is not None:
            session = _text(rec.sessionId) or _text(rec.session_id)
            if session:
                self.ctx.session = session
        if rec.projectHash is not None:
            project = _text(rec.projectHash)
            if project:
                self.ctx.project = project
        if rec.model is not None:
            model = _text(rec.model)
            if model:
                self.ctx.model = model

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if not any(m in line for m in _MARKERS):
            # not decoded (tool output can be megabytes): a line that is not even shaped
            # like a JSON object or array is counted malformed
            body = line.strip()
            if body and not ((body[:1] == b"{" and body[-1:] == b"}")
                             or (body[:1] == b"[" and body[-1:] == b"]")):
                self.counts.malformed += 1
            return ()
        try:
            rec = _line_decoder.decode(line)
        except msgspec.ValidationError:  # JSON, but not a record (an array, a string)
            return ()
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return ()
        self._state(rec)
        if rec.type == "gemini":
            req = self.ctx.direct(rec, self.ctx.model, self.fallback, None)
            if req is None:
                return ()
            self.counts.usage_lines += 1
            return (req,)
        if rec.stats is not None or isinstance(rec.result, dict):
            got = self.ctx.stats(rec, self.ctx.model, _time(rec.timestamp) or self.fallback)
            self.counts.usage_lines += bool(got)
            return got
        return ()


def parse_document(path: Path, data: bytes, counts: Counts) -> list[IngestRequest]:
    """One ``.json`` (ccusage's ``parse_json_file``): a session document with
    ``messages``, else a single message record, else a ``stats`` record."""
    try:
        doc = _doc_decoder.decode(data)
    except msgspec.ValidationError:  # an array (logs.json, checkpoints) or a scalar
        return []
    except msgspec.DecodeError:
        counts.malformed += 1
        return []
    ctx = _Context(path)
    ctx.session = _text(doc.sessionId) or _text(doc.session_id) or path.stem
    ctx.project = _text(doc.projectHash)
    mtime = _mtime(path)
    if len(doc.messages):
        try:
            raws = _raw_list.decode(doc.messages)
        except msgspec.MsgspecError:
            raws = None
        if raws is not None:
            started = _time(doc.startTime) or _time(doc.lastUpdated) or mtime
            out = []
            for raw in raws:
                try:
                    msg = _line_decoder.decode(raw)
                except msgspec.MsgspecError:  # not an object: ccusage skips it too
                    continue
                if msg.type != "gemini":
                    continue
                req = ctx.direct(msg, None, started, None)
                if req is not None:
                    out.append(req)
            counts.usage_lines += len(out)
            return out
    if doc.type == "gemini":
        req = ctx.direct(doc, None, mtime, None)
        counts.usage_lines += req is not None
        return [] if req is None else [req]
    got = ctx.stats(doc, _text(doc.model), _time(doc.timestamp) or mtime)
    counts.usage_lines += len(got)
    return got


GEMINI_LINES = LinesAgent(NAME, SYSTEM, LABEL, (ENV,), roots, ("*.jsonl",), GeminiLines)
GEMINI_JSON = WholeFileAgent(NAME, SYSTEM, LABEL, (ENV,), roots, ("*.json",), parse_document)
AGENTS = (GEMINI_LINES, GEMINI_JSON)
