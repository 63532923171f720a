"""Grok Build CLI (xAI, ``grok``) session logs -> ``message_usage`` requests (``--source grok``).

Where: ``$GROK_HOME/sessions/<url-encoded cwd>/<session uuid>/updates.jsonl``, ``GROK_HOME``
defaulting to ``~/.grok`` (one directory, no list: checked against the pinned ccusage
20.0.24, which ignores a comma-separated value). ccusage reads every ``updates.jsonl``
anywhere below ``sessions/``; so does tokentop.

Sources. ccusage's Grok adapter is not in the 20.0.11 source mirror, so the counting
rules below were learned from the pinned 20.0.24 binary: its strings (``GROK_HOME``,
``.grok``, ``updates.jsonl``, ``summary.json``, ``turn_completed``, ``sessionUpdate``,
``eventId``, ``costUsdTicks``, ``modelUsage``, ``git_root_dir``, ``cwd``) and black-box
runs of ``ccusage grok daily|session --json --offline`` on generated files (every rule
marked "probed" was confirmed that way). The format is Grok Build's own, from its public
source (xai-org/grok-build, read in the mirror Colin4k1024/grok-build and
farchanjo/grok-build):

- ``crates/codegen/xai-grok-shell/src/session/storage/mod.rs``: ``updates.jsonl`` is the
  append-only durable transcript; each line is a ``SessionUpdateEnvelope``
  ``{"timestamp": <unix SECONDS when written>, "method": "session/update" |
  "_x.ai/session/update", "params": <notification>}``; ``summary.json`` sits beside it.
- ``crates/codegen/xai-grok-shell/src/extensions/notification.rs``: the xAI
  notification is ``{"sessionId", "update": {"sessionUpdate": "turn_completed",
  "prompt_id", "stop_reason", "usage": PromptUsage}, "_meta": {"eventId",
  "agentTimestampMs"}}``. ``PromptUsage`` = the prompt's totals flattened
  (``PromptUsageModel``: ``inputTokens`` = the FULL prompt, cache reads and cache
  writes included; ``cachedReadTokens``; ``cacheCreationTokens`` ("folded into
  inputTokens on the ACP wire"); ``outputTokens``; ``reasoningTokens``, a subset of the
  output; ``totalTokens`` = input + output; ``costUsdTicks``, optional, 1e10 ticks = $1,
  dropped by Grok when the cost is partial or the usage incomplete) plus ``modelUsage``:
  model name -> the same fields, per model. One ``turn_completed`` per prompt (turn).
- ``.../storage/jsonl/copy.rs``: a fork (``/fork``, rewind-to-fork) writes a new session
  directory whose ``updates.jsonl`` is the source's lines re-enveloped: new
  ``timestamp`` (now), ``sessionId`` rewritten to the fork's, ``_meta`` (``eventId``,
  ``agentTimestampMs``) kept. Its ``summary.json`` names ``parent_session_id``.

Counting (probed): only ``turn_completed`` updates under ``params`` (a bare legacy line
with ``update`` at the top is not read; the ``method`` value does not matter). Each entry
of ``modelUsage`` is one event for that model; without ``modelUsage`` (or with an empty
one) the totals are one event for model ``unknown`` (which ccusage does not price). Per
entry: counts that are not non-negative integers read as 0; cache read = min(cached,
input); cache write = min(cacheCreation, input - cache read); input = the rest; output
= ``outputTokens`` (``reasoning_tokens`` = min(reasoning, output), a part of it, as Grok
defines it; ccusage leaves reasoning out of every column). Cost = ``costUsdTicks`` / 1e10
when the entry's own ticks are a positive integer (the totals' ticks are never spread
over models), else None: tokentop prices the tokens, as ccusage does. An entry with no
tokens is no event, even with a cost. Time: ``_meta.agentTimestampMs`` (integer or real
ms), else the envelope's ``timestamp`` (seconds); a line with neither is skipped
(ccusage dates it 1970-01-01).

Identity and copies: ccusage keys a turn on ``eventId`` across all files (the first
copy wins) and, without one, on (sessionId, time, tokens) (probed: ``prompt_id`` is not
part of it). tokentop's ``message_id`` is ``eventId`` (``#model`` per model entry) or
that same fallback. Because the store's key includes the session, ``session_id`` is the
CONVERSATION: the ``eventId`` of the file's first line that has one, which a fork copies
verbatim, so a fork's copied turns and the originals are one event each (ccusage counts
them once too). Caveats: a fork whose first event was rewound away before the fork, or
whose ``summary.json`` names a different cwd (a worktree fork), gets its own key, and
its copied turns count again in tokentop. The session named in ``params.sessionId`` is
kept in the payload. ``workspace_id`` = ``summary.json``'s ``info.cwd``, else its
``git_root_dir``, else the url-decoded name of the session directory's parent (probed:
ccusage's project). ``provider_id`` = ``xai``. Nothing here writes Grok's files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec

from tokentop.store.tail.regular import open_binary, read_regular
from tokentop.store.usage.agents.base import LineParser, LinesAgent
from tokentop.store.usage.agents.paths import grok_roots as roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventStatus, EventType, IngestRequest, SourceChannel

SYSTEM = "grok"
ENV = "GROK_HOME"
UPDATES = "updates.jsonl"
PROVIDER = "xai"
TICKS_PER_USD = 1e10


class _Line(msgspec.Struct):
    timestamp: Any = None
    params: Any = None


_decoder = msgspec.json.Decoder(_Line)


def _u64(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _ms(meta: Any, envelope: Any) -> int | None:
    """``_meta.agentTimestampMs`` (an integer or a real), else ``timestamp`` seconds."""
    ms = meta.get("agentTimestampMs") if isinstance(meta, dict) else None
    if type(ms) in (int, float) and math.isfinite(ms) and ms >= 0:
        return int(ms)
    if type(envelope) in (int, float) and math.isfinite(envelope) and envelope >= 0:
        return int(envelope * 1000)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def workspace_of(session_dir: Path) -> str:
    """``summary.json``'s ``info.cwd``, else its ``git_root_dir``, else the parent
    directory's name, url-decoded (Grok names it after the cwd)."""
    try:
        doc = msgspec.json.decode(read_regular(session_dir / "summary.json"))
    except (OSError, msgspec.MsgspecError):
        doc = None
    if isinstance(doc, dict):
        info = doc.get("info")
        cwd = _text(info.get("cwd")) if isinstance(info, dict) else None
        cwd = cwd or _text(doc.get("git_root_dir"))
        if cwd:
            return cwd
    return unquote(session_dir.parent.name)


class GrokParser(LineParser):
    """One session's ``updates.jsonl``."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.workspace = workspace_of(path.parent)
        self.conversation: str | None = None  # the file's first eventId (docstring)

    def prime(self, offset: int) -> None:
        try:
            with open_binary(self.path) as fh:
                while self.conversation is None and fh.tell() < offset:
                    line = fh.readline(64 << 20)
                    if not line or fh.tell() > offset:
                        break
                    if b'"eventId"' in line:
                        self._first_event(line)
        except OSError:
            return

    def _first_event(self, line: bytes) -> None:
        try:
            rec = _decoder.decode(line)
        except msgspec.MsgspecError:
            return
        meta = rec.params.get("_meta") if isinstance(rec.params, dict) else None
        event = _text(meta.get("eventId")) if isinstance(meta, dict) else None
        if event:
            self.conversation = event

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if self.conversation is None and b'"eventId"' in line:
            self._first_event(line)
        if b'"turn_completed"' not in line:
            return ()
        try:
            rec = _decoder.decode(line)
        except msgspec.ValidationError:
            self.counts.skip("not a JSON object")
            return ()
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return ()
        params = rec.params if isinstance(rec.params, dict) else {}
        update = params.get("update")
        if not isinstance(update, dict) or update.get("sessionUpdate") != "turn_completed":
            return ()
        usage = update.get("usage")
        if not isinstance(usage, dict):
            self.counts.skip("turn without usage")
            return ()
        meta = params.get("_meta")
        ms = _ms(meta, rec.timestamp)
        if ms is None:
            self.counts.skip("no timestamp")
            return ()
        sid = _text(params.get("sessionId")) or self.path.parent.name
        event = _text(meta.get("eventId")) if isinstance(meta, dict) else None
        per_model = usage.get("modelUsage")
        by_model = isinstance(per_model, dict) and bool(per_model)
        entries: list[tuple[str, Any]] = (
            list(per_model.items()) if by_model else [("unknown", usage)])  # type: ignore[union-attr]
        out: list[IngestRequest] = []
        for model, entry in entries:
            u = entry if isinstance(entry, dict) else {}
            full = _u64(u.get("inputTokens"))
            cr = min(_u64(u.get("cachedReadTokens")), full)
            cw = min(_u64(u.get("cacheCreationTokens")), full - cr)
            inp = full - cr - cw
            o = _u64(u.get("outputTokens"))
            if inp + o + cr + cw == 0:
                self.counts.skip("no tokens")
                continue
            ticks = u.get("costUsdTicks")
            cost = ticks / TICKS_PER_USD if type(ticks) is int and ticks > 0 else None
            key = event or f"{sid}|{ms}|{full}|{o}|{cr}|{cw}"
            if by_model:
                key += "#" + model
            out.append(IngestRequest(
                source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
                event_type=EventType.MESSAGE_USAGE,
                occurred_at=datetime.fromtimestamp(ms / 1000, UTC),
                session_id=self.conversation or sid, workspace_id=self.workspace,
                message_id="grok:" + key, provider_id=PROVIDER, model_raw=model,
                model_canonical=model, input_tokens=inp, output_tokens=o,
                reasoning_tokens=min(_u64(u.get("reasoningTokens")), o),
                cache_read_tokens=cr, cache_write_tokens=cw, total_tokens=inp + o + cr + cw,
                cost_usd=cost, status=EventStatus.OK,
                payload={"path": str(self.path), "sessionId": sid, "eventId": event,
                         "prompt_id": update.get("prompt_id"),
                         "stop_reason": update.get("stop_reason"), "model": model,
                         "usage": {k: v for k, v in u.items() if k != "modelUsage"}},
            ))
        if out:
            self.counts.usage_lines += 1
        return out


GROK = LinesAgent(
    name="grok", system=SYSTEM, label="Grok Build CLI", env=(ENV,), roots=roots,
    patterns=(UPDATES,), parser=GrokParser,
)
