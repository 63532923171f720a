"""Batches of IngestRequest into ``usage_events``: validate, dedup, enrich, insert.

One call is one transaction (the caller, :meth:`UsageStore.ingest`, opens and commits
it), so a batch and the collector offsets that produced it are stored together or not
at all. The work is done in bulk: every key of the batch is looked up with a few
``IN (...)`` queries on the index of key suffixes (schema 9), collisions are merged in
Python, and the new rows go in with one ``executemany`` of only the columns the batch
sets (:func:`_narrow_insert`). There is no UNIQUE constraint on ``dedup_key`` since
schema 9: the lookup, in the same write transaction as the insert, is what keeps one
row per key.

A collision (same dedup key, stored or earlier in the batch) enriches instead of
being lost or counted twice: the copy from the better source channel wins
(``CHANNEL_PRIORITY``); at the same priority, the copy with more tokens; the loser only
fills the winner's missing (NULL) fields. A stored row's channel is its raw event's
``source_channel``, as in openusage. A merge that changes nothing writes nothing (a
no-op UPDATE still dirties the row's pages and every index; openusage's #318).

Raw payloads (``usage_raw_events``): openusage writes one raw row per event with the
whole source record and blanks it after an hour. A Claude Code line is 1-20 KB, so that
alone is 1-20 KB written per event (twice: WAL, then checkpoint) against a budget of
2 KB. tokentop writes ONE raw row per batch and (source_system, source_channel, schema
version) that the batch actually stores events from; every event of the group points
at it (``raw_event_id`` stays NOT NULL and resolves, so openusage's joins work). Its
payload is a small manifest: the number of events and the first event's payload,
truncated beyond 2 KB. The source logs stay the record of truth; the raw row says where
an event came from (system, channel) and when it was ingested.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import msgspec

from tokentop.store.pricing import PriceTable
from tokentop.store.usage.bounds import EARLIEST, MAX_COST, MAX_TOKENS, latest
from tokentop.store.usage.costing import Pricer
from tokentop.store.usage.dedup import copy_rank, copy_tiebreak, dedup_key, stable_key
from tokentop.store.usage.model import (
    CHANNEL_PRIORITY,
    EventStatus,
    EventType,
    FileOffset,
    IngestRequest,
    IngestResult,
)
from tokentop.store.usage.rollup import Deltas
from tokentop.store.usage.rowmarks import RowMark
from tokentop.store.usage.schema import DEDUP_SUFFIX, DEDUP_SUFFIX_SQL
from tokentop.store.usage.timefmt import format_ts

COLUMNS = (
    "event_id", "occurred_at", "provider_id", "agent_name", "account_id", "workspace_id",
    "session_id", "turn_id", "message_id", "tool_call_id", "event_type", "model_raw",
    "model_canonical", "model_lineage_id", "input_tokens", "output_tokens",
    "reasoning_tokens", "cache_read_tokens", "cache_write_tokens", "total_tokens",
    "cost_usd", "requests", "tool_name", "status", "dedup_key", "raw_event_id",
    "normalization_version",
    # tokentop's own columns (schema migration 4): Claude's cache-write split, speed,
    # sidechain flag and the fields kept for display.
    "tokentop_cache_write_1h", "tokentop_speed", "tokentop_sidechain",
    "tokentop_web_search_requests", "tokentop_web_fetch_requests", "tokentop_service_tier",
    "tokentop_inference_geo",
    # 1 when cost_usd is tokentop's computed cost (schema migration 5, ``costing``)
    "tokentop_cost_computed",
    # the source's revision of a record it rewrites in place (schema migration 7)
    "tokentop_revision",
    # the box it was read from over SSH; NULL: this machine (schema migration 8)
    "tokentop_host",
)
CW1H, SPEED, SIDECHAIN = 27, 28, 29
COST, COST_COMPUTED, REVISION = 20, 34, 35
EVENT_ID, OCCURRED_AT, STATUS, DEDUP_KEY, RAW_EVENT_ID = 0, 1, 23, 24, 25
WORKSPACE, SESSION = 5, 6
TOKEN_COLS = (14, 15, 16, 17, 18)  # input, output, reasoning, cache read, cache write
TOTAL_TOKENS = 19
# Columns a losing copy may fill when the winner has NULL there.
# The 1-hour split and the speed belong to the copy's own token counts: never filled.
FILLABLE = (*(i for i in range(1, 24) if i != STATUS), 30, 31, 32, 33)

INSERT_SQL = (
    f"INSERT INTO usage_events ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(COLUMNS))})"
)
# Keys are found through the index of their last digits (schema migration 9): a row
# whose suffix matches but whose key does not is another event, skipped.
SELECT_SQL = (
    f"SELECT {', '.join('e.' + c for c in COLUMNS)}, COALESCE(r.source_channel, '') "
    "FROM usage_events e LEFT JOIN usage_raw_events r ON r.raw_event_id = e.raw_event_id "
    f"WHERE {DEDUP_SUFFIX_SQL.replace('dedup_key', 'e.dedup_key')} IN ({{}})"
)
INSERT_RAW_SQL = (
    "INSERT INTO usage_raw_events (raw_event_id, ingested_at, source_system, source_channel,"
    " source_schema_version, source_payload, source_payload_hash, workspace_id,"
    " agent_session_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
)
UPSERT_OFFSET_SQL = (
    "INSERT INTO collector_offsets (collector, path, inode, offset, head, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (collector, path) DO UPDATE SET"
    " inode = excluded.inode, offset = excluded.offset, head = excluded.head,"
    " updated_at = excluded.updated_at"
)
INSERT_LIMIT_SQL = (
    "INSERT OR REPLACE INTO usage_limit_snapshots (event_id, occurred_at, provider_id,"
    " account_id, snapshot) VALUES (?, ?, ?, ?, ?)"
)
UPSERT_ROW_MARK_SQL = (
    "INSERT OR REPLACE INTO tokentop_row_marks (collector, path, row_key, mark)"
    " VALUES (?, ?, ?, ?)"
)
LOOKUP_CHUNK = 500
PAYLOAD_LIMIT = 2048
SNAPSHOT_LIMIT = 65536  # a quota snapshot is a few hundred bytes; more is not one
LIMIT_SNAPSHOT = EventType.LIMIT_SNAPSHOT.value

EVENT_TYPES = frozenset(e.value for e in EventType)
STATUSES = frozenset(s.value for s in EventStatus)
UNKNOWN = EventStatus.UNKNOWN.value


class Rejected(Exception):
    """A request that cannot be stored; the message is the reason counted (the bounds:
    ``tokentop.store.usage.bounds``)."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = (value if isinstance(value, str) else str(value)).strip()
    return value or None


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise Rejected("invalid tokens")
    if value < 0:
        raise Rejected("negative tokens")
    if value > MAX_TOKENS:
        raise Rejected("token count out of range")
    return int(value)


def _revision(value: Any) -> int | None:
    """A revision is a time or a counter: any whole number that fits an INTEGER column."""
    if value is None:
        return None
    if type(value) is not int or not 0 <= value < 1 << 62:
        raise Rejected("invalid revision")
    return value


def tokens_of(row: list) -> int:
    """How much a copy carries: its total, else the sum of its parts."""
    total = row[TOTAL_TOKENS]
    if total is not None:
        return total
    return sum(row[i] for i in TOKEN_COLS if row[i] is not None)


class _Group:
    """One raw row: the events of a batch from one (system, channel, schema version)."""

    __slots__ = ("count", "key", "payload", "raw_id")

    def __init__(self, key: tuple[str, str, str]) -> None:
        self.key = key
        self.raw_id = _uuid7()
        self.count = 0
        self.payload: Any = None


def _uuid7() -> str:
    """A time-ordered UUID (version 7): new rows append to the end of the PK index."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (
        rand & ((1 << 62) - 1)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# ``timefmt.format_ts`` of a UTC datetime (years >= 2000: EARLIEST), at half its cost
# (``isoformat`` with ``timespec`` and the ``replace`` before it are ~1.7 us per event)
_UTC_TEXT = "%04d-%02d-%02dT%02d:%02d:%02d.%06d000Z"


def _normalize(req: IngestRequest, latest: datetime) -> tuple[list, int, str]:
    """The ``usage_events`` row for one request (event_id and raw_event_id left empty),
    its channel priority and its source system. Raises Rejected.

    Hot path (every event of every batch): plain str fields take a fast path; any
    other type goes through ``_text`` (AttributeError -> the slow, general path).
    """
    occurred = req.occurred_at
    if not isinstance(occurred, datetime):
        raise Rejected("missing occurred_at")
    aware = occurred if occurred.tzinfo is not None else occurred.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= latest:
        raise Rejected("time out of range")
    system = _text(req.source_system)
    if system is None:
        raise Rejected("missing source_system")
    channel = (_text(req.source_channel) or "").lower()
    priority = CHANNEL_PRIORITY.get(channel)
    if priority is None:
        raise Rejected("unknown source_channel")
    event_type = req.event_type
    if event_type not in EVENT_TYPES:
        event_type = (_text(event_type) or "").lower()
        if event_type not in EVENT_TYPES:
            raise Rejected("unknown event_type")
    status = req.status
    if status not in STATUSES:
        status = (_text(status) or "ok").lower()
        if status not in STATUSES:
            raise Rejected("unknown status")
    cost = req.cost_usd
    if cost is not None:
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            raise Rejected("invalid cost")
        if cost < 0:
            raise Rejected("negative cost")
        cost = float(cost)
        if not cost <= MAX_COST:  # NaN too
            raise Rejected("cost out of range")
    counts = []
    for value in (req.input_tokens, req.output_tokens, req.reasoning_tokens,
                  req.cache_read_tokens, req.cache_write_tokens, req.total_tokens,
                  req.requests):
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_TOKENS):
            value = _count(value)
        counts.append(value)
    try:
        strings = [
            (v.strip() or None) if v else None
            for v in (req.provider_id, req.agent_name, req.account_id, req.workspace_id,
                      req.session_id, req.turn_id, req.message_id, req.tool_call_id,
                      req.model_raw, req.model_canonical, req.model_lineage_id,
                      req.tool_name)
        ]
    except AttributeError:
        strings = [
            _text(v)
            for v in (req.provider_id, req.agent_name, req.account_id, req.workspace_id,
                      req.session_id, req.turn_id, req.message_id, req.tool_call_id,
                      req.model_raw, req.model_canonical, req.model_lineage_id,
                      req.tool_name)
        ]
    (provider, agent, account, workspace, session, turn, message, tool_call, model_raw,
     model_canonical, lineage, tool) = strings
    if tool_call:
        key = stable_key(system, event_type, session, workspace, "tool:" + tool_call)
    elif message:
        key = stable_key(system, event_type, session, workspace, "message:" + message)
    elif turn:
        key = stable_key(system, event_type, session, workspace, "turn:" + turn)
    else:
        key = dedup_key(req)
    row = [
        None,
        _UTC_TEXT % (occurred.year, occurred.month, occurred.day, occurred.hour,
                      occurred.minute, occurred.second, occurred.microsecond)
        if occurred.tzinfo is UTC and type(occurred) is datetime else format_ts(occurred),
        provider.lower() if provider else None,
        agent or system,
        account,
        workspace,
        session,
        turn,
        message,
        tool_call,
        event_type,
        model_raw,
        model_canonical,
        lineage,
        *counts[:6],
        cost,
        counts[6],
        tool.lower() if tool else None,
        status,
        key,
        None,
        _text(req.normalization_version) or "v1",
        *_extras(req),
    ]
    return row, priority, system


def _extras(req: IngestRequest) -> tuple:
    """tokentop's columns: counts checked like the token counts, texts trimmed."""
    cw1h = req.cache_write_1h_tokens
    if cw1h is not None:
        cw1h = _count(cw1h)
        if req.cache_write_tokens is not None and cw1h > req.cache_write_tokens:
            raise Rejected("invalid tokens")
    side = req.is_sidechain
    return (cw1h, _text(req.speed), None if side is None else int(bool(side)),
            _count(req.web_search_requests), _count(req.web_fetch_requests),
            _text(req.service_tier), _text(req.inference_geo), None,
            _revision(req.revision), _text(req.host))


class Prepared(msgspec.Struct):
    """A request validated and laid out as its ``usage_events`` row before its batch
    reaches the store (:func:`prepare`), or the reason the store refuses it.

    The collector's sink prepares the copies of a Claude message that meet in one
    batch, to keep the better copy the store will take (a refused copy must not
    displace a valid one); the store then does not validate them again. Preparing
    every event in the parsing processes instead, to take validation off the single
    writer, was tried and dropped: the workers' CPU rose as much as the writer's fell,
    and neither cold benchmark got faster on two cores.
    """

    row: list | None
    priority: int = 0
    # the raw row it belongs to: (source system, channel, schema version), normalized
    group: tuple[str, str, str] | None = None
    payload: Any = None
    rejected: str | None = None


def prepare(req: IngestRequest, newest: datetime) -> Prepared:
    """``req`` as the store will take it; ``newest``: :func:`bounds.latest` when the
    batch began (later events are refused as out of range)."""
    try:
        row, priority, system = _normalize(req, newest)
    except Rejected as exc:
        return Prepared(None, rejected=str(exc))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return Prepared(None, rejected="invalid field")
    try:
        group = (system, (_text(req.source_channel) or "").lower(),
                 _text(req.source_schema_version) or "v1")
    except (TypeError, ValueError, AttributeError):
        return Prepared(None, rejected="invalid field")
    return Prepared(row, priority, group, req.payload)


def merge(cur: list, cur_priority: int, new: list, new_priority: int) -> tuple[list, int]:
    """Merge two copies of one event; returns the merged row and its priority.

    The better copy wins (``dedup.copy_rank``: channel, then not a sidechain replay,
    then more tokens, then a known speed); at equal rank ``dedup.copy_tiebreak``. The
    loser only fills the winner's NULL fields (and an ``unknown`` status). The stored
    event keeps its event_id.
    """
    new_rank = copy_rank(new_priority, new[SIDECHAIN], tokens_of(new), new[SPEED],
                         new[REVISION])
    cur_rank = copy_rank(cur_priority, cur[SIDECHAIN], tokens_of(cur), cur[SPEED],
                         cur[REVISION])
    if new_rank > cur_rank or (new_rank == cur_rank and copy_tiebreak(
            new[OCCURRED_AT], new[SESSION], new[WORKSPACE]) < copy_tiebreak(
            cur[OCCURRED_AT], cur[SESSION], cur[WORKSPACE])):
        winner, loser, priority = list(new), cur, new_priority
        winner[EVENT_ID] = cur[EVENT_ID]
    else:
        winner, loser, priority = list(cur), new, cur_priority
    for i in FILLABLE:
        if winner[i] is None and loser[i] is not None:
            winner[i] = loser[i]
    # A row stored before the 1-hour split was kept (schema 4) takes it from a re-read
    # copy of the same writes.
    if winner[CW1H] is None and loser[CW1H] is not None and winner[18] == loser[18]:
        winner[CW1H] = loser[CW1H]
    if winner[STATUS] == UNKNOWN and loser[STATUS] != UNKNOWN:
        winner[STATUS] = loser[STATUS]
    return winner, priority


def _narrow_insert(rows: list[list]) -> tuple[str, Iterable[tuple]]:
    """The INSERT of ``rows`` without the columns that are NULL in every one of them,
    and the rows to bind to it.

    Why: a bound None is the dearest value to bind in CPython's sqlite3 (it goes
    through the adapter lookup, ~0.2 us; an int or str does not), and most of the 37
    columns are NULL for most agents: a 37-column INSERT ran at ~126k rows/s into an
    index-free table in memory, the 20 columns Claude sets at ~340k/s. An omitted
    column is NULL all the same (no column has a default).
    """
    n = len(rows)
    keep = tuple(i for i, col in enumerate(zip(*rows, strict=True))
                 if col[0] is not None or col.count(None) != n)
    sql = _INSERTS.get(keep)
    if sql is None:
        names = [COLUMNS[i] for i in keep]
        sql = _INSERTS[keep] = (f"INSERT INTO usage_events ({', '.join(names)})"
                                f" VALUES ({', '.join('?' * len(names))})")
    return sql, map(itemgetter(*keep), rows)


_INSERTS: dict[tuple[int, ...], str] = {}


def _updates(changed: list[list]) -> dict[str, list[tuple]]:
    """UPDATEs of the enriched events that set only the columns whose value changed,
    grouped by those columns. Why: SQLite rewrites the entry of every index holding a
    column a SET names, changed or not, and an enriched event is an old one, whose
    entries sit on random pages of each index; an enrichment mostly changes only
    token counts, which no index holds (so one page, the row's, is written)."""
    out: dict[str, list[tuple]] = {}
    for merged, _, _, stored, _ in changed:
        cols = tuple(i for i in range(1, len(COLUMNS))
                     if i != DEDUP_KEY and (merged[i] != stored[i]
                                            or type(merged[i]) is not type(stored[i])))
        if not cols:
            continue  # priced again to what it was stored with
        sql = _UPDATES.get(cols)
        if sql is None:
            sql = _UPDATES[cols] = ("UPDATE usage_events SET "
                                    + ", ".join(f"{COLUMNS[i]} = ?" for i in cols)
                                    + " WHERE event_id = ?")
        out.setdefault(sql, []).append((*(merged[i] for i in cols), merged[EVENT_ID]))
    return out


_UPDATES: dict[tuple[int, ...], str] = {}


def _payload_text(group: _Group) -> str:
    sample: Any = group.payload
    if isinstance(sample, bytes | bytearray | memoryview):
        sample = bytes(sample).decode("utf-8", "replace")
    try:
        encoded = msgspec.json.encode(sample).decode()
    except (TypeError, ValueError, OverflowError):
        encoded = msgspec.json.encode(repr(sample)).decode()
    if len(encoded) > PAYLOAD_LIMIT:
        encoded = msgspec.json.encode(
            {"truncated": True, "bytes": len(encoded), "head": encoded[:PAYLOAD_LIMIT // 2]}
        ).decode()
    return f'{{"events":{group.count},"first_payload":{encoded}}}'


def _limit_row(row: list, payload: Any) -> tuple | None:
    """The durable copy of a quota snapshot (``{"snapshot": {...}}`` or the bare
    snapshot), or None when the payload carries none."""
    doc = payload
    if isinstance(doc, bytes | bytearray | memoryview | str):
        try:
            doc = msgspec.json.decode(doc)
        except msgspec.DecodeError:
            return None
    if isinstance(doc, dict) and isinstance(doc.get("snapshot"), dict):
        doc = doc["snapshot"]
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        return None
    try:
        text = msgspec.json.encode(doc).decode()
    except (TypeError, ValueError, OverflowError):
        return None
    if len(text) > SNAPSHOT_LIMIT:
        return None
    return (row[EVENT_ID], row[OCCURRED_AT], row[2], row[4], text)


def ingest_batch(
    conn: sqlite3.Connection,
    requests: Sequence[IngestRequest | Prepared],
    offsets: Sequence[FileOffset] = (),
    now: datetime | None = None,
    marks: Sequence[RowMark] = (),
) -> IngestResult:
    """Store one batch on ``conn``, inside a transaction the caller opened, with the
    offsets and row marks (``tokentop.store.usage.rowmarks``) of what produced it."""
    result = IngestResult()
    rejected = result.rejected
    newest = latest()  # this machine's clock, whatever ``now`` stamps
    groups: dict[tuple, _Group] = {}
    # key -> [row, priority, state, stored row, payload]; state: "new" (insert),
    # "stored", "changed" (update); the stored row is what the rollup must take back
    seen: dict[str, list] = {}
    batch: list[tuple[list, int, _Group, Any]] = []
    for req in requests:
        if type(req) is Prepared:  # validated already (the collector's sink)
            if req.row is None:
                reason = req.rejected or "invalid field"
                rejected[reason] = rejected.get(reason, 0) + 1
                continue
            group = groups.get(req.group)
            if group is None:
                group = groups[req.group] = _Group(req.group)
            row = req.row.copy()
            row[RAW_EVENT_ID] = group.raw_id
            batch.append((row, req.priority, group, req.payload))
            continue
        try:
            row, priority, system = _normalize(req, newest)
        except Rejected as exc:
            reason = str(exc)
            rejected[reason] = rejected.get(reason, 0) + 1
            continue
        except (TypeError, ValueError, AttributeError, OverflowError):
            rejected["invalid field"] = rejected.get("invalid field", 0) + 1
            continue
        gkey = (system, req.source_channel, req.source_schema_version)
        group = groups.get(gkey)
        if group is None:
            group = _Group((system, (_text(req.source_channel) or "").lower(),
                            _text(req.source_schema_version) or "v1"))
            groups[gkey] = group
        row[RAW_EVENT_ID] = group.raw_id
        batch.append((row, priority, group, req.payload))

    wanted = {row[DEDUP_KEY] for row, _, _, _ in batch}
    keys = list({key[-DEDUP_SUFFIX:] for key in wanted})
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start:start + LOOKUP_CHUNK]
        sql = SELECT_SQL.format(", ".join("?" * len(chunk)))
        for stored in conn.execute(sql, chunk):
            if stored[DEDUP_KEY] not in wanted:
                continue  # another key with the same last digits
            row = list(stored[:-1])
            if row[COST_COMPUTED]:  # merged as "no cost given"; priced again below
                row[COST] = row[COST_COMPUTED] = None
            seen[row[DEDUP_KEY]] = [row, CHANNEL_PRIORITY.get(stored[-1], 0), "stored",
                                    list(stored[:-1]), None]

    stamp = _uuid7()[:24]
    serial = 0
    for row, priority, group, payload in batch:
        key = row[DEDUP_KEY]
        entry = seen.get(key)
        if entry is None:
            row[EVENT_ID] = f"{stamp}{serial:012x}"
            serial += 1
            seen[key] = [row, priority, "new", None, payload]
            result.inserted += 1
            group.count += 1
            if group.payload is None:
                group.payload = payload
            continue
        merged, merged_priority = merge(entry[0], entry[1], row, priority)
        if merged == entry[0]:
            result.duplicates += 1
            continue
        result.enriched += 1
        entry[0], entry[1] = merged, merged_priority
        if entry[2] == "stored":
            entry[2] = "changed"
        if merged[RAW_EVENT_ID] == group.raw_id:
            group.count += 1
            if group.payload is None:
                group.payload = payload

    # openusage's readers sum cost_usd: an event without the agent's own cost gets the
    # one tokentop computes, marked as computed (``costing``).
    pricer: Pricer | None = None
    for e in seen.values():
        row = e[0]
        if e[2] != "stored" and row[COST] is None:
            if pricer is None:
                pricer = Pricer()
            priced = pricer.row_cost(row)
            if priced is not None:
                row[COST], row[COST_COMPUTED] = priced
    inserts = [e[0] for e in seen.values() if e[2] == "new"]
    updates = _updates([e for e in seen.values() if e[2] == "changed"])
    used = {e[0][RAW_EVENT_ID] for e in seen.values() if e[2] != "stored"}
    ingested_at = format_ts(now or datetime.now(UTC))
    raws = []
    for group in groups.values():
        if group.raw_id in used:
            text = _payload_text(group)
            raws.append((group.raw_id, ingested_at, *group.key, text,
                         hashlib.sha256(text.encode()).hexdigest()))
    if raws:
        conn.executemany(INSERT_RAW_SQL, raws)
    if inserts:
        conn.executemany(*_narrow_insert(inserts))
    for sql, params in updates.items():
        conn.executemany(sql, params)
    deltas = Deltas(PriceTable.load().tier_threshold)
    limits = []
    for e in seen.values():
        state = e[2]
        if state == "new":
            deltas.add(e[0])
            if e[0][10] == LIMIT_SNAPSHOT:
                limit = _limit_row(e[0], e[4])
                if limit is not None:
                    limits.append(limit)
        elif state == "changed":
            deltas.remove(e[3])
            deltas.add(e[0])
    deltas.write(conn)
    if limits:
        conn.executemany(INSERT_LIMIT_SQL, limits)
    if offsets:
        conn.executemany(
            UPSERT_OFFSET_SQL,
            [(o.collector, o.path, o.inode, o.offset, bytes(o.head), ingested_at)
             for o in offsets],
        )
    if marks:
        conn.executemany(UPSERT_ROW_MARK_SQL,
                         [(m.collector, m.path, m.key, m.mark) for m in marks])
    return result
