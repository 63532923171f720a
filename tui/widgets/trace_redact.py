"""Gateway headers as the trace detail shows them: ``Name: value`` lines, credentials
redacted by the one rule every output uses (``tokentop.store.redact``)."""

from __future__ import annotations

import json

from tokentop.store.redact import redact_header_text, redact_headers


def header_lines(text: str | None) -> str:
    """Stored header text as ``Name: value`` lines (one per value), credentials
    redacted: easier to read than the JSON it is stored as."""
    if not text:
        return ""
    try:
        decoded = json.loads(text)
    except ValueError:
        return redact_header_text(text)
    if not isinstance(decoded, dict):
        return redact_header_text(text)
    lines = []
    for name, value in redact_headers(decoded).items():
        for v in value if isinstance(value, list) else [value]:
            lines.append(f"{name}: {v}")
    return "\n".join(lines)
