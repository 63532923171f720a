"""One redaction rule for credentials, used by the screens and every headless command.

Headers: the gateway stores request and response headers as JSON (Go's
``http.Header``: ``{"Authorization": ["Bearer sk-..."]}``, or a flat ``{"name":
"value"}``), and a trace viewer is exactly the place a secret would leak from (a shared
terminal, a screenshot, a script's log). Values of the credential headers are replaced
whatever their case: the authorization headers, cookies, and every provider key header
(``openai-api-key``, ``anthropic-api-key``, ``x-goog-api-key``, ``api-key``,
``x-api-key``, ``x-auth-token``, any ``*-api-key`` or ``*-token``). ``Authorization``
keeps its scheme (``Bearer [redacted]``) and a cookie keeps its names
(``gw_session=[redacted]; theme=[redacted]``) so the shape stays readable. Text that is
not JSON is redacted line by line (``Name: value``).

URLs and text: a password in a URL (``http://user:pw@host``), a credential in its query
(``?password=``, ``?token=``, ``?api_key=``, ...) and a libpq ``password=`` are
replaced by ``***`` (``redact_url``, ``redact_text``); headless output passes every
line through ``redact_text`` (``tokentop.tui.output``).
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key",
    "openai-api-key", "anthropic-api-key", "x-auth-token", "cookie", "set-cookie",
})
_SECRET_SUFFIX = re.compile(r"(^|[-_])(api[-_]?key|token|secret|password)$")
_LINE = re.compile(r"^(\s*)([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s*:\s*)(.*)$")


def is_secret(name: str) -> bool:
    low = name.strip().lower()
    return low in SECRET_HEADERS or bool(_SECRET_SUFFIX.search(low))


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


def redact_header_field(text: str | None) -> str | None:
    """Stored header text with credentials redacted, kept as compact as it came (for
    JSON output: the same shape, other values untouched)."""
    if not text:
        return text
    try:
        decoded = json.loads(text)
    except ValueError:
        return redact_header_text(text)
    return json.dumps(redact_headers(decoded), separators=(",", ":"), ensure_ascii=False)


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


# --- URLs and free text ---------------------------------------------------------------

MASK = "***"
SECRET_PARAMS = frozenset({
    "password", "passwd", "pwd", "pass", "token", "access_token", "refresh_token",
    "id_token", "api_key", "apikey", "api-key", "key", "secret", "client_secret",
    "sig", "signature", "auth", "x-api-key", "sslpassword",
})
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/@?#]*):([^/@?#]*)@")
_QUERY_PARAM = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")
_DSN_PASSWORD = re.compile(r"(?i)\b(password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def redact_url(url: str) -> str:
    """``url`` with the password of its user info and credential query values masked."""
    out = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", url, count=1)
    if "?" in out or ";" in out:
        out = _QUERY_PARAM.sub(
            lambda m: f"{m.group(1)}{m.group(2)}={MASK}"
            if m.group(2).lower() in SECRET_PARAMS and m.group(3) else m.group(0), out)
    return out


def redact_text(text: str) -> str:
    """Every URL in ``text`` through :func:`redact_url`, and libpq ``password=...``."""
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m.group()), text)
    if "assword" in text or "ASSWORD" in text:
        text = _DSN_PASSWORD.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return text
