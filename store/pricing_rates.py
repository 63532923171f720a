"""USD from token sums and a model's rates: the one formula every price goes through.

Why a module of its own, with nothing but arithmetic: ``pricing.Price`` (the reports,
the dashboard) and the status line's compiled price cache (``pricing_cache``, which
must not pay for loading the price table and its dataclasses on every call) both price
with :func:`cost_from_sums`, so the two can never round differently.

``Rates`` is a price as plain values, in USD per million tokens: ``(input, output,
cache_write, cache_read, above, fast_multiplier, context)``, where ``above`` is the
per-kind tier ``(threshold, input, output, cache_write, cache_read)`` or None and
``context`` the whole-message long-context tier in the same shape or None.
"""

from __future__ import annotations

PER_MILLION = 1_000_000
# A 1-hour cache write costs twice the input price (a 5-minute one: ``cache_write``,
# 1.25x); ccusage's cost.rs applies the same rule, tiers included.
CACHE_WRITE_1H_INPUT_MULTIPLIER = 2.0

Tier = tuple[int, float, float, float, float]
Rates = tuple[float, float, float, float, Tier | None, float, Tier | None]


def cost_from_sums(rates: Rates, input: int, output: int, cache_write: int,
                   cache_read: int, input_over: int = 0, output_over: int = 0,
                   cache_write_over: int = 0, cache_read_over: int = 0, *,
                   cache_write_1h: int = 0, cache_write_1h_over: int = 0,
                   fast: bool = False, context_over: bool = False) -> float:
    """``pricing.Price.cost_from_sums`` (see there) for ``rates``."""
    rate_in, rate_out, rate_cw, rate_cr, t, fast_multiplier, c = rates
    if context_over and c is not None:
        usd = (input * c[1] + output * c[2] + cache_write * c[3] + cache_read * c[4]
               + cache_write_1h * c[1] * CACHE_WRITE_1H_INPUT_MULTIPLIER)
        return usd * (fast_multiplier if fast else 1.0) / PER_MILLION
    usd = (input * rate_in + output * rate_out + cache_write * rate_cw
           + cache_read * rate_cr
           + cache_write_1h * (rate_in * CACHE_WRITE_1H_INPUT_MULTIPLIER))
    if t is not None:
        usd += (input_over * (t[1] - rate_in) + output_over * (t[2] - rate_out)
                + cache_write_over * (t[3] - rate_cw)
                + cache_read_over * (t[4] - rate_cr)
                + cache_write_1h_over * (t[1] - rate_in)
                * CACHE_WRITE_1H_INPUT_MULTIPLIER)
    if fast:
        usd *= fast_multiplier
    return usd / PER_MILLION
