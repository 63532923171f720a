"""The trace list (keyset cursor) and get_trace on both backends, from the same rows."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import reference as ref
from gateway_db import fixture_rows

from tokentop.store.traces import (
    Instant,
    InvalidCursorError,
    TraceFilter,
    TraceNotFoundError,
    open_trace_store,
)
from tokentop.store.traces.cursor import decode_cursor, encode_cursor

ROWS = fixture_rows()
BY_ID = {r.id: r for r in ROWS}


async def walk(target: str, f: TraceFilter) -> tuple[list[str], int]:
    """Every id, page by page; and the number of pages."""
    store = await open_trace_store(target)
    ids: list[str] = []
    pages = 0
    cursor = None
    try:
        while True:
            page = await store.query_traces(TraceFilter(**{**_fields(f), "cursor": cursor}))
            pages += 1
            ids += [t.id for t in page.items]
            assert len(page.items) <= f.limit
            if page.next_cursor is None:
                return ids, pages
            cursor = page.next_cursor
            assert pages < 1000
    finally:
        await store.close()


def _fields(f: TraceFilter) -> dict[str, object]:
    return {name: getattr(f, name) for name in f.__struct_fields__}


async def test_pages_cover_everything_once_in_order(target: str) -> None:
    ids, pages = await walk(target, TraceFilter(limit=7))
    assert ids == ref.listing(ROWS)  # created_at DESC, id DESC; ties split across pages
    assert pages == -(-len(ROWS) // 7)


@pytest.mark.parametrize(("f", "keep"), [
    (TraceFilter(provider="anthropic", limit=9), lambda r: r.provider == "anthropic"),
    (TraceFilter(model="gpt-4o-mini", limit=9), lambda r: r.model == "gpt-4o-mini"),
    (TraceFilter(status=500, limit=5), lambda r: r.response_status == 500),
    (TraceFilter(min_tokens=500, max_tokens=1500, limit=20),
     lambda r: r.total_tokens is not None and 500 <= r.total_tokens <= 1500),
    (TraceFilter(trace_group_id="grp-3", limit=4), lambda r: r.trace_group_id == "grp-3"),
    (TraceFilter(min_status=400, limit=6),  # the dashboard's errors-only view
     lambda r: r.response_status is not None and r.response_status >= 400),
    (TraceFilter(text="MINI", limit=8),  # the dashboard's search: any case, any column
     lambda r: any("mini" in (v or "").lower() for v in (
         r.id, r.trace_group_id, r.provider, r.model, r.request_path, r.gateway_key_id))),
    (TraceFilter(text="grp-3", min_status=200, limit=8),
     lambda r: r.response_status is not None and r.response_status >= 200 and any(
         "grp-3" in (v or "").lower() for v in (r.id, r.trace_group_id, r.provider, r.model,
                                                 r.request_path, r.gateway_key_id))),
    (TraceFilter(api_key_hash="hash-b", limit=11), lambda r: r.api_key_hash == "hash-b"),
    (TraceFilter(since=datetime(2026, 4, 28, 3, 0, tzinfo=UTC),
                 until=datetime(2026, 4, 29, 17, 30, tzinfo=UTC), limit=13),
     lambda r: datetime(2026, 4, 28, 3, tzinfo=UTC) <= r.timestamp
     <= datetime(2026, 4, 29, 17, 30, tzinfo=UTC)),
])
async def test_filters(target: str, f: TraceFilter, keep: object) -> None:
    expected = ref.listing([r for r in ROWS if keep(r)])  # type: ignore[operator]
    assert 0 < len(expected) < len(ROWS)
    ids, _ = await walk(target, f)
    assert ids == expected


async def test_search_wildcards_are_literal(target: str) -> None:
    """``%``, ``_`` and ``\\`` typed in the search match themselves, not any text."""
    for text in ("%", "_", "\\", "gpt_4o"):
        ids, _ = await walk(target, TraceFilter(text=text, limit=50))
        assert ids == ref.listing([r for r in ROWS if any(text in (v or "").lower() for v in (
            r.id, r.trace_group_id, r.provider, r.model, r.request_path,
            r.gateway_key_id))]), text
        assert len(ids) < len(ROWS)


async def test_limit_default_and_max(target: str) -> None:
    store = await open_trace_store(target)
    try:
        default = await store.query_traces(TraceFilter())
        capped = await store.query_traces(TraceFilter(limit=5000))
        last = await store.query_traces(TraceFilter(limit=200, cursor=capped.next_cursor))
    finally:
        await store.close()
    assert len(default.items) == 50 and default.next_cursor is not None
    assert len(capped.items) == 200
    assert len(last.items) == len(ROWS) - 200 and last.next_cursor is None


async def test_row_fields(target: str) -> None:
    store = await open_trace_store(target)
    try:
        page = await store.query_traces(TraceFilter(limit=200))
    finally:
        await store.close()
    for item in page.items:
        row = BY_ID[item.id]
        assert item.created_at == row.created_at  # µs kept, UTC
        assert item.timestamp == row.timestamp
        assert (item.latency_ms, item.total_tokens, item.response_status) == (
            row.latency_ms, row.total_tokens, row.response_status)
        assert item.gateway_key_id == row.gateway_key_id
        assert item.estimated_cost_usd == row.estimated_cost_usd


async def test_get_trace_full_row(target: str) -> None:
    store = await open_trace_store(target)
    try:
        trace = await store.get_trace("tr-00042")
        with pytest.raises(TraceNotFoundError, match="no trace with id 'nope'"):
            await store.get_trace("nope")
    finally:
        await store.close()
    row = BY_ID["tr-00042"]
    assert trace.response_body == row.response_body  # escape sequences kept as data
    assert trace.request_body == row.request_body
    # JSONB re-serialises on PostgreSQL: compare the JSON, not the spelling
    assert json.loads(trace.request_headers or "") == json.loads(row.request_headers or "")
    assert json.loads(trace.metadata or "") == json.loads(row.metadata or "")
    assert trace.time_to_first_token_us == row.time_to_first_token_us
    assert trace.created_at == row.created_at


@pytest.mark.parametrize("bad", [
    "not base64!!",
    base64.urlsafe_b64encode(b"2026-04-27T00:00:00Z").decode().rstrip("="),  # no id
    base64.urlsafe_b64encode(b"yesterday|tr-1").decode().rstrip("="),
    base64.urlsafe_b64encode(b"2026-04-27 00:00:00|tr-1").decode().rstrip("="),  # not RFC 3339
    "QQ",  # "A"
])
async def test_bad_cursor_is_a_clear_error(target: str, bad: str) -> None:
    store = await open_trace_store(target)
    try:
        with pytest.raises(InvalidCursorError, match="invalid cursor") as info:
            await store.query_traces(TraceFilter(cursor=bad))
    finally:
        await store.close()
    assert "\n" not in str(info.value)


def test_cursor_is_the_gateways() -> None:
    """base64url without padding of RFC3339Nano (trimmed, Z) + "|" + id, as Go writes it."""
    when = datetime(2026, 4, 27, 1, 2, 3, 450000, tzinfo=UTC)
    cursor = encode_cursor(when, "tr-1")
    assert "=" not in cursor
    assert base64.urlsafe_b64decode(cursor + "==").decode() == "2026-04-27T01:02:03.45Z|tr-1"
    assert decode_cursor(cursor) == (Instant.of(when), "tr-1")
    go = base64.urlsafe_b64encode(b"2026-04-27T03:02:03.123456789+02:00|x").decode()
    # all nine digits kept: the bound must not fall between two traces of one microsecond
    assert decode_cursor(go.rstrip("=")) == (
        Instant(Instant.of(datetime(2026, 4, 27, 1, 2, 3, tzinfo=UTC)).ns + 123456789), "x")
