"""The ``[alerts]`` table of the preferences file: thresholds and how to be told.

Why a table when every other key is top-level: the thresholds share one concern and one
prefix, and no command-line option is called ``alerts``, so nothing clashes. Its keys are
the rule keys of ``store.alerts.rules.RULES`` (a threshold each; absent: no alert) and
four keys of delivery: ``bell``, ``desktop`` (notify-send), ``command`` and
``check-seconds``.

A bad value is handled as every other key of the file: one warning line naming the file,
the key and what was expected, and only that key is ignored. ``tokentop watch`` turns
those warnings into an error (exit 2): a check run by cron must not pass because a
threshold was silently dropped.
"""

from __future__ import annotations

import difflib
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tokentop.store.alerts.rules import RULE_BY_KEY, RULES
from tokentop.tui.config.values import Wrong, shown

TABLE = "alerts"
CHECK_RANGE = (5.0, 3600.0)  # seconds between the dashboard's looks at the figures
DEFAULT_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    """A delivery key of the table: its default and meaning (for the template)."""

    key: str
    default: object
    help: str


DELIVERY: tuple[Delivery, ...] = (
    Delivery("bell", True, "Ring the terminal bell when an alert fires."),
    Delivery("desktop", True, "Send a desktop notification with notify-send, when it is "
             "on PATH."),
    Delivery("command", ["/path/to/program", "--flag"],
             "A program to run for each alert, as a list of arguments (no shell; a "
             "string is split as a shell would, but never run by one). It reads the "
             "alert as one JSON line on stdin and in TOKENTOP_ALERT_* variables (RULE, "
             "SUBJECT, VALUE, THRESHOLD, UNIT, MESSAGE)."),
    Delivery("check-seconds", DEFAULT_CHECK_SECONDS,
             f"Seconds between the dashboard's looks at the figures ({CHECK_RANGE[0]:g} to "
             f"{CHECK_RANGE[1]:g})."),
)
KEYS = (*(rule.key for rule in RULES), *(d.key for d in DELIVERY))


@dataclass(frozen=True)
class AlertSettings:
    """The table, checked: thresholds by rule key and how alerts are delivered."""

    thresholds: dict[str, float] = field(default_factory=dict)
    bell: bool = True
    desktop: bool = True
    command: tuple[str, ...] = ()
    check_seconds: float = DEFAULT_CHECK_SECONDS
    given: frozenset[str] = frozenset()  # keys the file set (for ``tokentop config``)

    @property
    def enabled(self) -> bool:
        return bool(self.thresholds)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Wrong("a number")
    return float(value)


def _threshold(key: str, value: object) -> float:
    rule = RULE_BY_KEY[key]
    high = rule.limit
    words = (f"a number above 0 and at most {high:g}" if high is not None
             else "a number above 0")
    try:
        number = _number(value)
    except Wrong:
        raise Wrong(words) from None
    if not math.isfinite(number) or number <= 0 or (high is not None and number > high):
        raise Wrong(words)
    return number


def _command(value: object) -> tuple[str, ...]:
    words = "a list of strings (the program and its arguments) or a string"
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise Wrong(f"{words} ({exc})") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise Wrong(words)
    if not argv or not argv[0]:
        raise Wrong("a program to run, not an empty command")
    return tuple(argv)


def parse(table: dict[str, object], path: Path) -> tuple[AlertSettings, list[str]]:
    """The ``[alerts]`` keys (without the prefix) checked: the settings and one warning
    line per key ignored."""
    warnings: list[str] = []
    thresholds: dict[str, float] = {}
    options: dict[str, object] = {}
    given: set[str] = set()
    for key, value in table.items():
        name = f"{TABLE}.{key}"
        if key not in KEYS:
            near = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {TABLE + '.' + near[0]!r}?)" if near else ""
            warnings.append(f"{path}: unknown key {name!r} ignored{hint}")
            continue
        try:
            if key in RULE_BY_KEY:
                thresholds[key] = _threshold(key, value)
            elif key in ("bell", "desktop"):
                if not isinstance(value, bool):
                    raise Wrong("true or false")
                options[key] = value
            elif key == "command":
                options[key] = _command(value)
            else:
                low, high = CHECK_RANGE
                try:
                    seconds = _number(value)
                except Wrong:
                    seconds = -1.0
                if not low <= seconds <= high:
                    raise Wrong(f"a number of seconds from {low:g} to {high:g}")
                options["check_seconds"] = seconds
        except Wrong as exc:
            warnings.append(f"{path}: {name}: expected {exc}, got {shown(value)}; ignored")
            continue
        given.add(key)
    settings = AlertSettings(thresholds=thresholds, given=frozenset(given),
                             **options)  # type: ignore[arg-type]
    return settings, warnings
