"""OpenClaw (formerly clawdbot / moltbot / moldbot, ``openclaw``): per-message usage in
session JSONL files.

Where: each root in ``$OPENCLAW_DIR`` (one, or several separated by commas), else each
of ``~/.openclaw``, ``~/.clawdbot``, ``~/.moltbot``, ``~/.moldbot`` that exists
(ccusage/ccusage ``rust/crates/ccusage/src/adapter/openclaw/paths.rs``). Sessions live
in ``<root>/agents/<agent id>/sessions/<session id>.jsonl``; when OpenClaw resets or
deletes a session it RENAMES the file to ``<id>.jsonl.reset.<time>`` /
``<id>.jsonl.deleted.<time>`` (openclaw's session reset: ``fs.rename(transcript,
"<id>.jsonl.reset.<Date.now()>")``), and ccusage reads those archives too. tokentop
scans each root's ``agents/*/sessions`` directories (ccusage walks the whole root; the
sessions are there) and reads the files whose name ends in ``.jsonl`` or contains
``.jsonl.reset.`` / ``.jsonl.deleted.``: the runner's patterns take one ``*``, so the
pattern is ``*`` and the parser ignores every other file.

Lines (OpenClaw writes pi's session format, badlogic/pi-mono ``session-manager.ts``:
``{"type": ..., "id": ..., "parentId": ..., "timestamp": ..., ...}``), as ccusage 20.0.11
reads them (``adapter/openclaw/parser.rs``):

- ``{"type": "model_change", "provider": ..., "modelId": ...}`` and
  ``{"type": "custom", "customType": "model-snapshot", "data": {...}}`` set the model
  (``modelId``, else ``model``) and provider of the messages after them in that file;
- ``{"type": "message", "message": {"role": "assistant", "usage": {...}}}`` is one
  request: ``usage.input`` (without the cache: pi-ai keeps ``cacheRead`` and
  ``cacheWrite`` apart), ``output``, ``cacheRead``, ``cacheWrite``, ``totalTokens``
  (beyond the parts: to output when output is 0, else extra output, stored inside
  ``output_tokens`` with ``reasoning_tokens`` as the part, as the other agents whose
  ccusage total counts it), and ``cost.total``, the agent's own cost (used as given,
  0 included). The message's own ``modelId``/``model``/``provider`` win over the last
  model change; no model at all is ``unknown``. Time: ``message.timestamp`` else the
  line's ``timestamp`` (an integer is epoch milliseconds, text RFC 3339), else the
  file's mtime. Lines without ``"usage"``, ``"model_change"`` or ``"model-snapshot"``
  are not decoded.

Identity: the session is the file name before ``.jsonl`` (so an archive keeps its
session's id). A line with an ``id`` (every pi-format entry has one) is
``openclaw:<id>``; a line without one is keyed as ccusage keys every line (time,
model, tokens, cost), so the same line twice counts once. A renamed archive is the
same bytes under a new name: read again, it adds nothing. ccusage names the model
``[openclaw] <model>``; tokentop keeps the model as the log says (the price table
knows it, and the agent is in ``agent_name``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents.base import LineParser, LinesAgent
from tokentop.store.usage.agents.fields import rfc3339, text_field
from tokentop.store.usage.agents.paths import (
    openclaw_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

SYSTEM = "openclaw"
ENV = "OPENCLAW_DIR"
HOMES = (".openclaw", ".clawdbot", ".moltbot", ".moldbot")
_MARKERS = (b'"model_change"', b'"model-snapshot"', b'"usage"')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_decoder = msgspec.json.Decoder()


def is_session_file(name: str) -> bool:
    """``is_openclaw_session_file``: ``.jsonl``, or an archive ``.jsonl.reset.*`` /
    ``.jsonl.deleted.*`` (from the first ``.jsonl`` in the name)."""
    i = name.find(".jsonl")
    if i < 0:
        return False
    suffix = name[i:]
    return suffix == ".jsonl" or suffix.startswith((".jsonl.deleted.", ".jsonl.reset."))


def session_of(name: str) -> str:
    i = name.find(".jsonl")
    return name[:i] if i > 0 else name


def _u64(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _time(value: Any) -> datetime | None:
    """An integer is epoch milliseconds; text one of ccusage's RFC 3339 shapes."""
    if type(value) is int:
        return _EPOCH + timedelta(milliseconds=value)
    return rfc3339(value) if isinstance(value, str) else None


def _model_change(record: dict[str, Any]) -> bool:
    kind = record.get("type")
    return kind == "model_change" or (kind == "custom"
                                      and record.get("customType") == "model-snapshot")


class Parser(LineParser):
    """One session file: the model and provider in force, then one request per
    assistant message with usage."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.wanted = is_session_file(path.name)
        self.session = session_of(path.name)
        self.model: str | None = None
        self.provider: str | None = None
        self._mtime: datetime | None = None

    def prime(self, offset: int) -> None:
        """The model changes before ``offset`` (they set the model of later lines)."""
        if not self.wanted:
            return
        with open_binary(self.path) as fh:
            done = 0
            for line in fh:
                done += len(line)
                if done > offset:
                    break
                if b'"model_change"' in line or b'"model-snapshot"' in line:
                    self._change(line)

    def _change(self, line: bytes) -> dict[str, Any] | None:
        try:
            record = _decoder.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None
        if not isinstance(record, dict):
            return None
        if _model_change(record):
            source = record.get("data") if isinstance(record.get("data"), dict) else record
            self.model = text_field(source, "modelId") or text_field(source, "model") or self.model
            self.provider = text_field(source, "provider") or self.provider
            return None
        return record

    def mtime(self) -> datetime:
        if self._mtime is None:
            try:
                ms = self.path.stat().st_mtime_ns // 1_000_000
            except OSError:
                ms = 0
            self._mtime = _EPOCH + timedelta(milliseconds=ms)
        return self._mtime

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if not self.wanted or not any(m in line for m in _MARKERS):
            return ()
        try:
            record = _decoder.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError):
            self.counts.malformed += 1
            return ()
        if not isinstance(record, dict):
            return ()
        if _model_change(record):
            self._change(line)
            return ()
        message = record.get("message")
        if record.get("type") != "message" or not isinstance(message, dict) \
                or message.get("role") != "assistant":
            return ()
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return ()
        i, o = _u64(usage.get("input")), _u64(usage.get("output"))
        cr, cw = _u64(usage.get("cacheRead")), _u64(usage.get("cacheWrite"))
        extra = 0
        missing = max(_u64(usage.get("totalTokens")) - (i + o + cr + cw), 0)
        if missing:
            if o == 0:
                o = missing
            else:
                extra = missing
        if i + o + cr + cw + extra == 0:
            self.counts.skip("no tokens")
            return ()
        # the message's timestamp when it has the key (even unreadable), else the line's
        when = _time(message.get("timestamp") if "timestamp" in message
                     else record.get("timestamp")) or self.mtime()
        model = (text_field(message, "modelId") or text_field(message, "model") or self.model
                 or "unknown")
        provider = text_field(message, "provider") or self.provider
        cost_doc = usage.get("cost")
        total = cost_doc.get("total") if isinstance(cost_doc, dict) else None
        cost = float(total) if isinstance(total, (int, float)) \
            and not isinstance(total, bool) else None
        rid = text_field(record, "id")
        if rid is None:  # ccusage's entry_id: the line's content
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
            rid = ":".join(str(x) for x in (stamp, model, i, o, cw, cr, extra, cost))
        self.counts.usage_lines += 1
        return (IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=self.session,
            message_id=f"openclaw:{rid}", provider_id=provider, model_raw=model,
            input_tokens=i, output_tokens=o + extra, reasoning_tokens=extra,
            cache_read_tokens=cr, cache_write_tokens=cw, total_tokens=i + o + extra + cr + cw,
            cost_usd=cost, payload={"path": str(self.path)},
        ),)


OPENCLAW = LinesAgent(
    name="openclaw", system=SYSTEM, label="OpenClaw", env=(ENV,), roots=roots,
    patterns=("*",), parser=Parser,
)
