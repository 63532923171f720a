"""JSON as gridctl's CLI prints it: Go's ``json.Encoder`` with ``SetIndent("", "  ")``.

``gridctl telemetry status --json`` (cmd/gridctl/telemetry.go, gridctl/gridctl@7cec407)
encodes with the standard library's defaults, and tokentop's ``inventory --json`` prints
the same bytes so a script (or a diff) cannot tell them apart:

- two-space indent, ``"key": value``, a newline after the document; ``[]`` when empty;
- HTML escaping on (the default): ``<``, ``>``, ``&`` as ``\\u003c``, ``\\u003e``,
  ``\\u0026``, and U+2028/U+2029 as ``\\u2028``/``\\u2029``;
- other non-ASCII text as UTF-8, control characters as ``\\n``, ``\\t``, ``\\u001b``...;
- a byte that is not UTF-8 (a file name from the disk) as ``\\ufffd``, one per byte.

Paths reach Python as ``str`` with such bytes as lone surrogates (``surrogateescape``);
they are replaced here, so the output always encodes.
"""

from __future__ import annotations

import json
import re
from typing import Any

_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
         "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SPECIAL = re.compile("[<>&\u2028\u2029\udc80-\udcff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _HTML.get(char, "\\ufffd")


def dumps(value: Any) -> str:
    """``value`` encoded as Go's indenting encoder writes it, final newline included.

    The escapes are applied to the whole text: ``<>&``, U+2028/9 and surrogates can
    only occur inside strings (keys and numbers never hold them).
    """
    text = json.dumps(value, indent=2, ensure_ascii=False, separators=(",", ": "))
    return _SPECIAL.sub(_escape, text) + "\n"
