"""The status line's text: one line, its placeholders, and its colors.

Kept apart from the command so tests can render a :class:`Glance` without a store, and
so ``--format`` has one list of placeholders (``FIELDS``) the help, the checks and the
renderer share. A template is only ever filled with these fields' strings: no
attribute or index lookups (``{today.__class__}`` is refused), so a format string in a
config file cannot reach into the program.
"""

from __future__ import annotations

import string

from tokentop.store.usage.glance import Glance, nearest
from tokentop.store.usage.read import Quota
from tokentop.tui.commands.claude_status import ClaudeStatus
from tokentop.tui.output import escape_output

FIELDS: dict[str, str] = {
    "today": "today's cost (since local midnight)",
    "block": "cost of the active 5-hour block ('-' if none)",
    "left": "time left in the active block ('-' if none)",
    "block_end": "local time the active block ends ('-' if none)",
    "burn": "cost per hour over the last hour",
    "quota": "nearest quota: name and percent used ('' if none known)",
    "quota_reset": "time until the nearest quota resets ('' if unknown)",
    "session": "Claude Code session cost, from stdin ('' without input)",
    "model": "Claude Code model, from stdin ('' without input)",
}
DEFAULT_SEPARATOR = " | "

RESET = "\x1b[0m"
GREEN, YELLOW, RED, DIM = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[2m"


class FormatError(ValueError):
    """A ``--format`` template tokentop cannot fill."""


def check_template(template: str) -> None:
    """Refuse unknown placeholders, lookups and conversions, in one line."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise FormatError(f"bad --format: {e}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise FormatError(f"unknown placeholder {{{name}}} in --format (known: {known})")
        if conversion or (spec and "{" in spec):
            raise FormatError(f"placeholder {{{name}}} takes no conversion in --format")


def money(value: float) -> str:
    return f"${value:,.2f}"


def duration(minutes: float) -> str:
    """``2h05m``, ``45m``, ``3d04h``: short enough for a status bar."""
    m = max(0, int(minutes))
    if m >= 24 * 60:
        return f"{m // (24 * 60)}d{m % (24 * 60) // 60:02d}h"
    if m >= 60:
        return f"{m // 60}h{m % 60:02d}m"
    return f"{m}m"


def _percent(q: Quota) -> str:
    return f"{q.fraction * 100:.0f}%"


def quota_name(q: Quota) -> str:
    """``5h``, ``7d`` for Claude's own windows; ``provider metric`` otherwise."""
    if q.provider == "claude" and q.unit == "%":
        return q.metric
    return f"{q.provider} {q.metric}".strip()


def values(glance: Glance, status: ClaudeStatus) -> tuple[dict[str, str], Quota | None]:
    """Every placeholder's text (untrusted text escaped), and the quota shown."""
    block = glance.block
    quota = nearest((*status.rate_limits, *glance.quotas))
    left = block_end = "-"
    if block is not None:
        minutes = block.remaining_minutes
        if minutes is None:
            minutes = (block.end - glance.now).total_seconds() / 60
        left = duration(minutes)
        block_end = block.end.astimezone().strftime("%H:%M")
    reset = ""
    if quota is not None and quota.resets_at is not None:
        reset = duration((quota.resets_at - glance.now).total_seconds() / 60)
    out = {
        "today": money(glance.today_cost),
        "block": money(block.cost) if block is not None else "-",
        "left": left,
        "block_end": block_end,
        "burn": f"{money(glance.burn.cost_per_hour)}/h",
        "quota": escape_output(f"{quota_name(quota)} {_percent(quota)}") if quota else "",
        "quota_reset": reset,
        "session": money(status.session_cost) if status.session_cost is not None else "",
        "model": escape_output(" ".join(status.model.split())),
    }
    return out, quota


def render_template(template: str, glance: Glance, status: ClaudeStatus) -> str:
    """``template`` filled in (checked first: see :func:`check_template`)."""
    check_template(template)
    filled, _ = values(glance, status)
    return " ".join(template.format_map(filled).splitlines())


def _quota_color(q: Quota) -> str:
    f = q.fraction
    return RED if f >= 0.9 else YELLOW if f >= 0.7 else GREEN


def render_default(glance: Glance, status: ClaudeStatus, color: bool) -> str:
    """``Opus | session $0.53 | today $12.34 | block $3.21 (2h05m left) | $4.10/h |
    5h 42% (resets 1h10m)``: segments without data are left out."""
    v, quota = values(glance, status)

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    parts = []
    if v["model"]:
        parts.append(paint(DIM, v["model"]) if color else v["model"])
    if v["session"]:
        parts.append(f"session {v['session']}")
    parts.append(f"today {v['today']}")
    if glance.block is not None:
        left = v["left"]
        minutes = glance.block.remaining_minutes
        if minutes is not None and minutes < 30:
            left = paint(YELLOW, left)
        parts.append(f"block {v['block']} ({left} left)")
    else:
        parts.append("no active block")
    parts.append(v["burn"])
    if quota is not None:
        text = v["quota"] + (f" (resets {v['quota_reset']})" if v["quota_reset"] else "")
        parts.append(paint(_quota_color(quota), text))
    return DEFAULT_SEPARATOR.join(parts)

