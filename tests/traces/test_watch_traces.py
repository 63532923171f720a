"""``tokentop watch`` over a real gateway trace store, SQLite and PostgreSQL.

The rows are the fixture's (gateway_db.fixture_rows: the gateway's columns as its
writers fill them), moved into the hour before AT with statuses and latencies chosen
here so the expected error rate and p95 are worked out below, not by the code under
test. One error outside the hour must not count.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_db import Row, fixture_rows, write_postgres, write_sqlite
from pg_server import PgServer

AT = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)


def hour_rows() -> list[Row]:
    base = fixture_rows(25)
    rows = []
    for i, row in enumerate(base[:24]):
        at = AT - timedelta(minutes=55) + timedelta(minutes=2 * i)
        status = 500 if i % 6 == 0 else 404 if i == 1 else 200
        latency = None if i == 5 else 100 * (i + 1)
        rows.append(dataclasses.replace(row, timestamp=at, created_at=at,
                                        response_status=status, latency_ms=latency))
    old = AT - timedelta(hours=2)
    rows.append(dataclasses.replace(base[24], timestamp=old, created_at=old,
                                    response_status=503, latency_ms=60000))
    return rows


def p95(values: list[int]) -> float:
    """Linear interpolation at rank p*(n-1) (DESIGN 2.5)."""
    ordered = sorted(values)
    rank = 0.95 * (len(ordered) - 1)
    low = int(rank)
    return ordered[low] + (rank - low) * (ordered[low + 1] - ordered[low])


def expected() -> tuple[float, float]:
    inside = hour_rows()[:24]
    errors = sum(1 for r in inside if r.response_status is not None
                 and 400 <= r.response_status <= 599)
    latencies = [r.latency_ms for r in inside if r.latency_ms is not None]
    return 100 * errors / len(inside), p95(latencies)


@pytest.fixture(params=["sqlite", "postgresql"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "ongoingai.db"
        write_sqlite(path, hour_rows())
        return str(path)
    server: PgServer = request.getfixturevalue("pg_server")
    dsn = server.create_database("watch")
    asyncio.run(write_postgres(dsn, hour_rows()))
    return dsn


def watch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "watch", "--no-ingest",
                           "--at", AT.isoformat(), *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))


def test_error_rate_and_p95_over_the_last_hour(gateway: str) -> None:
    rate, latency = expected()
    assert (round(rate, 4), latency) == (20.8333, 2290.0)  # 5 errors of 24; by hand too
    done = watch("--traces", gateway, "--set", "error-rate=20", "--set", "p95-latency=2000")
    assert done.returncode == 1, done.stderr
    found = {d["alert"]: d["value"] for d in map(json.loads, done.stdout.splitlines())}
    assert found["error-rate"] == pytest.approx(rate, abs=1e-5)
    assert found["p95-latency"] == pytest.approx(latency, abs=1e-6)
    assert set(found) == {"error-rate", "p95-latency"}


def test_under_the_thresholds_is_quiet(gateway: str) -> None:
    done = watch("--traces", gateway, "--set", "error-rate=21", "--set", "p95-latency=2300")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_too_few_requests_say_nothing(tmp_path: Path) -> None:
    """Nine requests, all failing: below MIN_REQUESTS, no error-rate figure at all."""
    path = tmp_path / "quiet.db"
    rows = [dataclasses.replace(r, response_status=500) for r in hour_rows()[:9]]
    write_sqlite(path, rows)
    done = watch("--traces", str(path), "--set", "error-rate=1")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


async def test_the_dashboard_rings_for_the_gateway(tmp_path: Path) -> None:
    """The same store in the dashboard (the alerts source reads it through the async
    driver): one banner line for each of the two figures."""
    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp
    from tokentop.tui.config.alerts import AlertSettings

    path = tmp_path / "ongoingai.db"
    write_sqlite(path, hour_rows())
    root = tmp_path / "no-telemetry"

    def clock() -> float:
        return AT.timestamp()

    settings = AlertSettings(thresholds={"error-rate": 20.0, "p95-latency": 2000.0},
                             desktop=False)
    app = TokentopApp(MetricsSource(root, clock=clock), clock=clock, follow=False,
                      traces=str(path), alerts=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = asyncio.get_running_loop().time() + 30
        while len(app.alerts_shown) < 2:
            assert asyncio.get_running_loop().time() < deadline, "no gateway alerts"
            await pilot.pause(0.02)
        rate, latency = expected()
        assert {(a.rule, round(a.value, 4)) for a in app.alerts_shown} == \
            {("error-rate", round(rate, 4)), ("p95-latency", latency)}
