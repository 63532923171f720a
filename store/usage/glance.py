"""The few numbers a status line shows: today's cost, the active 5-hour block, the burn
rate and the quota closest to running out.

Why a module of its own: ``tokentop statusline`` runs every few hundred milliseconds
(Claude Code re-runs it on each message; tmux on each status refresh), so it must read
only what it shows, from the hourly rollup the read model keeps, never the agents' logs
and never a window's worth of events. It takes those pieces from the read model
(``tokentop.store.usage.read``), so the line and the Usage screen always agree.

The command itself reads through ``glance_fast``, which runs the same statements
without importing the read model (its import alone was over the 50 ms budget) and is
tested to give exactly this module's snapshot; this module answers where that one
declines (openusage's store, an older tokentop's) and is the reference it is held to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from tokentop.store.usage.costing import Pricer
from tokentop.store.usage.read import (
    HOUR,
    BlockView,
    Burn,
    Quota,
    Sums,
    _block_view,
    _group_rows,
    _hour_entry,
    _rollup_blocks,
    _sums,
    burn_rate,
    current_block,
    quotas,
    uses_rollup,
)


@dataclass(frozen=True)
class Glance:
    """What the status line prints, as of ``now``."""

    now: datetime
    today_cost: float
    today_tokens: int
    block: BlockView | None
    burn: Burn
    quotas: tuple[Quota, ...]


def _epoch(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def snapshot(g: Glance) -> dict[str, Any]:
    """The glance as plain JSON values: what the status line renders, and keeps for a
    few seconds (``tokentop.tui.commands.statusline_cache``) so the next call within
    them loads neither the read model nor the price table. Times are epoch seconds;
    time left is worked out when the line is printed."""
    block = None
    if g.block is not None:
        block = {"end": g.block.end.timestamp(), "cost": g.block.cost}
    return {
        "today": g.today_cost, "block": block, "burn": g.burn.cost_per_hour,
        "quotas": [{"name": f"{q.provider} {q.metric}".strip(), "fraction": q.fraction,
                    "resets_at": _epoch(q.resets_at), "full_at": _epoch(q.full_at)}
                   for q in g.quotas],
    }


def local_day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of ``now``'s day in ``tz``, as an aware time."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def read_glance(conn: sqlite3.Connection, now: datetime, tz: tzinfo | None = None) -> Glance:
    """Today (midnight in ``tz`` to ``now``), the active block, the last hour's burn and
    the latest quotas. In tokentop's own store every whole hour comes from the rollup,
    and the events of the current hour are summed once, for all three."""
    now = now.astimezone(UTC)
    end = now + timedelta(seconds=1)
    day_start = local_day_start(now, tz or UTC)
    price_of = Pricer()
    today, burn = Sums(), Sums()
    if not uses_rollup(conn):  # a foreign store (openusage's): from its events
        for row in _group_rows(conn, ("one",), day_start, end, False):
            today.add(_sums(row, 1, price_of, set()))
        return Glance(now, today.cost, today.tokens, current_block(conn, now),
                      burn_rate(conn, now), tuple(quotas(conn)))
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    current = _hour_entry(conn, this_hour, end)
    current_rows = current[2] if current is not None else []
    if day_start < this_hour:
        for row in _group_rows(conn, ("one",), day_start, this_hour, True):
            today.add(_sums(row, 1, price_of, set()))
        for row in current_rows:
            today.add(_sums(row, 0, price_of, set()))
    else:  # the day began within this hour (a zone offset of :30 or :45)
        for row in _group_rows(conn, ("one",), day_start, end, True):
            today.add(_sums(row, 1, price_of, set()))
    for row in _group_rows(conn, ("one",), now - HOUR, this_hour, True):
        burn.add(_sums(row, 1, price_of, set()))
    for row in current_rows:
        burn.add(_sums(row, 0, price_of, set()))
    return Glance(now=now, today_cost=today.cost, today_tokens=today.tokens,
                  block=_block_view(_rollup_blocks(conn, now, current)),
                  burn=Burn(burn.cost, burn.tokens / 60, burn.tokens),
                  quotas=tuple(quotas(conn)))
