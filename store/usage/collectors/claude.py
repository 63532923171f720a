"""Claude Code's session logs (``<root>/projects/**/*.jsonl``) -> ``message_usage`` requests.

Only lines containing ``"usage":{`` are decoded (a byte search first, then a typed
msgspec decode of the few fields needed, so 20 KB content blocks are skipped, not
built). Which lines count follows ccusage (``rust/crates/ccusage/src/adapter/claude``
in ryoppippi/ccusage), so ``report daily`` equals ``ccusage claude daily`` exactly:

- a line with ``"<field>":null`` for any of ccusage's non-nullable fields (id, cwd,
  model, speed, costUSD, version, sessionId, requestId, isApiErrorMessage,
  cache_read_input_tokens, cache_creation_input_tokens) is skipped whole (``null_field``);
- input_tokens and output_tokens must be non-negative integers, the timestamp must parse;
  a version must start ``N.N.N``; an empty sessionId/requestId/message.id/model is skipped;
- ``isApiErrorMessage`` lines are counted like any other (status ``error``), as ccusage
  does; ``<synthetic>`` lines are counted with ``model_canonical`` None (ccusage counts
  their tokens but lists no model for them);
- cache writes are ``cache_creation.ephemeral_5m + ephemeral_1h`` when that object is
  present, else ``cache_creation_input_tokens``; the 1-hour part is kept apart
  (``cache_write_1h_tokens``: priced at 2x input, the rest at the 5-minute rate), as
  ccusage's ``cost.rs`` prices them;
- ``usage.speed`` is kept (``"fast"`` is priced with the model's fast multiplier and
  reported as ``<model>-fast``, as ccusage does); ``server_tool_use`` web search/fetch
  counts, ``service_tier`` and ``inference_geo`` are kept to show, not priced;
- agent-progress lines (``data.message`` carrying a sub-agent's message) count too.

One message is counted once: ``message_id`` is Claude's ``message.id`` (global), so the
store's dedup collapses streamed copies, resumed-session replays and sidechain replays,
keeping the copy with the most tokens. ccusage keys on (message.id, requestId) and
prefers the non-sidechain copy; on real logs (a replay copies the parent's usage) both
give the same numbers.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventStatus, EventType, IngestRequest, SourceChannel

COLLECTOR = "claude_code"
USAGE_MARKER = b'"usage":{'
SYNTHETIC = "<synthetic>"

_NULLABLE_FORBIDDEN = frozenset(
    {
        b"id",
        b"cwd",
        b"model",
        b"speed",
        b"costUSD",
        b"version",
        b"sessionId",
        b"requestId",
        b"isApiErrorMessage",
        b"cache_read_input_tokens",
        b"cache_creation_input_tokens",
    }
)
_DATE_SUFFIX = re.compile(r"-\d{8}$")
_SEMVER_PREFIX = re.compile(r"\d+\.\d+\.\d")


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class _ServerToolUse(msgspec.Struct):
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation: _CacheCreation | None = None
    speed: str | None = None  # "standard" | "fast" (2.1.x); fast is priced x multiplier
    server_tool_use: _ServerToolUse | None = None
    service_tier: str | None = None
    inference_geo: str | None = None


class _Message(msgspec.Struct):
    usage: _Usage | None = None
    model: str | None = None
    id: str | None = None


class _Progress(msgspec.Struct, rename="camel"):
    timestamp: str | None = None
    message: _Message | None = None
    cost_usd: float | None = msgspec.field(default=None, name="costUSD")
    request_id: str | None = None
    is_sidechain: bool | None = None


class _ProgressData(msgspec.Struct):
    message: _Progress | None = None


class _Entry(msgspec.Struct, rename="camel"):
    timestamp: str | None = None
    message: _Message | None = None
    session_id: str | None = None
    version: str | None = None
    cwd: Any = None  # ccusage does not read it: never a reason to reject a line
    cost_usd: float | None = msgspec.field(default=None, name="costUSD")
    request_id: str | None = None
    is_sidechain: bool | None = None
    is_api_error_message: bool | None = None
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # decoded when needed


_decoder = msgspec.json.Decoder(_Entry)
_progress_decoder = msgspec.json.Decoder(_ProgressData)


def has_unsupported_null(line: bytes) -> bool:
    """ccusage's rule: a forbidden field set to null anywhere in the line.

    One pass: the search is for ``":null`` (a key closed by its quote), so a line with
    no null, or with nulls only after keys that may be null (real assistant lines carry
    ``"stop_sequence":null``), is scanned once, not once to find ``:null`` and again to
    look at each."""
    end = line.find(b'":null')
    while end >= 0:
        begin = line.rfind(b'"', 0, end)
        if begin >= 0 and line[begin + 1 : end] in _NULLABLE_FORBIDDEN:
            return True
        end = line.find(b'":null', end + 6)
    return False


_canonical: dict[str, str | None] = {}


def canonical_model(model: str | None) -> str | None:
    """``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``; ``<synthetic>`` -> None.
    Remembered per name: a log names a handful of models on tens of thousands of lines."""
    if not model or model == SYNTHETIC:
        return None
    found = _canonical.get(model, "")
    if found == "":
        found = _DATE_SUFFIX.sub("", model)
        if len(_canonical) < 4096:
            _canonical[model] = found
    return found


def parse_ts(text: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def tokens_of(req: IngestRequest) -> int:
    return (
        (req.input_tokens or 0)
        + (req.output_tokens or 0)
        + (req.cache_read_tokens or 0)
        + (req.cache_write_tokens or 0)
    )


def project_of(path: Path) -> str | None:
    """The encoded project directory (``projects/<-home-u-app>/...``) as a fallback workspace."""
    parts = path.parts
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "projects":
            return parts[i + 1]
    return None


def parse_line(
    line: bytes, counts: Counts, fallback_workspace: str | None = None
) -> tuple[IngestRequest, bool] | None:
    """One log line -> (request, is_sidechain), or None (counted in ``counts``)."""
    if USAGE_MARKER not in line:
        return None
    return parse_usage_line(line, counts, fallback_workspace)


def parse_usage_line(
    line: bytes, counts: Counts, fallback_workspace: str | None = None
) -> tuple[IngestRequest, bool] | None:
    """``parse_line`` for a line already known to hold ``USAGE_MARKER`` (a pre-filter
    found it): the marker is not searched for a second time."""
    if has_unsupported_null(line):
        counts.skip("null_field")
        return None
    try:
        e = _decoder.decode(line)
    except msgspec.ValidationError:
        counts.skip("invalid")
        return None
    except msgspec.DecodeError:
        counts.malformed += 1
        return None
    ts_text, msg, cost, req_id, side = (
        e.timestamp,
        e.message,
        e.cost_usd,
        e.request_id,
        e.is_sidechain,
    )
    if msg is None or msg.usage is None:
        try:
            prog = _progress_decoder.decode(e.data).message if len(e.data) else None
        except msgspec.DecodeError:
            prog = None
        if prog is None or prog.message is None or prog.message.usage is None:
            counts.skip("no_usage")
            return None
        ts_text, msg, cost, req_id, side = (
            prog.timestamp,
            prog.message,
            prog.cost_usd,
            prog.request_id,
            prog.is_sidechain,
        )
    u = msg.usage
    assert u is not None
    if (
        u.input_tokens is None
        or u.output_tokens is None
        or min(
            u.input_tokens,
            u.output_tokens,
            u.cache_creation_input_tokens,
            u.cache_read_input_tokens,
        )
        < 0
    ):
        counts.skip("invalid")
        return None
    ts = parse_ts(ts_text) if ts_text is not None else None
    if ts is None:
        counts.skip("bad_timestamp")
        return None
    if (
        (e.version is not None and not _SEMVER_PREFIX.match(e.version))
        or e.session_id == ""
        or req_id == ""
        or msg.id == ""
        or msg.model == ""
    ):
        counts.skip("invalid")
        return None
    cc = u.cache_creation
    cache_write = (
        cc.ephemeral_5m_input_tokens + cc.ephemeral_1h_input_tokens
        if cc is not None
        else u.cache_creation_input_tokens
    )
    cache_write_1h = cc.ephemeral_1h_input_tokens if cc is not None else 0
    if cache_write_1h < 0 or cache_write < cache_write_1h:
        counts.skip("invalid")
        return None
    stu = u.server_tool_use
    total = u.input_tokens + u.output_tokens + u.cache_read_input_tokens + cache_write
    counts.usage_lines += 1
    req = IngestRequest(
        source_system="claude_code",
        source_channel=SourceChannel.JSONL,
        event_type=EventType.MESSAGE_USAGE,
        occurred_at=ts,
        provider_id="anthropic",
        agent_name="claude_code",
        workspace_id=e.cwd if isinstance(e.cwd, str) and e.cwd else fallback_workspace,
        session_id=e.session_id,
        message_id=msg.id,
        turn_id=req_id,
        model_raw=msg.model,
        model_canonical=canonical_model(msg.model),
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_read_tokens=u.cache_read_input_tokens,
        cache_write_tokens=cache_write,
        total_tokens=total,
        cost_usd=cost,
        requests=1,
        status=EventStatus.ERROR if e.is_api_error_message else EventStatus.OK,
        cache_write_1h_tokens=cache_write_1h,
        speed=u.speed or None,
        is_sidechain=bool(side),
        web_search_requests=_count(stu.web_search_requests) if stu else None,
        web_fetch_requests=_count(stu.web_fetch_requests) if stu else None,
        service_tier=u.service_tier or None,
        inference_geo=u.inference_geo or None,
    )
    return req, bool(side)


def _count(value: int | None) -> int | None:
    return value if value is not None and value >= 0 else None
