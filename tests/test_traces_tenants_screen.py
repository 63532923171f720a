"""The Traces screen on a multi-tenant gateway store: a Tenant column, ``t``, --org.

The store is the demo gateway's (fixed seed and "now") with its four gateway keys
given to tenants, as a gateway's keys each belong to one org and workspace
(ongoingai/gateway internal/api/gateway_keys.go); traces carry the tenant of their
key in ``org_id``/``workspace_id``. Expected numbers come from plain SQL on the
file, with the gateway's own scoping (``org_id = ? AND workspace_id = ?``,
internal/trace/sqlite.go buildAnalyticsWhere).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import NOW
from test_traces_screen import open_traces, sql, traces_app, wait_for
from textual.widgets import DataTable, Label

from tokentop.tui.demo.traces import build_demo_traces, gateway_time
from tokentop.tui.sources.traces import set_dashboard_scope
from tokentop.tui.widgets.kpi import KpiCard

KEY_TENANTS = {"gk_platform": ("acme", "platform"), "gk_search": ("acme", "search"),
               "gk_ci": ("globex", "ci"), "gk_alice": ("default", "default")}
SINCE = gateway_time(datetime(2026, 5, 3, 12, 0, tzinfo=UTC))  # the 48 h window, floored
UNTIL = gateway_time(NOW)


@pytest.fixture
def tenants_db(tmp_path: Path) -> Iterator[Path]:
    demo = build_demo_traces(seed=7, now=NOW, root=tmp_path / "gw", count=1200)
    conn = sqlite3.connect(demo.path)
    try:
        for key, (org, workspace) in KEY_TENANTS.items():
            conn.execute("UPDATE traces SET org_id = ?, workspace_id = ? "
                         "WHERE gateway_key_id = ?", (org, workspace, key))
        conn.commit()
    finally:
        conn.close()
    set_dashboard_scope(None, None)
    yield demo.path
    set_dashboard_scope(None, None)
    demo.stop()


def window_count(path: Path, where: str = "1=1", *args: object) -> int:
    (n,), = sql(path, f"SELECT COUNT(*) FROM traces WHERE {where} AND timestamp >= ? "
                "AND timestamp <= ?", *args, SINCE, UNTIL)
    return int(n)  # type: ignore[call-overload]


async def test_tenant_column_and_cycling(tenants_db: Path) -> None:
    app = traces_app(tenants_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        await wait_for(pilot, lambda: screen._columns_tenant, "the Tenant column")
        table = screen.query_one("#traces-table", DataTable)
        keys = [c.key.value for c in table.columns.values()]
        assert "tenant" in keys and "provider" not in keys
        row = screen.rows[0]
        want = KEY_TENANTS[row.gateway_key_id or ""]
        cell = str(table.get_cell_at((0, keys.index("tenant"))))
        assert cell == (want[0] if want[0] == want[1] else f"{want[0]}/{want[1]}")
        assert screen.query_one("#tkpi-requests", KpiCard).value == \
            f"{window_count(tenants_db):,}"
        # t: the tenant with the most traces first; everything follows it
        (org, workspace, _n), = sql(tenants_db, "SELECT org_id, workspace_id, COUNT(*) AS n "
                                    "FROM traces GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 1")
        loaded = screen.pages_loaded
        scoped = window_count(tenants_db, "org_id = ? AND workspace_id = ?", org, workspace)
        await pilot.press("t")
        await wait_for(pilot, lambda: screen.pages_loaded > loaded and
                       screen.query_one("#tkpi-requests", KpiCard).value == f"{scoped:,}",
                       "the tenant's page and cards")
        assert screen.tenant == (org, workspace)
        assert {(r.org_id, r.workspace_id) for r in screen.rows} == {(org, workspace)}
        assert "tenant" not in [c.key.value for c in table.columns.values()]
        assert f"t tenant {org}/{workspace}" in str(
            screen.query_one("#traces-filters", Label).render())
        await pilot.press("enter")  # the detail names the tenant
        await wait_for(pilot, lambda: screen.detail is not None, "the detail")
        body = str(screen.query_one("#traces-detail-body").render())
        assert f"org {org} · workspace {workspace}" in body
        await pilot.press("escape")
        await pilot.press("x")  # clear: every tenant again
        await wait_for(pilot, lambda: screen.tenant is None and screen._columns_tenant,
                       "every tenant")


async def test_org_from_the_command_line(tenants_db: Path) -> None:
    set_dashboard_scope("acme", None)
    app = traces_app(tenants_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        await wait_for(pilot, lambda: screen._columns_tenant, "the Tenant column")
        assert {r.org_id for r in screen.rows} == {"acme"}
        assert screen.query_one("#tkpi-requests", KpiCard).value == \
            f"{window_count(tenants_db, 'org_id = ?', 'acme'):,}"
        assert "org acme" in str(screen.query_one("#traces-scope", Label).render())
        # one org in scope: the column names the workspace alone; t cycles acme's only
        assert {t.org_id for t in screen._tenants()} == {"acme"}
        table = screen.query_one("#traces-table", DataTable)
        keys = [c.key.value for c in table.columns.values()]
        assert str(table.get_cell_at((0, keys.index("tenant")))) in {"platform", "search"}


async def test_one_tenant_changes_nothing(tenants_db: Path) -> None:
    """A store of one tenant (every gateway without tenants): no column, no t."""
    conn = sqlite3.connect(tenants_db)
    conn.execute("UPDATE traces SET org_id = 'default', workspace_id = 'default'")
    conn.commit()
    conn.close()
    app = traces_app(tenants_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        assert not screen._columns_tenant
        assert screen.check_action("cycle_tenant", ()) is False
        assert "tenant" not in str(screen.query_one("#traces-filters", Label).render())
