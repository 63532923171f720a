"""How the config file's readers refuse and show a value: one rule for the settings and
the ``[alerts]`` table, so their warnings read alike."""

from __future__ import annotations

import json

from tokentop.store.redact import redact_text


class Wrong(ValueError):
    """A value of the wrong type; the message says what was expected."""


def shown(value: object) -> str:
    """A value as TOML spells it, for messages (credentials masked)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return redact_text(json.dumps(value))
    return type(value).__name__
