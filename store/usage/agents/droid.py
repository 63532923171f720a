"""Factory's Droid CLI (``droid``): one cumulative token total per session.

Where: ``$DROID_SESSIONS_DIR`` (one directory, or several separated by commas, as
ccusage reads it), else ``~/.factory/sessions``; every ``*.settings.json`` below it,
at any depth (Droid writes ``<encoded cwd>/<session uuid>.settings.json`` beside the
session's ``<session uuid>.jsonl`` transcript; older builds wrote them flat).

Droid is closed source, so the format is what ccusage 20.0.11 reads
(ccusage/ccusage ``rust/crates/ccusage/src/adapter/droid/parser.rs`` and ``loader.rs``)
and what committed settings files show (see ``tests/usage/fixtures/droid/README.md``)::

    {"assistantActiveTimeMs": 1725575, "model": "custom:Claude-Opus-4.5-[Anthropic]-0",
     "providerLock": "anthropic", "providerLockTimestamp": "2025-10-17T20:20:30.671Z",
     "tokenUsage": {"inputTokens": 286905, "outputTokens": 32652,
                    "cacheCreationTokens": 0, "cacheReadTokens": 10505600,
                    "thinkingTokens": 10176}}

Fields, as tokentop reads them (ccusage's rules, so the daily report agrees):

- ``tokenUsage`` is the session's running TOTAL, rewritten in place as the session
  goes on. It is not a per-message count, so it becomes ONE event per session whose
  tokens are the latest total: ``message_id = "droid:<session>"`` (ccusage's id), so
  every re-read of the file, and every copy of the session under another root (an
  archive passed in ``DROID_SESSIONS_DIR``), is the same event and the store keeps the
  copy with the most tokens. A total is never added to an earlier total.
- The session id is the file name without ``.settings.json``.
- ``inputTokens`` is input without the cache (Anthropic's convention: Droid reports
  ``cacheReadTokens`` separately and far larger), ``cacheCreationTokens`` the cache
  writes, ``cacheReadTokens`` the cache reads. ``thinkingTokens`` are extra output:
  ccusage adds them to the total and prices them as output; tokentop stores them in
  ``output_tokens`` with ``reasoning_tokens`` as the part (the Codex convention), so
  totals and cost agree and tokentop's ``outputTokens`` is ccusage's plus thinking.
  Only non-negative integers count (ccusage's ``as_u64``). A ``totalTokens`` larger than
  the parts adds the difference to output (to thinking when output is non-zero), as
  ccusage's ``apply_total_token_fallback``. A session whose tokens sum to 0 is skipped.
- The date of the whole session is ``providerLockTimestamp`` (when the provider was
  chosen: the session's start) when it is an RFC 3339 time of the form ccusage parses
  (``YYYY-MM-DDTHH:MM:SS[.mmm](Z|±HH:MM)``), else the file's mtime. ccusage dates it
  the same way; a long session's tokens therefore all land on its first day.
- ``model``: ccusage's normalized name (``custom:`` dropped, ``[...]`` dropped, lower
  case, ``.``/spaces to ``-``): ``custom:Claude-Opus-4.5-Thinking-[Anthropic]-0`` is
  ``claude-opus-4-5-thinking-0``. That is ``model_raw`` (what the reports price and
  show, so model names and costs match ccusage's); the file's own string is kept in
  the payload. No ``model``: the first ``Model: ...`` in the first 500 lines of the
  sibling ``<session>.jsonl``, else a placeholder from the provider
  (``claude-unknown``, ``gpt-unknown``, ...).
- ``providerLock`` is ``provider_id``, normalized as ccusage does (``claude`` ->
  ``anthropic``, ``vertex`` -> ``google``, ``-`` -> ``_``); missing, it is inferred
  from the model name. Droid records no cost: tokentop prices the tokens by ccusage's
  names for Droid (``pricenames.droid``: ``gpt-5-1-codex`` is priced as
  ``gpt-5.1-codex``).
- No workspace: the settings file does not name one, and the dedup key includes the
  workspace, so one taken from a directory or the transcript could make an archive copy
  a second event. (ccusage's project is the constant ``droid`` too.)

Differences from ccusage, on purpose: a file that is not JSON is counted and skipped
(ccusage stops with an error); when two copies of one session differ, ccusage keeps the
one with the later date, tokentop the one with more tokens (a running total only
grows, so both pick the newer copy unless a copy was edited by hand).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents.base import WholeFileAgent
from tokentop.store.usage.agents.fields import rfc3339
from tokentop.store.usage.agents.paths import (
    droid_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

SYSTEM = "droid"
ENV = "DROID_SESSIONS_DIR"
SUFFIX = ".settings.json"
_SIDECAR_LINES = 500  # ccusage reads the transcript's first 500 lines for the model

_decoder = msgspec.json.Decoder()


# --- ccusage's rules, one function each (parser.rs)


def _u64(value: Any) -> int:
    """serde_json's ``as_u64``: a non-negative integer, else 0 (floats, strings, bools)."""
    return value if type(value) is int and value >= 0 else 0


def _string(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def normalize_model(model: str) -> str:
    """``normalize_droid_model_name``: drop ``custom:`` and bracketed parts, lower case,
    runs of ``.``/whitespace/``-`` to one ``-``, no ``-`` at either end."""
    raw = model.removeprefix("custom:")
    kept: list[str] = []
    depth = 0
    for ch in raw:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            kept.append(ch)
    lower = "".join(kept).strip().rstrip("-").lower()
    return re.sub(r"[.\s-]+", "-", lower).strip("-")


def normalize_provider(value: str | None) -> str:
    """``normalize_droid_provider``."""
    if value is None:
        return "unknown"
    p = value.strip().lower().replace("-", "_")
    if not p:
        return "unknown"
    return {"claude": "anthropic", "anthropic": "anthropic", "openai": "openai",
            "google": "google", "google_ai": "google", "gemini": "google",
            "vertex": "google", "vertex_ai": "google", "xai": "xai", "x_ai": "xai",
            "grok": "xai"}.get(p, p)


def infer_provider(model: str) -> str:
    """``infer_droid_provider_from_model``."""
    if any(k in model for k in ("claude", "opus", "sonnet", "haiku")):
        return "anthropic"
    if (model.startswith("gpt-") or "-gpt-" in model or "chatgpt" in model
            or (model.startswith("o") and model[1:2].isdigit())):
        return "openai"
    if "gemini" in model:
        return "google"
    if "grok" in model:
        return "xai"
    return "unknown"


_DEFAULT_MODEL = {"anthropic": "claude-unknown", "openai": "gpt-unknown",
                  "google": "gemini-unknown", "xai": "grok-unknown"}


def sidecar_model(settings: Path) -> str | None:
    """``extract_model_from_sidecar_jsonl``: the first ``Model: <name>`` (up to a quote,
    backslash or ``[``) in the first 500 lines of ``<session>.jsonl``."""
    sidecar = settings.with_name(settings.name[: -len(SUFFIX)] + ".jsonl")
    try:
        with open_binary(sidecar) as fh:
            for n, line in enumerate(fh):
                if n >= _SIDECAR_LINES:
                    break
                _, found, tail = line.decode("utf-8", "replace").partition("Model:")
                if not found:
                    continue
                name = re.split(r'["\\\[]', tail, maxsplit=1)[0].strip()
                if name and (model := normalize_model(name)):
                    return model
    except OSError:
        return None
    return None


# An aware time when the text has one of ccusage's ``parse_ts_timestamp`` shapes, else
# None (then the file's mtime dates the session).
parse_timestamp = rfc3339


def tokens(usage: Any) -> tuple[int, int, int, int, int] | None:
    """(input, output, cache write, cache read, thinking), or None when there is no
    ``tokenUsage`` object or it sums to 0 (``parse_token_usage``)."""
    if not isinstance(usage, dict):
        return None
    i, o = _u64(usage.get("inputTokens")), _u64(usage.get("outputTokens"))
    cw, cr = _u64(usage.get("cacheCreationTokens")), _u64(usage.get("cacheReadTokens"))
    think = _u64(usage.get("thinkingTokens"))
    missing = max(_u64(usage.get("totalTokens")) - (i + o + cw + cr + think), 0)
    if missing:
        if o == 0:
            o = missing
        else:
            think += missing
    if i + o + cw + cr + think == 0:
        return None
    return i, o, cw, cr, think


def parse(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    """One settings file -> at most one event: the session's latest total."""
    try:
        doc = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        counts.malformed += 1
        return ()
    if not isinstance(doc, dict):
        counts.skip("settings file not an object")
        return ()
    got = tokens(doc.get("tokenUsage"))
    if got is None:
        counts.skip("no token usage")
        return ()
    i, o, cw, cr, think = got
    provider = normalize_provider(_string(doc, "providerLock"))
    raw_model = _string(doc, "model")
    model = normalize_model(raw_model) if raw_model else sidecar_model(path)
    if not model:
        model = _DEFAULT_MODEL.get(provider, "unknown")
    if provider == "unknown":
        provider = infer_provider(model)
    when = parse_timestamp(_string(doc, "providerLockTimestamp"))
    if when is None:
        try:
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            return ()
        ms = mtime_ns // 1_000_000  # whole milliseconds, as ccusage
        when = datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)
    session = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else "unknown"
    counts.usage_lines += 1
    return (IngestRequest(
        source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
        event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=session,
        message_id=f"droid:{session}", provider_id=None if provider == "unknown" else provider,
        model_raw=model, input_tokens=i, output_tokens=o + think, reasoning_tokens=think,
        cache_write_tokens=cw, cache_read_tokens=cr,
        total_tokens=i + o + think + cw + cr,
        payload={"path": str(path), "model": raw_model,
                 "providerLock": doc.get("providerLock"),
                 "providerLockTimestamp": doc.get("providerLockTimestamp"),
                 "tokenUsage": doc.get("tokenUsage")},
    ),)


DROID = WholeFileAgent(
    name="droid", system=SYSTEM, label="Factory Droid", env=(ENV,), roots=roots,
    patterns=("*" + SUFFIX,), parse=parse,
)
