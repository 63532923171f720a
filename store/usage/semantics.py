"""How a stored ``usage_events`` row is counted: openusage's semantics, in one place.

openusage writes Codex rows with ``provider_id = 'codex'`` and Codex's own
``input_tokens``, which INCLUDE the cached input (``cache_read_tokens``): see
janekbaraniewski/openusage internal/providers/codex/telemetry_usage.go
(``InputTokens: delta.InputTokens, CacheReadTokens: delta.CachedInputTokens``). Claude
rows (``provider_id = 'anthropic'``) carry Anthropic's input, which excludes the cache.
tokentop's own Codex collector writes Codex rows the same way, so one rule serves both
stores; tokentop's older Codex rows (``provider_id = 'openai'``, input already without
the cache) are left as they are. openusage's read model drops ``status = 'error'`` rows
from every token and cost sum (internal/telemetry/usage_view_query_*.go:
``AND status != 'error'``); so does tokentop.

The SQL expressions name bare columns of ``usage_events``; the Python mirrors serve the
rollup's per-batch deltas, which must agree with the SQL to the token.
"""

from __future__ import annotations

INCLUSIVE_INPUT_PROVIDERS = ("codex",)

# Input tokens without the cached part, >= 0.
INPUT_SQL = (
    "(CASE WHEN provider_id IN ('codex') THEN"
    " MAX(COALESCE(input_tokens, 0) - COALESCE(cache_read_tokens, 0), 0)"
    " ELSE COALESCE(input_tokens, 0) END)"
)

# Rows that count towards tokens and cost.
COUNTED_SQL = "status != 'error'"


def input_tokens(provider_id: str | None, input_: int | None, cache_read: int | None) -> int:
    """:data:`INPUT_SQL` for one row."""
    i = input_ or 0
    if provider_id in INCLUSIVE_INPUT_PROVIDERS:
        return max(i - (cache_read or 0), 0)
    return i


def counted(status: str | None) -> bool:
    """:data:`COUNTED_SQL` for one row."""
    return status != "error"
