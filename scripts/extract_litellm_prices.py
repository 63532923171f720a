#!/usr/bin/env python3
"""Extract LiteLLM's price table from the ``litellm`` wheel on PyPI into
``store/pricing_data.json`` (tokentop's bundled, dated price table).

Why the wheel: it is a versioned, immutable release, so the bundled table names exactly
which LiteLLM it came from (``litellm_version``) and when that was built (``date``: the
JSON's timestamp inside the wheel). tokentop never imports litellm; this script only
unzips one file from it.

    scripts/extract_litellm_prices.py 1.110.2           # pip download, then extract
    scripts/extract_litellm_prices.py --wheel FILE.whl  # a wheel already on disk
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "store"))
from pricing_litellm import convert  # noqa: E402  (the module tokentop itself uses)

MEMBER = "litellm/model_prices_and_context_window_backup.json"
OUT = ROOT / "store" / "pricing_data.json"


def download(version: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", f"litellm=={version}",
                    "--no-deps", "--only-binary=:all:", "-q", "-d", str(into)], check=True)
    return next(into.glob("litellm-*.whl"))


def extract(wheel: Path) -> dict:
    match = re.match(r"litellm-([^-]+)-", wheel.name)
    version = match.group(1) if match else "unknown"
    with zipfile.ZipFile(wheel) as zf:
        raw = json.loads(zf.read(MEMBER))
    # The wheel's zip entries all carry 1980-01-01 (reproducible builds), so the date
    # recorded is the day of extraction; the version says which LiteLLM it is.
    date = datetime.now(UTC).date().isoformat()
    return convert(raw, source=f"litellm {version} wheel (PyPI): {MEMBER}", date=date,
                   version=version)


def dumps(doc: dict) -> str:
    """The table with one model per line: small, and reviewable as a diff."""
    head = {k: v for k, v in doc.items() if k != "models"}
    lines = [json.dumps(head, indent=1)[:-2] + ',\n "models": {']
    rows = [f" {json.dumps(name)}: {json.dumps(row, separators=(',', ':'))}"
            for name, row in doc["models"].items()]
    return "\n".join(lines) + "\n" + ",\n".join(rows) + "\n }\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("version", nargs="?", help="litellm version to download from PyPI")
    ap.add_argument("--wheel", type=Path, help="use this wheel instead of downloading")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.wheel is None and args.version is None:
        ap.error("give a litellm version or --wheel")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(args.version, Path(tmp))
        doc = extract(wheel)
    args.out.write_text(dumps(doc), encoding="utf-8")
    print(f"{args.out}: {len(doc['models'])} models from litellm {doc['litellm_version']}"
          f" ({doc['date']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
