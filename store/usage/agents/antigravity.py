"""Antigravity (Google's agentic IDE and its ``agy`` CLI, ``antigravity``): one SQLite
database per conversation, usage as hand-decoded protobuf blobs.

Where: ``<root>/conversations/<uuid>.db`` (searched recursively; under ``<root>`` itself
when it has no ``conversations`` directory) for each root of ``$ANTIGRAVITY_DATA_DIR``
(comma-separated, trimmed, no ``~`` expansion; set but blank: nothing), else
``~/.gemini/antigravity``, ``~/.gemini/antigravity-cli``, ``~/.gemini/antigravity-ide``,
``~/.gemini/antigravity-backup`` and ``~/.config/antigravity`` (``paths.antigravity_roots``;
the strings of the pinned ccusage 20.0.24 binary, the search probed on it). Only ``.db``
files: the ``-wal``/``-shm`` sidecars and the legacy encrypted ``.pb`` conversations are
not read (ccusage neither). Each database is live (WAL), opened read-only.

Sources. Antigravity's writer is closed and ships no ``.proto``. The pinned ccusage
20.0.24 binary is the truth for counting; its adapter's source is the version public as
``adapters/antigravity/src/{parser,loader}.rs`` of ccusage (found by code search: the
``parse_generator_metadata`` / ``merge_usage_event`` / ``deduplicate_events`` file and
its ``test_support`` fixtures ``metadata_blob``, ``step_metadata_blob``,
``trajectory_metadata_blob``, ``create_database``), whose strings (queries, error
texts, model names) the binary carries, plus the model labels and placeholders the
binary adds (``gemini 3.8 flash (high)``, ``model_placeholder_m318``...), each mapping
probed on the binary. NOT ccusage/ccusage ``rust/crates/ccusage/src/adapter/antigravity``
at fb4ce58, an older layout the binary does not follow (it reads usage field 1 as
"system input tokens" where 20.0.24 reads a model id, field 9 as output where 20.0.24
reads reasoning: probed). Public third-party readers agree on the tables
(``gen_metadata(idx INTEGER PRIMARY KEY, data BLOB, size INTEGER)``,
``steps(idx, step_type, status, ..., metadata)``, ``trajectory_metadata_blob(id, data)``).

The blobs (protobuf wire format: varint, fixed64, length-delimited, fixed32 fields;
any other wire type, a field number 0, a truncated value or a varint over 64 bits makes
the row malformed; a repeated scalar or text reads its LAST copy, a sub-message its
FIRST, texts must be UTF-8 and not blank):

- ``gen_metadata.data`` (``SELECT idx, data ... ORDER BY idx``): field 1 = chat model
  (required): 3 model id (varint), 4 usage, 9 generation info (its 4 = timestamp
  ``{1: seconds > 0, 2: nanos, clamped to 999,999,999}``), 17 retry infos (each's 2 =
  a usage), 19 then 21 model label;
- ``steps.metadata`` (when the table exists, rows with metadata): 9 usage, 28 retry
  infos, 24 model info (1 model id, 7 API provider, 12 then 8 label), 8 then 1 timestamp;
- usage: 1 model id, 2 input (no cache), 3 total output, 4 cache writes, 5 cache reads,
  6 API provider, 7 message id, 9 reasoning, 10 visible output, 11 response id, 12
  provider-assigned message id;
- ``trajectory_metadata_blob.data`` (in rowid order): 2 = created-at timestamp (the
  first row that has one).

Counting (ccusage's ``parse_sqlite_file``, ``append_usage_event``, ``merge_usage_event``,
``deduplicate_events``): every usage with a token (the main usage and each retry, from
the steps first, then the generations) is an event. total output = max(total, visible +
reasoning); output = max(visible, total - reasoning); reasoning = max(reasoning, total -
output). ccusage's ``outputTokens`` is ``output``; the rest of the total output rides in
its total and is priced as output. tokentop stores the total output in
``output_tokens`` and the part beyond ``output`` as ``reasoning_tokens``: totals and
cost agree, tokentop's ``outputTokens`` is ccusage's plus that part. Cache reads and
writes have their own columns; ``input`` is without them.

Model: the usage's model id, else the row's model (a step's label or id, else the last
generation's model; a generation's label, id or usage model id, carried forward to the
later generations without one), else ``gemini-internal-model``; ids map by ccusage's
table (``_BY_ID``, ``1000 + n`` -> ``model_placeholder_m<n>``, others
``antigravity-model-<id>``), labels by its normalisation (``normalize``). ``model_raw``
and ``model_canonical`` are that name (ccusage's, which tokentop prices and reports);
the label and ids are kept in the payload.

Session and project: the conversation id is the database's file name (``<uuid>``); the
workspace is the trajectory's ``file://`` URI (``trajectory_metadata_blob`` field 1.1,
percent-decoded, as ccusage's older adapter and public readers read it; ccusage 20.0.24
names every project "antigravity"), none when absent.

Time: the row's own timestamp, else one an earlier event with the same identity had,
else the trajectory's created-at, else the database file's mtime (ccusage ranks them
3, 3, 1, 0 when merging copies: the higher rank wins, then the earlier).

Copies: the same usage is written in a step and in a generation, and a retry repeats
the message ids of its try. ccusage merges events sharing any identity (response id,
provider message id, message id; transitively), field by field taking the larger
count, over all databases. tokentop merges so within a database, the same way, and
keys the merged event ``antigravity:<identity>`` (message id first, then provider
message id, then response id), its session the conversation: a copy of a conversation
in a second root (the same ``<uuid>.db``, e.g. in ``antigravity-backup``), verbatim or
with a retry more, is the same event (the store keeps the copy with more tokens). The
store's key includes the session, so the same message in two DIFFERENT conversations
counts twice in tokentop, once in ccusage (not seen in real data; a difference). A
group that grows between two reads of its database (a later row sharing one of its
identities) keeps the key it was stored under (the row marks remember it), so the
larger event replaces the first. An event with no identity is keyed by its place
(``<conversation>:<gen|step>:<idx>:<n>``): ccusage counts such an event twice when the
conversation is copied to a second root; tokentop once (a deliberate difference).

Malformed: ccusage stops the whole report on one bad blob or a database without
``gen_metadata``; tokentop counts the row (``malformed``) or the database (skip reason)
and reads the rest. Incremental: a conversation database is read whole when it changes
(the runner compares its and its WAL's size and mtime; conversations are small), and
only the events whose values changed since the last read are ingested (``marks``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from tokentop.store.usage.agents.base import DatabaseAgent
from tokentop.store.usage.agents.paths import antigravity_roots as roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks

SYSTEM = "antigravity"
ENV = "ANTIGRAVITY_DATA_DIR"
DEFAULT_MODEL = "gemini-internal-model"
GOOGLE_PROVIDERS = frozenset({3, 24, 30})  # Vertex, Gemini API, Evergreen: ccusage's
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ProtoError(ValueError):
    """A blob that is not protobuf as ccusage reads it (its error texts)."""


# --- protobuf wire format -----------------------------------------------------------


class Fields:
    """One message's fields as ccusage looks them up: the LAST varint of a number, the
    FIRST and the LAST length-delimited value of a number, and every one of a repeated
    number (fixed-width values are skipped). One pass over the blob (decoding is most
    of a cold read: 20,000 generations)."""

    __slots__ = ("first", "ints", "last", "many")

    def __init__(self) -> None:
        self.ints: dict[int, int] = {}
        self.first: dict[int, bytes] = {}
        self.last: dict[int, bytes] = {}
        self.many: dict[int, list[bytes]] = {}


def _varint(blob: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(blob):
            raise ProtoError("truncated protobuf varint")
        byte = blob[pos]
        pos += 1
        payload = byte & 0x7F
        if shift == 63 and payload > 1:
            raise ProtoError("protobuf varint overflow")
        value |= payload << shift
        if not byte & 0x80:
            return value, pos
        if shift == 63:
            break
    raise ProtoError("protobuf varint overflow")


def decode(blob: bytes) -> Fields:
    """Every field of one message (ccusage's ``decode_fields``)."""
    out = Fields()
    ints, first, last, many = out.ints, out.first, out.last, out.many
    pos, end = 0, len(blob)
    while pos < end:
        tag = blob[pos]
        if tag < 0x80:
            pos += 1
        else:
            tag, pos = _varint(blob, pos)
            if tag >> 3 > 0xFFFFFFFF:
                raise ProtoError("protobuf field number overflow")
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtoError("protobuf field number is zero")
        if wire == 0 or wire == 2:
            if pos < end and blob[pos] < 0x80:
                value = blob[pos]
                pos += 1
            else:
                value, pos = _varint(blob, pos)
            if wire == 0:
                ints[number] = value
                continue
            if end - pos < value:
                raise ProtoError("truncated protobuf fixed-width value")
            data = blob[pos:pos + value]
            pos += value
            if number in first:
                many.setdefault(number, [first[number]]).append(data)
            else:
                first[number] = data
            last[number] = data
        elif wire == 1 or wire == 5:
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise ProtoError("truncated protobuf fixed-width value")
        else:
            raise ProtoError("unsupported protobuf wire type")
    return out


def _int(fields: Fields, number: int) -> int | None:
    """The last varint ``number``."""
    return fields.ints.get(number)


def _bytes(fields: Fields, number: int) -> bytes | None:
    """The first length-delimited ``number``."""
    return fields.first.get(number)


def _all(fields: Fields, number: int) -> list[bytes]:
    many = fields.many.get(number)
    if many is not None:
        return many
    one = fields.first.get(number)
    return [] if one is None else [one]


def _text(fields: Fields, number: int) -> str | None:
    """The last length-delimited ``number`` as UTF-8, when not blank (untrimmed)."""
    data = fields.last.get(number)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.strip() else None


def _nonzero(value: int | None) -> int | None:
    return value if value else None


# --- the messages -------------------------------------------------------------------


@dataclass(slots=True)
class Usage:
    """One ``ModelUsage`` message."""

    model_id: int | None = None
    input: int = 0
    total_output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    reasoning: int = 0
    visible: int = 0
    provider: int | None = None
    message_id: str | None = None
    response_id: str | None = None
    provider_message_id: str | None = None

    def has_tokens(self) -> bool:
        return any((self.input, self.total_output, self.cache_write, self.cache_read,
                    self.reasoning, self.visible))

    def identities(self) -> list[str]:
        return [f"{kind}:{value}" for kind, value in (
            ("response", self.response_id), ("provider", self.provider_message_id),
            ("message", self.message_id)) if value]

    def preferred_id(self) -> tuple[str | None, int]:
        if self.response_id:
            return self.response_id, 3
        if self.provider_message_id:
            return self.provider_message_id, 2
        return self.message_id, 1


def parse_usage(blob: bytes) -> Usage:
    f = decode(blob)
    return Usage(
        model_id=_nonzero(_int(f, 1)), input=_int(f, 2) or 0, total_output=_int(f, 3) or 0,
        cache_write=_int(f, 4) or 0, cache_read=_int(f, 5) or 0, reasoning=_int(f, 9) or 0,
        visible=_int(f, 10) or 0, provider=_nonzero(_int(f, 6)), message_id=_text(f, 7),
        response_id=_text(f, 11), provider_message_id=_text(f, 12))


def parse_timestamp(blob: bytes) -> datetime | None:
    """``{1: seconds, 2: nanos}``; seconds must be > 0, nanos are clamped, not refused."""
    f = decode(blob)
    seconds = _int(f, 1)
    if not seconds or seconds >= 1 << 63:
        return None
    nanos = min(_int(f, 2) or 0, 999_999_999)
    try:
        return EPOCH + timedelta(milliseconds=seconds * 1000 + nanos // 1_000_000)
    except OverflowError:
        return None


def _retries(blobs: list[bytes]) -> list[Usage]:
    out = []
    for blob in blobs:
        usage = _bytes(decode(blob), 2)
        if usage is not None:
            out.append(parse_usage(usage))
    return out


@dataclass(slots=True)
class Meta:
    """A generation's or a step's metadata."""

    model: str | None = None
    model_id: int | None = None
    provider: int | None = None
    usage: Usage | None = None
    retries: list[Usage] = field(default_factory=list)
    timestamp: datetime | None = None


def parse_generation(blob: bytes) -> Meta:
    chat = _bytes(decode(blob), 1)
    if chat is None:
        raise ProtoError("missing chat model field 1")
    f = decode(chat)
    usage = _bytes(f, 4)
    info = _bytes(f, 9)
    stamp = _bytes(decode(info), 4) if info is not None else None
    return Meta(model=_text(f, 19) or _text(f, 21), model_id=_nonzero(_int(f, 3)),
                usage=parse_usage(usage) if usage is not None else None,
                retries=_retries(_all(f, 17)),
                timestamp=parse_timestamp(stamp) if stamp is not None else None)


def parse_step(blob: bytes) -> Meta:
    f = decode(blob)
    usage = _bytes(f, 9)
    retries = _retries(_all(f, 28))
    info_blob = _bytes(f, 24)
    info = decode(info_blob) if info_blob is not None else Fields()
    stamp = _bytes(f, 8)
    if stamp is None:
        stamp = _bytes(f, 1)
    return Meta(model=_text(info, 12) or _text(info, 8), model_id=_nonzero(_int(info, 1)),
                provider=_nonzero(_int(info, 7)),
                usage=parse_usage(usage) if usage is not None else None, retries=retries,
                timestamp=parse_timestamp(stamp) if stamp is not None else None)


def parse_trajectory(blob: bytes) -> datetime | None:
    stamp = _bytes(decode(blob), 2)
    return parse_timestamp(stamp) if stamp is not None else None


def workspace(blob: bytes) -> str | None:
    """The workspace of a ``trajectory_metadata_blob``: field 1's field 1, a ``file://``
    URI, percent-decoded (ccusage fb4ce58's ``workspace_path_from_uri``; 20.0.24 reads no
    project and names every one "antigravity"). None when absent or not a message."""
    try:
        inner = _bytes(decode(blob), 1)
        uri = _text(decode(inner), 1) if inner is not None else None
    except ProtoError:
        return None
    if uri is None or not uri.startswith("file://") or len(uri) == len("file://"):
        return None
    return unquote(uri[len("file://"):], errors="replace")


# --- model names (ccusage's tables; each entry checked against the 20.0.24 binary) ---

_BY_ID = {246: "gemini-2.5-pro", 312: "gemini-2.5-flash", 313: "gemini-2.5-flash-thinking",
          329: "gemini-2.5-flash-thinking", 330: "gemini-2.5-flash-lite",
          281: "claude-4-sonnet", 282: "claude-4-sonnet", 290: "claude-4-opus",
          291: "claude-4-opus", 333: "claude-4.5-sonnet", 334: "claude-4.5-sonnet",
          340: "claude-4.5-haiku", 341: "claude-4.5-haiku",
          342: "model_openai_gpt_oss_120b_medium"}


def model_from_id(model_id: int) -> str:
    if model_id in _BY_ID:
        return _BY_ID[model_id]
    if model_id >= 1000:
        return f"model_placeholder_m{model_id - 1000}"
    return f"antigravity-model-{model_id}"


_TIERED = {f"gemini {v} flash ({t})": f"gemini-{v}-flash-{t}"
           for v in ("3.8", "3.7", "3.6") for t in ("high", "medium", "low")}
_PLACEHOLDER_TIERS = {"318": "3.8-flash-high", "319": "3.8-flash-medium",
                      "320": "3.8-flash-low", "298": "3.7-flash-high",
                      "299": "3.7-flash-medium", "300": "3.7-flash-low",
                      "71": "3.6-flash-high", "72": "3.6-flash-medium", "73": "3.6-flash-low"}
_NAMES: dict[str, str] = {
    **{f"model_placeholder_m{k}": f"gemini-{v}" for k, v in _PLACEHOLDER_TIERS.items()},
    "gemini 3.8 flash": "gemini-3.8-flash", "gemini 3.8 flash thinking": "gemini-3.8-flash",
    "gemini 3.7 flash": "gemini-3.7-flash", "gemini 3.7 flash thinking": "gemini-3.7-flash",
    "gemini 3.7 pro": "gemini-3.7-pro", "gemini 3.7 pro thinking": "gemini-3.7-pro",
    "gemini 3.6 flash": "gemini-3.6-flash", "gemini 3 flash": "gemini-3.6-flash",
    "gemini 3.6 pro": "gemini-3.6-pro",
    "gemini 3 pro": "gemini-3-pro", "gemini 3 pro thinking": "gemini-3-pro",
    "gemini 2.5 flash": "gemini-2.5-flash", "gemini 2.5 pro": "gemini-2.5-pro",
    "gemini 2.0 flash": "gemini-2.0-flash", "gemini 2 flash": "gemini-2.0-flash",
    "gemini 2.0 pro": "gemini-2.0-pro", "gemini 1.5 flash": "gemini-1.5-flash",
    "gemini 1.5 pro": "gemini-1.5-pro",
    "model_placeholder_m26": "claude-opus-4-6", "model_placeholder_m35": "claude-sonnet-4-6",
    "model_placeholder_m36": "gemini-3.1-pro", "model_placeholder_m37": "gemini-3.1-pro",
    "model_placeholder_m16": "gemini-3.1-pro",
    "model_placeholder_m18": "gemini-3-flash-preview",
    "model_placeholder_m84": "gemini-3-flash-preview",
    "model_placeholder_m47": "gemini-3-flash-preview",
    "model_placeholder_m132": "gemini-3.5-flash-high",
    "model_placeholder_m133": "gemini-3.5-flash-high",
    "model_placeholder_m187": "gemini-3.5-flash-extra-low",
    "model_placeholder_m20": "gemini-3.5-flash-medium",
    "model_openai_gpt_oss_120b_medium": "gpt-oss-120b-medium",
    "gemini-pro-default": "gemini-3.1-pro", "gemini-pro-agent": "gemini-3.1-pro",
    "gemini-3-flash-agent": "gemini-3.5-flash-high",
    "gemini-3-flash-agent-a": "gemini-3.5-flash-high",
    "gemini-3-flash-agent-b": "gemini-3.5-flash-high",
    "gemini-3-flash-a": "gemini-3.5-flash-high", "gemini-3-flash-b": "gemini-3.5-flash-high",
    "gemini-3-flash-c": "gemini-3-flash-preview", "gemini-3-flash": "gemini-3-flash-preview",
    "gemini-3.5-flash-low": "gemini-3.5-flash-medium",
    "gemini-3.1-pro-high": "gemini-3.1-pro", "gemini-3.1-pro-low": "gemini-3.1-pro",
    "gemini-3-pro-high": "gemini-3-pro", "gemini-3-pro-low": "gemini-3-pro",
    "claude 3.7 sonnet": "claude-3-7-sonnet", "claude 3.7 sonnet thinking": "claude-3-7-sonnet",
    "claude 3.5 sonnet": "claude-3-5-sonnet", "claude 3.5 haiku": "claude-3-5-haiku",
    "claude 3 opus": "claude-3-opus",
}


def normalize(raw: str) -> str | None:
    """ccusage's ``normalize_antigravity_model``: the exact tiered labels (``Gemini 3.8
    Flash (High)`` -> ``gemini-3.8-flash-high``), else the lower-cased label before any
    ``(`` by the table, else that with spaces as ``-`` when it names a gemini, claude or
    gpt model, else the label as written (trimmed). None for a blank label."""
    trimmed = raw.strip()
    if not trimmed:
        return None
    lower = trimmed.lower()
    if lower in _TIERED:
        return _TIERED[lower]
    base = lower[:lower.index("(")].strip() if "(" in lower else lower
    if base in _NAMES:
        return _NAMES[base]
    converted = base.replace(" ", "-")
    if converted.startswith(("gemini-", "claude-", "gpt-")):
        return converted
    return trimmed


def _named(model: str | None, model_id: int | None) -> str | None:
    if model is not None:
        name = normalize(model)
        if name is not None:
            return name
    return normalize(model_from_id(model_id)) if model_id is not None else None


# --- events -------------------------------------------------------------------------


@dataclass(slots=True)
class Event:
    """One model call, ccusage's ``AntigravityUsageEvent``."""

    at: datetime
    rank: int  # 3 the row's own time, 1 the trajectory's, 0 the file's mtime
    model: str
    provider: int | None
    input: int
    output: int
    cache_write: int
    cache_read: int
    reasoning: int
    total_output: int
    message_id: str | None
    message_rank: int
    identities: list[str]
    place: str  # where it was read, for an event without identity
    raw: dict

    def merge(self, other: Event) -> None:
        """ccusage's ``merge_usage_event``: each count the larger."""
        self.input = max(self.input, other.input)
        self.output = max(self.output, other.output)
        self.cache_write = max(self.cache_write, other.cache_write)
        self.cache_read = max(self.cache_read, other.cache_read)
        self.reasoning = max(self.reasoning, other.reasoning)
        self.total_output = max(self.total_output, other.total_output,
                                self.output + self.reasoning)
        if self.model == DEFAULT_MODEL and other.model != DEFAULT_MODEL:
            self.model = other.model
        if self.provider is None:
            self.provider = other.provider
        if other.rank > self.rank or (other.rank == self.rank and other.at < self.at):
            self.at, self.rank = other.at, other.rank
        if other.message_rank > self.message_rank:
            self.message_id, self.message_rank = other.message_id, other.message_rank
        for identity in other.identities:
            if identity not in self.identities:
                self.identities.append(identity)

    def key(self) -> str:
        for kind in ("message:", "provider:", "response:"):
            found = sorted(i for i in self.identities if i.startswith(kind))
            if found:
                return found[0]
        return self.place


@dataclass
class _Context:
    trajectory: datetime | None
    fallback: datetime
    workspace: str | None = None
    stamps: dict[str, tuple[datetime, int]] = field(default_factory=dict)


def _event(usage: Usage, ctx: _Context, model: str | None, provider: int | None,
           at: datetime | None, place: str) -> Event | None:
    """ccusage's ``append_usage_event``."""
    if not usage.has_tokens():
        return None
    identities = usage.identities()
    stamp: tuple[datetime, int] | None = (at, 3) if at is not None else None
    if stamp is None:
        stamp = next((ctx.stamps[i] for i in identities if i in ctx.stamps), None)
    if stamp is None:
        stamp = (ctx.trajectory, 1) if ctx.trajectory is not None else (ctx.fallback, 0)
    for identity in identities:
        old = ctx.stamps.get(identity)
        if old is None or stamp[1] > old[1] or (stamp[1] == old[1] and stamp[0] < old[0]):
            ctx.stamps[identity] = stamp
    total = max(usage.total_output, usage.visible + usage.reasoning)
    output = max(usage.visible, total - usage.reasoning)
    reasoning = max(usage.reasoning, total - output)
    name = (normalize(model_from_id(usage.model_id)) if usage.model_id is not None else None)
    if name is None and model is not None:
        name = normalize(model)
    message_id, message_rank = usage.preferred_id()
    return Event(at=stamp[0], rank=stamp[1], model=name or DEFAULT_MODEL,
                 provider=usage.provider or provider, input=usage.input, output=output,
                 cache_write=usage.cache_write, cache_read=usage.cache_read,
                 reasoning=reasoning, total_output=total, message_id=message_id,
                 message_rank=message_rank, identities=identities, place=place,
                 raw={"model_id": usage.model_id, "input": usage.input,
                      "total_output": usage.total_output, "visible": usage.visible,
                      "reasoning": usage.reasoning, "cache_write": usage.cache_write,
                      "cache_read": usage.cache_read, "provider": usage.provider,
                      "message_id": usage.message_id, "response_id": usage.response_id,
                      "provider_message_id": usage.provider_message_id})


def deduplicate(events: Sequence[Event]) -> list[Event]:
    """ccusage's ``deduplicate_events``: events sharing an identity merge into the first
    (transitively: an event joining two groups merges the later group into the earlier)."""
    slots: list[Event | None] = []
    index: dict[str, int] = {}
    for event in events:
        matches = sorted({index[i] for i in event.identities if i in index})
        if not matches:
            for identity in event.identities:
                index[identity] = len(slots)
            slots.append(event)
            continue
        target = slots[matches[0]]
        assert target is not None
        for other in matches[1:]:
            duplicate = slots[other]
            if duplicate is not None:
                target.merge(duplicate)
                slots[other] = None
        target.merge(event)
        for identity in target.identities:
            index[identity] = matches[0]
    return [e for e in slots if e is not None]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
                        " LIMIT 1", (name,)).fetchone() is not None


def events(conn: sqlite3.Connection, path: Path, counts: Counts,
           ) -> tuple[list[Event], str | None] | None:
    """Every event of one conversation database, merged, and its workspace; None when
    it is not a conversation database."""
    if not _has_table(conn, "gen_metadata"):
        counts.skip("no gen_metadata table")
        return None
    try:
        mtime = EPOCH + timedelta(milliseconds=os.stat(path).st_mtime_ns // 1_000_000)
    except OSError:
        mtime = EPOCH
    trajectory, project = None, None
    if _has_table(conn, "trajectory_metadata_blob"):
        for (data,) in conn.execute("SELECT data FROM trajectory_metadata_blob ORDER BY rowid"):
            try:
                found = parse_trajectory(data) if isinstance(data, bytes) else None
            except ProtoError:
                counts.malformed += 1
                continue
            if trajectory is None:
                trajectory = found
            if project is None:
                project = workspace(data)
    ctx = _Context(trajectory=trajectory, fallback=mtime, workspace=project)
    gens: list[tuple[int, Meta]] = []
    for idx, data in conn.execute("SELECT idx, data FROM gen_metadata ORDER BY idx"):
        counts.lines += 1
        try:
            if not isinstance(data, bytes):
                raise ProtoError("not a blob")
            gens.append((idx, parse_generation(data)))
        except ProtoError:
            counts.malformed += 1
    steps: list[tuple[int, Meta]] = []
    if _has_table(conn, "steps"):
        try:
            rows = conn.execute("SELECT idx, metadata FROM steps"
                                " WHERE metadata IS NOT NULL ORDER BY idx").fetchall()
        except sqlite3.OperationalError:
            counts.skip("steps table without idx, metadata")
            rows = []
        for idx, data in rows:
            counts.lines += 1
            try:
                if not isinstance(data, bytes):
                    raise ProtoError("not a blob")
                steps.append((idx, parse_step(data)))
            except ProtoError:
                counts.malformed += 1
    last_model = next((m for m in (_named(g.model, g.model_id) for _, g in reversed(gens))
                       if m is not None), None)
    out: list[Event] = []

    def add(meta: Meta, model: str | None, provider: int | None, place: str) -> None:
        usages = ([meta.usage] if meta.usage is not None else []) + meta.retries
        for n, usage in enumerate(usages):
            event = _event(usage, ctx, model, provider, meta.timestamp, f"{place}:{n}")
            if event is not None:
                out.append(event)

    session = path.stem
    for idx, step in steps:
        model = _named(step.model, step.model_id) or last_model
        add(step, model, step.provider, f"{session}:step:{idx}")
    current: str | None = None
    for idx, gen in gens:
        row_model = _named(gen.model, gen.model_id)
        if row_model is None and gen.usage is not None and gen.usage.model_id is not None:
            row_model = normalize(model_from_id(gen.usage.model_id))
        if row_model is not None:
            current = row_model
        add(gen, current, None, f"{session}:gen:{idx}")
    return deduplicate(out), ctx.workspace


def read(conn: sqlite3.Connection, path: Path, watermark: int, counts: Counts,
         marks: RowMarks) -> tuple[Sequence[IngestRequest], int]:
    read_ = events(conn, path, counts)
    if read_ is None:
        return (), 0
    found, project = read_
    session = path.stem
    out: list[IngestRequest] = []
    known = marks.known
    for e in found:
        # a group whose identities grew since the last read (a later row sharing one of
        # them) keeps the key it was stored under, so it replaces its event, not adds one
        sticky = sorted(i for i in e.identities if i in known)
        key = sticky[0] if sticky else e.key()
        mark = (f"{e.at.isoformat()}|{e.model}|{e.provider}|{e.input}|{e.output}|"
                f"{e.cache_write}|{e.cache_read}|{e.total_output}")
        if not marks.fresh(key, mark):
            continue
        counts.usage_lines += 1
        extra = e.total_output - e.output
        out.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.SQLITE, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=e.at, session_id=session,
            workspace_id=project, message_id=f"antigravity:{key}",
            provider_id="google" if e.provider in GOOGLE_PROVIDERS else None,
            model_raw=e.model, model_canonical=e.model, input_tokens=e.input,
            output_tokens=e.total_output, reasoning_tokens=extra,
            cache_read_tokens=e.cache_read, cache_write_tokens=e.cache_write,
            total_tokens=e.input + e.cache_write + e.cache_read + e.total_output,
            payload={"db": str(path), "response_id": e.message_id,
                     "identities": e.identities, "provider": e.provider,
                     "time_rank": e.rank, "usage": e.raw},
        ))
    return out, 0


ANTIGRAVITY = DatabaseAgent(
    name="antigravity", system=SYSTEM, label="Antigravity", env=(ENV,), roots=roots,
    read=read,
)
