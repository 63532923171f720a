"""Credentials out of gateway headers before they reach the screen.

The gateway stores request and response headers as JSON (Go's ``http.Header``:
``{"Authorization": ["Bearer sk-..."]}``, or a flat ``{"name": "value"}``), and a
trace viewer is exactly the place a secret would leak from (a shared terminal, a
screenshot). Values of the credential headers are replaced whatever their case;
``Authorization`` keeps its scheme (``Bearer [redacted]``) and a cookie keeps its
names (``gw_session=[redacted]; theme=[redacted]``) so the shape stays readable.
Text that is not JSON is redacted line by line (``Name: value``).
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key",
    "cookie", "set-cookie",
})
_LINE = re.compile(r"^(\s*)([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s*:\s*)(.*)$")


def is_secret(name: str) -> bool:
    return name.strip().lower() in SECRET_HEADERS


def redact_value(name: str, value: str) -> str:
    """One header value with its secret part replaced (see the module docstring)."""
    low = name.strip().lower()
    if low in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.strip().partition(" ")
        return f"{scheme} {REDACTED}" if rest else REDACTED
    if low in ("cookie", "set-cookie"):
        parts = []
        for i, part in enumerate(value.split(";")):
            key, eq, _val = part.strip().partition("=")
            if low == "set-cookie" and i > 0:
                parts.append(part.strip())  # attributes (path=/, HttpOnly) are not secret
            else:
                parts.append(f"{key}={REDACTED}" if eq else REDACTED)
        return "; ".join(parts)
    return REDACTED


def redact_headers(headers: Any) -> Any:
    """A decoded header mapping with credential values replaced (a new object)."""
    if not isinstance(headers, dict):
        return headers
    out: dict[str, Any] = {}
    for name, value in headers.items():
        if not is_secret(str(name)):
            out[name] = value
        elif isinstance(value, list):
            out[name] = [redact_value(str(name), str(v)) for v in value]
        else:
            out[name] = redact_value(str(name), str(value))
    return out


def redact_header_text(text: str | None) -> str:
    """Stored header text, pretty-printed with credentials redacted."""
    if not text:
        return ""
    try:
        decoded = json.loads(text)
    except ValueError:
        lines = []
        for line in text.splitlines():
            m = _LINE.match(line)
            if m and is_secret(m.group(2)):
                line = m.group(1) + m.group(2) + m.group(3) + redact_value(m.group(2), m.group(4))
            lines.append(line)
        return "\n".join(lines)
    return json.dumps(redact_headers(decoded), indent=2, ensure_ascii=False)


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
