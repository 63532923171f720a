"""LiteLLM's model price table -> tokentop's price table (one converter, two callers).

``scripts/extract_litellm_prices.py`` (the bundled snapshot) and ``tokentop pricing
update`` (a newer table fetched by the user) both convert with ``convert``, so a bundled
table and an updated one can never disagree on what a LiteLLM row means.

The rules are ccusage 20.0.24's (``rust/crates/ccusage/src/pricing.rs``,
``load_json_with_overrides``): a row needs ``input_cost_per_token`` and
``output_cost_per_token``; a missing cache-write price is 1.25x input, a missing
cache-read price 0.1x input; the fast-mode multiplier is the row's
``provider_specific_entry.fast``, else ccusage's ``fast-multiplier-overrides.json``.
ccusage's built-in rows (``put_builtin_pricing``) then replace LiteLLM's for the same
ids, as ccusage inserts them after loading LiteLLM. Prices stay per token, as LiteLLM
writes them, so no rounding happens here.
"""

from __future__ import annotations

from typing import Any

FORMAT = "tokentop-prices/1"
MIN_MODELS = 50  # a "table" with fewer chat models is a broken download, not a table

# Providers whose chat models coding agents and their gateways use. ccusage loads all
# of LiteLLM; these keep the bundled file small while every id ccusage resolves for
# these agents still resolves to the same row (tests/usage/test_pricing_parity.py).
PROVIDERS = frozenset({
    "anthropic", "openai", "gemini", "vertex_ai-language-models",
    "vertex_ai-anthropic_models", "xai", "deepseek", "mistral", "moonshot", "zai",
    "openrouter", "bedrock", "bedrock_converse", "azure", "github_copilot",
})
MODES = frozenset({"chat", "responses", "completion"})

# ccusage 20.0.24's fast-multiplier-overrides.json, as embedded in its binary
# (tests/support/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage; the
# source copy is rust/crates/ccusage/src/fast-multiplier-overrides.json).
FAST_EXACT = {"gpt-5.6-sol": 2.0, "gpt-5.6-terra": 2.0, "gpt-5.6-luna": 2.0, "gpt-5.5": 2.5,
              "gpt-5.4": 2.0, "gpt-5.3-codex": 2.0, "gpt-6-astra": 2.0}
FAST_NORMALIZED_PREFIX = {"claude-opus-4-6": 6.0, "claude-opus-4-7": 6.0,
                          "claude-opus-4-8": 2.0}


def _builtin(i: float, o: float, cw: float, cr: float, provider: str,
             tier: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"provider": provider, "mode": "chat", "input": i, "output": o,
                           "cache_write": cw, "cache_read": cr, "origin": "ccusage-builtin"}
    if tier is not None:
        row.update(zip(("input_above_200k", "output_above_200k", "cache_write_above_200k",
                        "cache_read_above_200k"), tier, strict=True))
    return row


# ccusage 20.0.24's built-in rows (``put_builtin_pricing``; the id list is in its binary,
# the values measured by pricing one message of each token kind with the pinned binary,
# ``--offline``): rows it inserts over LiteLLM's. USD/token. Its GLM rows write cache
# for free; DeepSeek V4's write cache at the input price.
CCUSAGE_BUILTINS: dict[str, dict[str, Any]] = {
    "claude-opus-4-5": _builtin(5.0e-6, 25.0e-6, 6.25e-6, 0.5e-6, "anthropic"),
    "claude-opus-4-6": _builtin(5.0e-6, 25.0e-6, 6.25e-6, 0.5e-6, "anthropic"),
    "claude-opus-4-7": _builtin(5.0e-6, 25.0e-6, 6.25e-6, 0.5e-6, "anthropic"),
    "claude-opus-4-8": _builtin(5.0e-6, 25.0e-6, 6.25e-6, 0.5e-6, "anthropic"),
    "claude-opus-4": _builtin(15.0e-6, 75.0e-6, 18.75e-6, 1.5e-6, "anthropic"),
    "claude-sonnet-4-6": _builtin(3.0e-6, 15.0e-6, 3.75e-6, 0.3e-6, "anthropic"),
    "claude-sonnet-4": _builtin(3.0e-6, 15.0e-6, 3.75e-6, 0.3e-6, "anthropic",
                                (6.0e-6, 22.5e-6, 7.5e-6, 0.6e-6)),
    "claude-3-5-haiku-20241022": _builtin(0.8e-6, 4.0e-6, 1.0e-6, 0.08e-6, "anthropic"),
    "claude-3-opus": _builtin(15.0e-6, 75.0e-6, 18.75e-6, 1.5e-6, "anthropic"),
    "claude-3-sonnet": _builtin(3.0e-6, 15.0e-6, 3.75e-6, 0.3e-6, "anthropic"),
    "claude-3-haiku": _builtin(0.25e-6, 1.25e-6, 0.3e-6, 0.03e-6, "anthropic"),
    "gpt-5": _builtin(1.25e-6, 10.0e-6, 1.5625e-6, 0.125e-6, "openai"),
    "gpt-5.5": _builtin(5.0e-6, 30.0e-6, 6.25e-6, 0.5e-6, "openai"),
    # Grok 4.3: the bundled LiteLLM has no xAI row for it and models.dev's reads cache at
    # $0.20/M; the pinned binary charges $1.25 in, $2.50 out, $1.25 cache write, $0.125
    # cache read per M (``ccusage grok`` and ``ccusage hermes``, one message per kind),
    # and models.dev's whole-message tier above 200k (context_tiers) on top.
    "grok-4.3": _builtin(1.25e-6, 2.5e-6, 1.25e-6, 0.125e-6, "xai"),
    "moonshot/kimi-k2.5": _builtin(0.6e-6, 3.0e-6, 0.75e-6, 0.1e-6, "moonshot"),
    "moonshot/kimi-k2.6": _builtin(0.95e-6, 4.0e-6, 1.1875e-6, 0.16e-6, "moonshot"),
    "gpt-5.1": _builtin(1.25e-6, 10.0e-6, 1.5625e-6, 0.125e-6, "openai"),
    "gpt-5.1-codex": _builtin(1.25e-6, 10.0e-6, 1.25e-6, 0.125e-6, "openai"),
    "gpt-5.2-codex": _builtin(1.75e-6, 14.0e-6, 1.75e-6, 0.175e-6, "openai"),
    "gpt-5.3-codex": _builtin(1.75e-6, 14.0e-6, 2.1875e-6, 0.175e-6, "openai"),
    "gpt-5.2": _builtin(1.75e-6, 14.0e-6, 1.75e-6, 0.175e-6, "openai"),
    "gpt-5.4": _builtin(2.5e-6, 15.0e-6, 3.125e-6, 0.25e-6, "openai"),
    "gpt-5.4-mini": _builtin(0.75e-6, 4.5e-6, 0.9375e-6, 0.075e-6, "openai"),
    "gpt-5.4-nano": _builtin(0.2e-6, 1.25e-6, 0.25e-6, 0.02e-6, "openai"),
    "gpt-5.6-sol": _builtin(4.0e-6, 20.0e-6, 5.0e-6, 0.4e-6, "openai"),
    "gpt-5.6-terra": _builtin(2.0e-6, 12.0e-6, 2.5e-6, 0.2e-6, "openai"),
    "gpt-5.6-luna": _builtin(0.2e-6, 1.2e-6, 0.25e-6, 0.02e-6, "openai"),
    "glm-4.5": _builtin(0.6e-6, 2.2e-6, 0.0e-6, 0.11e-6, "zai"),
    "zai/glm-4.5": _builtin(0.6e-6, 2.2e-6, 0.0e-6, 0.11e-6, "zai"),
    "zai/glm-4.5-x": _builtin(2.2e-6, 8.9e-6, 0.0e-6, 0.45e-6, "zai"),
    "zai/glm-4.5-air": _builtin(0.2e-6, 1.1e-6, 0.0e-6, 0.03e-6, "zai"),
    "zai/glm-4.5v": _builtin(0.6e-6, 1.8e-6, 0.0e-6, 0.11e-6, "zai"),
    "zai/glm-4-32b-0414-128k": _builtin(0.1e-6, 0.1e-6, 0.0e-6, 0.0e-6, "zai"),
    "zai/glm-4.5-flash": _builtin(0.0e-6, 0.0e-6, 0.0e-6, 0.0e-6, "zai"),
    "glm-4.6": _builtin(0.6e-6, 2.2e-6, 0.0e-6, 0.11e-6, "zai"),
    "glm-4.7": _builtin(0.6e-6, 2.2e-6, 0.0e-6, 0.11e-6, "zai"),
    "glm-5": _builtin(1.0e-6, 3.2e-6, 0.0e-6, 0.2e-6, "zai"),
    "glm-5-turbo": _builtin(1.2e-6, 4.0e-6, 0.0e-6, 0.24e-6, "zai"),
    "glm-5.1": _builtin(1.4e-6, 4.4e-6, 0.0e-6, 0.26e-6, "zai"),
    # exact ids only: "deepseek/deepseek-v4-pro" is models.dev's row in ccusage, not this
    "deepseek-v4-flash": {**_builtin(0.14e-6, 0.28e-6, 0.14e-6, 0.0028e-6, "deepseek"),
                          "exact_only": True},
    "deepseek-v4-pro": {**_builtin(0.435e-6, 0.87e-6, 0.435e-6, 0.003625e-6, "deepseek"),
                        "exact_only": True},
}


def fast_multiplier_override(model: str) -> float | None:
    """ccusage's ``FastMultiplierOverrides::multiplier_for``."""
    if model in FAST_EXACT:
        return FAST_EXACT[model]
    normalized = model.replace(".", "-").replace("@", "-")
    for part in normalized.replace(":", "/").split("/"):
        for base, multiplier in FAST_NORMALIZED_PREFIX.items():
            index = part.rfind(base)
            if index < 0:
                continue
            suffix = part[index:]
            if suffix == base or suffix[len(base):len(base) + 1] == "-":
                return multiplier
    return None


def _num(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def convert_row(model: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """One LiteLLM row -> tokentop's, or ``None`` when it has no token prices."""
    i, o = _num(row, "input_cost_per_token"), _num(row, "output_cost_per_token")
    if i is None or o is None:
        return None
    out: dict[str, Any] = {
        "provider": str(row.get("litellm_provider") or ""), "mode": str(row.get("mode") or ""),
        "input": i, "output": o,
        "cache_write": _or(_num(row, "cache_creation_input_token_cost"), i * 1.25),
        "cache_read": _or(_num(row, "cache_read_input_token_cost"), i * 0.1),
    }
    for src, dst in (("input_cost_per_token_above_200k_tokens", "input_above_200k"),
                     ("output_cost_per_token_above_200k_tokens", "output_above_200k"),
                     ("cache_creation_input_token_cost_above_200k_tokens",
                      "cache_write_above_200k"),
                     ("cache_read_input_token_cost_above_200k_tokens", "cache_read_above_200k"),
                     ("cache_creation_input_token_cost_above_1hr", "cache_write_1h")):
        value = _num(row, src)
        if value is not None:
            out[dst] = value
    pse = row.get("provider_specific_entry")
    fast = _num(pse, "fast") if isinstance(pse, dict) else None
    if fast is None:
        fast = fast_multiplier_override(model)
    if fast is not None and fast != 1.0:
        out["fast_multiplier"] = fast
    return out


def convert(raw: Any, *, source: str, date: str, version: str | None = None,
            all_providers: bool = False) -> dict[str, Any]:
    """LiteLLM's whole JSON -> tokentop's table document. Raises ``ValueError`` (one
    line) when ``raw`` is not a LiteLLM table: not an object, or too few priced models."""
    if not isinstance(raw, dict):
        raise ValueError("not a LiteLLM price table (top level is not a JSON object)")
    models: dict[str, dict[str, Any]] = {}
    for name, row in raw.items():
        if not isinstance(row, dict) or row.get("mode") not in MODES:
            continue
        if not all_providers and row.get("litellm_provider") not in PROVIDERS:
            continue
        converted = convert_row(name, row)
        if converted is not None:
            models[name] = converted
    if len(models) < MIN_MODELS:
        raise ValueError(f"only {len(models)} priced chat models (need at least {MIN_MODELS}):"
                         " not a LiteLLM price table")
    for name, row in CCUSAGE_BUILTINS.items():
        merged = dict(row)
        fast = fast_multiplier_override(name)
        if fast is not None:
            merged["fast_multiplier"] = fast
        models[name] = merged
    return {"format": FORMAT, "source": source, "date": date, "litellm_version": version,
            "unit": "USD per token", "tier_threshold_tokens": 200_000,
            "models": dict(sorted(models.items()))}


def validate(doc: Any) -> dict[str, Any]:
    """A converted document as read back from disk, checked; ``ValueError`` if not."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} table")
    models = doc.get("models")
    if not isinstance(models, dict) or len(models) < MIN_MODELS:
        raise ValueError("table has too few models")
    for name, row in models.items():
        if not isinstance(row, dict) or _num(row, "input") is None or _num(row, "output") is None:
            raise ValueError(f"model {name!r} has no input/output price")
    return doc
