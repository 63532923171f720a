"""Tokens -> USD from a dated price table: LiteLLM's, bundled or updated by the user.

Which table is in force (``PriceTable.load``): the one ``tokentop pricing update`` kept
in the state dir if there is one and it reads, else the bundled ``pricing_data.json``
(a LiteLLM wheel snapshot, ``scripts/extract_litellm_prices.py``); then the user's
overrides file (``pricing_overrides``) on top. Nothing is fetched while reporting: a
report changes only when the user updates the table or edits the overrides.

Model ids resolve as ccusage 20.0.24 resolves them (``pricing.rs`` ``find``), so a
tokentop report and ``ccusage --offline`` price the same logs the same.

An unknown model has no price, not a price of zero: ``lookup`` returns ``None`` and
callers list the model as unpriced instead of adding $0 to a total.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokentop.store.pricing_litellm import validate
from tokentop.store.pricing_rates import (
    CACHE_WRITE_1H_INPUT_MULTIPLIER,
    PER_MILLION,
    Rates,
    cost_from_sums,
)

UPDATED_NAME = "pricing.json"  # in tokentop's state dir, written by ``pricing update``
# ccusage's ``pricing_alias``: Codex log labels no price source publishes.
_CCUSAGE_ALIASES = {"gpt-5.3-spark": "gpt-5.3-codex-spark"}
_DATE_SUFFIX_DIGITS = 8  # "-20250929" is a dated alias; "-4-5" a version


@dataclass(frozen=True, slots=True)
class Tier:
    """Prices (USD per million tokens) for the tokens of a kind beyond ``threshold``."""

    threshold: int
    input: float
    output: float
    cache_write: float
    cache_read: float


@dataclass(frozen=True, slots=True)
class ContextTier:
    """A long-context price (models.dev's ``tiers``, as ccusage 20.0.24 applies them):
    once a message's prompt (input + cache writes + cache reads) exceeds ``threshold``,
    the WHOLE message, output included, costs these rates (USD per million tokens);
    1-hour cache writes cost twice the tier's input. Measured against the pinned
    ccusage: gpt-5.4 at 272,000 prompt tokens is $2.50/M input, at 272,001 $5.00/M for
    all of it."""

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
    context: ContextTier | None = None  # whole-message long-context price, if any

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
        c = self.context
        if c is not None:
            over = input + cache_write + cache_write_1h + cache_read > c.threshold
            return self.cost_from_sums(input, output, cache_write, cache_read,
                                       cache_write_1h=cache_write_1h, fast=fast,
                                       context_over=over)
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
                       cache_write_1h_over: int = 0, fast: bool = False,
                       context_over: bool = False) -> float:
        """USD for many messages at once, from token sums and summed per-message excess
        over the tier threshold (what SQL can add up without a row-by-row loop).

        ``fast``: the messages summed were all fast-mode ones (sum them apart);
        ``context_over``: all of them had a prompt beyond the long-context threshold
        (readers group messages by which thresholds their prompt exceeds, see
        ``PriceTable.context_thresholds``). A model with a long-context tier has no
        per-kind tier (the table attaches one only to rows without)."""
        return cost_from_sums(self.rates(), input, output, cache_write, cache_read,
                              input_over, output_over, cache_write_over, cache_read_over,
                              cache_write_1h=cache_write_1h,
                              cache_write_1h_over=cache_write_1h_over, fast=fast,
                              context_over=context_over)

    def rates(self) -> Rates:
        """This price as plain values (``pricing_rates.Rates``)."""
        t, c = self.above, self.context
        return (self.input, self.output, self.cache_write, self.cache_read,
                None if t is None else (t.threshold, t.input, t.output, t.cache_write,
                                        t.cache_read),
                self.fast_multiplier,
                None if c is None else (c.threshold, c.input, c.output, c.cache_write,
                                        c.cache_read))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model, "provider": self.provider, "input": self.input,
            "output": self.output, "cacheWrite": self.cache_write, "cacheRead": self.cache_read,
        }
        if self.fast_multiplier != 1.0:
            out["fastMultiplier"] = self.fast_multiplier
        if self.context is not None:
            c = self.context
            out["contextAboveTokens"] = c.threshold
            out["contextAbove"] = {"input": c.input, "output": c.output,
                                   "cacheWrite": c.cache_write, "cacheRead": c.cache_read}
        if self.above is not None:
            out["aboveTokens"] = self.above.threshold
            out["above"] = {"input": self.above.input, "output": self.above.output,
                            "cacheWrite": self.above.cache_write,
                            "cacheRead": self.above.cache_read}
        return out


def _is_boundary(ch: str) -> bool:
    return not (ch.isascii() and ch.isalnum())


def _suffix_allows(key: str, suffix: str) -> bool:
    """ccusage's ``suffix_allows_pricing_key_match``: "gpt-5" is not in "gpt-5.5" (a
    version follows), but "claude-sonnet-4-5" is in "claude-sonnet-4-5-20250929" (a date)."""
    if not suffix:
        return True
    if not _is_boundary(suffix[0]):
        return False
    if not key[-1:].isdigit() or suffix[0] not in "-.":
        return True
    rest = suffix[1:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if digits == 0:
        return True
    after = rest[digits:digits + 1]
    return digits == _DATE_SUFFIX_DIGITS and (not after or _is_boundary(after))


def _contains_key(value: str, key: str) -> bool:
    """ccusage's ``contains_pricing_key``: ``key`` in ``value`` on non-alphanumeric
    boundaries."""
    start = value.find(key)
    while start >= 0:
        if (start == 0 or _is_boundary(value[start - 1])) and _suffix_allows(
                key, value[start + len(key):]):
            return True
        start = value.find(key, start + len(key))  # as Rust's match_indices
    return False


def _normalized(value: str) -> str:
    return value.replace(".", "-").replace("@", "-")


def _key_matches(candidate: str, model: str, normalized_model: str) -> bool:
    if _contains_key(model, candidate) or _contains_key(candidate, model):
        return True
    nc = _normalized(candidate)
    return _contains_key(normalized_model, nc) or _contains_key(nc, normalized_model)


def _longest_match(candidates: list[str], model: str) -> str | None:
    """Of ``candidates``, the longest that matches ``model`` (``_key_matches``; ties:
    the first in sort order), or None. A key can match only where one of the two, as
    given or normalised, is a substring of the other: that test, in C, passes over the
    ~2,000 keys that cannot before the boundary rules run (a model the table does not
    hold as such cost a report ~5 ms, and one report asks for several)."""
    nm = _normalized(model)
    best: str | None = None
    for candidate in candidates:
        if not (candidate in model or model in candidate):
            nc = _normalized(candidate)
            if not (nc in nm or nm in nc):
                continue
        if not _key_matches(candidate, model, nm):
            continue
        if best is None or len(candidate) > len(best) or (
                len(candidate) == len(best) and candidate < best):
            best = candidate
    return best


def _price(name: str, row: dict[str, Any], threshold: int,
           context: dict[str, Any] | None = None) -> Price:
    """A table row (USD per token) -> ``Price`` (USD per million tokens). ``context``
    is the model's long-context tier row, if the table has one: it applies only to a
    row without per-kind tier prices of its own (ccusage 20.0.24 prices its built-in
    claude-sonnet-4 per kind although models.dev gives it a context tier)."""
    def per_m(key: str, default: float | None = None) -> float | None:
        value = row.get(key)
        return default if value is None else float(value) * PER_MILLION

    inp, out = per_m("input"), per_m("output")
    assert inp is not None and out is not None  # validate() checked both
    cw = per_m("cache_write", inp * 1.25)
    cr = per_m("cache_read", inp * 0.1)
    assert cw is not None and cr is not None
    tiered = [per_m(k) for k in ("input_above_200k", "output_above_200k",
                                 "cache_write_above_200k", "cache_read_above_200k")]
    above = None
    if any(v is not None for v in tiered):
        # ccusage tiers each kind on its own: a kind with no tier price keeps its base.
        ti, to, tcw, tcr = (b if v is None else v
                            for v, b in zip(tiered, (inp, out, cw, cr), strict=True))
        above = Tier(threshold, ti, to, tcw, tcr)
    tier = None
    if context is not None and above is None:
        def ctx(key: str, base: float) -> float:
            value = context.get(key)
            return base if value is None else float(value) * PER_MILLION

        tier = ContextTier(int(context["threshold"]), ctx("input", inp), ctx("output", out),
                           ctx("cache_write", cw), ctx("cache_read", cr))
    return Price(model=name, provider=str(row.get("provider") or ""), input=inp, output=out,
                 cache_write=cw, cache_read=cr, above=above,
                 fast_multiplier=float(row.get("fast_multiplier") or 1.0), context=tier)


class _Prices(dict[str, Price]):
    """Model id -> Price, each built when first asked for: a report start-up that
    prices a handful of models should not build six hundred (15 ms)."""

    def __init__(self, rows: dict[str, dict[str, Any]], threshold: int,
                 contexts: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self._rows = rows
        self._threshold = threshold
        self._contexts = contexts

    def _build(self, name: str) -> Price | None:
        row = self._rows.get(name)
        if row is None:
            return None
        price = _price(name, row, self._threshold, self._contexts.get(name))
        super().__setitem__(name, price)
        return price

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        found = super().get(name)
        if found is None:
            found = self._build(name)
        return default if found is None else found

    def __getitem__(self, name: str) -> Price:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._rows), **dict.fromkeys(super().keys())})

    def __len__(self) -> int:
        return len(set(self._rows) | set(super().keys()))

    def keys(self) -> Any:  # type: ignore[override]
        return list(self)

    def values(self) -> Any:  # type: ignore[override]
        return [self[name] for name in self]

    def items(self) -> Any:  # type: ignore[override]
        return [(name, self[name]) for name in self]


class PriceTable:
    """The price table in force: LiteLLM's rows, by model id, plus user overrides."""

    def __init__(self, data: dict[str, Any], *, origin: str = "bundled",
                 path: Path | None = None, extras: dict[str, Any] | None = None) -> None:
        """``extras``: where ``fallback`` and ``context_tiers`` come from when ``data``
        has none (a table ``pricing update`` fetched from LiteLLM: the bundled ones)."""
        data = validate(data)
        self.origin = origin  # "bundled" or "updated"
        self.path = path
        self.date: str = str(data.get("date", ""))
        self.source: str = str(data.get("source", ""))
        self.litellm_version: str | None = data.get("litellm_version")
        self.fetched_from: str | None = data.get("fetched_from")
        self.tier_threshold = int(data.get("tier_threshold_tokens", 200_000))
        extra = data if "fallback" in data or extras is None else extras
        self.context_tiers: dict[str, dict[str, Any]] = dict(extra.get("context_tiers") or {})
        self.prices = _Prices(data["models"], self.tier_threshold, self.context_tiers)
        # exact_only rows (ccusage's DeepSeek V4 built-ins) answer their own id only
        self._fuzzy = [k for k, r in data["models"].items() if not r.get("exact_only")]
        # ccusage's embedded models.dev snapshot: consulted only when ``prices`` has no
        # match (its ``find``); rows are turned into Prices when first asked for.
        self.fallback_rows: dict[str, dict[str, Any]] = dict(extra.get("fallback") or {})
        self._fallback_fuzzy = [k for k, r in self.fallback_rows.items()
                                if not r.get("exact_only")]
        self.ccusage_version: str | None = extra.get("ccusage_version")
        self.aliases: dict[str, str] = dict(_CCUSAGE_ALIASES)
        self.overrides: Any = None  # the pricing_overrides.Overrides applied, if any
        self._memo: dict[str, Price | None] = {}

    @classmethod
    def load(cls) -> PriceTable:
        """The table in force, cached: rebuilt only when the updated table or the
        overrides file changes (one ``stat`` each per call)."""
        from tokentop.store.pricing_overrides import overrides_path

        updated, overrides = updated_path(), overrides_path()
        key = (updated, _stamp(updated), overrides, _stamp(overrides))
        cached = _CACHE.get("table")
        if cached is not None and cached[0] == key:
            return cached[1]
        table = _build(updated, overrides)
        _CACHE["table"] = (key, table)
        return table

    def add(self, name: str, price: Price, aliases: list[str] | tuple[str, ...] = ()) -> None:
        """Put ``price`` in the table under ``name`` (an override), with aliases."""
        if name not in self.prices:
            self._fuzzy.append(name)
        self.prices[name] = price
        for alias in aliases:
            self.aliases[alias] = name
        self._memo.clear()

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model``, or ``None`` when the table does not know it.

        ccusage's ``find``: the exact id; else, of the ids that contain the model or that
        the model contains (on separator boundaries, "." and "@" read as "-", a trailing
        8-digit date allowed but not a version number), the longest (ties: the first in
        sort order); then the same for an alias. So "anthropic/claude-sonnet-4-5-20250929"
        is claude-sonnet-4-5, "gpt-5.5" is gpt-5.5, and "gpt-5.7" is not gpt-5.
        """
        if not model:
            return None
        try:
            return self._memo[model]
        except KeyError:
            pass
        names = (model, self.aliases[model]) if model in self.aliases else (model,)
        found = None
        for name in names:
            found = self.prices.get(name)
            row = self.fallback_rows.get(name)
            if found is None and row is not None and row.get("exact_only"):
                # a models.dev id that answers only to itself beats a fuzzy match in the
                # primary table ("gpt-5.3-codex-spark" is not "gpt-5.3-codex",
                # "claude-opus-5@eu" costs 1.1x "claude-opus-5"), as ccusage 20.0.24
                # resolves them
                found = self._fallback_price(name)
            if found is None:
                found = self._find(name)
            if found is not None:
                break
        for name in names:
            if found is None:
                found = self._find_fallback(name)
        self._memo[model] = found
        return found

    def lookup_first(self, names: tuple[str, ...] | list[str]) -> tuple[str, Price] | None:
        """The first of ``names`` the table prices, with its price: ccusage's loop over an
        agent's candidate names (``adapter/<agent>/parser.rs`` ``model_candidates``),
        each resolved as ``lookup`` resolves one id. ``None`` when none is priced."""
        for name in names:
            found = self.lookup(name)
            if found is not None:
                return name, found
        return None

    def has_exact(self, name: str) -> bool:
        """Whether ``name`` is a row of the table itself (no fuzzy match): ccusage's
        ``find_exact``, which some agents ask before their candidate names."""
        return name in self.prices

    @property
    def context_thresholds(self) -> tuple[int, ...]:
        """Every long-context threshold in the table, ascending: readers group messages
        by how many of them their prompt exceeds, so each group is wholly under or over
        its model's threshold and can be priced from sums."""
        return tuple(sorted({int(t["threshold"]) for t in self.context_tiers.values()}))

    def _find_fallback(self, model: str) -> Price | None:
        name = model if model in self.fallback_rows else _longest_match(
            self._fallback_fuzzy, model)
        return None if name is None else self._fallback_price(name)

    def _fallback_price(self, name: str) -> Price:
        return _price(name, {"provider": "models.dev", **self.fallback_rows[name]},
                      self.tier_threshold, self.context_tiers.get(name))

    def _find(self, model: str) -> Price | None:
        exact = self.prices.get(model)
        if exact is not None:
            return exact
        best = _longest_match(self._fuzzy, model)
        return None if best is None else self.prices[best]


_CACHE: dict[str, tuple[tuple[Any, ...], PriceTable]] = {}


def updated_path() -> Path:
    """Where ``tokentop pricing update`` keeps the newer table."""
    from tokentop.store.state import state_dir  # platformdirs: only when asked

    return state_dir("tokentop") / UPDATED_NAME


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _bundled_doc() -> dict[str, Any]:
    # beside this module in every install (package data); read as a plain file, not through
    # importlib.resources, whose import (tempfile, zipfile) cost every command 10 ms;
    # msgspec is imported here, not with the module (~25 ms of a status line that
    # prices from its compiled cache, ``pricing_cache``)
    import msgspec

    data: dict[str, Any] = msgspec.json.decode(
        Path(__file__).with_name("pricing_data.json").read_bytes())
    return data


def bundled() -> PriceTable:
    """The table shipped with tokentop (never the updated one, no overrides)."""
    return PriceTable(_bundled_doc())


def _build(updated: Path, overrides: Path) -> PriceTable:
    from tokentop.store.pricing_overrides import apply_overrides

    table: PriceTable | None = None
    if os.path.isfile(updated):  # unreadable (another HOME, a 0700 dir) reads as absent
        try:
            table = PriceTable(json.loads(updated.read_text(encoding="utf-8")),
                               origin="updated", path=updated, extras=_bundled_doc())
        except (OSError, ValueError, TypeError, KeyError) as exc:
            warn(f"ignoring {updated}: {exc}; using the bundled price table")
    if table is None:
        table = bundled()
    apply_overrides(table, overrides)
    return table


def warn(message: str) -> None:
    """One line on stderr (the dashboard's log picks it up too); never a traceback."""
    import sys

    print(f"tokentop: {message}", file=sys.stderr)
