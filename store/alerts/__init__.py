"""Alerts: thresholds on the figures a user watches (spend, quotas, drops, gateway
health), said once per crossing.

``rules``: the thresholds, the figures and the pure evaluation that decides which
figures crossed since the last look. ``figures``: reading those figures from the usage
store, the trace store and an event source's counters. The dashboard and ``tokentop
watch`` share both, so the two never disagree on what crossed.
"""
