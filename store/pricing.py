"""Tokens -> USD from a bundled, dated price table (``pricing_data.json``).

The prices are the ones ccusage uses offline (its embedded LiteLLM snapshot), so a
tokentop report and a ccusage report of the same logs agree. The table is dated and
never fetched at run time: a report must not change because a web page did.

An unknown model has no price, not a price of zero: ``lookup`` returns ``None`` and
callers list the model as unpriced instead of adding $0 to a total.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

PER_MILLION = 1_000_000
# A 1-hour cache write costs twice the input price (a 5-minute one: ``cache_write``,
# 1.25x); ccusage's cost.rs applies the same rule, tiers included.
CACHE_WRITE_1H_INPUT_MULTIPLIER = 2.0

# Prefixes a gateway or SDK puts in front of a model id ("anthropic/claude-...",
# Bedrock's "us.anthropic.claude-..."). Stripped before matching.
_PROVIDER_PREFIX = re.compile(
    r"^(?:(?:openrouter|vertex_ai|bedrock|azure|litellm)/)?"
    r"(?:(?:us|eu|apac|global)\.)?"
    r"(?:anthropic|openai|google|gemini|google-ai-studio|google-vertex|models)[/.]"
)
# Dated snapshots ("-20250929", "-2025-08-07"), Bedrock versions ("-v1:0"), Vertex
# versions ("@20250514") and Claude Code's context markers ("[1m]").
_SUFFIX = re.compile(r"(?:\[[^\]]*\]|@[\w.-]+|-v\d+(?::\d+)?|-\d{8}|-\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class Tier:
    """Prices (USD per million tokens) for the tokens of a kind beyond ``threshold``."""

    threshold: int
    input: float
    output: float
    cache_write: float
    cache_read: float


@dataclass(frozen=True, slots=True)
class Price:
    """One model's prices in USD per million tokens."""

    model: str
    provider: str
    input: float
    output: float
    cache_write: float
    cache_read: float
    above: Tier | None = None
    fast_multiplier: float = 1.0  # fast mode (Claude ``usage.speed == "fast"``): x this

    @property
    def cache_write_1h(self) -> float:
        return self.input * CACHE_WRITE_1H_INPUT_MULTIPLIER

    def cost(self, input: int = 0, output: int = 0, cache_write: int = 0,
             cache_read: int = 0, *, cache_write_1h: int = 0, fast: bool = False) -> float:
        """USD for one message's tokens.

        ``cache_write`` is the 5-minute cache writes (or all of them when the log does
        not split them), ``cache_write_1h`` the 1-hour ones. Tiered like ccusage: for
        each kind separately, tokens beyond the threshold cost the higher price. That is
        per message, so call this once per message (or use ``cost_from_sums`` with the
        per-message excess summed up front). ``fast`` applies the fast-mode multiplier
        to the whole message.
        """
        t = self.above
        if t is None:
            return self.cost_from_sums(input, output, cache_write, cache_read,
                                       cache_write_1h=cache_write_1h, fast=fast)
        return self.cost_from_sums(
            input, output, cache_write, cache_read,
            max(input - t.threshold, 0), max(output - t.threshold, 0),
            max(cache_write - t.threshold, 0), max(cache_read - t.threshold, 0),
            cache_write_1h=cache_write_1h,
            cache_write_1h_over=max(cache_write_1h - t.threshold, 0), fast=fast,
        )

    def cost_from_sums(self, input: int, output: int, cache_write: int, cache_read: int,
                       input_over: int = 0, output_over: int = 0, cache_write_over: int = 0,
                       cache_read_over: int = 0, *, cache_write_1h: int = 0,
                       cache_write_1h_over: int = 0, fast: bool = False) -> float:
        """USD for many messages at once, from token sums and summed per-message excess
        over the tier threshold (what SQL can add up without a row-by-row loop).

        ``fast``: the messages summed were all fast-mode ones (sum them apart)."""
        usd = (input * self.input + output * self.output + cache_write * self.cache_write
               + cache_read * self.cache_read + cache_write_1h * self.cache_write_1h)
        t = self.above
        if t is not None:
            usd += (input_over * (t.input - self.input) + output_over * (t.output - self.output)
                    + cache_write_over * (t.cache_write - self.cache_write)
                    + cache_read_over * (t.cache_read - self.cache_read)
                    + cache_write_1h_over * (t.input - self.input)
                    * CACHE_WRITE_1H_INPUT_MULTIPLIER)
        if fast:
            usd *= self.fast_multiplier
        return usd / PER_MILLION

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model, "provider": self.provider, "input": self.input,
            "output": self.output, "cacheWrite": self.cache_write, "cacheRead": self.cache_read,
        }
        if self.above is not None:
            out["aboveTokens"] = self.above.threshold
            out["above"] = {"input": self.above.input, "output": self.above.output,
                            "cacheWrite": self.above.cache_write,
                            "cacheRead": self.above.cache_read}
        return out


def normalize(model: str) -> str:
    """The bare, lower-case model id: provider prefix and version suffixes removed."""
    name = model.strip().lower()
    name = _PROVIDER_PREFIX.sub("", name)
    while True:
        stripped = _SUFFIX.sub("", name)
        if stripped == name:
            return name
        name = stripped


class PriceTable:
    """The bundled table. ``load()`` reads it once per process."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.date: str = data["date"]
        self.source: str = data.get("source", "")
        threshold = int(data.get("tier_threshold_tokens", 200_000))
        self.tier_threshold = threshold  # the same for every tiered model, as in ccusage
        self.prices: dict[str, Price] = {}
        for name, row in data["models"].items():
            above = row.get("above_200k")
            self.prices[name] = Price(
                model=name, provider=row["provider"], input=float(row["input"]),
                output=float(row["output"]), cache_write=float(row.get("cache_write") or 0),
                cache_read=float(row.get("cache_read") or 0),
                above=None if above is None else Tier(
                    threshold, float(above["input"]), float(above["output"]),
                    float(above.get("cache_write") or 0), float(above.get("cache_read") or 0)),
                fast_multiplier=float(row.get("fast_multiplier") or 1.0),
            )
        self.aliases: dict[str, str] = dict(data.get("aliases", {}))
        # Longest first, so "gpt-5-mini-x" matches gpt-5-mini before gpt-5.
        self._by_length = sorted(self.prices, key=len, reverse=True)
        self._memo: dict[str, Price | None] = {}

    @classmethod
    def load(cls) -> PriceTable:
        return _load()

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model``, or ``None`` when the table does not know it.

        Order: exact id, alias, the id without provider prefix and dated suffix, then
        the longest known id that the name starts with followed by ``-`` (so
        "claude-opus-4-5-thinking" is opus 4.5, but "gpt-5.7" is not gpt-5).
        """
        if not model:
            return None
        try:
            return self._memo[model]
        except KeyError:
            pass
        found = self._find(model)
        self._memo[model] = found
        return found

    def _find(self, model: str) -> Price | None:
        raw = model.strip().lower()
        for name in (raw, normalize(raw)):
            if name in self.prices:
                return self.prices[name]
            if name in self.aliases:
                return self.prices.get(self.aliases[name])
        name = normalize(raw)
        for known in self._by_length:
            if name.startswith(known + "-"):
                return self.prices[known]
        for alias, target in self.aliases.items():
            if name.startswith(alias + "-"):
                return self.prices.get(target)
        return None


@cache
def _load() -> PriceTable:
    data = resources.files("tokentop.store").joinpath("pricing_data.json")
    text = data.read_text(encoding="utf-8")
    return PriceTable(json.loads(text))
