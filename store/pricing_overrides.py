"""The user's price overrides: ``$XDG_CONFIG_HOME/tokentop/pricing.toml``.

For models no public table has (a private deployment) and for rates a user pays that
differ from list prices (a negotiated discount). Prices are USD per million tokens,
as people quote them::

    [models."claude-sonnet-4-5"]      # replaces these rates of a known model
    input = 2.4
    output = 12.0

    [models."acme-coder-large"]       # a model the table does not know
    input = 1.0
    output = 4.0
    cache_write = 1.25                # default: 1.25 x input
    cache_read = 0.1                  # default: 0.1 x input
    aliases = ["acme/coder-large"]    # other ids the logs use for it

A field left out of an override of a known model keeps the table's rate (tiers and the
fast-mode multiplier too). A file that does not parse is reported in one line and
ignored as a whole: the table then applies without any override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokentop.store.tail.regular import read_regular

if TYPE_CHECKING:
    from tokentop.store.pricing import PriceTable

_FIELDS = ("input", "output", "cache_write", "cache_read")


@dataclass(slots=True)
class Overrides:
    """What the overrides file did to the table (shown by ``tokentop pricing``)."""

    path: Path
    models: list[str] = field(default_factory=list)
    error: str | None = None


def overrides_path() -> Path:
    """``$XDG_CONFIG_HOME/tokentop/pricing.toml``: platformdirs' config directory,
    worked out without importing it on Linux (~7 ms of every report;
    ``tokentop.store.xdg``, tested equal)."""
    from tokentop.store.xdg import user_dir

    return Path(user_dir("config", "tokentop")) / "pricing.toml"


def parse(text: str) -> dict[str, dict[str, Any]]:
    """The ``[models.*]`` tables, checked; ``ValueError`` with one line if wrong."""
    import tomllib  # only when there is a file: every command opens the price table

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML ({exc})") from None
    models = doc.get("models", {})
    if not isinstance(models, dict):
        raise ValueError("[models] must be a table of [models.\"<id>\"] tables")
    out: dict[str, dict[str, Any]] = {}
    for name, row in models.items():
        if not isinstance(row, dict):
            raise ValueError(f"models.{name!r} must be a table")
        unknown = set(row) - {*_FIELDS, "aliases"}
        if unknown:
            raise ValueError(f"models.{name!r}: unknown field(s) {', '.join(sorted(unknown))}")
        for key in _FIELDS:
            value = row.get(key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float) or value < 0):
                raise ValueError(f"models.{name!r}.{key} must be a number >= 0")
        aliases = row.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"models.{name!r}.aliases must be a list of strings")
        out[name] = row
    return out


def apply_overrides(table: PriceTable, path: Path) -> Overrides | None:
    """Apply the file at ``path`` to ``table`` (in place). No file: nothing."""
    from tokentop.store.pricing import Price, warn

    if not os.path.isfile(path):  # absent, or in a directory this user cannot read
        return None
    result = Overrides(path)
    table.overrides = result
    try:
        rows = parse(read_regular(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        result.error = str(exc)
        warn(f"ignoring {path}: {exc}")
        return result
    for name, row in rows.items():
        base = table.prices.get(name)
        given = {k: float(row[k]) for k in _FIELDS if row.get(k) is not None}
        if base is not None:
            price = replace(base, **given)
        else:
            if "input" not in given or "output" not in given:
                result.error = f"models.{name!r}: a new model needs input and output"
                warn(f"ignoring models.{name!r} in {path}: it needs input and output")
                continue
            inp = given["input"]
            price = Price(model=name, provider="override", input=inp, output=given["output"],
                          cache_write=given.get("cache_write", inp * 1.25),
                          cache_read=given.get("cache_read", inp * 0.1))
        table.add(name, price, row.get("aliases", []))
        result.models.append(name)
    return result
