"""OpenCode's usage: the ``message`` table of ``opencode.db`` and the older per-message
JSON files, one ``message_usage`` event per assistant message.

Where (ccusage 20.0.24 ``rust/crates/ccusage/src/adapter/opencode/{paths,loader}.rs``):
every directory of ``$OPENCODE_DATA_DIR`` (comma-separated, as ccusage reads it), else
``$XDG_DATA_HOME/opencode`` (``~/.local/share/opencode``: OpenCode resolves its data
directory with xdg-basedir on every platform; ccusage itself ignores ``XDG_DATA_HOME``).
In each directory:

- ``opencode.db``, else the first (by name) ``opencode-<channel>.db``: SQLite, WAL.
  Table ``message`` (anomalyco/opencode ``packages/opencode/src/session/session.sql.ts``,
  ``MessageTable``): ``id`` (``msg_...``), ``session_id``, ``time_created``,
  ``time_updated`` (ms; drizzle ``$onUpdate``, so every upsert moves it) and ``data``,
  the message's JSON without ``id``/``sessionID``.
- ``storage/message/<session>/<msg>.json``: the same message as a whole JSON document,
  ``id`` and ``sessionID`` included. OpenCode wrote these before 1.2 and copies them into
  the database once when it migrates (``json-migration.ts``), so a message is often in
  both. Both copies carry the same ``msg_...`` id, which is the event's ``message_id``:
  the store keeps one event (ccusage keeps the database's copy; the store the copy with
  more tokens, which for a migrated message is the same numbers).

An assistant message (``MessageV2.Assistant``; written by ``Session.updateMessage`` with
``Session.getUsage``'s numbers, ``packages/opencode/src/session/{index,processor}.ts``):

- ``tokens.input``: input WITHOUT the cache (OpenCode subtracts cache read and write);
  ``tokens.cache.read`` / ``tokens.cache.write``; ``tokens.output``: output WITHOUT
  reasoning (OpenCode subtracts it); ``tokens.reasoning``; ``tokens.total`` (the
  provider's total, when it gave one).
- ``cost``: USD OpenCode computed from models.dev prices (reasoning at the output rate);
  0 for a model it has no price for, or a subscription.
- ``modelID``, ``providerID`` (OpenCode's provider key: ``anthropic``,
  ``github-copilot``, ...), ``time.created`` (ms), ``path.cwd``/``path.root``.

Counting, as ccusage's ``parser.rs`` (``message_value_to_entry``): a message with no
``tokens`` object, or all of input/output/cache zero (a user message, or an assistant
message that has not finished its first step), is no event; nor is one without
``modelID`` or ``providerID``. A token count that is not a whole non-negative integer
(negative, fractional, a string or a boolean) makes the message malformed: skipped and
counted as "negative tokens" or "invalid tokens", the rule of every agent (issue 16).
ccusage reads such a count as 0 (serde_json's ``as_u64``) and keeps the message; OpenCode
never writes one, so a broken or hostile row is all this differs on. When
``tokens.total`` exceeds the parts, the excess is the output when the output is 0, else
ccusage's "extra total tokens" (in practice the reasoning). ccusage puts the extra in
its ``totalTokens`` only and prices it at the output rate; tokentop adds it to
``output_tokens`` (its one rule for every agent: reasoning is output, as it is billed),
keeps the reasoning in ``reasoning_tokens`` too and ccusage's total in ``total_tokens``:
totals and cost equal ccusage's, ``outputTokens`` is ccusage's plus the extra. The cost is
the message's own ``cost`` when it is above 0, else None so tokentop prices the tokens
(ccusage prices a 0 too). The time is ``time.created`` (0 when missing, as ccusage).

Copies and rewrites: OpenCode rewrites a message row in place (``INSERT ... ON CONFLICT
(id) DO UPDATE SET data``) at every step of its turn. ``tokens`` is REPLACED by the
latest step's usage while ``cost`` ADDS UP (processor.ts, ``finish-step``); the row as
it stands is the truth. Re-reading a row is harmless: its id makes it the same event.
Each row's ``time_updated`` goes with its event as the ``revision``, so the store keeps
the latest revision, not the copy with the most tokens: a read mid-turn is replaced by
the next read of the same row even when its last step carried fewer tokens. The JSON
files carry no revision (they have no such time), so a database copy, which does, wins.

The watermark (``read``): an update in place keeps the row's ``rowid`` but moves
``time_updated``; a row synced or imported from elsewhere (OpenCode's session sync
writes ``time_updated = time.created``, which can be long past) gets a new ``rowid``
but an old ``time_updated``. Neither alone finds both, so the watermark packs both:
the highest ``time_updated`` seen (seconds since 2020, high bits) and the highest
``rowid`` seen (low 32 bits). A pass reads the rows with a higher ``rowid`` or a
``time_updated`` no earlier than ``LAG_S`` seconds before the mark: a writer that took
its ``Date.now()`` before another process's row committed is not missed. There is no
index on ``time_updated``, so a pass scans the table's rows (cheap: the runner reads a
database only when it or its ``-wal`` changed). A table without ``time_updated`` (an
older or foreign schema) is read by ``rowid`` alone.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec

from tokentop.store.usage.agents.base import DatabaseAgent, WholeFileAgent
from tokentop.store.usage.agents.paths import (
    opencode_data_dirs,
    opencode_db_roots,
    opencode_file_roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks

data_dirs = opencode_data_dirs  # ccusage's directory rule (tests use it by this name)

SYSTEM = "opencode"
ENV = ("OPENCODE_DATA_DIR", "XDG_DATA_HOME")

EPOCH_S = 1_577_836_800  # 2020-01-01: the watermark's time is seconds since then
ROWID_BITS = 32
ROWID_MASK = (1 << ROWID_BITS) - 1
LAG_S = 30  # re-read rows updated this long before the mark (late commits)


# --- where


# --- the message JSON (only what usage needs; everything is optional)
#
# Decoded typed first (fast); a message whose fields have other types than OpenCode
# writes (a float or negative count, a number as a string) is decoded loosely: what is
# not a string is absent (as ccusage reads it), and a count that is not a whole
# non-negative integer refuses the message (BadCount), as every agent's out-of-range
# count is refused.

Count = Annotated[int, msgspec.Meta(ge=0)]


class _Cache(msgspec.Struct):
    read: Count = 0
    write: Count = 0


class _Tokens(msgspec.Struct):
    input: Count = 0
    output: Count = 0
    reasoning: Count = 0
    total: Count = 0
    cache: _Cache | None = None


class _Time(msgspec.Struct):
    created: int | None = None


class _Path(msgspec.Struct):
    cwd: str | None = None
    root: str | None = None


class Message(msgspec.Struct):
    id: str | None = None
    sessionID: str | None = None  # OpenCode's keys, as written
    session_id: str | None = None  # Kilo's rows may carry it in the JSON
    role: str | None = None
    modelID: str | None = None
    providerID: str | None = None
    time: _Time | None = None
    tokens: _Tokens | None = None
    cost: float | None = None
    path: _Path | None = None


class _Any(msgspec.Struct):
    """The loose shape: any value anywhere."""

    id: Any = None
    sessionID: Any = None
    session_id: Any = None
    role: Any = None
    modelID: Any = None
    providerID: Any = None
    time: Any = None
    tokens: Any = None
    cost: Any = None
    path: Any = None


_TYPED = msgspec.json.Decoder(Message)
_LOOSE = msgspec.json.Decoder(_Any)


def decode(data: str | bytes) -> Message:
    """The message; ``msgspec.DecodeError`` when it is not a JSON object."""
    try:
        return _TYPED.decode(data)
    except msgspec.ValidationError:
        pass
    m = _LOOSE.decode(data)
    tokens = None
    if isinstance(m.tokens, dict):
        t = m.tokens
        cache = t.get("cache")
        tokens = _Tokens(count(t.get("input")), count(t.get("output")),
                         count(t.get("reasoning")), count(t.get("total")),
                         _Cache(count(cache.get("read")), count(cache.get("write")))
                         if isinstance(cache, dict) else None)
    path = m.path if isinstance(m.path, dict) else None
    return Message(
        id=_str(m.id), sessionID=_str(m.sessionID), session_id=_str(m.session_id),
        role=_str(m.role), modelID=_str(m.modelID), providerID=_str(m.providerID),
        time=_Time(i64(m.time.get("created"))) if isinstance(m.time, dict) else None,
        tokens=tokens, cost=f64(m.cost),
        path=_Path(_str(path.get("cwd")), _str(path.get("root"))) if path else None,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class BadCount(msgspec.ValidationError):
    """A token count OpenCode could not have written: the message is malformed; the
    message says why in ingest's words ("negative tokens", "invalid tokens")."""


def count(value: Any) -> int:
    """A token count: absent is 0; a whole non-negative integer is itself; anything
    else raises BadCount."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise BadCount("negative tokens")
        return value
    raise BadCount("invalid tokens")


def i64(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def f64(value: Any) -> float | None:
    """serde_json's ``as_f64``: any JSON number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def text(value: str | None) -> str | None:
    """ccusage's ``non_empty_json_string``: a string, trimmed, not empty."""
    if value:
        value = value.strip()
        return value or None
    return None


@dataclass(frozen=True, slots=True)
class Usage:
    """ccusage's token mapping with ``apply_total_token_fallback`` applied."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int
    extra: int  # ccusage's extra_total_tokens: in its totalTokens, in no column

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write + self.extra


def usage_of(tokens: _Tokens, extra: int = 0) -> Usage | None:
    """The message's usage, or None when it carries none (ccusage's zero check).
    ``extra`` starts at the reasoning for Kilo, at 0 for OpenCode (as ccusage)."""
    cache = tokens.cache
    i, o = tokens.input, tokens.output
    cr, cw = (cache.read, cache.write) if cache is not None else (0, 0)
    missing = tokens.total - (i + o + cr + cw + extra)
    if missing > 0:
        if o == 0:
            o = missing
        else:
            extra += missing
    if i == 0 and o == 0 and cr == 0 and cw == 0 and extra == 0:
        return None
    return Usage(i, o, cr, cw, tokens.reasoning, extra)


def provider_of(provider: str | None) -> str | None:
    """As the log says, but never ``codex``: the store reads ``codex`` rows as input
    INCLUDING the cache, and OpenCode's input excludes it."""
    return "openai" if provider is not None and provider.lower() == "codex" else provider


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def opencode_request(msg: Message, *, message_id: str | None, session_id: str | None,
                     channel: str, payload: Any = None) -> IngestRequest | None:
    """One OpenCode message as an event, or None (ccusage's ``message_value_to_entry``)."""
    if msg.tokens is None:
        return None
    usage = usage_of(msg.tokens)
    if usage is None:
        return None
    model, provider = text(msg.modelID), text(msg.providerID)
    if model is None or provider is None:
        return None
    created = (msg.time.created if msg.time is not None else None) or 0
    cost = msg.cost
    return build_request(SYSTEM, msg, usage, channel=channel, occurred_at=at_ms(created),
                    message_id=message_id or text(msg.id),
                    session_id=session_id or text(msg.sessionID) or "unknown",
                    model=model, provider=provider,
                    cost=cost if cost is not None and cost > 0 else None, payload=payload)


def build_request(system: str, msg: Message, usage: Usage, *, channel: str,
             occurred_at: datetime, message_id: str | None, session_id: str, model: str,
             provider: str | None, cost: float | None, payload: Any) -> IngestRequest:
    path = msg.path
    workspace = (text(path.cwd) or text(path.root)) if path is not None else None
    return IngestRequest(
        source_system=system, source_channel=channel, agent_name=system,
        event_type=EventType.MESSAGE_USAGE, occurred_at=occurred_at,
        message_id=message_id, session_id=session_id, workspace_id=workspace,
        provider_id=provider_of(provider), model_raw=model,
        # tokentop's output holds the reasoning (billed as output; Codex and Gemini rows
        # count it there too); ccusage shows it in its total only
        input_tokens=usage.input, output_tokens=usage.output + usage.extra,
        cache_read_tokens=usage.cache_read, cache_write_tokens=usage.cache_write,
        reasoning_tokens=usage.reasoning, total_tokens=usage.total,
        cost_usd=cost, payload=payload,
    )


# --- the database, from a watermark


def pack(time_s: int, rowid: int) -> int:
    return (max(time_s - EPOCH_S, 0) << ROWID_BITS) | min(max(rowid, 0), ROWID_MASK)


def unpack(watermark: int) -> tuple[int, int]:
    """(time_updated in seconds, rowid); (0, 0) the first time."""
    if watermark <= 0:
        return 0, 0
    return (watermark >> ROWID_BITS) + EPOCH_S, watermark & ROWID_MASK


def read_messages(conn: sqlite3.Connection, watermark: int, counts: Counts,
                  convert: Any) -> tuple[list[IngestRequest], int]:
    """The ``message`` rows after ``watermark`` (see the module docstring) as requests
    (``convert(msg, row_id, row_session) -> IngestRequest | None``), and the new mark."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(message)")}
    if not {"id", "data"} <= columns:
        counts.skip("no message table")
        return [], watermark
    mark_s, mark_row = unpack(watermark)
    has_time = "time_updated" in columns
    session = "session_id" if "session_id" in columns else "NULL"
    updated = "time_updated" if has_time else "NULL"
    sql = f"SELECT rowid, id, {session}, {updated}, data FROM message WHERE rowid > ?"
    args: list[int] = [mark_row]
    if has_time and watermark > 0:
        sql += " OR time_updated >= ?"
        args.append((mark_s - LAG_S) * 1000)
    out: list[IngestRequest] = []
    top_row, top_ms = mark_row, mark_s * 1000
    now_ms = int(time.time() * 1000)
    for rowid, row_id, row_session, updated_ms, data in conn.execute(sql, args):
        counts.lines += 1
        top_row = max(top_row, rowid)
        if isinstance(updated_ms, int):
            top_ms = max(top_ms, min(updated_ms, now_ms))  # a future time: not the mark
        if not isinstance(data, (str, bytes)):
            counts.skip("message row without data")
            continue
        try:
            msg = decode(data)
        except BadCount as exc:
            counts.skip(str(exc))
            continue
        except (msgspec.DecodeError, UnicodeDecodeError):
            counts.malformed += 1
            continue
        req = convert(msg, text(row_id), text(row_session))
        if req is not None:
            if isinstance(updated_ms, int) and 0 <= updated_ms < 1 << 62:
                req.revision = updated_ms  # the row as it stands replaces older reads
            counts.usage_lines += 1
            out.append(req)
    return out, pack(top_ms // 1000, top_row)


def read_opencode_db(conn: sqlite3.Connection, path: Path, watermark: int,
                     counts: Counts, marks: RowMarks,
                     ) -> tuple[Sequence[IngestRequest], int]:
    def convert(msg: Message, row_id: str | None, row_session: str | None
                ) -> IngestRequest | None:
        # ccusage: the row's id and session, the JSON's only when the row has none
        return opencode_request(msg, message_id=row_id, session_id=row_session,
                                channel=SourceChannel.SQLITE)

    return read_messages(conn, watermark, counts, convert)


# --- the older JSON files


def parse_message_file(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    """``storage/message/<session>/<msg>.json``: one message, or nothing."""
    try:
        msg = decode(data)
    except BadCount as exc:
        counts.skip(str(exc))
        return ()
    except (msgspec.DecodeError, UnicodeDecodeError):
        counts.malformed += 1
        return ()
    # the session is the JSON's; failing that, the directory it sits in
    req = opencode_request(msg, message_id=None,
                           session_id=text(msg.sessionID) or path.parent.name,
                           channel=SourceChannel.JSONL)
    if req is None:
        return ()
    counts.usage_lines += 1
    return (req,)


OPENCODE_DB = DatabaseAgent(
    name="opencode", system=SYSTEM, label="OpenCode", env=ENV,
    roots=opencode_db_roots,
    read=read_opencode_db,
)
OPENCODE_FILES = WholeFileAgent(
    name="opencode", system=SYSTEM, label="OpenCode", env=ENV,
    roots=opencode_file_roots,
    patterns=("*.json",), parse=parse_message_file,
)
AGENTS = (OPENCODE_DB, OPENCODE_FILES)
