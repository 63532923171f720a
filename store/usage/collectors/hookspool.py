"""openusage's hook spool (``hook-spool/*.json``) -> requests on the ``hook`` channel.

Each file is ``{"source":"claude_code","account_id":"","payload":<raw hook stdin>}``,
written by openusage's hook. The files are openusage's: tokentop only reads them (never
moves or deletes one) and remembers which it ingested through a ``FileOffset`` (the
file's size and first bytes), so an unchanged file is not read twice.

A Claude Code hook payload carries ``session_id``, ``cwd``, ``hook_event_name`` and,
per event, ``tool_name``/``tool_use_id``; tokens only when a wrapper added a
``usage`` (or ``message.usage``). It becomes ``tool_usage`` (PostToolUse), ``message_usage``
(when it carries usage), ``turn_completed`` (Stop, SubagentStop) or ``raw_envelope``.
``occurred_at`` is the payload's ``timestamp`` else the file's mtime, so reading the
same file twice gives the same event (and the same dedup key).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokentop.store.usage.collectors.claude import canonical_model, parse_ts
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

COLLECTOR = "hook_spool"

_PROVIDERS = {"claude_code": "anthropic", "codex": "openai"}


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def parse_spool_file(path: Path, data: bytes, counts: Counts) -> IngestRequest | None:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        counts.malformed += 1
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
        counts.skip("invalid")
        return None
    source = _str(doc.get("source")) or "claude_code"
    p: dict[str, Any] = doc["payload"]
    msg = p.get("message") if isinstance(p.get("message"), dict) else {}
    usage = p.get("usage") if isinstance(p.get("usage"), dict) else msg.get("usage")
    usage = usage if isinstance(usage, dict) else None
    ts = parse_ts(p["timestamp"]) if isinstance(p.get("timestamp"), str) else None
    if ts is None:
        try:
            ts = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        except OSError:
            return None
    hook = _str(p.get("hook_event_name")) or ""
    tool = _str(p.get("tool_name"))
    if usage is not None:
        event = EventType.MESSAGE_USAGE
    elif hook in ("PostToolUse", "PreToolUse") and tool:
        event = EventType.TOOL_USAGE
    elif hook in ("Stop", "SubagentStop"):
        event = EventType.TURN_COMPLETED
    else:
        event = EventType.RAW_ENVELOPE
    model = _str(msg.get("model")) or _str(p.get("model"))
    req = IngestRequest(
        source_system=source,
        source_channel=SourceChannel.HOOK,
        event_type=event,
        occurred_at=ts,
        provider_id=_PROVIDERS.get(source),
        account_id=_str(doc.get("account_id")),
        agent_name=source,
        workspace_id=_str(p.get("cwd")),
        session_id=_str(p.get("session_id")),
        message_id=_str(msg.get("id")),
        turn_id=_str(p.get("requestId")) or _str(p.get("request_id")),
        tool_call_id=_str(p.get("tool_use_id")),
        tool_name=tool,
        model_raw=model,
        model_canonical=canonical_model(model),
        payload=p,
    )
    if usage is not None:
        req.input_tokens = _int(usage.get("input_tokens"))
        req.output_tokens = _int(usage.get("output_tokens"))
        req.cache_read_tokens = _int(usage.get("cache_read_input_tokens"))
        req.cache_write_tokens = _int(usage.get("cache_creation_input_tokens"))
        # The same 2.1.x fields as the JSONL collector (collectors/claude.py).
        cc = usage.get("cache_creation")
        if isinstance(cc, dict):
            five, hour = (_int(cc.get("ephemeral_5m_input_tokens")),
                          _int(cc.get("ephemeral_1h_input_tokens")))
            if five is not None or hour is not None:
                req.cache_write_tokens = (five or 0) + (hour or 0)
                req.cache_write_1h_tokens = hour or 0
        req.speed = _str(usage.get("speed"))
        stu = usage.get("server_tool_use")
        if isinstance(stu, dict):
            req.web_search_requests = _int(stu.get("web_search_requests"))
            req.web_fetch_requests = _int(stu.get("web_fetch_requests"))
        req.service_tier = _str(usage.get("service_tier"))
        req.inference_geo = _str(usage.get("inference_geo"))
        req.is_sidechain = p.get("isSidechain") is True or None
        req.total_tokens = sum(
            t or 0
            for t in (
                req.input_tokens,
                req.output_tokens,
                req.cache_read_tokens,
                req.cache_write_tokens,
            )
        )
        req.requests = 1
        counts.usage_lines += 1
    return req
