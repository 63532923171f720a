"""The quota gauges' data: the latest limit snapshot per provider and account, and a
projection of when each metric reaches 100%.

Shared by the read model (``read.quotas``) and the status line (``glance_fast``), which
must not import the read model; so it imports only json, sqlite3 and datetime.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from tokentop.store.usage.timefmt import parse_ts

QUOTA_ROWS = 400  # the newest limit_snapshot events looked at


class QuotaRow(NamedTuple):
    """One metric of the latest ``limit_snapshot`` of a provider/account (``read.Quota``)."""

    provider: str
    account: str
    metric: str
    limit: float
    used: float
    unit: str
    window: str
    observed_at: datetime
    resets_at: datetime | None
    full_at: datetime | None  # projected time to 100% from the last two snapshots

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0


def label(value: Any, fallback: str = "unknown") -> str:
    return str(value) if value not in (None, "") else fallback


def snapshot_of(payload_text: str | None) -> dict[str, Any] | None:
    """The ``snapshot`` object of a stored raw payload, in either store's shape.

    openusage keeps each event's payload (``{"snapshot": {...}}``), blanked to ``{}`` an
    hour after ingest; tokentop keeps the bare snapshot in ``usage_limit_snapshots``
    (and a batch manifest, ``{"events": n, "first_payload": {...}}``, in the raw row).
    """
    if not payload_text:
        return None
    try:
        doc = json.loads(payload_text)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("first_payload"), dict):
        doc = doc["first_payload"]
    if isinstance(doc, dict) and isinstance(doc.get("snapshot"), dict):
        doc = doc["snapshot"]
    if isinstance(doc, dict) and isinstance(doc.get("metrics"), dict):
        return doc
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_ts(value)
        except (ValueError, IndexError):
            return None
    return None


def _metrics(snap: dict[str, Any]) -> Iterable[tuple[str, float, float, str, str]]:
    for name, m in snap["metrics"].items():
        if not isinstance(m, dict):
            continue
        limit = _number(m.get("limit"))
        used = _number(m.get("used"))
        remaining = _number(m.get("remaining"))
        if used is None and limit is not None and remaining is not None:
            used = limit - remaining
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining
        if limit is None or used is None or limit <= 0:
            continue
        yield str(name), limit, used, str(m.get("unit") or ""), str(m.get("window") or "")


def _durable_snapshots(conn: sqlite3.Connection) -> list[tuple]:
    """tokentop's own copies of the snapshots (kept as long as their events), newest
    first; empty for a foreign store or one whose snapshots predate the table."""
    try:
        return conn.execute(
            "SELECT occurred_at, provider_id, account_id, snapshot FROM usage_limit_snapshots"
            " ORDER BY occurred_at DESC LIMIT ?", (QUOTA_ROWS,)).fetchall()
    except sqlite3.OperationalError:
        return []


def latest_quotas(conn: sqlite3.Connection) -> list[QuotaRow]:
    """The latest snapshot's metrics per provider/account, with time to 100%, sorted by
    provider, account and metric.

    The projection is the straight line through the metric's two latest observations
    (same limit, usage grown); none when usage did not grow or only one is known.
    """
    rows = _durable_snapshots(conn)
    try:
        rows = rows or conn.execute(
            "SELECT e.occurred_at, e.provider_id, e.account_id, r.source_payload"
            " FROM usage_events e LEFT JOIN usage_raw_events r"
            " ON r.raw_event_id = e.raw_event_id"
            " WHERE e.event_type = 'limit_snapshot'"
            # "+": order after finding them by event_type, not by walking the time index
            # backwards through every event (seconds over 1M events).
            " ORDER BY +e.occurred_at DESC LIMIT ?", (QUOTA_ROWS,)).fetchall()
    except sqlite3.OperationalError:
        return []
    seen: dict[tuple[str, str, str], list[tuple[datetime, float, float, str, str,
                                                datetime | None]]] = {}
    latest: dict[tuple[str, str], datetime] = {}
    parsed = sorted(((parse_ts(r[0]), *r[1:]) for r in rows), key=lambda r: r[0],
                    reverse=True)
    for at, provider, account, payload in parsed:
        snap = snapshot_of(payload)
        if snap is None:
            continue
        provider = label(snap.get("provider_id") or provider)
        account = label(snap.get("account_id") or account, "")
        pa = (provider, account)
        latest.setdefault(pa, at)
        resets = snap.get("resets") if isinstance(snap.get("resets"), dict) else {}
        for name, limit, used, unit, window in _metrics(snap):
            obs = seen.setdefault((provider, account, name), [])
            if len(obs) < 2:
                obs.append((at, limit, used, unit, window, _time(resets.get(name))))
    out = []
    for (provider, account, name), obs in seen.items():
        at, limit, used, unit, window, resets_at = obs[0]
        if at != latest[(provider, account)]:
            continue  # a metric the newest snapshot no longer reports
        full_at = None
        if len(obs) == 2:
            at0, limit0, used0 = obs[1][:3]
            dt = (at - at0).total_seconds()
            if limit0 == limit and used > used0 and dt > 0:
                full_at = at + timedelta(seconds=(limit - used) / ((used - used0) / dt))
        out.append(QuotaRow(provider, account, name, limit, used, unit, window, at,
                            resets_at, full_at))
    out.sort(key=lambda q: (q.provider, q.account, q.metric))
    return out
