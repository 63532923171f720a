"""The prices of the models a status line has seen, compiled into one small file.

Why: ``tokentop statusline`` runs on every Claude Code message. Loading the price table
in force (``PriceTable.load``: the 400 KB bundled table or ``pricing update``'s, then
the user's overrides) and resolving a model id the table does not hold as such (the
fuzzy lookup over every row) cost it ~30 ms of a 50 ms budget, for the same handful of
models every time. This file keeps, per model key the store's rollup holds (the
reports' key: ``<model>-fast`` is a fast-mode message), what ``costing.Pricer`` resolved
it to: its rates (``pricing_rates.Rates``) or "unpriced". It sits in tokentop's cache
directory (``$XDG_CACHE_HOME/tokentop/prices.json``), which tokentop owns.

Exactness: the entries are ``Pricer``'s own answers, written by this module from the
table in force, and priced with the same formula (``pricing_rates.cost_from_sums``).
The key names everything an answer depends on: the bundled table file and the pricing
code (size and mtime: a new tokentop install rewrites them; ``tokentop.__version__``
itself costs 30 ms to read), the updated table and the overrides file (path, size,
mtime). Any of them changing, or the file missing or unreadable, starts an empty cache,
filled again from the real table the next time a model is asked for. A model the
cache does not hold is resolved from the real table and added.
"""

from __future__ import annotations

import contextlib
import json
import os

from tokentop.store.pricing_rates import Rates
from tokentop.store.xdg import user_dir

NAME = "prices.json"
FORMAT = 1
# The modules whose code decides a price: their identity is part of the key.
_CODE = ("pricing_data.json", "pricing.py", "pricing_rates.py", "pricing_litellm.py",
         "pricing_overrides.py", "usage/costing.py")
_HERE = os.path.dirname(os.path.abspath(__file__))


def cache_path() -> str:
    return os.path.join(user_dir("cache", "tokentop"), NAME)


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def table_key() -> list:
    """What the prices in force depend on (see the module's docstring)."""
    updated = os.path.join(user_dir("state", "tokentop"), "pricing.json")
    overrides = os.path.join(user_dir("config", "tokentop"), "pricing.toml")
    return [FORMAT, [[name, _stamp(os.path.join(_HERE, name))] for name in _CODE],
            updated, _stamp(updated), overrides, _stamp(overrides)]


class CompiledPrices:
    """The cache's answers for one key, and what reading the store needs from the
    table: the per-kind tier threshold, the long-context thresholds and the rollup's
    basis (``rollup.basis``)."""

    def __init__(self, path: str, key: list, doc: dict) -> None:
        self.path = path
        self.key = key
        self.threshold: int = doc["threshold"]
        self.contexts: tuple[int, ...] = tuple(doc["contexts"])
        self.basis: str = doc["basis"]
        self.models: dict[str, list | None] = doc["models"]

    def price(self, model: str) -> tuple[Rates | None, bool]:
        """(rates, fast mode) as ``Pricer.price`` answers; KeyError if not held."""
        entry = self.models[model]
        if entry is None:
            return None, False
        rates, fast = entry
        inp, out, cw, cr, above, mult, ctx = rates
        return (inp, out, cw, cr, None if above is None else tuple(above), mult,
                None if ctx is None else tuple(ctx)), fast

    def cost(self, model: str, i: int, o: int, cw: int, cr: int, io: int = 0,
             oo: int = 0, cwo: int = 0, cro: int = 0, cw1h: int = 0, cw1ho: int = 0,
             calc: int = 1) -> float | None:
        """``costing.Pricer.cost`` from the cached rates (KeyError if not held)."""
        from tokentop.store.pricing_rates import cost_from_sums

        rates, fast = self.price(model)
        if rates is None:
            return None
        c = rates[6]
        over = c is not None and calc > 1 and self.contexts[calc - 2] >= c[0]
        return cost_from_sums(rates, i, o, cw - cw1h, cr, io, oo, cwo, cro,
                              cache_write_1h=cw1h, cache_write_1h_over=cw1ho, fast=fast,
                              context_over=over)

    def resolve(self, models: set[str]) -> None:
        """Add ``models`` the cache does not hold, from the table in force (the slow
        path: loads it), and keep the file."""
        missing = [m for m in sorted(models) if m not in self.models]
        if not missing:
            return
        from tokentop.store.usage.costing import Pricer

        pricer = Pricer()
        for model in missing:
            price, fast = pricer.price(model)
            self.models[model] = None if price is None else [price.rates(), fast]
        save(self)


def _fresh(path: str, key: list) -> CompiledPrices:
    """An empty cache for ``key``, with the table's thresholds (loads the table)."""
    from tokentop.store.pricing import PriceTable
    from tokentop.store.usage.rollup import basis

    table = PriceTable.load()
    contexts = table.context_thresholds
    doc = {"threshold": table.tier_threshold, "contexts": list(contexts),
           "basis": basis(table.tier_threshold, contexts), "models": {}}
    compiled = CompiledPrices(path, key, doc)
    save(compiled)
    return compiled


def _well_formed(c: CompiledPrices) -> bool:
    """Every part of a read cache has its shape (a damaged file is rebuilt)."""
    def tier(t: object) -> bool:
        return t is None or (isinstance(t, list) and len(t) == 5
                             and all(isinstance(v, int | float) for v in t))

    if not (isinstance(c.threshold, int) and isinstance(c.basis, str)
            and all(isinstance(t, int) for t in c.contexts) and isinstance(c.models, dict)):
        return False
    for entry in c.models.values():
        if entry is None:
            continue
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], bool)
                and isinstance(entry[0], list) and len(entry[0]) == 7):
            return False
        rates = entry[0]
        if not (all(isinstance(v, int | float) for v in (*rates[:4], rates[5]))
                and tier(rates[4]) and tier(rates[6])):
            return False
    return True


def load(path: str | None = None) -> CompiledPrices:
    """The cache for the prices in force: the kept file when its key matches, else a
    new one (a missing, stale or unreadable file is replaced without a word)."""
    path = path or cache_path()
    key = table_key()
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read())
        if isinstance(doc, dict) and doc.get("key") == key:
            compiled = CompiledPrices(path, key, doc)
            if _well_formed(compiled):
                return compiled
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _fresh(path, key)


def save(compiled: CompiledPrices) -> None:
    """Write the cache (a temporary name, then rename: a reader never sees half a
    file). Failing to write it costs only the next call's speed."""
    doc = {"key": compiled.key, "threshold": compiled.threshold,
           "contexts": list(compiled.contexts), "basis": compiled.basis,
           "models": compiled.models}
    tmp = f"{compiled.path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(compiled.path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"))
        os.replace(tmp, compiled.path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
