"""Hermes Agent (NousResearch/hermes-agent, ``hermes``): one cumulative row per session.

Where: ``$HERMES_HOME/state.db`` (``HERMES_HOME`` may name several homes separated by
commas, as ccusage reads it), else ``~/.hermes/state.db`` (ccusage/ccusage
``rust/crates/ccusage/src/adapter/hermes/paths.rs``; Hermes's own default,
``hermes_constants.get_hermes_home()``). A live SQLite database in WAL mode, opened
read-only.

The writer: NousResearch/hermes-agent ``hermes_state_usage.py``. ``sessions`` has one
row per session whose counters ``input_tokens``, ``output_tokens``,
``cache_read_tokens``, ``cache_write_tokens``, ``reasoning_tokens`` are the session's
running TOTALS: the CLI adds each call's delta (``col = col + ?``), the gateway sets
the absolute total (``col = ?``); ``estimated_cost_usd`` / ``actual_cost_usd`` are the
cost Hermes computed for them. What tokentop reads is ccusage's query and rules
(``adapter/hermes/loader.rs``, ``parser.rs``):

- rows with a non-blank ``model``; the session ``id``; ``started_at`` (epoch seconds as
  REAL, or milliseconds when > 1e12) is the date of the WHOLE session, as ccusage
  dates it; ``billing_provider`` the provider (lower case, ``-`` -> ``_``, ``claude``
  -> ``anthropic``, ``openai-codex`` -> ``openai``, ``vertex``/``gemini`` ->
  ``google``), else guessed from the model;
- token columns: integers (negative as 0) or finite positive reals (truncated);
  input is without the cache (Hermes keeps cache reads and writes in their own
  columns). ``reasoning_tokens`` is extra output: ccusage adds it to the total and
  prices it as output; tokentop stores it inside ``output_tokens`` with
  ``reasoning_tokens`` as the part, so totals and cost agree and tokentop's
  ``outputTokens`` is ccusage's plus reasoning;
- cost: ``actual_cost_usd`` (negative as 0) is the agent's own cost when > 0, else
  tokentop prices the tokens (ccusage's ``calculate_hermes_cost``: ``<provider>/<model>``
  first, ``pricenames.hermes``). ccusage's code
  falls back to ``estimated_cost_usd`` only when ``actual_cost_usd`` cannot be read as
  a real, but its SQLite reader reads NULL as 0.0, so in effect Hermes's estimate is
  never used (checked against the binary: a row with only an estimate is priced from
  its tokens); tokentop does the same. A row with no tokens and no positive cost is
  skipped.

Counting a cumulative row once: each read of a row is ONE event,
``message_id = "hermes:<id>"`` (ccusage's id): re-reading after Hermes updated the row
replaces the event (the store keeps the copy with more tokens), and the same session
in a second ``HERMES_HOME`` is the same event (ccusage keeps the first home's copy;
tokentop the larger). No workspace: the dedup key includes it and ``sessions`` names
none (ccusage's project is ``hermes``). ``sessions`` has no reliable change column: a
database is read whole whenever it changes (the runner compares the file's and its
WAL's size and mtime), and of its rows only those whose values changed since the last
read are parsed and ingested (``marks``, ``tokentop.store.usage.rowmarks``): one new
message costs one row, not every session's (20,000 sessions: 1.6 s before). Hermes also keeps
``session_daily_usage`` (per local day); ccusage does not read it, nor does tokentop.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokentop.store.usage.agents.base import DatabaseAgent
from tokentop.store.usage.agents.paths import (
    hermes_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks, changed_rows

SYSTEM = "hermes"
ENV = "HERMES_HOME"
COLUMNS = ("id", "model", "billing_provider", "started_at", "message_count", "input_tokens",
           "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
           "estimated_cost_usd", "actual_cost_usd")


def _count(value: Any) -> int:
    """``read_u64``: an integer (negative as 0), else a finite positive real truncated."""
    if type(value) is int:
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        return int(value)
    return 0


def _real(value: Any) -> float | None:
    """``read_f64``: a finite real or an integer, else None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if type(value) is int:
        return float(value)
    return None


def started(value: Any) -> datetime | None:
    """``timestamp_from_number``: seconds, or milliseconds when > 1e12; truncated to ms."""
    n = _real(value)
    if n is None:
        return None
    ms = n if n > 1e12 else n * 1000.0
    if ms <= 0:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=math.trunc(ms))


def provider_of(value: Any, model: str) -> str:
    """``normalize_provider`` / ``infer_provider_from_model``."""
    if isinstance(value, str) and value.strip():
        p = value.strip().lower().replace("-", "_")
        return {"claude": "anthropic", "openai_codex": "openai", "google_ai": "google",
                "gemini": "google", "vertex": "google", "vertex_ai": "google"}.get(p, p)
    m = model.lower()
    if m.startswith(("claude-", "claude/")):
        return "anthropic"
    if m.startswith(("gpt", "chatgpt")) or (m.startswith("o") and m[1:2].isdigit()):
        return "openai"
    if m.startswith(("gemini-", "gemini/")):
        return "google"
    return "hermes"


def read(conn: sqlite3.Connection, path: Path, watermark: int,
         counts: Counts, marks: RowMarks,
         ) -> tuple[Sequence[IngestRequest], int]:
    """The session rows that changed since the last read (every row the first time)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    missing = [c for c in COLUMNS if c not in have]
    if not have or missing:
        counts.skip("no sessions table" if not have
                    else "sessions table without " + ", ".join(missing))
        return (), watermark
    out: list[IngestRequest] = []
    for row in changed_rows(conn, "sessions", COLUMNS[0], COLUMNS[1:],
                            "model IS NOT NULL AND TRIM(model) != ''", marks):
        counts.lines += 1
        sid, model, provider, start, messages = row[:5]
        i, o, cr, cw, reasoning = (_count(v) for v in row[5:10])
        actual = _real(row[11])
        if not isinstance(sid, str) or not sid or not isinstance(model, str):
            counts.skip("session id or model not text")
            continue
        model = model.strip()
        when = started(start)
        if when is None:
            counts.skip("started_at not understood")
            continue
        cost = max(actual or 0.0, 0.0)  # NULL reads as 0.0 in ccusage: see above
        if i + o + cr + cw + reasoning == 0 and not cost:
            counts.skip("no tokens")
            continue
        counts.usage_lines += 1
        out.append(IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.SQLITE, agent_name=SYSTEM,
            event_type=EventType.MESSAGE_USAGE, occurred_at=when, session_id=sid,
            message_id=f"hermes:{sid}", provider_id=provider_of(provider, model),
            model_raw=model, input_tokens=i, output_tokens=o + reasoning,
            reasoning_tokens=reasoning, cache_read_tokens=cr, cache_write_tokens=cw,
            total_tokens=i + o + reasoning + cr + cw,
            cost_usd=cost if cost else None,
            payload={"db": str(path), "id": sid, "billing_provider": provider,
                     "message_count": messages,
                     "estimated_cost_usd": row[10], "actual_cost_usd": row[11]},
        ))
    return out, watermark


HERMES = DatabaseAgent(
    name="hermes", system=SYSTEM, label="Hermes Agent", env=(ENV,), roots=roots, read=read,
)
