"""The statements that sum usage per model: one text for the read model and the status line.

The read model (``read``, ``reports``) and ``glance_fast`` (the status line, which must
not import the read model: it has a 50 ms budget) run the same statements, so their
sums are the same floats. They live here, importing only the SQL fragments of
``semantics``, and both build from them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tokentop.store.usage.semantics import COUNTED_SQL, GIVEN_COST_SQL, INPUT_SQL
from tokentop.store.usage.timefmt import bound, parse_ts

HOUR = timedelta(hours=1)
USAGE_TYPES = "'message_usage'"
# ``rollup.MODEL_EXPR`` (a test holds them equal: rollup imports the price table)
MODEL_SQL = ("COALESCE(model_raw, model_canonical, 'unknown')"
             " || CASE WHEN tokentop_speed = 'fast' THEN '-fast' ELSE '' END")
CW1H = "COALESCE(tokentop_cache_write_1h, 0)"  # the 1-hour cache writes
CW5M = f"COALESCE(cache_write_tokens, 0) - {CW1H}"  # the rest: 5-minute writes
BLOCK_ROW_SQL = f"""SELECT occurred_at, {MODEL_SQL}, {INPUT_SQL},
    COALESCE(output_tokens, 0), COALESCE(cache_write_tokens, 0),
    COALESCE(cache_read_tokens, 0), {GIVEN_COST_SQL}, {CW1H} FROM usage_events"""


def over_sql(column: str, threshold: int) -> str:
    """The sum of each message's excess over the tier threshold."""
    return f"SUM(MAX(COALESCE({column}, 0) - {threshold}, 0))"


def range_sql(start: datetime | None, end: datetime) -> tuple[str, list[str]]:
    """``occurred_at`` in [start, end) in whole seconds, right for both text widths; only
    rows that count (``semantics.COUNTED_SQL``: not ``status = 'error'``)."""
    if start is None:
        return f"occurred_at < ? AND {COUNTED_SQL}", [bound(end)]
    return f"occurred_at >= ? AND occurred_at < ? AND {COUNTED_SQL}", [bound(start), bound(end)]


def _sum_columns(t: int) -> str:
    return f"""SUM({INPUT_SQL}), SUM(COALESCE(output_tokens, 0)),
               SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
               SUM({GIVEN_COST_SQL}), COUNT(*),
               {over_sql(INPUT_SQL, t)}, {over_sql("output_tokens", t)},
               {over_sql(CW5M, t)}, {over_sql("cache_read_tokens", t)},
               SUM({CW1H}), {over_sql(CW1H, t)}"""


def _group_by(keys: str) -> str:
    return ", ".join(f"{i + 1}" for i in range(keys.count(",") + 1))


def sums_sql(keys: str, where: str, t: int, calc: str) -> str:
    """Per (keys..., model, priced-by-source?) sums, with the tier excess per message;
    ``t`` the tier threshold, ``calc`` ``semantics.calc_sql`` of the table in force."""
    return f"""
        SELECT {keys}, {MODEL_SQL} AS model, {calc} AS calc,
               {_sum_columns(t)}
        FROM usage_events WHERE +event_type IN ({USAGE_TYPES}) AND {where}
        GROUP BY {_group_by(keys)}, model, calc
    """


def rollup_sql(keys: str, where: str, table: str) -> str:
    """:func:`sums_sql`'s rows from a rollup grain (same columns, same order)."""
    return f"""
        SELECT {keys}, model, calc, SUM(input), SUM(output), SUM(cache_write),
               SUM(cache_read), SUM(cost), SUM(events), SUM(input_over),
               SUM(output_over), SUM(cache_write_over), SUM(cache_read_over),
               SUM(cache_write_1h), SUM(cache_write_1h_over)
        FROM {table} WHERE event_type IN ({USAGE_TYPES}) AND {where}
        GROUP BY {_group_by(keys)}, model, calc
    """


def hour_entry_sql(where: str, t: int, calc: str) -> str:
    """The events of a stretch within one hour as one block entry: per (model, calc)
    sums and the first and last time."""
    return f"""
        SELECT {MODEL_SQL} AS model, {calc} AS calc,
               {_sum_columns(t)},
               MIN(occurred_at), MAX(occurred_at)
        FROM usage_events WHERE +event_type IN ({USAGE_TYPES}) AND {where}
        GROUP BY 1, 2 ORDER BY 1, 2"""


def fast_ts(text: str) -> datetime:
    """``parse_ts`` with a fast path for tokentop's fixed width (``...:03.512000000Z``)."""
    if len(text) == 30 and text[19] == "." and text[29] == "Z":
        return datetime.fromisoformat(text[:26] + "+00:00")
    return parse_ts(text)
