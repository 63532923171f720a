"""Ingest: counts, the enrichment rules, collisions inside a batch, rejections, and
offsets committed atomically with the events they produced."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.model import FileOffset, IngestRequest, IngestResult

T = datetime(2026, 11, 20, 9, 14, 3, 512000, tzinfo=UTC)


def ev(msg: str = "m1", **kw) -> IngestRequest:
    base = {"source_system": "claude_code", "source_channel": "jsonl", "occurred_at": T,
            "message_id": msg, "provider_id": "anthropic", "session_id": "s1"}
    base.update(kw)
    return IngestRequest(**base)


def rows(store: UsageStore, cols: str = "*") -> list[tuple]:
    return store.conn.execute(f"SELECT {cols} FROM usage_events ORDER BY occurred_at").fetchall()


def test_insert_then_duplicate(store: UsageStore) -> None:
    batch = [ev("a", input_tokens=1), ev("b", input_tokens=2)]
    assert store.ingest(batch) == IngestResult(inserted=2)
    before = store.conn.total_changes
    assert store.ingest(batch) == IngestResult(duplicates=2)
    assert store.conn.total_changes == before  # a no-op merge writes nothing
    (row,) = rows(store, "occurred_at, agent_name, status, provider_id, raw_event_id")[:1]
    assert row[0] == "2026-11-20T09:14:03.512000000Z"
    assert row[1] == "claude_code" and row[2] == "ok" and row[3] == "anthropic"
    raw = store.conn.execute("SELECT raw_event_id, source_system, source_channel,"
                             " source_payload FROM usage_raw_events").fetchall()
    assert len(raw) == 1 and raw[0][0] == row[4] and raw[0][1:3] == ("claude_code", "jsonl")


def test_claude_message_seen_in_two_sessions_is_one_event(store: UsageStore) -> None:
    res = store.ingest([ev("msg_1", session_id="parent", output_tokens=5),
                        ev("msg_1", session_id="sidechain", output_tokens=5)])
    assert res == IngestResult(inserted=1, duplicates=1)


def test_same_priority_more_tokens_wins(store: UsageStore) -> None:
    store.ingest([ev(input_tokens=4, output_tokens=10, model_raw="sonnet")])
    res = store.ingest([ev(input_tokens=4, output_tokens=312, cache_read_tokens=7,
                           occurred_at=T + timedelta(seconds=1))])
    assert res == IngestResult(enriched=1)
    assert rows(store, "output_tokens, cache_read_tokens, model_raw, occurred_at") == [
        (312, 7, "sonnet", "2026-11-20T09:14:04.512000000Z")]
    # fewer tokens at the same priority: the stored copy stays
    assert store.ingest([ev(input_tokens=1)]) == IngestResult(duplicates=1)
    assert rows(store, "output_tokens") == [(312,)]


def test_higher_channel_wins_even_with_fewer_tokens(store: UsageStore) -> None:
    store.ingest([ev(output_tokens=500, model_raw="from-jsonl", cost_usd=0.5)])
    res = store.ingest([ev(source_channel="hook", output_tokens=400, model_raw="from-hook")])
    assert res == IngestResult(enriched=1)
    assert rows(store, "output_tokens, model_raw, cost_usd") == [(400, "from-hook", 0.5)]
    # the stored event's channel is now hook: a jsonl copy with more tokens only fills NULLs
    res = store.ingest([ev(output_tokens=900, model_raw="x", cost_usd=9.0,
                           reasoning_tokens=3)])
    assert res == IngestResult(enriched=1)
    assert rows(store, "output_tokens, model_raw, reasoning_tokens") == [(400, "from-hook", 3)]
    chan = store.conn.execute("SELECT r.source_channel FROM usage_events e JOIN"
                              " usage_raw_events r USING (raw_event_id)").fetchall()
    assert chan == [("hook",)]


def test_lower_channel_only_fills_missing_fields(store: UsageStore) -> None:
    store.ingest([ev(output_tokens=10)])
    res = store.ingest([ev(source_channel="api", output_tokens=99, cost_usd=0.25,
                           model_canonical="claude-sonnet-4-5")])
    assert res == IngestResult(enriched=1)
    assert rows(store, "output_tokens, cost_usd, model_canonical") == [
        (10, 0.25, "claude-sonnet-4-5")]
    assert store.ingest([ev(source_channel="api", output_tokens=99, cost_usd=0.25)]) == \
        IngestResult(duplicates=1)


def test_collisions_inside_one_batch(store: UsageStore) -> None:
    batch = [ev(output_tokens=1), ev(output_tokens=3), ev(output_tokens=2),
             ev(output_tokens=3), ev("other", output_tokens=1),
             ev(source_channel="hook", output_tokens=2)]
    res = store.ingest(batch)
    assert res == IngestResult(inserted=2, enriched=2, duplicates=2)
    assert sorted(rows(store, "message_id, output_tokens")) == [("m1", 2), ("other", 1)]
    assert store.conn.execute("SELECT count(*) FROM usage_raw_events").fetchone()[0] == 2


def test_unknown_status_is_replaced_and_defaults_apply(store: UsageStore) -> None:
    store.ingest([ev(status="unknown", agent_name=None, tool_name=" Bash ",
                     provider_id=" Anthropic ")])
    assert rows(store, "status, agent_name, tool_name, provider_id") == [
        ("unknown", "claude_code", "bash", "anthropic")]
    assert store.ingest([ev(status="ok")]) == IngestResult(enriched=1)
    assert rows(store, "status") == [("ok",)]


def test_rejections_are_counted_and_the_rest_is_kept(store: UsageStore) -> None:
    batch = [ev("ok1"), ev("x1", occurred_at=None), ev("x2", input_tokens=-1),
             ev("x3", event_type="bogus"), ev("x4", source_channel="carrier-pigeon"),
             ev("x5", cost_usd=-0.1), ev("x6", output_tokens="12"), ev("x7", status="meh"),
             ev("x8", source_system="  "), ev("ok2")]
    res = store.ingest(batch)
    assert res.inserted == 2
    assert res.rejected == {"missing occurred_at": 1, "negative tokens": 1,
                            "unknown event_type": 1, "unknown source_channel": 1,
                            "negative cost": 1, "invalid tokens": 1, "unknown status": 1,
                            "missing source_system": 1}


def test_offsets_commit_with_events(store: UsageStore) -> None:
    off = FileOffset(collector="claude_code", path="/p/a.jsonl", inode=7, offset=100,
                     head=b"{\"a\":1}")
    store.ingest([ev("a")], [off])
    assert store.load_offsets("claude_code") == {"/p/a.jsonl": off}
    assert store.load_offsets("codex") == {}
    moved = FileOffset(collector="claude_code", path="/p/a.jsonl", inode=7, offset=250,
                       head=b"{\"a\":1}")
    store.ingest([], [moved])
    assert store.load_offsets("claude_code")["/p/a.jsonl"].offset == 250


def test_a_failed_batch_stores_neither_events_nor_offsets(store: UsageStore) -> None:
    store.conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON usage_events WHEN NEW.session_id = 'boom'"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END")
    off = FileOffset(collector="claude_code", path="/p", inode=1, offset=9)
    with pytest.raises(UsageStoreError):
        store.ingest([ev("a"), IngestRequest(source_system="codex", source_channel="jsonl",
                                             occurred_at=T, turn_id="t", session_id="boom")],
                     [off])
    assert rows(store) == []
    assert store.load_offsets("claude_code") == {}
    assert store.conn.execute("SELECT count(*) FROM usage_raw_events").fetchone()[0] == 0
    assert not store.conn.in_transaction


def test_raw_payload_is_a_small_manifest(store: UsageStore) -> None:
    big = {"line": "x" * 50_000}
    store.ingest([ev("a", payload=big), ev("b", payload={"small": 1})])
    (payload,) = store.conn.execute("SELECT source_payload FROM usage_raw_events").fetchone()
    assert len(payload) < 2048 + 200 and '"events":2' in payload and '"truncated":true' in payload


def test_foreign_keys_hold(store: UsageStore) -> None:
    store.ingest([ev("a")])
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("DELETE FROM usage_raw_events")


def test_stored_key_is_dedup_key_of_the_request(store: UsageStore) -> None:
    from tokentop.store.usage.dedup import dedup_key

    reqs = [ev(" M1 ", session_id=" S "), ev(None, turn_id="T", source_system="codex"),
            ev(None, tool_call_id="call_9", workspace_id=" /W "),
            ev(None, input_tokens=3, source_system=" Codex ", agent_name=None),
            ev(None, input_tokens=3, event_type="tool_usage", tool_name="Bash")]
    store.ingest(reqs)
    keys = {r[0] for r in store.conn.execute("SELECT dedup_key FROM usage_events")}
    assert keys == {dedup_key(r) for r in reqs}


def test_group_commit_shares_one_transaction(tmp_path) -> None:
    """Batches in a group are committed together: a reader sees none of them until the
    group commits, and an error rolls back the whole group, offsets included."""
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as writer, UsageStore.open(path, read_only=True) as reader:
        def count() -> int:
            return reader.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]

        off = FileOffset(collector="claude_code", path="/p/a.jsonl", inode=1, offset=10)
        with writer.group_commit(max_delay=3600):
            writer.ingest([ev("a")], [off])
            writer.ingest([ev("b")])
            assert count() == 0 and writer.conn.in_transaction
        assert count() == 2 and not writer.conn.in_transaction
        with writer.group_commit(max_delay=0):  # max_delay 0: every batch commits
            writer.ingest([ev("c")])
            assert count() == 3
        moved = FileOffset(collector="claude_code", path="/p/a.jsonl", inode=1, offset=99)
        with pytest.raises(RuntimeError), writer.group_commit(max_delay=3600):
            writer.ingest([ev("d")], [moved])
            raise RuntimeError("collector crashed")
        assert count() == 3
        assert writer.load_offsets("claude_code")["/p/a.jsonl"].offset == 10


def test_columns_set_by_some_events_of_a_batch_are_stored(store: UsageStore) -> None:
    """The INSERT leaves out only the columns NULL in EVERY event of the batch (schema
    9's narrow insert): a column the first event lacks but a later one sets is kept,
    and one nobody sets is NULL."""
    batch = [ev("a", output_tokens=1),
             ev("b", output_tokens=2, cost_usd=0.5, tool_name="Bash", account_id="acct"),
             ev("c", reasoning_tokens=0, speed="fast")]
    assert store.ingest(batch) == IngestResult(inserted=3)
    got = store.conn.execute(
        "SELECT message_id, output_tokens, cost_usd, tool_name, account_id,"
        " reasoning_tokens, tokentop_speed, turn_id, total_tokens FROM usage_events"
        " ORDER BY message_id").fetchall()
    assert got == [("a", 1, None, None, None, None, None, None, None),
                   ("b", 2, 0.5, "bash", "acct", None, None, None, None),
                   ("c", None, None, None, None, 0, "fast", None, None)]


def test_an_enrichment_writes_only_what_changed(store: UsageStore) -> None:
    """An enriched event's UPDATE sets only its changed columns, so an index on
    unchanged ones (occurred_at) keeps its entry: the row reads as the merge says."""
    store.ingest([ev("a", output_tokens=1, model_raw="sonnet")])
    (rowid, eid), = store.conn.execute("SELECT rowid, event_id FROM usage_events").fetchall()
    assert store.ingest([ev("a", output_tokens=9)]) == IngestResult(enriched=1)
    assert rows(store, "rowid, event_id, output_tokens, model_raw, occurred_at") == [
        (rowid, eid, 9, "sonnet", "2026-11-20T09:14:03.512000000Z")]
    assert store.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_prepared_events_store_exactly_what_their_requests_store(tmp_path) -> None:
    """The parsing processes lay events out (``ingest.prepare``) and the writer stores
    them: every column, the merges, the rejections and the raw rows come out as from
    the requests themselves."""
    from tokentop.store.usage.bounds import latest
    from tokentop.store.usage.ingest import prepare

    def batches() -> list[list[IngestRequest]]:
        return [
            [ev(output_tokens=1), ev(output_tokens=3, speed="standard"),
             ev("other", output_tokens=1, payload={"line": 1}),
             ev(source_channel="hook", output_tokens=2), ev(status="unknown", tool_name=" Bash "),
             ev("x1", occurred_at=None), ev("x2", input_tokens=-1), ev("x6", output_tokens="12"),
             ev("t", source_system="codex", source_channel="JSONL ", message_id=None,
                turn_id="turn-1", model_raw="gpt-5", input_tokens=10, output_tokens=5),
             ev("late", occurred_at=T + timedelta(days=365 * 100))],
            [ev(output_tokens=9, source_channel="hook"), ev("other", output_tokens=1),
             ev("new", cost_usd=0.5)],
        ]

    plain, prepared = UsageStore.open(tmp_path / "a.db"), UsageStore.open(tmp_path / "b.db")
    try:
        for batch in batches():
            want = plain.ingest(batch)
            got = prepared.ingest([prepare(r, latest()) for r in batch])
            assert got == want
        assert want.enriched == 1 and sum(want.rejected.values()) == 0
        cols = "occurred_at, message_id, turn_id, output_tokens, cost_usd, tool_name, " \
               "status, dedup_key, tokentop_cost_computed, agent_name"
        assert rows(prepared, cols) == rows(plain, cols) and len(rows(plain)) == 4
        raw = "SELECT source_system, source_channel, source_payload FROM usage_raw_events" \
              " ORDER BY ingested_at, source_system, source_channel"
        assert prepared.conn.execute(raw).fetchall() == plain.conn.execute(raw).fetchall()
        assert (prepared.conn.execute("SELECT * FROM usage_rollup_day").fetchall()
                == plain.conn.execute("SELECT * FROM usage_rollup_day").fetchall())
    finally:
        plain.close()
        prepared.close()
