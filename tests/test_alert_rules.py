"""The alert rules on plain numbers: a crossing is said once, re-arms only after the
figure came back past its threshold by the hysteresis, and a missing figure keeps its
state."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tokentop.store.alerts.rules import HYSTERESIS, RULES, Figure, Fired, evaluate

AT = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)


def run(values: list[float | None], rule: str = "burn-rate", threshold: float = 5.0,
        subject: str = "") -> list[int]:
    """Feed a series of looks; the look indexes that alerted (None: figure missing)."""
    fired: Fired = frozenset()
    said = []
    for i, value in enumerate(values):
        figures = [] if value is None else [Figure(rule, value, subject)]
        alerts, fired = evaluate(figures, {rule: threshold}, fired, AT)
        if alerts:
            (alert,) = alerts
            assert (alert.rule, alert.value, alert.threshold) == (rule, value, threshold)
            said.append(i)
    return said


def test_a_crossing_is_said_once_not_at_every_look() -> None:
    assert run([1.0, 5.0, 6.0, 9.0, 5.5, 7.0]) == [1]


def test_it_rearms_only_below_the_threshold_minus_the_hysteresis() -> None:
    just_under = 5.0 * (1 - HYSTERESIS) + 0.01  # under 5, inside the margin: still fired
    back = 5.0 * (1 - HYSTERESIS) - 0.01
    assert run([6.0, just_under, 6.0, back, 6.0, 6.0]) == [0, 4]


def test_a_missing_figure_keeps_its_state() -> None:
    """A store locked for one look must not make the same alert ring again."""
    assert run([6.0, None, None, 6.0, 1.0, None, 6.0]) == [0, 6]


def test_a_below_rule_fires_under_its_threshold_and_rearms_above_it() -> None:
    hours = [5.0, 2.0, 1.0, 2.05, 2.2, 1.5]  # quota full in fewer than 2 hours
    assert run(hours, rule="quota-hours-to-full", threshold=2.0) == [1, 5]


def test_each_subject_is_its_own_crossing() -> None:
    thresholds = {"quota-percent": 80.0}
    figures = [Figure("quota-percent", 85.0, "anthropic me weekly"),
               Figure("quota-percent", 20.0, "openai me daily")]
    alerts, fired = evaluate(figures, thresholds, frozenset(), AT)
    assert [a.subject for a in alerts] == ["anthropic me weekly"]
    figures[1] = Figure("quota-percent", 90.0, "openai me daily")
    alerts, fired = evaluate(figures, thresholds, fired, AT)
    assert [a.subject for a in alerts] == ["openai me daily"]
    assert fired == {("quota-percent", "anthropic me weekly"),
                     ("quota-percent", "openai me daily")}


def test_rules_without_a_threshold_and_non_numbers_are_ignored() -> None:
    figures = [Figure("cost-per-day", 100.0), Figure("burn-rate", float("nan")),
               Figure("no-such-rule", 1e9)]
    assert evaluate(figures, {"burn-rate": 1.0, "no-such-rule": 1.0}, frozenset(), AT) == \
        ([], frozenset())


@pytest.mark.parametrize(("rule", "value", "threshold", "message"), [
    ("cost-per-day", 12.4, 10.0, "cost today $12.40 (over $10.00)"),
    ("burn-rate", 7.25, 5.0, "burn rate $7.25/h (over $5.00/h)"),
    ("quota-hours-to-full", 1.25, 2.0, "quota full in anthropic me weekly 1.2 h (under 2.0 h)"),
    ("p95-latency", 5234.4, 5000.0, "gateway p95 latency 5,234 ms (over 5,000 ms)"),
    ("error-rate", 12.5, 5.0, "gateway errors 12.5% (over 5.0%)"),
])
def test_the_message_and_the_json_document(rule: str, value: float, threshold: float,
                                           message: str) -> None:
    subject = "anthropic me weekly" if rule.startswith("quota") else ""
    (alert,), _ = evaluate([Figure(rule, value, subject)], {rule: threshold}, frozenset(), AT)
    assert alert.message == message
    doc = json.loads(json.dumps(alert.to_json()))
    assert doc == {"alert": rule, "subject": subject, "value": value,
                   "threshold": threshold, "unit": alert.unit,
                   "at": "2026-05-05T12:30:00+00:00", "message": message}


def test_every_rule_key_is_unique_and_kebab_case() -> None:
    keys = [rule.key for rule in RULES]
    assert len(set(keys)) == len(keys)
    assert all(k == k.lower() and " " not in k and "_" not in k for k in keys)
