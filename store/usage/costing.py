"""What one stored event costs by tokentop's price table, for ``cost_usd``.

``cost_usd`` is openusage's column: openusage (and anything else reading the canonical
store) sums it as the event's cost. tokentop used to leave it NULL unless the agent
wrote a cost itself (Claude's ``costUSD``), so an openusage reader saw tokentop's events
as free. Now ingest fills it with the cost computed from the table in force and marks
the row ``tokentop_cost_computed = 1``; tokentop's own readers treat a marked cost as
"not given" and price the tokens again with the current table (``semantics.calc_sql``),
so a ``pricing update`` or an override still re-prices history. A cost the agent wrote
is never marked and never replaced.

An agent whose messages ccusage prices by names of its own (Hermes, Droid, Kimi, ZCode:
``agents.pricenames``) is priced here per message with those names and marked
``tokentop_cost_computed = 2``; readers take that cost as stored, because the hourly
rollups they re-price from are keyed by model id, which neither carries the agent's
names nor (Kimi's ``kimi-for-coding``) the message's time. Such a message is re-priced
with the table in force when it is ingested again, not by a report.

The model key is the reports' (``rollup.MODEL_EXPR``): ``<model>-fast`` is a fast-mode
message, priced at the model's rates times its fast multiplier.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from tokentop.store.pricing import Price, PriceTable
from tokentop.store.usage.semantics import input_tokens

SYNTHETIC = "<synthetic>"  # Claude Code's placeholder model; not a model anyone pays for
FAST_SUFFIX = "-fast"  # ccusage's name for a fast-mode message's model
PRICED_EVENT_TYPE = "message_usage"  # tool calls and quota snapshots carry no cost
# ``tokentop_cost_computed``: 1 = priced by model id, re-priced by every reader with the
# table in force; 2 = priced at ingest by the agent's own names (``row_cost``), which
# readers take as stored (a ``pricing update`` re-prices it on the message's next ingest).
COMPUTED, AGENT_PRICED = 1, 2


class Pricer:
    """Prices by the report's model key: ``<model>-fast`` is ``<model>`` at fast-mode
    rates (unless the table knows a model by that very name)."""

    def __init__(self) -> None:
        self.table = PriceTable.load()
        self.contexts = self.table.context_thresholds  # what readers' ``calc`` counts
        self._memo: dict[str, tuple[Price | None, bool]] = {}

    def __call__(self, model: str) -> Price | None:
        return self.price(model)[0]

    def price(self, model: str) -> tuple[Price | None, bool]:
        """(the price, whether it is fast mode)."""
        found = self._memo.get(model)
        if found is None:
            found = (None, False)
            if model != SYNTHETIC:
                base = model.removesuffix(FAST_SUFFIX)
                exact = self.table.prices.get(model.strip().lower())
                if base != model and exact is None:
                    found = (self.table.lookup(base), True)
                else:
                    found = (self.table.lookup(model), False)
            self._memo[model] = found
        return found

    def cost(self, model: str, i: int, o: int, cw: int, cr: int, io: int = 0, oo: int = 0,
             cwo: int = 0, cro: int = 0, cw1h: int = 0, cw1ho: int = 0,
             calc: int = 1) -> float | None:
        """USD for sums of messages of one model key, or None when it is unpriced.
        ``cw`` is all cache writes, ``cw1h`` the 1-hour part (``cwo``: the 5-minute
        part's per-message excess); as ccusage's cost.rs, 1-hour writes cost 2x input.
        ``calc`` is the group's key from ``semantics.calc_sql``: how many long-context
        thresholds every message in it exceeds (plus one)."""
        price, fast = self.price(model)
        if price is None:
            return None
        c = price.context
        over = c is not None and calc > 1 and self.contexts[calc - 2] >= c.threshold
        return price.cost_from_sums(i, o, cw - cw1h, cr, io, oo, cwo, cro,
                                    cache_write_1h=cw1h, cache_write_1h_over=cw1ho,
                                    fast=fast, context_over=over)

    def cost_one(self, model: str, i: int, o: int, cw: int, cr: int,
                 cw1h: int = 0) -> float | None:
        """USD for one message (tiers per message)."""
        price, fast = self.price(model)
        if price is None:
            return None
        return price.cost(i, o, cw - cw1h, cr, cache_write_1h=cw1h, fast=fast)

    def row_cost(self, row: Sequence) -> tuple[float, int] | None:
        """(USD, ``tokentop_cost_computed`` marker) for one ``usage_events`` row in
        ingest's column order, or None when it is not a priced message or its model is
        unknown. An agent priced by names of its own (``agents.pricenames``) is priced
        here, per message, and marked ``AGENT_PRICED``: the readers' re-pricing by model
        id could not find those names (Kimi's even depends on the message's time)."""
        if row[10] != PRICED_EVENT_TYPE:
            return None
        model = row[11] or row[12] or "unknown"
        cr = row[17] or 0
        i = input_tokens(row[2], row[14], cr)
        o, cw, cw1h = row[15] or 0, row[18] or 0, row[27] or 0
        from tokentop.store.usage.agents.pricenames import price_names

        names = price_names(self.table, row[3], row[2], model, row[1] or "")
        if names is not None:
            found = self.table.lookup_first(names.names)
            if found is None:
                return None
            if names.cache_write_as_input:
                i, cw, cw1h = i + cw, 0, 0
            return found[1].cost(i, o, cw - cw1h, cr, cache_write_1h=cw1h), AGENT_PRICED
        if row[28] == "fast":
            model += FAST_SUFFIX
        cost = self.cost_one(model, i, o, cw, cr, cw1h)
        return None if cost is None else (cost, COMPUTED)


def backfill(conn: sqlite3.Connection) -> int:
    """Fill ``cost_usd`` of stored messages that have none (events stored before
    tokentop filled it), inside the caller's transaction; returns how many. One UPDATE
    with the pricer as an SQL function: the same code path as ingest, no row copied out."""
    from tokentop.store.usage.rollup import MODEL_EXPR

    pricer = Pricer()

    def cost(model: str, provider: str | None, i: int | None, o: int | None,
             cw: int | None, cr: int | None, cw1h: int | None) -> float | None:
        cr = cr or 0
        return pricer.cost_one(model, input_tokens(provider, i, cr), o or 0, cw or 0, cr,
                               cw1h or 0)

    conn.create_function("tokentop_event_cost", 7, cost, deterministic=True)
    conn.execute(
        "UPDATE usage_events SET tokentop_cost_computed = 1, cost_usd = tokentop_event_cost("
        f"{MODEL_EXPR}, provider_id, input_tokens, output_tokens, cache_write_tokens,"
        " cache_read_tokens, tokentop_cache_write_1h)"
        f" WHERE cost_usd IS NULL AND event_type = '{PRICED_EVENT_TYPE}'")
    # An unknown model got no cost: it is not "computed" either.
    conn.execute("UPDATE usage_events SET tokentop_cost_computed = NULL"
                 " WHERE tokentop_cost_computed = 1 AND cost_usd IS NULL")
    return conn.execute("SELECT COUNT(*) FROM usage_events"
                        " WHERE tokentop_cost_computed = 1").fetchone()[0]
