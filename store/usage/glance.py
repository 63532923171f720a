"""The few numbers a status line shows: today's cost, the active 5-hour block, the burn
rate and the quota closest to running out.

Why a module of its own: ``tokentop statusline`` runs every few hundred milliseconds
(Claude Code re-runs it on each message; tmux on each status refresh), so it must read
only what it shows, from the hourly rollup the read model keeps, never the agents' logs
and never a window's worth of events. It takes those pieces from the read model
(``tokentop.store.usage.read``), so the line and the Usage screen always agree.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from tokentop.store.usage.costing import Pricer
from tokentop.store.usage.read import (
    BlockView,
    Burn,
    Quota,
    Sums,
    _group_rows,
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

    @property
    def nearest_quota(self) -> Quota | None:
        """The quota closest to its limit (then the one projected full first)."""
        return nearest(self.quotas)


def nearest(found: tuple[Quota, ...] | list[Quota]) -> Quota | None:
    far = datetime.max.replace(tzinfo=UTC)
    return min(found, key=lambda q: (-q.fraction, q.full_at or far), default=None)


def local_day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of ``now``'s day in ``tz``, as an aware time."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def read_glance(conn: sqlite3.Connection, now: datetime, tz: tzinfo | None = None) -> Glance:
    """Today (midnight in ``tz`` to ``now``), the active block, the last hour's burn and
    the latest quotas. In tokentop's own store every whole hour comes from the rollup and
    only the partial hours at the edges from the events (an index range of minutes)."""
    now = now.astimezone(UTC)
    rolled = uses_rollup(conn)
    end = now + timedelta(seconds=1)
    price_of = Pricer()
    today = Sums()
    for row in _group_rows(conn, ("one",), local_day_start(now, tz or UTC), end, rolled):
        today.add(_sums(row, 1, price_of, set()))
    return Glance(now=now, today_cost=today.cost, today_tokens=today.tokens,
                  block=current_block(conn, now, rolled=rolled),
                  burn=burn_rate(conn, now, rolled=rolled), quotas=tuple(quotas(conn)))
