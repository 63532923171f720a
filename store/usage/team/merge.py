"""Ingest's merge of two copies of one event, as PostgreSQL's conflict clause.

``INSERT ... ON CONFLICT (dedup_key) DO UPDATE SET ... WHERE ...``: every SET is
``ingest.merge`` for that column, with ``excluded`` (the pushed copy) and the stored
row as the two copies, so the database, holding the row lock, decides which copy wins
and nothing a client reads first can go stale:

- the winner: the higher ``dedup.copy_rank`` (channel priority, not a sidechain,
  revision, tokens, a known speed), at an equal rank the lower
  ``dedup.copy_tiebreak`` (time, session, workspace compared as code points: COLLATE
  "C", Python's string order);
- the loser fills only the winner's NULLs in ``ingest.FILLABLE``, an ``unknown``
  status, and the 1-hour cache-write part when both wrote the same cache tokens;
- a cost the agent gave beats one tokentop computed; a computed one is only a
  placeholder here: the pull prices the merged row again, as ingest does after a merge
  (the winner may have taken its model from the loser);
- ``event_id`` is the stored one; the WHERE skips an update that changes nothing, so a
  re-push writes nothing and moves no row into the next pull.
"""

from __future__ import annotations

import functools

from tokentop.store.usage import ingest
from tokentop.store.usage.model import CHANNEL_PRIORITY
from tokentop.store.usage.team.pgschema import CHANNEL, event_columns

NEW, OLD = "excluded", "t"


def _channel_priority(r: str) -> str:
    cases = " ".join(f"WHEN '{getattr(k, 'value', k)}' THEN {p}"
                     for k, p in CHANNEL_PRIORITY.items())
    return f"(CASE {r}.{CHANNEL} {cases} ELSE 0 END)"


def _rank(r: str) -> str:
    """``dedup.copy_rank`` of row ``r`` as a row value."""
    parts = " + ".join(f"COALESCE({r}.{c}, 0)" for c in (
        "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
        "cache_write_tokens"))
    return (f"ROW({_channel_priority(r)},"
            f" CASE WHEN COALESCE({r}.tokentop_sidechain, 0) <> 0 THEN 0 ELSE 1 END,"
            f" COALESCE({r}.tokentop_revision, -1),"
            f" COALESCE({r}.total_tokens, {parts}),"
            f" CASE WHEN {r}.tokentop_speed IS NULL THEN 0 ELSE 1 END)")


def _tiebreak(r: str) -> str:
    """``dedup.copy_tiebreak``: the stored values are already trimmed by ingest."""
    return (f'ROW({r}.occurred_at COLLATE "C", COALESCE({r}.session_id, \'\') COLLATE "C",'
            f' COALESCE({r}.workspace_id, \'\') COLLATE "C")')


def new_wins() -> str:
    return (f"({_rank(NEW)} > {_rank(OLD)} OR ({_rank(NEW)} = {_rank(OLD)}"
            f" AND {_tiebreak(NEW)} < {_tiebreak(OLD)}))")


def _given(r: str) -> str:
    return f"({r}.cost_usd IS NOT NULL AND COALESCE({r}.tokentop_cost_computed, 0) = 0)"


def _merged(column: str, win: str, lose: str, fillable: frozenset[str]) -> str:
    """The merged value of ``column`` when ``win`` beat ``lose``."""
    if column == "cost_usd":
        return (f"CASE WHEN {_given(win)} THEN {win}.cost_usd WHEN {_given(lose)}"
                f" THEN {lose}.cost_usd ELSE COALESCE({win}.cost_usd, {lose}.cost_usd) END")
    if column == "tokentop_cost_computed":
        return (f"CASE WHEN {_given(win)} THEN {win}.{column} WHEN {_given(lose)}"
                f" THEN {lose}.{column} WHEN {win}.cost_usd IS NOT NULL THEN {win}.{column}"
                f" ELSE {lose}.{column} END")
    if column == "tokentop_cache_write_1h":
        return (f"CASE WHEN {win}.{column} IS NOT NULL THEN {win}.{column}"
                f" WHEN COALESCE({win}.cache_write_tokens, {lose}.cache_write_tokens)"
                f" IS NOT DISTINCT FROM {lose}.cache_write_tokens THEN {lose}.{column} END")
    if column == "status":
        return (f"CASE WHEN {win}.status = 'unknown' AND {lose}.status <> 'unknown'"
                f" THEN {lose}.status ELSE {win}.status END")
    if column in fillable:
        return f"COALESCE({win}.{column}, {lose}.{column})"
    return f"{win}.{column}"


@functools.cache
def upsert_sql() -> str:
    """The staged rows into ``usage_events``, merged with any stored copy."""
    fillable = frozenset(ingest.COLUMNS[i] for i in ingest.FILLABLE)
    columns = (*event_columns(), CHANNEL)
    known = set(ingest.COLUMNS)
    # a column newer than ingest's list (added by a later migration) fills like a field
    fillable |= {c for c in event_columns() if c not in known}
    updated = [c for c in columns if c not in ("event_id", "dedup_key")]
    wins = new_wins()
    values = [f"CASE WHEN {wins} THEN {_merged(c, NEW, OLD, fillable)}"
              f" ELSE {_merged(c, OLD, NEW, fillable)} END" for c in updated]
    sets = ", ".join(f"{c} = {v}" for c, v in zip(updated, values, strict=True))
    old = ", ".join(f"{OLD}.{c}" for c in updated)
    names = ", ".join(columns)
    return (f"INSERT INTO usage_events AS {OLD} ({names})"
            f" SELECT {names} FROM tokentop_stage_events ORDER BY dedup_key"
            f" ON CONFLICT (dedup_key) DO UPDATE SET {sets}"
            f" WHERE ROW({old}) IS DISTINCT FROM ROW({', '.join(values)})")


def snapshot_insert_sql(columns: tuple[str, ...]) -> str:
    names = ", ".join(("dedup_key", *columns))
    return (f"INSERT INTO usage_limit_snapshots ({names}) SELECT {names}"
            " FROM tokentop_stage_snapshots ORDER BY dedup_key"
            " ON CONFLICT (dedup_key) DO NOTHING")


def raw_insert_sql(columns: tuple[str, ...]) -> str:
    names = ", ".join(columns)
    return (f"INSERT INTO usage_raw_events ({names}) SELECT {names} FROM tokentop_stage_raw"
            " ORDER BY raw_event_id ON CONFLICT (raw_event_id) DO NOTHING")
