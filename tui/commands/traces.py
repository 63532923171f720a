"""``tokentop traces STORE VIEW``: the gateway trace store's analytics as one JSON document.

STORE is an ongoingai gateway SQLite file (opened read-only) or a ``postgresql://``
URL. VIEW is one of summary, models, keys, latency, errors, tenants, list, get ID, or
``diagnostics`` (then STORE is the gateway's base URL or a diagnostics JSON file).
``--org``/``--workspace`` scope every view to one tenant, as the gateway's API scopes
a caller (``org_id``/``workspace_id``, ongoingai/gateway internal/api/tenant_scope.go);
the document then says so under ``scope``. ``--from``/``--to`` keep nanoseconds, so a
bound is the gateway's byte for byte.
The numbers are exactly what the store functions return (store/traces): the Traces
screen calls the same functions. Any user-caused problem (missing file, unreachable
server, wrong schema, bad cursor, bad --group-by/--bucket) is one line on stderr and
exit 2. No Textual here: headless commands start fast.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import click

from tokentop.tui.commands.common import LATENCY_CACHE_MODES, fail

if TYPE_CHECKING:
    from tokentop.store.traces.timefmt import Instant

VIEWS = ("summary", "models", "keys", "latency", "errors", "tenants", "list", "get",
         "diagnostics")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _instant(text: str | None, flag: str) -> Instant | None:
    """An ISO 8601 time with its nanoseconds (``...00.512345678Z``), naive as UTC."""
    if text is None:
        return None
    from tokentop.store.traces.timefmt import parse_user_instant

    try:
        return parse_user_instant(text)
    except ValueError:
        fail(f"{flag} is not an ISO 8601 time: {text!r}")


@click.command("traces", context_settings=CONTEXT)
@click.argument("store", metavar="STORE")
@click.argument("view", type=click.Choice(VIEWS), metavar="VIEW")
@click.argument("trace_id", metavar="[ID]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the default).")
@click.option("--group-by", "group_by", default="none", show_default=True,
              help="summary: none|provider|model; latency, errors: also route|key.")
@click.option("--bucket", default="day", show_default=True,
              help="summary's series: hour|day|week (weeks start Monday, UTC).")
@click.option("--from", "since", metavar="ISO8601",
              help="Only traces at or after this time (to the nanosecond, as the "
              "gateway compares; naive is UTC).")
@click.option("--to", "until", metavar="ISO8601",
              help="Only traces at or before this time (likewise).")
@click.option("--org", "org_id", metavar="ORG_ID",
              help="Only this organization's traces (org_id; the gateway writes "
              "'default' when it has none).")
@click.option("--workspace", "workspace_id", metavar="WORKSPACE_ID",
              help="Only this workspace's traces (workspace_id).")
@click.option("--provider", help="Only this provider.")
@click.option("--model", help="Only this model.")
@click.option("--key", "gateway_key_id", metavar="GATEWAY_KEY_ID",
              help="Analytics: only this gateway key.")
@click.option("--status", type=click.IntRange(100, 999), help="list: only this response status.")
@click.option("--min-tokens", type=click.IntRange(0, 2**62), help="list: total tokens at least.")
@click.option("--max-tokens", type=click.IntRange(0, 2**62), help="list: total tokens at most.")
@click.option("--trace-group", "trace_group_id", help="list: only this trace group.")
@click.option("--api-key-hash", help="list: only this API key hash.")
@click.option("--cursor", help="list: the next_cursor of the previous page.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True,
              help="list: traces per page.")
@click.option("--latency-cache", "latency_cache",
              type=click.Choice(LATENCY_CACHE_MODES), default="auto",
              show_default=True,
              help="latency: per-day histograms kept under $XDG_STATE_HOME/tokentop (file), "
              "for this run only (memory), or a full scan (off); auto: file on SQLite, off "
              "on PostgreSQL. Same numbers either way.")
def traces(store: str, view: str, trace_id: str | None, as_json: bool, group_by: str,
           bucket: str, since: str | None, until: str | None, org_id: str | None,
           workspace_id: str | None, provider: str | None,
           model: str | None, gateway_key_id: str | None, status: int | None,
           min_tokens: int | None, max_tokens: int | None, trace_group_id: str | None,
           api_key_hash: str | None, cursor: str | None, limit: int,
           latency_cache: str) -> None:
    """Gateway traces (ongoingai): usage, cost, latency, errors, the trace list.

    \b
    STORE  a gateway SQLite file, or postgresql://user@host:port/db
    VIEW   summary | models | keys | latency | errors | tenants | list
           | get ID | diagnostics (STORE is then the gateway's URL or a JSON file)
    """
    import asyncio  # here, not at the top: `tokentop --help` must not pay for it

    from tokentop.store.traces import AnalyticsFilter, TraceFilter, TraceStoreError

    start, end = _instant(since, "--from"), _instant(until, "--to")
    if view == "get" and not trace_id:
        fail("get needs a trace ID: tokentop traces STORE get ID")
    if view != "get" and trace_id:
        fail(f"unexpected argument {trace_id!r} (only get takes an ID)")
    for flag, value in (("--org", org_id), ("--workspace", workspace_id)):
        if value is not None and not value.strip():
            fail(f"{flag} is empty (the gateway's own default tenant is 'default')")
    analytics = AnalyticsFilter(org_id=org_id, workspace_id=workspace_id, provider=provider,
                                model=model, gateway_key_id=gateway_key_id,
                                since=start, until=end)
    listing = TraceFilter(org_id=org_id, workspace_id=workspace_id, provider=provider,
                          model=model, status=status,
                          min_tokens=min_tokens, max_tokens=max_tokens, since=start,
                          until=end, trace_group_id=trace_group_id,
                          api_key_hash=api_key_hash, cursor=cursor, limit=limit)
    try:
        doc = asyncio.run(_run(store, view, trace_id, analytics, listing, group_by, bucket,
                               latency_cache))
    except TraceStoreError as e:
        fail(str(e))
    click.echo(json.dumps(doc, separators=(",", ":")))


async def _run(target: str, view: str, trace_id: str | None, analytics: Any,
               listing: Any, group_by: str, bucket: str, latency_cache: str
               ) -> dict[str, Any]:
    import msgspec

    from tokentop.store.traces import open_trace_store

    def plain(value: Any) -> Any:
        return msgspec.to_builtins(value)

    if view == "diagnostics":
        from tokentop.store.traces.diagnostics import load_diagnostics

        return {"diagnostics": plain(await load_diagnostics(target))}
    store = await open_trace_store(target, latency_cache=latency_cache)  # type: ignore[arg-type]
    try:
        doc: dict[str, Any] = {"store": store.display, "backend": store.backend}
        if analytics.org_id or analytics.workspace_id:
            doc["scope"] = {"org_id": analytics.org_id, "workspace_id": analytics.workspace_id}
        views: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {}

        async def summary() -> dict[str, Any]:
            return {"usage": plain(await store.usage_summary(analytics)),
                    "cost": plain(await store.cost_summary(analytics)),
                    "series": {"group_by": group_by, "bucket": bucket,
                               "usage": plain(await store.usage_series(analytics, group_by,
                                                                       bucket)),
                               "cost": plain(await store.cost_series(analytics, group_by,
                                                                     bucket))}}

        async def models() -> dict[str, Any]:
            return {"models": plain(await store.model_stats(analytics))}

        async def keys() -> dict[str, Any]:
            return {"keys": plain(await store.key_stats(analytics))}

        async def latency() -> dict[str, Any]:
            return {"group_by": group_by,
                    "latency": plain(await store.latency_percentiles(analytics, group_by))}

        async def errors() -> dict[str, Any]:
            return {"group_by": group_by,
                    "errors": plain(await store.error_rates(analytics, group_by))}

        async def tenants() -> dict[str, Any]:
            return {"tenants": plain(await store.tenants(analytics))}

        async def list_() -> dict[str, Any]:
            return plain(await store.query_traces(listing))

        async def get() -> dict[str, Any]:
            from tokentop.store.traces import TraceNotFoundError, in_tenant

            trace = await store.get_trace(trace_id or "")
            if not in_tenant(trace, analytics.org_id, analytics.workspace_id):
                # as the gateway's traceVisibleInTenantScope: another tenant's is not found
                raise TraceNotFoundError(f"no trace with id {trace_id!r} in this scope")
            from tokentop.store.redact import redact_header_field

            doc = plain(trace)
            for field in ("request_headers", "response_headers"):
                if isinstance(doc.get(field), str):  # as the screen shows them: redacted
                    doc[field] = redact_header_field(doc[field])
            return {"trace": doc}

        views.update(summary=summary, models=models, keys=keys, latency=latency,
                     errors=errors, tenants=tenants, list=list_, get=get)
        doc.update(await views[view]())
        return doc
    finally:
        await store.close()
