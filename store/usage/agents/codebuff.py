"""Codebuff (``codebuff``): per-message usage in each chat's ``chat-messages.json``.

Where: every ``chat-messages.json`` under ``<root>/projects`` (a root already named
``projects`` is taken as is), the roots being ``$CODEBUFF_DATA_DIR`` (one, or several
separated by commas) else ``~/.config/manicode``, ``~/.config/manicode-dev`` and
``~/.config/manicode-staging`` (the stable, dev and staging channels). Layout:
``<channel>/projects/<project>/chats/<chat id>/chat-messages.json``, the chat id a
time such as ``2026-01-02T03-04-05.000Z``.

The format is what ccusage 20.0.11 reads (ccusage/ccusage
``rust/crates/ccusage/src/adapter/codebuff/parser.rs``, ``loader.rs``); Codebuff's own
tests (CodebuffAI/codebuff ``cli`` chat-history tests) show the same message shape
(``id``, ``variant``, ``content``, ``timestamp``, ``blocks``). The file is ONE JSON
array, rewritten in place as the chat grows, so it is a whole-file source:

- an assistant message is an object whose ``variant`` (else ``role``) is ``ai``,
  ``agent`` or ``assistant``;
- its usage, each field taken from the first place that has it non-zero:
  ``metadata.usage``, ``metadata.codebuff.usage``, then the assistant entries of
  ``metadata.runState.sessionState.mainAgentState.messageHistory`` (newest first:
  ``providerOptions.usage``, ``providerOptions.codebuff.usage``, model in
  ``providerOptions.codebuff.model``). Field names in either case:
  ``inputTokens``/``promptTokens``, ``outputTokens``/``completionTokens``,
  ``cacheReadInputTokens`` or ``promptTokensDetails.cachedTokens`` (the larger),
  ``cacheCreationInputTokens``/``cacheCreationTokens``/``cachedTokensCreated``, and
  ``totalTokens``/``total`` (beyond the parts: to output when output is 0, else extra
  output). Input is taken as without the cache, as ccusage counts it;
- the model: ``metadata.model``, else the usage's ``model``, else
  ``codebuff-unknown``; the provider guessed from the name (``claude-``/
  ``anthropic/`` anthropic, ``gpt-``/``o1``/``o3``/``o4``/``openai/`` openai, ...);
- its time: ``timestamp``, ``createdAt`` or ``metadata.timestamp`` (RFC 3339 text, or
  epoch seconds/milliseconds), else the chat id's time, else the file's mtime;
- Codebuff's ``credits`` (message or usage) are not tokens; ccusage sums them in its
  own column, tokentop keeps them in the payload. A message with neither tokens nor
  credits is skipped; one with credits only is an event with 0 tokens.

Identity: the session is ``<channel>/<project>/<chat id>`` (ccusage's), the workspace
the project directory's name. A message with an ``id`` is
``codebuff:<session>:<id>`` (ccusage's key), so a rewrite of the file, or the same chat
under a second root named like the first, is the same event (the copy with more
tokens wins). ccusage keys a message WITHOUT an id by its time, model, position and
token counts, which is stable within one ccusage run but would make a message whose
counts grew between two of tokentop's reads a second event; tokentop keys it by its
position in the array (``codebuff:<session>:#<n>``): the array only grows, so the
position is stable, and the grown copy replaces the first. Extra output (total beyond
the parts) is stored inside ``output_tokens`` with ``reasoning_tokens`` as the part, as
for the other agents whose ccusage total counts it, so totals and cost agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.usage.agents.base import WholeFileAgent
from tokentop.store.usage.agents.fields import rfc3339, text_field
from tokentop.store.usage.agents.paths import (
    codebuff_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

SYSTEM = "codebuff"
ENV = "CODEBUFF_DATA_DIR"
CHANNELS = ("manicode", "manicode-dev", "manicode-staging")
DEFAULT_MODEL = "codebuff-unknown"
FILE_NAME = "chat-messages.json"

_decoder = msgspec.json.Decoder()


def _obj(record: Any, key: str) -> dict[str, Any] | None:
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, dict) else None


def _u64(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> int:
    """``pick_u64``: the first present key whose value is a positive integer."""
    for key in keys:
        if key in record and (n := _u64(record[key])):
            return n
    return 0


def _number(record: Any, key: str) -> float:
    value = record.get(key) if isinstance(record, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


class Usage:
    """``AssistantUsage``: tokens, extra output, credits, model."""

    __slots__ = ("cache_read", "cache_write", "credits", "extra", "input", "model", "output")

    def __init__(self) -> None:
        self.input = self.output = self.cache_write = self.cache_read = self.extra = 0
        self.credits = 0.0
        self.model: str | None = None

    def fill(self, other: Usage) -> None:
        """``merge_fallback``: each field zero/None here takes ``other``'s."""
        for name in ("input", "output", "cache_write", "cache_read", "extra"):
            if not getattr(self, name):
                setattr(self, name, getattr(other, name))
        if self.credits <= 0:
            self.credits = other.credits
        if self.model is None:
            self.model = other.model

    def signal(self) -> bool:
        return bool(self.input or self.output or self.cache_write or self.cache_read
                    or self.extra or self.credits > 0)


def parse_usage(value: Any) -> Usage:
    """``parse_usage_object``."""
    u = Usage()
    if not isinstance(value, dict):
        return u
    u.input = _pick(value, ("inputTokens", "input_tokens", "promptTokens", "prompt_tokens"))
    u.output = _pick(value, ("outputTokens", "output_tokens", "completionTokens",
                             "completion_tokens"))
    details = [_pick(d, k) for d, k in ((_obj(value, "promptTokensDetails"), ("cachedTokens",)),
                                        (_obj(value, "prompt_tokens_details"),
                                         ("cached_tokens",))) if d is not None]
    u.cache_read = max([_pick(value, ("cacheReadInputTokens", "cache_read_input_tokens")),
                        *details])
    u.cache_write = _pick(value, ("cacheCreationInputTokens", "cache_creation_input_tokens",
                                  "cacheCreationTokens", "cache_creation_tokens",
                                  "cachedTokensCreated", "cached_tokens_created"))
    total = _pick(value, ("totalTokens", "total_tokens", "total"))
    missing = max(total - (u.input + u.output + u.cache_write + u.cache_read + u.extra), 0)
    if missing:
        if u.output == 0:
            u.output = missing
        else:
            u.extra += missing
    u.credits = _number(value, "credits")
    u.model = text_field(value, "model")
    return u


def _run_state_usage(metadata: dict[str, Any]) -> Usage | None:
    """``extract_usage_from_run_state``: the main agent's history, newest first."""
    node: Any = metadata
    for key in ("runState", "sessionState", "mainAgentState", "messageHistory"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return None
    usage, found = Usage(), False
    for item in reversed(node):
        if not isinstance(item, dict) or text_field(item, "role") != "assistant":
            continue
        options = _obj(item, "providerOptions")
        if options is None:
            continue
        entry = Usage()
        entry.fill(parse_usage(options.get("usage")))
        codebuff = _obj(options, "codebuff")
        if codebuff is not None:
            entry.fill(parse_usage(codebuff.get("usage")))
            entry.model = text_field(codebuff, "model") or entry.model
        if entry.signal() or entry.model is not None:
            found = True
        usage.fill(entry)
    return usage if found else None


def message_usage(message: dict[str, Any]) -> Usage:
    """``extract_assistant_usage``."""
    u = Usage()
    metadata = _obj(message, "metadata")
    if metadata is not None:
        u.model = text_field(metadata, "model")
        u.fill(parse_usage(metadata.get("usage")))
        u.fill(parse_usage((_obj(metadata, "codebuff") or {}).get("usage")))
        if (run := _run_state_usage(metadata)) is not None:
            u.fill(run)
    credits = _number(message, "credits")
    if credits > 0 and u.credits <= 0:
        u.credits = credits
    return u


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time_value(value: Any) -> datetime | None:
    if isinstance(value, str):
        return rfc3339(value)
    if type(value) is int:
        ms = value * 1000 if value < 10_000_000_000 else value
        return _EPOCH + timedelta(milliseconds=ms) if ms > 0 else None
    return None


def chat_id_time(chat_id: str) -> datetime | None:
    """``2026-01-02T03-04-05.000Z`` -> that time (the first two ``-`` after ``T``)."""
    date, sep, clock = chat_id.partition("T")
    if not sep:
        return None
    return rfc3339(f"{date}T{clock.replace('-', ':', 2)}")


def context(path: Path) -> tuple[str, str, str]:
    """(session id, project, chat id) from ``<channel>/projects/<project>/chats/<chat>/``."""
    chat = path.parent.name or "unknown"
    project_dir = path.parent.parent.parent
    project = project_dir.name or "unknown"
    channel = project_dir.parent.parent.name or "manicode"
    return f"{channel}/{project}/{chat}", project, chat


def infer_provider(model: str) -> str | None:
    m = model.lower()
    if m.startswith(("claude-", "anthropic/", "anthropic.")):
        return "anthropic"
    if m.startswith(("gpt-", "o1", "o3", "o4", "openai/")):
        return "openai"
    if m.startswith(("gemini", "google/")):
        return "google"
    if m.startswith(("grok", "xai/")):
        return "xai"
    if m.startswith("openrouter/"):
        return "openrouter"
    return None


def parse(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    """One chat file -> one event per assistant message with usage."""
    if path.name != FILE_NAME:  # the runner's pattern also matches "chat-messages.json.tmp"
        return ()
    try:
        messages = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        counts.malformed += 1
        return ()
    if not isinstance(messages, list):
        counts.skip("chat file not an array")
        return ()
    session, project, chat = context(path)
    chat_time = chat_id_time(chat)
    file_time: datetime | None = None
    out: list[IngestRequest] = []
    for n, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if (text_field(message, "variant") or text_field(message, "role")) not in ("ai", "agent",
                                                                         "assistant"):
            continue
        u = message_usage(message)
        if not u.signal():
            continue
        when = (_time_value(message.get("timestamp")) or _time_value(message.get("createdAt"))
                or _time_value((_obj(message, "metadata") or {}).get("timestamp")) or chat_time)
        if when is None:
            if file_time is None:
                try:
                    ms = path.stat().st_mtime_ns // 1_000_000
                except OSError:
                    ms = 0
                file_time = _EPOCH + timedelta(milliseconds=ms)
            when = file_time
        model = u.model or DEFAULT_MODEL
        mid = text_field(message, "id")
        counts.usage_lines += 1
        out.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=session,
            workspace_id=project,
            message_id=f"codebuff:{session}:{mid}" if mid else f"codebuff:{session}:#{n}",
            provider_id=infer_provider(model), model_raw=model, input_tokens=u.input,
            output_tokens=u.output + u.extra, reasoning_tokens=u.extra,
            cache_read_tokens=u.cache_read, cache_write_tokens=u.cache_write,
            total_tokens=u.input + u.output + u.extra + u.cache_read + u.cache_write,
            payload={"path": str(path), "index": n, "credits": u.credits or None},
        ))
    return out


CODEBUFF = WholeFileAgent(
    name="codebuff", system=SYSTEM, label="Codebuff", env=(ENV,), roots=roots,
    patterns=(FILE_NAME,), parse=parse,
)
