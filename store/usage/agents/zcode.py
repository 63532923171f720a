"""ZCode (Z.ai's coding agent app, ``zcode``): one ``model_usage`` row per model call.

Where: ``<home>/cli/db/db.sqlite`` for each home in ``$ZCODE_HOME`` (a comma-separated
list, as ccusage reads it), else ``~/.zcode``. A live SQLite database ZCode writes while
we read, opened read-only.

Sources. ZCode's writer is not public (a closed desktop app), and ccusage's ZCode adapter
is not in the 20.0.11 source mirror. What is known:

- from the pinned ccusage 20.0.24 binary, its strings: ``ZCODE_HOME``, ``.zcode``,
  ``cli/db/db.sqlite``, the providers ``zai``, ``zai-coding-plan``,
  ``builtin:zai-coding-plan``, ``builtin:bigmodel-coding-plan``, the layouts ``legacy`` /
  ``session-versioned`` and its query, verbatim but for the optional columns:
  ``SELECT m.id, m.session_id, m.started_at, m.model_id, m.input_tokens,
  m.output_tokens, <m.cache_creation_input_tokens>, <m.cache_read_input_tokens>,
  <m.computed_total_tokens>, <m.provider_id>, s.directory, ... FROM model_usage m LEFT
  JOIN session s ON s.id = m.session_id WHERE m.status = 'completed'`` (a missing
  optional column reads as NULL; ``--debug`` prints which it found);
- from public third-party readers of the same database (codez-yydd/zai-floating-monitor
  and the notes of other ZCode usage tools found by code search, observations on real
  databases, not ZCode's code): ``model_usage`` has ``id`` (TEXT primary key),
  ``session_id``, ``turn_id``, ``provider_id``, ``model_id``, ``status``
  (``completed`` / ``cancelled`` / ``error``), ``started_at`` (epoch ms),
  ``completed_at``, ``duration_ms``, ``time_to_first_token_ms``, ``attempt_index``,
  ``query_source``, ``input_tokens``, ``output_tokens``, ``reasoning_tokens``,
  ``cache_creation_input_tokens``, ``cache_read_input_tokens``, ``computed_total_tokens``;
  ``session`` has ``id``, ``directory`` (the project). ``input_tokens`` includes the
  cache reads and writes, and ``computed_total_tokens`` = input + output + reasoning.

Counting, probed on the binary with generated databases (each rule checked):

- rows with ``status = 'completed'``, a ``session_id`` and a non-blank ``model_id``;
  ``started_at`` is read as epoch MILLISECONDS whatever its size (a text date is
  skipped here; ccusage dates it 1970-01-01);
- counts: integers (negative as 0) or reals truncated; cache read = min(cache read,
  input), cache write = min(cache creation, input - cache read), input = the rest;
- ``computed_total_tokens`` beyond input + output + cache (ZCode's reasoning tokens) is
  in ccusage's total and priced as output but not in its ``outputTokens``; tokentop
  stores it inside ``output_tokens`` with ``reasoning_tokens`` as the part, so totals and
  cost agree and tokentop's ``outputTokens`` is ccusage's plus reasoning;
- no cost is recorded: tokentop prices the tokens by ccusage's names for ZCode, cache
  writes as input (``pricenames.zcode``). ccusage prices only rows whose
  ``provider_id`` is NULL or one of Z.ai's four above and gives $0 to any other provider
  (ZCode's third-party channels: a UUID, ``openrouter``, ...); tokentop prices those by
  model too (a deliberate difference, in the cost only);
- a row with no tokens is no event; ``session.directory`` is the project (ccusage's
  "ZCode" when none); with no ``session`` table ccusage reads nothing at all, tokentop
  still reads the rows (without a project); a layout without ``session.version``
  (ccusage's "legacy") reads the same.

Identity: ``message_id = "zcode:<id>"``. The same row in a second ``ZCODE_HOME`` home
(a copied database) has the same key and counts once (ccusage keeps the first home's
copy; tokentop the larger, the same when verbatim). ``provider_id`` is the row's
(``codex`` is stored as ``zcode-codex``: the store reads provider ``codex`` rows as
cache-inclusive).

Incremental: rows are read by ``rowid`` after the watermark. A row is written when the
call starts and completed later, so the watermark stops below the first row still in
flight (a status that is not ``completed``, ``cancelled``, ``error`` or ``failed``);
that row and the ones after it are read again on the next pass (the store keeps one
event per id). A table without rowids is read whole each time it changes.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokentop.store.usage.agents.base import DatabaseAgent
from tokentop.store.usage.agents.paths import zcode_roots as roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventStatus, EventType, IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks

SYSTEM = "zcode"
ENV = "ZCODE_HOME"
DB = Path("cli") / "db" / "db.sqlite"
REQUIRED = ("id", "session_id", "started_at", "model_id", "input_tokens", "output_tokens",
            "status")
OPTIONAL = ("cache_creation_input_tokens", "cache_read_input_tokens", "computed_total_tokens",
            "provider_id")
FINAL = frozenset({"completed", "cancelled", "canceled", "error", "failed"})


def _count(value: Any) -> int:
    if type(value) is int:
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        return int(value)
    return 0


def started(value: Any) -> datetime | None:
    """Epoch milliseconds (an integer, or a real truncated)."""
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if type(value) is not int or value < 0:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def read(conn: sqlite3.Connection, path: Path, watermark: int,
         counts: Counts, marks: RowMarks,
         ) -> tuple[Sequence[IngestRequest], int]:
    have = _columns(conn, "model_usage")
    missing = [c for c in REQUIRED if c not in have]
    if not have or missing:
        counts.skip("no model_usage table" if not have
                    else "model_usage table without " + ", ".join(missing))
        return (), watermark
    opt = ", ".join(f"m.{c}" if c in have else "NULL" for c in OPTIONAL)
    session = _columns(conn, "session")
    directory = ("(SELECT s.directory FROM session s WHERE s.id = m.session_id LIMIT 1)"
                 if {"id", "directory"} <= session else "NULL")
    select = (f"SELECT {{rowid}}, m.id, m.session_id, m.started_at, m.model_id,"
              f" m.input_tokens, m.output_tokens, {opt}, m.status, {directory}"
              f" FROM model_usage m")
    try:
        rows = conn.execute(select.format(rowid="m.rowid")
                            + " WHERE m.rowid > ? ORDER BY m.rowid", (watermark,)).fetchall()
        by_rowid = True
    except sqlite3.OperationalError:  # WITHOUT ROWID: read whole
        rows = conn.execute(select.format(rowid="0")).fetchall()
        by_rowid = False
    out: list[IngestRequest] = []
    pending: int | None = None
    last = watermark
    for row in rows:
        rowid, rid, sid, start, model, i, o, cw, cr, ct, provider, status, workspace = row
        counts.lines += 1
        last = max(last, rowid)
        if status != "completed":
            if pending is None and status not in FINAL:
                pending = rowid
            counts.skip("not completed" if status in FINAL else "in flight")
            continue
        if rid is None or str(rid).strip() == "" or not isinstance(sid, str) or not sid:
            counts.skip("no id or session")
            continue
        if not isinstance(model, str) or not model.strip():
            counts.skip("no model")
            continue
        when = started(start)
        if when is None:
            counts.skip("started_at not epoch milliseconds")
            continue
        full = _count(i)
        cr = min(_count(cr), full)
        cw = min(_count(cw), full - cr)
        inp, out_tokens = full - cr - cw, _count(o)
        extra = max(_count(ct) - (inp + out_tokens + cr + cw), 0)
        if inp + out_tokens + cr + cw + extra == 0:
            counts.skip("no tokens")
            continue
        prov = provider.strip() if isinstance(provider, str) and provider.strip() else None
        if prov is not None and prov.lower() == "codex":
            prov = "zcode-codex"
        counts.usage_lines += 1
        out.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.SQLITE, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=sid,
            workspace_id=workspace if isinstance(workspace, str) and workspace else None,
            message_id=f"zcode:{rid}", provider_id=prov, model_raw=model.strip(),
            model_canonical=model.strip(), input_tokens=inp,
            output_tokens=out_tokens + extra, reasoning_tokens=extra,
            cache_read_tokens=cr, cache_write_tokens=cw,
            total_tokens=inp + out_tokens + extra + cr + cw, status=EventStatus.OK,
            payload={"db": str(path), "id": rid, "provider_id": provider,
                     "input_tokens": i, "output_tokens": o,
                     "cache_creation_input_tokens": row[7],
                     "cache_read_input_tokens": row[8], "computed_total_tokens": ct},
        ))
    if not by_rowid:
        return out, 0
    return out, (pending - 1 if pending is not None else last)


ZCODE = DatabaseAgent(
    name="zcode", system=SYSTEM, label="ZCode", env=(ENV,), roots=roots, read=read,
)
