#!/usr/bin/env python3
"""Extract LiteLLM's price table from the ``litellm`` wheel on PyPI into
``store/pricing_data.json`` (tokentop's bundled, dated price table).

Why the wheel: it is a versioned, immutable release, so the bundled table names exactly
which LiteLLM it came from (``litellm_version``) and when that was built (``date``: the
JSON's timestamp inside the wheel). tokentop never imports litellm; this script only
unzips one file from it.

    scripts/extract_litellm_prices.py 1.110.2           # pip download, then extract
    scripts/extract_litellm_prices.py --wheel FILE.whl  # a wheel already on disk

With ``--ccusage BIN`` (default: the pinned ccusage that ``tests/support/install_ccusage.sh``
installs), the table is the one ccusage 20.0.24 prices with offline, so a tokentop
report and ``ccusage --offline`` agree model for model (tests/usage/test_pricing_parity.py):

- the same SELECTION of LiteLLM ids ccusage embeds (its build keeps ~600 of LiteLLM's
  rows). The selection matters as much as the prices: ids resolve by longest fuzzy
  match over the table's keys, so with all of LiteLLM "claude-sonnet-4.6" matched
  OpenRouter's ``:batch`` row at half price, where ccusage (and this table) price
  Anthropic's. Values are the wheel's; where ccusage's embedded copy differs (a handful
  of rows, counted in ``ccusage_adjusted``), ccusage's, since that is what it charges.
- ``fallback``: ccusage's embedded models.dev snapshot (models.dev/api.json as its
  build flattened it), consulted only when the primary table has no match, as ccusage
  does; ``exact_only`` rows answer exact ids only.
- ``context_tiers``: models.dev's long-context tiers (OpenAI's above 272k, Gemini's
  above 200k prompt tokens) by model id: past the threshold the WHOLE message is priced
  at the tier's rates (see ``tokentop.store.pricing.Price.cost``).

The binary keeps these as raw-deflate JSON documents; they are found by trying to
inflate at each offset (a few seconds), so no offsets are hard-coded.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "store"))
from pricing_litellm import convert  # noqa: E402  (the module tokentop itself uses)

MEMBER = "litellm/model_prices_and_context_window_backup.json"
CCUSAGE = (ROOT / "tests" / "support" / "ccusage" / "node_modules" / "@ccusage"
           / "ccusage-linux-x64" / "bin" / "ccusage")
OUT = ROOT / "store" / "pricing_data.json"


def download(version: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", f"litellm=={version}",
                    "--no-deps", "--only-binary=:all:", "-q", "-d", str(into)], check=True)
    return next(into.glob("litellm-*.whl"))


def extract(wheel: Path, ccusage: Path | None = None) -> dict:
    match = re.match(r"litellm-([^-]+)-", wheel.name)
    version = match.group(1) if match else "unknown"
    with zipfile.ZipFile(wheel) as zf:
        raw = json.loads(zf.read(MEMBER))
    if ccusage is not None:
        date = datetime.now(UTC).date().isoformat()
        doc = convert(raw, source=f"litellm {version} wheel (PyPI): {MEMBER}", date=date,
                      version=version, all_providers=True)
        return as_ccusage(doc, ccusage, raw)
    # The wheel's zip entries all carry 1980-01-01 (reproducible builds), so the date
    # recorded is the day of extraction; the version says which LiteLLM it is.
    date = datetime.now(UTC).date().isoformat()
    return convert(raw, source=f"litellm {version} wheel (PyPI): {MEMBER}", date=date,
                   version=version)


def embedded_documents(binary: Path) -> dict[str, dict]:
    """ccusage's embedded pricing documents: {"litellm": compact rows, "models_dev": ...}."""
    data = binary.read_bytes()
    found: dict[str, dict] = {}
    for off in range(len(data)):
        if (data[off] >> 1) & 3 == 3:  # not a raw-deflate block header
            continue
        try:
            head = zlib.decompressobj(-15).decompress(data[off:off + 256], 16)
        except zlib.error:
            continue
        if not head.startswith(b'{"'):
            continue
        try:
            doc = json.loads(zlib.decompressobj(-15).decompress(data[off:off + 8_000_000]))
        except (zlib.error, ValueError):
            continue
        if not isinstance(doc, dict) or len(doc) < 50:
            continue
        sample = next(iter(doc.values()))
        if isinstance(sample, dict) and "i" in sample and "o" in sample:
            found.setdefault("litellm", doc)
        elif isinstance(sample, dict) and "cost" in sample:
            found.setdefault("models_dev", doc)
        if len(found) == 2:
            return found
    raise SystemExit(f"{binary}: ccusage's embedded pricing snapshots not found")


def _compact_row(row: dict) -> dict:
    """ccusage's compact LiteLLM row (i, o, cc, cr, ia, oa, cca, cra, fast) -> ours."""
    i, o = float(row["i"]), float(row["o"])
    out = {"provider": "", "mode": "chat", "input": i, "output": o,
           "cache_write": float(row.get("cc", i * 1.25)),
           "cache_read": float(row.get("cr", i * 0.1))}
    for src, dst in (("ia", "input_above_200k"), ("oa", "output_above_200k"),
                     ("cca", "cache_write_above_200k"), ("cra", "cache_read_above_200k")):
        if row.get(src) is not None:
            out[dst] = float(row[src])
    if row.get("fast") not in (None, 1, 1.0):
        out["fast_multiplier"] = float(row["fast"])
    return out


_PRICE_KEYS = ("input", "output", "cache_write", "cache_read", "input_above_200k",
               "output_above_200k", "cache_write_above_200k", "cache_read_above_200k")


def as_ccusage(doc: dict, binary: Path, raw: dict) -> dict:
    """``doc`` restricted to ccusage's selection, with its fallback and context tiers."""
    from pricing_litellm import CCUSAGE_BUILTINS, convert_row, fast_multiplier_override

    docs = embedded_documents(binary)
    models: dict[str, dict] = {}
    adjusted = 0
    for name, row in docs["litellm"].items():
        theirs = _compact_row(row)
        fast = fast_multiplier_override(name)
        if "fast_multiplier" not in theirs and fast is not None:
            theirs["fast_multiplier"] = fast
        ours = convert_row(name, raw[name]) if isinstance(raw.get(name), dict) else None
        if ours is None:
            models[name] = theirs
            continue
        if any(abs((ours.get(k) or 0.0) - (theirs.get(k) or 0.0)) > 1e-15 for k in _PRICE_KEYS):
            adjusted += 1
            ours = {**ours, **{k: theirs[k] for k in _PRICE_KEYS if k in theirs}}
            for k in _PRICE_KEYS:
                if k not in theirs:
                    ours.pop(k, None)
        models[name] = ours
    for name, row in CCUSAGE_BUILTINS.items():
        models[name] = {**row, **({"fast_multiplier": f} if (f := fast_multiplier_override(name))
                                  else {})}
    fallback: dict[str, dict] = {}
    tiers: dict[str, dict] = {}
    for name, entry in docs["models_dev"].items():
        cost = entry.get("cost") or {}
        if cost.get("input") is None or cost.get("output") is None:
            continue
        i = cost["input"] / 1e6
        # cache prices only when models.dev gives them: the table's defaults are
        # ccusage's (1.25x and 0.1x input)
        row = {"input": i, "output": cost["output"] / 1e6}
        for key in ("cache_write", "cache_read"):
            if cost.get(key) is not None:
                row[key] = cost[key] / 1e6
        if entry.get("exactOnly"):
            row["exact_only"] = True
        fallback[name] = row
        for tier in cost.get("tiers") or ():
            bound = tier.get("tier") or {}
            if bound.get("type") != "context" or not bound.get("size"):
                continue
            t = {"threshold": int(bound["size"])}
            for key in ("input", "output", "cache_read", "cache_write"):
                if tier.get(key) is not None:
                    t[key] = tier[key] / 1e6
            tiers[name] = t
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip().split()[-1:] or ["?"]
    return {**doc, "source": doc["source"] + f"; ids, fallback and context tiers as embedded in"
            f" ccusage {version[0]}", "ccusage_version": version[0],
            "ccusage_adjusted": adjusted, "models": dict(sorted(models.items())),
            "context_tiers": dict(sorted(tiers.items())),
            "fallback": dict(sorted(fallback.items()))}


def dumps(doc: dict) -> str:
    """The table with one model per line: small, and reviewable as a diff."""
    sections = ("models", "context_tiers", "fallback")
    head = {k: v for k, v in doc.items() if k not in sections}
    out = json.dumps(head, indent=1)[:-2]
    for section in sections:
        if section not in doc:
            continue
        rows = [f" {json.dumps(name)}: {json.dumps(row, separators=(',', ':'))}"
                for name, row in doc[section].items()]
        out += f',\n "{section}": {{\n' + ",\n".join(rows) + "\n }"
    return out + "\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("version", nargs="?", help="litellm version to download from PyPI")
    ap.add_argument("--wheel", type=Path, help="use this wheel instead of downloading")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--ccusage", type=Path, default=CCUSAGE if CCUSAGE.exists() else None,
                    help="the pinned ccusage binary whose selection, fallback and tiers to"
                    " take [default: tests/support's, when installed]")
    ap.add_argument("--no-ccusage", action="store_true", help="LiteLLM's rows only")
    args = ap.parse_args()
    if args.wheel is None and args.version is None:
        ap.error("give a litellm version or --wheel")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(args.version, Path(tmp))
        doc = extract(wheel, None if args.no_ccusage else args.ccusage)
    args.out.write_text(dumps(doc), encoding="utf-8")
    print(f"{args.out}: {len(doc['models'])} models from litellm {doc['litellm_version']}"
          f" ({doc['date']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
