"""The conflict clause is ingest's merge: for any two copies of one event, a team store
that got copy A from one machine and copy B from another holds the row a SQLite store
that ingested A then B holds (tests/conftest.py ``pg_server``; hypothesis draws the
copies over every field the merge looks at: channel, sidechain, revision, tokens,
speed, time, session, cost, model, status, the 1-hour cache writes)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.team import sync
from tokentop.store.usage.team.pgschema import event_columns

COMPARED = [c for c in event_columns() if c not in ("event_id", "raw_event_id")]
SERIAL = itertools.count()
MODEL = "claude-sonnet-4-5-20250929"


def _copy(d: st.DrawFn, message: str) -> IngestRequest:
    cache_write = d(st.none() | st.integers(0, 500))
    return IngestRequest(
        source_system="claude_code", source_channel=d(st.sampled_from(["jsonl", "hook", "api"])),
        occurred_at=datetime(2026, 11, 20, 10, d(st.integers(0, 1)), tzinfo=UTC),
        session_id=d(st.sampled_from([None, "s-a", "s-b"])),
        workspace_id=d(st.sampled_from([None, "/w/a", "/w/b"])),
        message_id=message, provider_id="anthropic",
        model_raw=d(st.sampled_from([None, MODEL])),
        input_tokens=d(st.none() | st.integers(0, 1000)),
        output_tokens=d(st.none() | st.integers(0, 1000)),
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=None if cache_write is None else d(
            st.none() | st.integers(0, cache_write)),
        total_tokens=d(st.none() | st.integers(0, 3000)),
        cost_usd=d(st.none() | st.sampled_from([0.25, 1.5])),
        status=d(st.sampled_from(["ok", "unknown", "error"])),
        speed=d(st.sampled_from([None, "fast", "standard"])),
        is_sidechain=d(st.sampled_from([None, False, True])),
        revision=d(st.none() | st.integers(0, 3)),
        tool_name=d(st.sampled_from([None, "bash"])))


@st.composite
def pairs(d: st.DrawFn) -> tuple[IngestRequest, IngestRequest]:
    message = f"msg_{os.getpid()}_{next(SERIAL)}"
    return _copy(d, message), _copy(d, message)


def _row(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT {', '.join(COMPARED)} FROM usage_events").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def team_url(pg_server) -> str:
    return pg_server.create_database("merge")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=pairs())
def test_the_database_merges_as_ingest_does(team_url, monkeypatch, pair) -> None:
    a, b = pair
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with UsageStore.open(base / "local.db") as local:
            local.ingest([a])
            local.ingest([b])
        for name, copy in (("a", a), ("b", b)):
            monkeypatch.setenv("XDG_STATE_HOME", str(base / name))
            sync.ingest(team_url, lambda store, copy=copy: store.ingest([copy]))
        monkeypatch.setenv("XDG_STATE_HOME", str(base / "reader"))
        replica, _ = sync.refresh(team_url)
        want = _row(base / "local.db")
        got = [r for r in _row(replica) if r[COMPARED.index("message_id")] == a.message_id]
        assert got == want
