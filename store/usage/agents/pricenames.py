"""Which price-table names an agent's message is priced by, in which order (ccusage's
per-agent ``model_candidates``).

ccusage 20.0.24 does not price every agent's model id as written: several adapters try a
list of names and take the first the table prices (``PriceTable.lookup_first``). The
name shown stays the model id; only the price differs. The rules, per agent:

- Hermes (``adapter/hermes/parser.rs`` ``model_candidates``): ``<provider>/<model>``
  first when the provider is known (not ``hermes``), then ``<model>``. So a Hermes
  ``gpt-5`` row billed by ``openai`` is priced as ``openai/gpt-5``, whose longest match
  in the table is not ``gpt-5``'s row.
- Droid (``adapter/droid/parser.rs``): the model as normalized (``gpt-5.1-codex`` is
  stored ``gpt-5-1-codex``), then ``<prefix><model>`` for the provider's prefixes
  (``openai/``, ``openrouter/openai/``; ``anthropic/``, ``openrouter/anthropic/``;
  ``google/``, ``vertex_ai/``, ``openrouter/google/``; ``xai/``, ``openrouter/x-ai/``;
  else ``<provider>/``, ``openrouter/<provider>/``). The pinned 20.0.24 binary prices a
  normalized OpenAI ``gpt-`` name that is not a table row at its dotted version's rates
  (``gpt-5-1-codex`` $1.25/$10 per M as ``gpt-5.1-codex``, ``gpt-4-1`` $2/$8 as
  ``gpt-4.1``, ``gpt-5-4-mini``, ``gpt-5-5``, ``gpt-5-2-pro`` likewise), where the
  dashed name's longest fuzzy match is ``openrouter/openai/gpt-5.1-codex-mini`` ($0.25/$2)
  or a ``:batch`` row at half price; its Gemini names keep the dashed match
  (``gemini-2-5-flash`` is $0.10/$0.40 in ccusage, not ``gemini-2.5-flash``'s $0.30/$2.50).
  So: a table row first, then (``gpt-`` only) the dotted name, then the rest. Measured
  on 28 Droid model names, one message per token kind: 25 equal; ``gpt-5-1-codex``,
  ``gpt-5-2`` and ``gpt-5-2-codex`` differ in the cache-write rate only (ccusage $1.5625,
  $2.1875, $2.1875 per M; tokentop the built-in rows' $1.25, $1.75, $1.75), which
  OpenAI's usage does not report (Droid's OpenAI sessions write no cache).
- Kimi (``adapter/kimi/parser.rs``): ``kimi-for-coding`` (Kimi's default, which no table
  lists) is ``moonshot/kimi-k2.5`` before 2026-04-20T15:28:10.072Z and
  ``moonshot/kimi-k2.6`` from then on (``KIMI_FOR_CODING_K2_6_CUTOFF_MS``); then
  ``moonshot/<model>``, ``kimi/<model>``, ``<model>``. The price depends on the
  message's time, so it is computed per message at ingest (``costing``).
- ZCode (``adapter/zcode/parser.rs`` ``pricing_model``): the model id when it is a
  table row, else ``zai/<model>``, ``zai/<lower>``, ``<lower>``, ``<model>``. ZCode
  counts cache writes inside its input, and the pinned binary prices them as input
  tokens (150,000 input + 150,000 cache writes of claude-sonnet-4-5 cost $1.20, the
  price of 300,000 input past the 200k tier; glm-4.6's writes cost its $0.60/M input).

Every other agent is priced by its model id alone (``None`` here).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tokentop.store.pricing import PriceTable


@dataclass(frozen=True, slots=True)
class PriceNames:
    """The names to try, in order, and how the agent's tokens are priced."""

    names: tuple[str, ...]
    cache_write_as_input: bool = False  # ZCode: cache writes cost what input costs


Rule = Callable[[PriceTable, str, str, str], PriceNames]

# Kimi's kimi-for-coding became K2.6 at this instant (ccusage's cutoff, 1776698890072 ms);
# as the store's fixed-width occurred_at text, so a text comparison decides.
KIMI_DEFAULT = "kimi-for-coding"
KIMI_K2_6_FROM = "2026-04-20T15:28:10.072000000Z"
_VERSION_DASH = re.compile(r"(?<=\d)-(?=\d)")
_DROID_PREFIXES = {
    "anthropic": ("anthropic/", "openrouter/anthropic/"),
    "openai": ("openai/", "openrouter/openai/"),
    "google": ("google/", "vertex_ai/", "openrouter/google/"),
    "xai": ("xai/", "openrouter/x-ai/"),
    "unknown": (),
}


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def hermes(table: PriceTable, provider: str, model: str, at: str) -> PriceNames:
    first = [f"{provider}/{model}"] if provider and provider != "hermes" else []
    return PriceNames(_unique([*first, model]))


def droid(table: PriceTable, provider: str, model: str, at: str) -> PriceNames:
    prefixes = _DROID_PREFIXES.get(provider or "unknown",
                                   (f"{provider}/", f"openrouter/{provider}/"))
    rest = [model, *(p + model for p in prefixes)]
    if table.has_exact(model) or not model.startswith("gpt-"):
        return PriceNames(_unique(rest))
    return PriceNames(_unique([_VERSION_DASH.sub(".", model), *rest]))


def kimi(table: PriceTable, provider: str, model: str, at: str) -> PriceNames:
    first = []
    if model == KIMI_DEFAULT:
        first = ["moonshot/kimi-k2.5" if at < KIMI_K2_6_FROM else "moonshot/kimi-k2.6"]
    return PriceNames(_unique([*first, f"moonshot/{model}", f"kimi/{model}", model]))


def zcode(table: PriceTable, provider: str, model: str, at: str) -> PriceNames:
    if table.has_exact(model):
        return PriceNames((model,), cache_write_as_input=True)
    lower = model.lower()
    return PriceNames(_unique([f"zai/{model}", f"zai/{lower}", lower, model]),
                      cache_write_as_input=True)


# By the events' ``agent_name`` (the agent's ``system``).
RULES: dict[str, Rule] = {"hermes": hermes, "droid": droid, "kimi_cli": kimi,
                          "zcode": zcode}


def price_names(table: PriceTable, agent: str | None, provider: str | None, model: str,
                occurred_at: str) -> PriceNames | None:
    """The agent's names for ``model``, or ``None`` when it is priced by its id alone."""
    rule = RULES.get(agent or "")
    return None if rule is None else rule(table, provider or "", model, occurred_at)
