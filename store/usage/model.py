"""The normalized contract between collectors and the store (openusage's IngestRequest).

Collectors produce these; ``ingest`` turns them into ``usage_events`` rows. Field names
are openusage's, so a payload written by one tool reads the same in the other.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec


class EventType(StrEnum):
    TURN_COMPLETED = "turn_completed"
    MESSAGE_USAGE = "message_usage"
    TOOL_USAGE = "tool_usage"
    RAW_ENVELOPE = "raw_envelope"
    LIMIT_SNAPSHOT = "limit_snapshot"
    RECONCILE_ADJUSTMENT = "reconcile_adjustment"


class EventStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    ABORTED = "aborted"
    UNKNOWN = "unknown"


class SourceChannel(StrEnum):
    HOOK = "hook"
    SSE = "sse"
    JSONL = "jsonl"
    API = "api"
    SQLITE = "sqlite"


# When two events share a dedup key, the one from the better channel wins
# (hook > sse > sqlite = jsonl > api); at equal priority, the copy with more tokens.
CHANNEL_PRIORITY: dict[str, int] = {
    SourceChannel.HOOK: 4,
    SourceChannel.SSE: 3,
    SourceChannel.SQLITE: 2,
    SourceChannel.JSONL: 2,
    SourceChannel.API: 1,
}

NORMALIZATION_VERSION = "v1"


class IngestRequest(msgspec.Struct, kw_only=True):
    """One usage observation, before dedup. Times are aware datetimes (UTC stored)."""

    source_system: str  # claude_code, codex, provider_poller, ...
    source_channel: str  # a SourceChannel value
    source_schema_version: str = "v1"
    occurred_at: datetime
    workspace_id: str | None = None
    session_id: str | None = None
    turn_id: str | None = None
    message_id: str | None = None
    tool_call_id: str | None = None
    provider_id: str | None = None
    account_id: str | None = None
    agent_name: str | None = None
    event_type: str = EventType.MESSAGE_USAGE
    model_raw: str | None = None
    model_canonical: str | None = None
    model_lineage_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    requests: int | None = None
    tool_name: str | None = None
    status: str = EventStatus.OK
    normalization_version: str = NORMALIZATION_VERSION
    payload: Any = None  # the raw source record, kept in usage_raw_events for 1 h
    # tokentop's own fields (stored in ``tokentop_*`` columns of usage_events, see
    # schema.py, migration 4): what Claude Code 2.1 logs carry beyond openusage's event.
    cache_write_1h_tokens: int | None = None  # the 1-hour part of cache_write_tokens
    speed: str | None = None  # Claude ``usage.speed`` ("fast" is priced x fast_multiplier)
    is_sidechain: bool | None = None  # a sidechain (sub-agent) copy loses a dedup tie
    web_search_requests: int | None = None  # server_tool_use: kept and shown, not priced
    web_fetch_requests: int | None = None
    service_tier: str | None = None
    inference_geo: str | None = None
    # when the source rewrote this record (ms; OpenCode's ``time_updated``): a later
    # revision of one event replaces an earlier one (``dedup.copy_rank``)
    revision: int | None = None
    # the ssh destination of the box the log was read on (None: this machine)
    host: str | None = None


class IngestResult(msgspec.Struct):
    """What one ingest batch did. ``rejected`` maps a reason to how many."""

    inserted: int = 0
    enriched: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = msgspec.field(default_factory=dict)

    def add(self, other: IngestResult) -> None:
        self.inserted += other.inserted
        self.enriched += other.enriched
        self.duplicates += other.duplicates
        for reason, n in other.rejected.items():
            self.rejected[reason] = self.rejected.get(reason, 0) + n


class FileOffset(msgspec.Struct, kw_only=True):
    """Where a collector stopped in one log file: the end of the last complete line.

    ``head`` is the file's first bytes (up to 128): a file truncated or replaced under
    the same name, even on a reused inode, has different ones and is read again.
    """

    collector: str  # "claude_code", "codex", "hook_spool"
    path: str
    inode: int
    offset: int
    head: bytes = b""
