"""What an alert threshold is, and the pure decision of which figures crossed one.

Why pure: the dashboard checks every few seconds and ``tokentop watch --every`` loops;
both must say a crossing once, not once per look. The caller keeps the ``fired`` set
this returns and hands it back next time; nothing here reads a clock or a store, so the
rules are tested on plain numbers.

Once per crossing: a figure that crossed is *fired* and stays quiet while it stays over
its threshold. It re-arms only when it comes back past the threshold by ``HYSTERESIS``
(5 %): a burn rate hovering around $5/h does not ring at every look. A figure that is
missing from a look (a store that could not be read this time, a quota that is no
longer reported) keeps its state: a store that is locked for a moment must not make
the same alert ring again when it is readable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

HYSTERESIS = 0.05  # a fired figure re-arms 5 % back on the quiet side of its threshold


@dataclass(frozen=True)
class Rule:
    """One kind of threshold: its config key, what it measures, and which way is bad."""

    key: str
    label: str
    unit: str  # "$", "$/h", "%", "h", "ms"
    help: str
    below: bool = False  # True: the alert is for a value under the threshold
    limit: float | None = None  # the largest threshold that makes sense (100 for %)


RULES: tuple[Rule, ...] = (
    Rule("cost-per-day", "cost today", "$",
         "US dollars spent today (local calendar day), from the usage store."),
    Rule("cost-per-block", "5-hour block cost", "$",
         "US dollars spent in the current 5-hour block (ccusage's blocks)."),
    Rule("burn-rate", "burn rate", "$/h", "US dollars per hour over the last hour."),
    Rule("quota-percent", "quota used", "%",
         "Percent of a provider quota used (the latest limit snapshot in the usage store).",
         limit=100.0),
    Rule("quota-hours-to-full", "quota full in", "h",
         "Hours until a quota reaches 100% at its current pace (from its last two "
         "snapshots); the alert is for fewer hours than this.", below=True),
    Rule("drop-rate", "event drops", "%",
         "Percent of the browser event stream's events lost (gaps in seq, restarts) "
         "since the source started.", limit=100.0),
    Rule("error-rate", "gateway errors", "%",
         "Percent of gateway requests answered 400-599 over the last hour (trace store; "
         "at least 10 requests).", limit=100.0),
    Rule("p95-latency", "gateway p95 latency", "ms",
         "95th percentile gateway latency over the last hour, in milliseconds (trace "
         "store; at least 10 requests)."),
)
RULE_BY_KEY: dict[str, Rule] = {rule.key: rule for rule in RULES}

Fired = frozenset[tuple[str, str]]  # (rule key, subject) of each figure now over its line


@dataclass(frozen=True)
class Figure:
    """One current value a rule applies to. ``subject`` tells apart figures of the same
    rule (a quota's provider, account and metric); empty when there is only one."""

    rule: str
    value: float
    subject: str = ""


@dataclass(frozen=True)
class Alert:
    """A figure that has just crossed its threshold."""

    rule: str
    subject: str
    value: float
    threshold: float
    unit: str
    at: datetime

    @property
    def message(self) -> str:
        """One line for people: "cost today $12.40 (over $10.00)". The subject is the
        store's text (a provider's name): callers show it as plain text, never markup."""
        rule = RULE_BY_KEY[self.rule]
        what = f"{rule.label} {self.subject}" if self.subject else rule.label
        side = "under" if rule.below else "over"
        return (f"{what} {format_value(self.value, self.unit)} "
                f"({side} {format_value(self.threshold, self.unit)})")

    def to_json(self) -> dict[str, object]:
        """The document ``tokentop watch`` prints and an alert command reads on stdin."""
        return {"alert": self.rule, "subject": self.subject, "value": round(self.value, 6),
                "threshold": self.threshold, "unit": self.unit,
                "at": self.at.isoformat(timespec="seconds"), "message": self.message}


def format_value(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value:,.2f}"
    if unit == "$/h":
        return f"${value:,.2f}/h"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "h":
        return f"{value:.1f} h"
    return f"{value:,.0f} {unit}"


def _over(rule: Rule, value: float, threshold: float) -> bool:
    return value <= threshold if rule.below else value >= threshold


def _back(rule: Rule, value: float, threshold: float) -> bool:
    """Back on the quiet side by the hysteresis margin: the rule re-arms."""
    if rule.below:
        return value > threshold * (1 + HYSTERESIS)
    return value < threshold * (1 - HYSTERESIS)


def evaluate(figures: Iterable[Figure], thresholds: Mapping[str, float], fired: Fired,
             at: datetime) -> tuple[list[Alert], Fired]:
    """The alerts of this look, and the fired set to pass to the next one.

    A figure whose rule has no threshold, or whose value is not a number, is ignored.
    """
    now_fired = set(fired)
    alerts: list[Alert] = []
    for fig in figures:
        threshold = thresholds.get(fig.rule)
        rule = RULE_BY_KEY.get(fig.rule)
        if threshold is None or rule is None or not math.isfinite(fig.value):
            continue
        key = (fig.rule, fig.subject)
        if key in now_fired:
            if _back(rule, fig.value, threshold):
                now_fired.discard(key)
            continue
        if _over(rule, fig.value, threshold):
            now_fired.add(key)
            alerts.append(Alert(fig.rule, fig.subject, fig.value, threshold, rule.unit, at))
    return alerts, frozenset(now_fired)
