"""What Claude Code hands a status line command on stdin, read defensively.

Claude Code runs the ``statusLine`` command with one JSON object on stdin
(https://code.claude.com/docs/en/statusline, "Available data"): ``session_id``,
``transcript_path``, ``cwd``, ``model {id, display_name}``, ``workspace {current_dir,
project_dir}``, ``version``, ``cost {total_cost_usd, total_duration_ms, ...}``,
``context_window {...}`` and, for Pro/Max subscribers after the session's first reply,
``rate_limits {five_hour, seven_day: {used_percentage, resets_at}}``. Every field is
optional in practice, so each is taken only when it has the right type; anything else
is ignored, never an error. The same command also runs from tmux or a terminal with no
input at all.
"""

from __future__ import annotations

import json
import os
import select
from typing import IO, Any

MAX_INPUT = 1 << 20  # Claude Code's object is a few KB; a runaway writer is cut off here
WAIT_S = 0.05  # an open stdin nobody writes to (a tmux job, a cron line) is not waited on
RATE_LIMITS = (("five_hour", "5h"), ("seven_day", "7d"))


class StatusInputError(ValueError):
    """stdin held something that is not Claude Code's JSON object."""


class ClaudeStatus:
    """The fields of Claude Code's status input tokentop shows. A plain class, not a
    dataclass: the status line's warm path does not load ``dataclasses`` (~5 ms)."""

    __slots__ = ("model", "rate_limits", "session_cost", "session_id")

    def __init__(self, session_id: str = "", model: str = "",
                 session_cost: float | None = None,
                 rate_limits: tuple[dict[str, Any], ...] = ()) -> None:
        self.session_id = session_id
        self.model = model  # model.display_name, else model.id
        self.session_cost = session_cost  # cost.total_cost_usd
        # as the status line's quotas (``glance.snapshot``): name, fraction, resets_at
        self.rate_limits = rate_limits


def read_input(stream: IO[bytes] | None) -> bytes:
    """stdin's bytes, or nothing when it is a terminal, closed, or silent for
    ``WAIT_S`` (so ``tokentop statusline`` in a shell or a tmux job never hangs)."""
    if stream is None:
        return b""
    try:
        if stream.isatty():
            return b""
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return stream.read(MAX_INPUT) if hasattr(stream, "read") else b""
    try:
        ready, _, _ = select.select([fd], [], [], WAIT_S)
    except (OSError, ValueError):
        return b""
    if not ready:
        return b""
    chunks, size = [], 0
    while size < MAX_INPUT:
        chunk = os.read(fd, min(65536, MAX_INPUT - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_status(data: bytes) -> ClaudeStatus:
    """Claude Code's object (empty input: no fields). Raises :class:`StatusInputError`
    for input that is not a JSON object."""
    if not data.strip():
        return ClaudeStatus()
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise StatusInputError("statusline input is not JSON") from None
    if not isinstance(doc, dict):
        raise StatusInputError("statusline input is not a JSON object")
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    cost = doc.get("cost") if isinstance(doc.get("cost"), dict) else {}
    limits = doc.get("rate_limits") if isinstance(doc.get("rate_limits"), dict) else {}
    found = []
    for key, label in RATE_LIMITS:
        window = limits.get(key)
        if not isinstance(window, dict):
            continue
        used = _number(window.get("used_percentage"))
        if used is None:
            continue
        found.append({"name": label, "fraction": used / 100,
                      "resets_at": _number(window.get("resets_at"))})
    return ClaudeStatus(
        session_id=_text(doc.get("session_id")),
        model=_text(model.get("display_name")) or _text(model.get("id")),
        session_cost=_number(cost.get("total_cost_usd")),
        rate_limits=tuple(found),
    )
