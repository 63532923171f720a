"""Qwen Code's chat recordings -> ``message_usage`` requests (``--source qwen``).

Where: ``~/.qwen/projects/<project>/chats/*.jsonl``, or the same under each directory of
``$QWEN_DATA_DIR`` (a comma-separated list, as ccusage reads it). ``<project>`` is the
working directory made a file name. Only files directly in a ``chats`` directory count,
as in ccusage (``rust/crates/ccusage/src/adapter/qwen/paths.rs``).

The writer (QwenLM/qwen-code ``packages/core/src/services/chatRecordingService.ts``):
append-only JSONL, one self-contained ``ChatRecord`` per line (``uuid``, ``parentUuid``,
``sessionId``, ``timestamp``, ``type``: user|assistant|tool_result|system, ``cwd``,
``model``, ``usageMetadata``). An ``assistant`` record carries the API call's
``usageMetadata`` in Gemini's shape, converted from the provider's usage by
``packages/core/src/core/openaiContentGenerator/converter.ts``
(``convertOpenAIResponseToLlm``; the Anthropic and Gemini generators do the same):

- ``promptTokenCount`` = the prompt, cached part INCLUDED (OpenAI ``prompt_tokens``;
  Anthropic: ``cache_read + input``); ``cachedContentTokenCount`` = that cached part;
- ``candidatesTokenCount`` = OpenAI ``completion_tokens``, which INCLUDES the reasoning,
  ``thoughtsTokenCount`` = ``completion_tokens_details.reasoning_tokens`` (or an
  estimate capped at the completion); ``totalTokenCount`` = ``total_tokens`` =
  prompt + completion. With Gemini's own API the thoughts are apart from the candidates
  and inside the total.
- ``/branch`` copies every record of a session verbatim into a new session file (same
  ``uuid``, new ``sessionId``, ``forkedFrom: {sessionId, messageUuid}``).

ccusage 20.0.24 (``adapter/qwen/parser.rs``) counts an ``assistant`` record with
``usageMetadata`` as input = promptTokenCount, cache read = cachedContentTokenCount,
output = candidatesTokenCount, plus thoughtsTokenCount in totalTokens and priced as
output; a total beyond all parts goes to output. So it counts the cached tokens twice
(in input and in cache read), and with OpenAI-compatible providers the reasoning twice
too. It dedups on (sessionId, timestamp, model, tokens), so a ``/branch`` copy (new
sessionId) counts twice as well.

tokentop counts each once (deliberate differences, both numbers in the parity test):

- ``input_tokens`` = promptTokenCount - cachedContentTokenCount, ``cache_read_tokens``
  = cachedContentTokenCount (unless ``totalTokenCount`` has room for the cache on top
  of every other part: then the prompt did not include it);
- ``output_tokens`` = candidatesTokenCount, plus thoughtsTokenCount when
  ``totalTokenCount`` has room for them (Gemini's shape) or no total is given;
  ``reasoning_tokens`` = thoughtsTokenCount; a total beyond all parts goes to output,
  as in ccusage (a record with only a total is all output);
- ``message_id`` = the record's ``uuid``; a forked copy is attributed to the session it
  was forked from (``forkedFrom.sessionId``), so the original and its copies share one
  key. A record without ``uuid`` is keyed like ccusage's dedup.

Skipped like ccusage: counts that are not non-negative integers read as 0; a record
with every count 0. ``model`` missing -> "unknown"; ``timestamp`` missing or unreadable
-> the file's mtime; ``sessionId`` missing -> ``<project>-<file stem>``. The log names no
provider (``provider_id`` None). ``workspace_id`` = the record's ``cwd``, else the
project directory's name. Nothing here writes Qwen Code's files.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.usage.agents.base import LineParser, LinesAgent
from tokentop.store.usage.agents.paths import (
    qwen_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.timefmt import parse_ts

NAME = "qwen"
SYSTEM = "qwen_code"
LABEL = "Qwen Code"
ENV = "QWEN_DATA_DIR"
DEFAULT_MODEL = "unknown"
MARKER = b'"usageMetadata"'


class _Record(msgspec.Struct):
    """The fields of one ``ChatRecord`` tokentop reads; ``message`` is skipped."""

    type: Any = None
    uuid: Any = None
    sessionId: Any = None
    timestamp: Any = None
    model: Any = None
    cwd: Any = None
    usageMetadata: Any = None
    forkedFrom: Any = None


_decoder = msgspec.json.Decoder(_Record)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _u64(usage: dict[str, Any], key: str) -> int:
    """ccusage's ``json_value_u64``: a non-negative JSON integer, else 0."""
    value = usage.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


COUNT_KEYS = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
              "cachedContentTokenCount", "totalTokenCount")


def _bad_count(usage: dict[str, Any]) -> str | None:
    """Why a present count is not one (ingest's words), or None. ccusage reads such a
    count as 0 and keeps the line; tokentop refuses it as it refuses every agent's
    (Qwen Code writes the provider's whole non-negative counts)."""
    for key in COUNT_KEYS:
        value = usage.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            return "invalid tokens"
        if value < 0:
            return "negative tokens"
    return None


def is_chat_file(path: Path) -> bool:
    """``projects/<project>/chats/<file>.jsonl`` exactly (ccusage's ``is_chat_file``)."""
    return (path.suffix == ".jsonl" and path.parent.name == "chats"
            and path.parent.parent.parent.name == "projects")


def split(prompt: int, candidates: int, thoughts: int, cached: int,
          total: int) -> tuple[int, int, int]:
    """(input without cache, cache read, output with reasoning), each token once."""
    thoughts_apart = total == 0 or prompt + candidates + thoughts <= total
    output = candidates + (thoughts if thoughts_apart else 0)
    cache_apart = total > 0 and cached > 0 and prompt + output + cached <= total
    input_ = prompt if cache_apart else max(prompt - cached, 0)
    counted = input_ + cached + output
    if total > counted:
        output += total - counted
    return input_, cached, output


class QwenLines(LineParser):
    """One chat file; every record carries its own session, so no state to prime."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.chat = is_chat_file(path)
        self.project = path.parent.parent.name
        self._mtime: datetime | None = None

    def fallback(self) -> datetime:
        if self._mtime is None:
            try:
                self._mtime = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
            except OSError:
                self._mtime = datetime.fromtimestamp(0, UTC)
        return self._mtime

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if not self.chat:
            return ()
        if MARKER not in line:
            # not decoded (most records carry no usage): a line not even shaped like a
            # JSON object is counted malformed
            body = line.strip()
            if body and not (body[:1] == b"{" and body[-1:] == b"}"):
                self.counts.malformed += 1
            return ()
        try:
            rec = _decoder.decode(line)
        except msgspec.ValidationError:
            return ()
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return ()
        if rec.type != "assistant" or rec.usageMetadata is None:
            return ()
        usage = rec.usageMetadata if isinstance(rec.usageMetadata, dict) else {}
        bad = _bad_count(usage)
        if bad is not None:  # issue 16: a count no reply carries is a malformed line
            self.counts.skip(bad)
            return ()
        prompt = _u64(usage, "promptTokenCount")
        candidates = _u64(usage, "candidatesTokenCount")
        thoughts = _u64(usage, "thoughtsTokenCount")
        cached = _u64(usage, "cachedContentTokenCount")
        total = _u64(usage, "totalTokenCount")
        if not (prompt or candidates or thoughts or cached or total):
            return ()
        input_, cache_read, output = split(prompt, candidates, thoughts, cached, total)
        if not (input_ or cache_read or output):
            return ()
        when = None
        stamp = _text(rec.timestamp)
        if stamp:
            try:
                when = parse_ts(stamp)
            except (ValueError, IndexError):
                when = None
        when = when or self.fallback()
        model = _text(rec.model) or DEFAULT_MODEL
        session = _text(rec.sessionId) or f"{self.project}-{self.path.stem}"
        if isinstance(rec.forkedFrom, dict):
            session = _text(rec.forkedFrom.get("sessionId")) or session
        mid = _text(rec.uuid) or (
            f"~{stamp}|{model}|{prompt}|{candidates}|{cached}|{thoughts}|{total}")
        self.counts.usage_lines += 1
        return (IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL, occurred_at=when,
            workspace_id=_text(rec.cwd) or self.project, session_id=session,
            message_id=mid, agent_name=SYSTEM, event_type=EventType.MESSAGE_USAGE,
            model_raw=model, model_canonical=model, input_tokens=input_,
            output_tokens=output, reasoning_tokens=min(thoughts, output),
            cache_read_tokens=cache_read, cache_write_tokens=0,
            total_tokens=input_ + cache_read + output),)


QWEN = LinesAgent(NAME, SYSTEM, LABEL, (ENV,), roots, ("*.jsonl",), QwenLines)
