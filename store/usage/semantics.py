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
``AND status != 'error'``); so does tokentop (see :data:`COUNTED_SQL`).

``cost_usd`` is openusage's column, so tokentop fills it for openusage's readers with
the cost it computes from its price table (``tokentop_cost_computed = 1`` marks those,
``= 2`` the ones priced per message by an agent's own price names; see
``tokentop.store.usage.costing``). tokentop's own readers price a row marked 1 afresh
with the table in force (a ``pricing update`` or an override re-prices history) and
take ``cost_usd`` as given only when the agent wrote it (:func:`calc_sql`,
:data:`GIVEN_COST_SQL`). In a foreign store the marker column does not exist and reads
as NULL (``reports.for_store``): every cost there is the writer's own.

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

# Rows that are read. An error row that carries usage is left out, as openusage leaves
# it out; one without (Claude's API-error messages, which tokentop's collector stores
# as status 'error' with zero tokens) adds nothing to any sum and stays, because ccusage
# counts it as a block entry (tests/usage/test_ccusage_parity.py, blocks).
COUNTED_SQL = (
    "(status != 'error' OR COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)"
    " + COALESCE(cache_read_tokens, 0) + COALESCE(cache_write_tokens, 0) = 0"
    " AND COALESCE(cost_usd, 0) = 0)"
)

# The cost the source gave, or tokentop's per-message agent-priced one (marker 2); NULL
# when there is none or tokentop computed it by model id (marker 1), which readers redo.
GIVEN_COST_SQL = "(CASE WHEN COALESCE(tokentop_cost_computed, 0) = 1 THEN NULL ELSE cost_usd END)"
# A message's prompt: what a long-context threshold is compared with (ccusage 20.0.24:
# input + cache writes + cache reads; Codex's input already holds its cached part).
PROMPT_SQL = (f"({INPUT_SQL} + COALESCE(cache_write_tokens, 0)"
              " + COALESCE(cache_read_tokens, 0))")


def calc_sql(contexts: tuple[int, ...]) -> str:
    """The "priced how?" key every reader groups by: 0 when the source gave the cost,
    else 1 + how many of the table's long-context thresholds (``contexts``, ascending)
    the message's prompt exceeds. A group is then wholly under or over any model's
    threshold, so its sums price exactly (``costing.Pricer.cost``). The ladder tests
    the smallest threshold first: most prompts stop at the first test."""
    ladder = "".join(f" WHEN {PROMPT_SQL} <= {int(t)} THEN {i + 1}"
                     for i, t in enumerate(contexts))
    return (f"(CASE WHEN {GIVEN_COST_SQL} IS NOT NULL THEN 0{ladder}"
            f" ELSE {len(contexts) + 1} END)")


def calc_of(given: float | None, prompt: int, contexts: tuple[int, ...]) -> int:
    """:func:`calc_sql` for one row."""
    if given is not None:
        return 0
    return 1 + sum(1 for t in contexts if prompt > t)


def input_tokens(provider_id: str | None, input_: int | None, cache_read: int | None) -> int:
    """:data:`INPUT_SQL` for one row."""
    i = input_ or 0
    if provider_id in INCLUSIVE_INPUT_PROVIDERS:
        return max(i - (cache_read or 0), 0)
    return i


def counted(status: str | None, input_: int | None, output: int | None,
            cache_read: int | None, cache_write: int | None, cost: float | None) -> bool:
    """:data:`COUNTED_SQL` for one row."""
    return status != "error" or (
        (input_ or 0) + (output or 0) + (cache_read or 0) + (cache_write or 0) == 0
        and not cost)


def given_cost(cost: float | None, computed: int | None) -> float | None:
    """:data:`GIVEN_COST_SQL` for one row: None when tokentop computed the cost by model
    id (marker 1); an agent-priced cost (marker 2, ``costing``) is read as stored."""
    return None if computed == 1 else cost
