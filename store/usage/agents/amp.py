"""Amp (Sourcegraph's coding agent, ``amp``): one JSON document per thread.

Where: ``$AMP_DATA_DIR`` (one directory, or several separated by commas, blanks
dropped, as ccusage reads it), else ``~/.local/share/amp`` (ccusage's default: HOME,
not ``XDG_DATA_HOME``); every ``*.json`` under its ``threads/`` directory. Amp writes
``threads/T-<uuid>.json`` and rewrites the whole document as the thread goes on, so
this is a ``WholeFileAgent``: a changed file is read whole again, and stable ids keep
one event per ledger entry or message.

Amp is closed source; the format is what ccusage 20.0.11 reads
(ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/amp/parser.rs`` and its
``README.md``; the 20.0.24 binary reads the same fields)::

    {"id": "T-…", "messages": [{"role": "assistant", "messageId": 2,
       "usage": {"model": "claude-haiku-4-5-20251001", "inputTokens": 10,
                 "outputTokens": 178, "cacheCreationInputTokens": 986,
                 "cacheReadInputTokens": 11372, "totalTokens": …, "credits": …,
                 "timestamp": "2026-01-19T11:42:10.652Z"}}],
     "usageLedger": {"events": [{"id": "event-a", "timestamp": "…", "model": "…",
       "credits": 1.25, "tokens": {"input": 100, "output": 50, "total": …},
       "toMessageId": 2}]}}

Fields, as tokentop reads them (ccusage's rules, so the daily report agrees):

- A document without a non-blank string ``id`` (the thread id, ``session_id``) gives
  nothing. Neither path names a project: no ``workspace_id`` (ccusage's is ``amp``).
- When ``usageLedger.events`` is a list, it is the only source (older Amp): one event
  per ledger entry with a valid ``timestamp``, a ``model`` and a ``tokens`` object;
  ``tokens.input`` is input without the cache, ``tokens.output`` output, and the cache
  writes/reads come from ``cacheCreationInputTokens``/``cacheReadInputTokens`` of the
  assistant message whose integer ``messageId`` is the entry's ``toMessageId``.
  ``message_id`` is ``<thread>:ledger:<event id>`` (the entry's index without one).
- Otherwise (current Amp) every ``role: assistant`` message with a ``usage`` object,
  a ``model`` (usage's, else the message's) and a valid timestamp (usage's, else the
  message's) is one event with ``inputTokens`` (without the cache), ``outputTokens``,
  ``cacheCreationInputTokens``, ``cacheReadInputTokens``. ``message_id`` is
  ``<thread>:message:<messageId>`` (the message's index without one).
- ``total``/``totalTokens`` only fill in what the parts miss (ccusage's
  ``apply_total_token_fallback``): the difference goes to output when output is 0,
  else it is extra that ccusage adds to its total and prices as output but leaves out
  of ``outputTokens``. tokentop keeps that extra in ``output_tokens`` (so totals and
  cost agree; its ``outputTokens`` is then ccusage's plus the extra). Only non-negative
  integers count (``as_u64``); an entry whose tokens are all 0 is skipped.
- Timestamps: the RFC 3339 shapes ccusage's ``parse_ts_timestamp`` accepts
  (``YYYY-MM-DDTHH:MM:SS[.mmm](Z|±HH:MM)``); others are skipped.
- Amp records ``credits`` (its own billing unit, not USD): kept in the payload, never
  ``cost_usd``; tokentop prices the tokens, as ccusage does.

Differences from ccusage, on purpose: a thread file that is not JSON is counted as
malformed (ccusage skips it silently); the same thread in two ``AMP_DATA_DIR``
directories is counted once (ccusage counts each copy).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.usage.agents.base import WholeFileAgent
from tokentop.store.usage.agents.fields import as_u64, clean_string, rfc3339
from tokentop.store.usage.agents.paths import amp_roots as roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

SYSTEM = "amp"
ENV = "AMP_DATA_DIR"

_decoder = msgspec.json.Decoder()


_u64 = as_u64
_string = clean_string


_when = rfc3339


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _fallback(i: int, o: int, cw: int, cr: int, total: int) -> tuple[int, int]:
    """(output, extra): ``apply_total_token_fallback`` with no extra before."""
    missing = max(total - (i + o + cw + cr), 0)
    if missing and o == 0:
        return missing, 0
    return o, missing


def _request(thread: str, key: str, when: datetime, model: str, i: int, o: int, extra: int,
             cw: int, cr: int, payload: dict[str, Any]) -> IngestRequest:
    return IngestRequest(
        source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
        event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=thread,
        message_id=f"{thread}:{key}", model_raw=model, input_tokens=i,
        output_tokens=o + extra, cache_write_tokens=cw, cache_read_tokens=cr,
        total_tokens=i + o + extra + cw + cr, payload=payload)


def _ledger(thread: str, events: list[Any], messages: Any, path: Path,
            counts: Counts) -> list[IngestRequest]:
    cache: dict[int, tuple[int, int]] = {}
    for message in messages if isinstance(messages, list) else ():
        mid = _get(message, "messageId")
        if _get(message, "role") == "assistant" and type(mid) is int:
            usage = _get(message, "usage")
            cache[mid] = (_u64(_get(usage, "cacheCreationInputTokens")),
                          _u64(_get(usage, "cacheReadInputTokens")))
    out: list[IngestRequest] = []
    for n, event in enumerate(events):
        when = _when(_string(_get(event, "timestamp")))
        model = _string(_get(event, "model"))
        tokens = _get(event, "tokens")
        if when is None or model is None or tokens is None:
            counts.skip("ledger entry without time, model or tokens")
            continue
        to = _get(event, "toMessageId")
        cw, cr = cache.get(to, (0, 0)) if type(to) is int else (0, 0)
        i = _u64(_get(tokens, "input"))
        o, extra = _fallback(i, _u64(_get(tokens, "output")), cw, cr,
                             _u64(_get(tokens, "total")))
        if i + o + extra + cw + cr == 0:
            counts.skip("no tokens")
            continue
        eid = _string(_get(event, "id"))
        counts.usage_lines += 1
        out.append(_request(
            thread, f"ledger:{eid}" if eid else f"ledger#{n}", when, model, i, o, extra,
            cw, cr, {"path": str(path), "event": event, "extra_total_tokens": extra}))
    return out


def _messages(thread: str, messages: Any, path: Path, counts: Counts) -> list[IngestRequest]:
    out: list[IngestRequest] = []
    for n, message in enumerate(messages if isinstance(messages, list) else ()):
        if _get(message, "role") != "assistant":
            continue
        usage = _get(message, "usage")
        if usage is None:
            continue
        when = _when(_string(_get(usage, "timestamp")) or _string(_get(message, "timestamp")))
        model = _string(_get(usage, "model")) or _string(_get(message, "model"))
        if when is None or model is None:
            counts.skip("message usage without time or model")
            continue
        i = _u64(_get(usage, "inputTokens"))
        cw = _u64(_get(usage, "cacheCreationInputTokens"))
        cr = _u64(_get(usage, "cacheReadInputTokens"))
        o, extra = _fallback(i, _u64(_get(usage, "outputTokens")), cw, cr,
                             _u64(_get(usage, "totalTokens")))
        if i + o + extra + cw + cr == 0:
            counts.skip("no tokens")
            continue
        mid = _get(message, "messageId")
        key = (f"message:{mid}" if (type(mid) is int or (isinstance(mid, str) and mid))
               else f"message#{n}")
        counts.usage_lines += 1
        out.append(_request(thread, key, when, model, i, o, extra, cw, cr,
                            {"path": str(path), "usage": usage, "extra_total_tokens": extra}))
    return out


def parse(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    """One thread document -> its ledger entries, else its assistant messages."""
    try:
        doc = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        counts.malformed += 1
        return ()
    thread = _string(_get(doc, "id"))
    if thread is None:
        counts.skip("thread without id")
        return ()
    events = _get(_get(doc, "usageLedger"), "events")
    if isinstance(events, list):
        return _ledger(thread, events, doc.get("messages"), path, counts)
    return _messages(thread, doc.get("messages"), path, counts)


AMP = WholeFileAgent(
    name="amp", system=SYSTEM, label="Amp", env=(ENV,), roots=roots,
    patterns=("*.json",), parse=parse,
)
