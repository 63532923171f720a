"""``y``: copy the selected row's id (or its JSON) to the clipboard, and say so in one line.

The copy goes through Textual's ``App.copy_to_clipboard``, which writes an OSC 52
escape to the terminal: the terminal on the user's desk sets its own clipboard, so it
works over SSH with no clipboard program on the remote host (inside tmux, with
``set -g set-clipboard on``; a few terminals, macOS Terminal among them, ignore OSC 52).

What is copied is the raw value: a trace id, a session id, an event's JSON. What is
shown is not: the confirmation is a short preview with credentials redacted (a URL's
password, ``password=``, a ``Bearer`` token, a JSON ``authorization`` or ``*-api-key``
value: store/redact.py) and control characters escaped, sent as plain text, never
markup (an id holding ``[bold]`` shows those characters).
"""

from __future__ import annotations

import json
import re
from typing import Any

from textual.app import App

from tokentop.store.redact import REDACTED, is_secret, redact_text, redact_value
from tokentop.tui import format as fmt

PREVIEW = 32  # cells of the value shown in the confirmation
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")


def copy_value(app: App[Any], what: str, value: str | None) -> str:
    """Copy ``value`` (nothing when None or empty); notify and return the line shown."""
    if not value:
        line = f"nothing to copy: no {what} selected"
        app.notify(line, markup=False, timeout=3)
        return line
    app.copy_to_clipboard(value)
    line = f"copied {what} {preview(value)}"
    app.notify(line, markup=False, timeout=3)
    return line


def preview(value: str) -> str:
    """One short line of ``value``, redacted and escaped (see the module docstring)."""
    text = _redact_json(value)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", redact_text(text))
    text = " ".join(text.split())  # one line: newlines and runs of spaces as one space
    text = fmt.clean(text)
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


def as_json(value: Any) -> str:
    """A selected item with no id, as compact JSON (keys as they are, any value)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _redact_json(value: str) -> str:
    """A JSON document with its credential values replaced; other text as it is."""
    if not value.lstrip().startswith(("{", "[")):
        return value
    try:
        doc = json.loads(value)
    except ValueError:
        return value
    return as_json(_redact(doc))


def _redact(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _secret(str(k), v) if is_secret(str(k)) else _redact(v)
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_redact(v) for v in doc]
    return doc


def _secret(name: str, value: Any) -> Any:
    """A credential's value, redacted: a string, or each string of a list (Go's
    ``http.Header`` holds ``["Bearer sk-..."]``)."""
    if isinstance(value, str):
        return redact_value(name, value)
    if isinstance(value, list):
        return [redact_value(name, v) if isinstance(v, str) else REDACTED for v in value]
    return REDACTED if value is not None else None
