"""The trace list sorted by latency, cost, tokens or oldest first, across every page, on
the real SQLite file and the real PostgreSQL database (the same fixture rows).

Expected orders are worked out here in Python from the fixture rows: values in the
order asked, ties by id in the same direction, rows without a value last.
"""

from __future__ import annotations

from typing import Any

import pytest
from gateway_db import Row, fixture_rows
from test_trace_list import walk

from tokentop.store.traces import InvalidCursorError, TraceFilter, open_trace_store

ROWS = fixture_rows()
FIELDS = {"created": "created_at", "latency": "latency_ms", "cost": "estimated_cost_usd",
          "tokens": "total_tokens"}


def expected(rows: list[Row], order: str, ascending: bool) -> list[str]:
    def value(r: Row) -> Any:
        return getattr(r, FIELDS[order])

    present = sorted((r for r in rows if value(r) is not None),
                     key=lambda r: (value(r), r.id), reverse=not ascending)
    missing = sorted((r for r in rows if value(r) is None), key=lambda r: r.id,
                     reverse=not ascending)
    return [r.id for r in present + missing]


@pytest.mark.parametrize("ascending", [False, True])
@pytest.mark.parametrize("order", ["latency", "cost", "tokens", "created"])
async def test_sorted_pages_cover_everything_once_in_order(target: str, order: str,
                                                           ascending: bool) -> None:
    ids, pages = await walk(target, TraceFilter(order=order, ascending=ascending, limit=7))
    want = expected(ROWS, order, ascending)
    assert ids == want
    assert pages == -(-len(ROWS) // 7)
    # The fixture has ties and missing values in these columns: the paging crossed them.
    if order != "created":
        assert any(getattr(r, FIELDS[order]) is None for r in ROWS)


async def test_sorted_with_filters(target: str) -> None:
    """Errors only, slowest first: the filter and the order both hold on every page."""
    ids, _ = await walk(target, TraceFilter(order="latency", min_status=400, limit=4))
    errors = [r for r in ROWS if r.response_status is not None and r.response_status >= 400]
    assert ids == expected(errors, "latency", False)
    assert len(ids) > 8  # more than two pages


async def test_a_cursor_belongs_to_its_order(target: str) -> None:
    store = await open_trace_store(target)
    try:
        page = await store.query_traces(TraceFilter(order="cost", limit=5))
        assert page.next_cursor is not None
        for other in (TraceFilter(order="latency", cursor=page.next_cursor),
                      TraceFilter(order="cost", ascending=True, cursor=page.next_cursor),
                      TraceFilter(cursor=page.next_cursor)):
            with pytest.raises(InvalidCursorError):
                await store.query_traces(other)
    finally:
        await store.close()
