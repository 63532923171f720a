"""Tenant scope (``--org``/``--workspace``) on both backends, as the gateway scopes.

The gateway (ongoingai/gateway, commit f56ac42) puts ``org_id = ?`` and
``workspace_id = ?`` first in ``buildTraceWhere``/``buildAnalyticsWhere``
(internal/trace/sqlite.go, ``buildPostgres*Where`` in postgres.go), each when set,
and its API sets both from the caller's identity (internal/api/tenant_scope.go); a
trace of another tenant is not found (``traceVisibleInTenantScope``). Workspace ids
are unique per org only (postgres/004), so the fixture reuses ``prod`` under two orgs.

The oracle: a store holding only one tenant's rows. Every view of the scoped store
must equal that store's unscoped view, number for number, list order included, with
the latency cache on and off.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import pytest
from gateway_db import Row, fixture_rows, write_postgres, write_sqlite
from pg_server import PgServer

from tokentop.store.traces import (
    AnalyticsFilter,
    TenantStats,
    TraceFilter,
    open_trace_store,
)

ROOT = Path(__file__).resolve().parents[2]
TENANTS = (("default", "default"), ("acme", "prod"), ("acme", "dev"), ("globex", "prod"))
SCOPES = ((None, None), ("acme", None), (None, "prod"), ("acme", "prod"), ("globex", "dev"))


def tenant_rows() -> list[Row]:
    """The fixture's traces spread over four tenants (runs of three, not i % 4: that
    would tie a tenant to one gateway key)."""
    return [replace(r, org_id=TENANTS[(i // 3) % 4][0], workspace_id=TENANTS[(i // 3) % 4][1])
            for i, r in enumerate(fixture_rows())]


def in_scope(r: Row, org: str | None, ws: str | None) -> bool:
    return (org is None or r.org_id == org) and (ws is None or r.workspace_id == ws)


async def views(target: str, org: str | None, ws: str | None, cache: str,
                cache_dir: Path) -> dict[str, Any]:
    """Every view the screen and the CLI show, through one scope."""
    store = await open_trace_store(target, latency_cache=cache,  # type: ignore[arg-type]
                                   cache_dir=cache_dir)
    plain = msgspec.to_builtins
    out: dict[str, Any] = {}
    try:
        for window in (AnalyticsFilter(), AnalyticsFilter(since=fixture_rows()[30].timestamp,
                                                          until=fixture_rows()[200].timestamp)):
            f = msgspec.structs.replace(window, org_id=org, workspace_id=ws)
            key = "all" if window.since is None else "window"
            out[key] = {
                "usage": plain(await store.usage_summary(f)),
                "cost": plain(await store.cost_summary(f)),
                "series": plain(await store.usage_series(f, "model", "day")),
                "cost_series": plain(await store.cost_series(f, "provider", "hour")),
                "models": plain(await store.model_stats(f)),
                "keys": plain(await store.key_stats(f)),
                "latency": {g: plain(await store.latency_percentiles(f, g))
                            for g in ("none", "model", "key")},
                "errors": {g: plain(await store.error_rates(f, g)) for g in ("none", "route")},
            }
        ids: list[str] = []
        cursor = None
        while True:
            page = await store.query_traces(TraceFilter(org_id=org, workspace_id=ws,
                                                        cursor=cursor, limit=7))
            ids += [t.id for t in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        out["list"] = ids
    finally:
        await store.close()
    return out


@pytest.fixture(scope="module")
def sqlite_tenants(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[Any, Any], str]:
    """The mixed store (key (None, None)) and one store per scope holding only its rows."""
    base = tmp_path_factory.mktemp("tenants")
    rows = tenant_rows()
    out = {}
    for org, ws in SCOPES:
        path = base / f"{org}-{ws}.db"
        write_sqlite(path, [r for r in rows if in_scope(r, org, ws)])
        out[(org, ws)] = str(path)
    return out


@pytest.fixture(scope="module")
def pg_tenants(pg_server: PgServer) -> dict[tuple[Any, Any], str]:
    rows = tenant_rows()
    out = {}
    for org, ws in SCOPES:
        dsn = pg_server.create_database("tenants")
        asyncio.run(write_postgres(dsn, [r for r in rows if in_scope(r, org, ws)]))
        out[(org, ws)] = dsn
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("cache", ["off", "file"])
def test_scoped_views_equal_a_store_of_that_tenant_alone(
        backend: str, cache: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    stores = request.getfixturevalue("sqlite_tenants" if backend == "sqlite" else "pg_tenants")
    mixed = stores[(None, None)]
    for org, ws in SCOPES[1:]:
        got = asyncio.run(views(mixed, org, ws, cache, tmp_path))
        want = asyncio.run(views(stores[(org, ws)], None, None, "off", tmp_path))
        assert got == want, (org, ws)
        if (org, ws) != ("globex", "dev"):
            assert got["list"], (org, ws)  # a scope with traces: the oracle is not empty
    # and unscoped, the mixed store is everything
    everything = asyncio.run(views(mixed, None, None, cache, tmp_path))
    assert len(everything["list"]) == len(tenant_rows())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tenants_view(backend: str, request: pytest.FixtureRequest) -> None:
    stores = request.getfixturevalue("sqlite_tenants" if backend == "sqlite" else "pg_tenants")

    async def run(f: AnalyticsFilter) -> list[TenantStats]:
        store = await open_trace_store(stores[(None, None)], latency_cache="off")
        try:
            return await store.tenants(f)
        finally:
            await store.close()

    rows = tenant_rows()
    want = sorted(((o, w, sum(1 for r in rows if (r.org_id, r.workspace_id) == (o, w)))
                   for o, w in TENANTS), key=lambda t: (-t[2], t[0], t[1]))
    got = asyncio.run(run(AnalyticsFilter()))
    assert [(t.org_id, t.workspace_id, t.request_count) for t in got] == want
    got = asyncio.run(run(AnalyticsFilter(workspace_id="prod")))
    assert {(t.org_id, t.workspace_id) for t in got} == {("acme", "prod"), ("globex", "prod")}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "traces", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_cli_scopes_every_view(sqlite_tenants: dict[tuple[Any, Any], str]) -> None:
    mixed, alone = sqlite_tenants[(None, None)], sqlite_tenants[("acme", "prod")]
    for view in ("summary", "models", "keys", "latency", "errors", "list", "tenants"):
        scoped = cli(mixed, view, "--org", "acme", "--workspace", "prod")
        assert scoped.returncode == 0, scoped.stderr
        doc = json.loads(scoped.stdout)
        assert doc.pop("scope") == {"org_id": "acme", "workspace_id": "prod"}
        plain = cli(alone, view)
        assert plain.returncode == 0, plain.stderr
        want = json.loads(plain.stdout)
        for d in (doc, want):
            d.pop("store")
        assert doc == want, view
    tenants = json.loads(cli(mixed, "tenants", "--org", "acme").stdout)["tenants"]
    assert {(t["org_id"], t["workspace_id"]) for t in tenants} == {("acme", "prod"),
                                                                   ("acme", "dev")}


def test_cli_get_hides_another_tenants_trace(sqlite_tenants: dict[tuple[Any, Any], str]
                                             ) -> None:
    mixed = sqlite_tenants[(None, None)]
    acme = next(r for r in tenant_rows() if r.org_id == "acme")
    ok = cli(mixed, "get", acme.id, "--org", "acme")
    assert ok.returncode == 0 and json.loads(ok.stdout)["trace"]["org_id"] == "acme"
    hidden = cli(mixed, "get", acme.id, "--org", "globex")
    assert hidden.returncode == 2 and hidden.stdout == ""
    assert hidden.stderr.splitlines() == [
        f"tokentop: no trace with id {acme.id!r} in this scope"]
    empty = cli(mixed, "summary", "--org", " ")
    assert empty.returncode == 2 and len(empty.stderr.splitlines()) == 1
    assert "--org is empty" in empty.stderr
