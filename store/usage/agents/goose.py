"""Goose (block/goose, ``goose``): one cumulative row per session in ``sessions.db``.

Where: ``$GOOSE_PATH_ROOT/data/sessions/sessions.db`` when ``GOOSE_PATH_ROOT`` is set
and not blank, else each of ``~/.local/share/goose/sessions/sessions.db``,
``~/Library/Application Support/goose/sessions/sessions.db`` and
``~/.local/share/Block/goose/sessions/sessions.db`` that exists (ccusage's list,
ccusage/ccusage ``rust/crates/ccusage/src/adapter/goose/paths.rs``; Goose's own
``Paths::data_dir()`` is ``<root>/data`` under ``GOOSE_PATH_ROOT``). The database is
Goose's live SQLite store, opened read-only.

The writer: block/goose ``crates/goose/src/session/session_manager.rs``. ``sessions``
has one row per session (``id`` is ``YYYYMMDD_<n>``, unique within one database),
``created_at``/``updated_at`` ``TIMESTAMP DEFAULT CURRENT_TIMESTAMP`` (UTC text
``YYYY-MM-DD HH:MM:SS``), and token columns the agent rewrites with ``UPDATE sessions
SET ..., updated_at = datetime('now')`` after every turn:

- ``accumulated_input_tokens`` / ``accumulated_output_tokens`` /
  ``accumulated_total_tokens``: the session's running TOTALS (what ccusage reads;
  ``input_tokens``/``output_tokens``/``total_tokens``, the last turn's context, only
  when the accumulated column is NULL or 0, as ccusage does). Goose's input counts the
  cache too (``crates/goose/src/providers/formats/anthropic.rs`` adds
  ``cache_creation_input_tokens`` and ``cache_read_input_tokens`` into ``input_tokens``
  "for display"); the table has no cache columns, so like ccusage tokentop stores it all
  as input and no cache (cache 0).
- ``total - (input + output)``, when positive, is extra output (reasoning):
  tokentop adds it to ``output_tokens`` with ``reasoning_tokens`` as the part, so
  totals and cost equal ccusage's (which adds it to the total and prices it as output)
  and tokentop's ``outputTokens`` is ccusage's plus that extra.
- ``model_config_json.model_name`` is the model (a row without one is skipped, as
  ccusage's query skips it); ``provider_name`` the provider (``-`` -> ``_``), else
  guessed from the model name as ccusage does (``claude-`` anthropic, ``gpt-``/
  ``chatgpt-``/``o...`` openai, ``gemini-`` google, ``qwen`` openrouter, else
  ``goose``). Newer Goose also writes ``accumulated_cost``; ccusage ignores it and
  prices the tokens, and so does tokentop (the brief's rule: no agent cost for Goose).

Counting a cumulative row once: every read of a row is ONE event with
``message_id = "goose:<id>"``, so a re-read after Goose updated the row is the same
event and the store keeps the copy with more tokens (a running total only grows).
``workspace_id`` is left empty because it is part of the store's dedup key and Goose
can change a session's ``working_dir`` (``SessionUpdateBuilder::working_dir``); the
directory is in the payload. The date of the whole session is ``created_at``, as
ccusage dates it (parsed as ccusage parses it: epoch seconds or milliseconds,
``YYYY-MM-DD[ T]HH:MM:SS`` as UTC, RFC 3339 with ``Z``/offset, or a bare date; a row
whose time ccusage cannot read is skipped and counted). A row whose tokens are all 0
is skipped.

Incremental: the watermark is the largest ``updated_at`` read (epoch seconds); the
next read takes rows with ``updated_at`` at or after it (the same second again:
re-reading is harmless) and rows whose ``updated_at`` is missing or unreadable. Goose
stamps every change with ``datetime('now')``, so a change is never before the last
one read (a row edited with an older ``updated_at`` by hand would be missed). A
database without ``updated_at`` (ccusage's test schema) is read whole whenever it
changes; either way only rows whose values changed since the last read are parsed
(``marks``, ``tokentop.store.usage.rowmarks``). One without the columns ccusage
selects (Goose before schema v6 had no ``model_config_json``/``provider_name``) gives
nothing, as in ccusage.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.usage.agents.base import DatabaseAgent
from tokentop.store.usage.agents.paths import (
    goose_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks, signature_sql

SYSTEM = "goose"
ENV = "GOOSE_PATH_ROOT"
DB_NAME = "sessions.db"
# ccusage's query (loader.rs GOOSE_SESSION_QUERY): these columns or nothing.
COLUMNS = ("id", "model_config_json", "provider_name", "created_at", "total_tokens",
           "input_tokens", "output_tokens", "accumulated_total_tokens",
           "accumulated_input_tokens", "accumulated_output_tokens")
_UPDATED = "CAST(strftime('%s', updated_at) AS INTEGER)"


def _tokens(value: Any) -> int | None:
    """ccusage's ``read_token_value``: a positive integer, else None."""
    return value if type(value) is int and value > 0 else None


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)\Z")
_NAIVE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\Z")
_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")


def parse_created(value: Any) -> datetime | None:
    """``parse_goose_timestamp`` on ``created_at`` read as text (an integer column is
    its decimal text)."""
    if type(value) is int:
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if not text:
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        n = int(text)
        ms = n if n > 1_000_000_000_000 else n * 1000
        if ms <= 0:
            return None
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    try:
        if _RFC3339.match(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        if _NAIVE.match(text):
            return datetime.fromisoformat(text[:10] + "T" + text[11:]).replace(tzinfo=UTC)
        if _DATE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None
    return None


def model_name(config: Any) -> str | None:
    """``model_config_json.model_name``, trimmed, or None."""
    if not isinstance(config, str) or not config.strip():
        return None
    try:
        doc = msgspec.json.decode(config)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    model = doc.get("model_name") if isinstance(doc, dict) else None
    if isinstance(model, str) and model.strip():
        return model.strip()
    return None


def provider_of(provider: Any, model: str) -> str:
    """``normalize_provider``: the recorded provider, else a guess from the model."""
    if isinstance(provider, str) and provider.strip():
        return provider.strip().replace("-", "_")
    if model.startswith("claude-"):
        return "anthropic"
    if model.startswith(("gpt-", "chatgpt-", "o")):
        return "openai"
    if model.startswith("gemini-"):
        return "google"
    if model.lower().startswith("qwen"):
        return "openrouter"
    return "goose"


def read(conn: sqlite3.Connection, path: Path, watermark: int,
         counts: Counts, marks: RowMarks,
         ) -> tuple[Sequence[IngestRequest], int]:
    """The sessions updated since ``watermark``, one event each; the new watermark."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    if not have:
        counts.skip("no sessions table")
        return (), watermark
    missing = [c for c in COLUMNS if c not in have]
    if missing:
        counts.skip("sessions table without " + ", ".join(missing))
        return (), watermark
    extra = [c if c in have else "NULL" for c in ("working_dir", "session_type")]
    updated = _UPDATED if "updated_at" in have else "NULL"
    selected = [*COLUMNS, *extra, updated]
    sql = (f"SELECT {', '.join(selected)}, {signature_sql(selected[1:])} FROM sessions"
           " WHERE model_config_json IS NOT NULL AND TRIM(model_config_json) != ''")
    args: list[Any] = []
    if updated != "NULL" and watermark:
        sql += f" AND ({updated} IS NULL OR {updated} >= ?)"
        args.append(watermark)
    out: list[IngestRequest] = []
    mark = watermark
    for row in conn.execute(sql, args):
        if type(row[-2]) is int:
            mark = max(mark, row[-2])
        if not marks.fresh(str(row[0]), row[-1]):
            continue
        counts.lines += 1
        (sid, config, provider, created, total, inp, outp, acc_total, acc_in, acc_out,
         working_dir, session_type, _updated, _signature) = row
        if not isinstance(sid, str):
            counts.skip("session id not text")
            continue
        when = parse_created(created)
        if when is None:
            counts.skip("created_at not understood")
            continue
        model = model_name(config)
        if model is None:
            counts.skip("no model_name")
            continue
        i = _tokens(acc_in) or _tokens(inp) or 0
        o = _tokens(acc_out) or _tokens(outp) or 0
        t = _tokens(acc_total) or _tokens(total) or (i + o)
        if i == 0 and o == 0 and t == 0:
            counts.skip("no tokens")
            continue
        extra_out = max(t - (i + o), 0)
        counts.usage_lines += 1
        out.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.SQLITE, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=sid,
            message_id=f"goose:{sid}", provider_id=provider_of(provider, model),
            model_raw=model, input_tokens=i, output_tokens=o + extra_out,
            reasoning_tokens=extra_out, cache_read_tokens=0, cache_write_tokens=0,
            total_tokens=i + o + extra_out,
            payload={"db": str(path), "id": sid, "working_dir": working_dir,
                     "session_type": session_type, "created_at": created,
                     "accumulated_input_tokens": acc_in,
                     "accumulated_output_tokens": acc_out,
                     "accumulated_total_tokens": acc_total},
        ))
    return out, mark


GOOSE = DatabaseAgent(
    name="goose", system=SYSTEM, label="Goose", env=(ENV,), roots=roots, read=read,
)
