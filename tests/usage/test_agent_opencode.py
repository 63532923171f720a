"""OpenCode (``tokentop.store.usage.agents.opencode``): ``opencode.db`` read from its
watermark, the older ``storage/message`` JSON read when it changes, one event per message.

Fixtures (tests/usage/fixtures/opencode, see its README.md): the ``message`` table as
OpenCode's migrations create it (anomalyco/opencode
``packages/opencode/migration/20260127222353_familiar_lady_ursula/migration.sql``), rows
and JSON from ccusage's OpenCode adapter tests (ccusage/ccusage
``rust/crates/ccusage/src/adapter/opencode/loader.rs``, ``parser.rs``) and in the shape
OpenCode writes, plus generated edge cases: a message in both the database and a JSON
file, a streaming message still at zero, a total-only message, malformed rows and files.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
from pathlib import Path

import pytest
from opencode_support import (
    COST_TOLERANCE,
    TOKEN_KEYS,
    both_daily,
    build_db,
    by_date,
    copy_storage,
    isolated_env,
)

from tokentop.store.usage.agents import AGENTS, by_name
from tokentop.store.usage.agents.opencode import (
    LAG_S,
    OPENCODE_DB,
    OPENCODE_FILES,
    data_dirs,
    pack,
    unpack,
)
from tokentop.store.usage.agents.paths import opencode_db, opencode_dirs
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.rowmarks import RowMarks

# message id -> (input, output, cache read, cache write, reasoning, total, cost)
EXPECTED = {
    "db-msg-1": (120, 60, 12, 24, 0, 216, 0.03),
    "msg_02": (1200, 250, 9000, 300, 0, 10750, 0.0123),
    "msg_03": (500, 100, 2000, 0, 0, 2600, None),  # cost 0: tokentop prices it
    "msg_04": (2000, 700, 3000, 0, 300, 5700, 0.05),  # total - parts = the reasoning: output
    "msg_06": (0, 123, 0, 0, 0, 123, 0.02),  # only a total: it is the output
    "msg_07": (100, 10, 50, 25, 0, 185, None),
    "msg-1": (100, 50, 10, 20, 0, 180, 0.02),  # in the database AND a JSON file
    "msg_old1": (4000, 900, 20000, 1500, 0, 26400, 0.5),  # only in a JSON file
}


def agents_at(data_dir: Path) -> list:
    return [dataclasses.replace(OPENCODE_DB, roots=lambda: [data_dir / "opencode.db"]),
            dataclasses.replace(OPENCODE_FILES,
                                roots=lambda: [data_dir / "storage" / "message"])]


def collect(store: UsageStore, tmp: Path, data_dir: Path):  # type: ignore[no-untyped-def]
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=agents_at(data_dir))


def events(store: UsageStore) -> dict[str, tuple]:
    rows = store.conn.execute(
        "SELECT message_id, input_tokens, output_tokens, cache_read_tokens,"
        " cache_write_tokens, reasoning_tokens, total_tokens, cost_usd"
        " FROM usage_events WHERE agent_name = 'opencode'"
        " AND COALESCE(tokentop_cost_computed, 0) = 0")
    out = {r[0]: tuple(r[1:]) for r in rows}
    for r in store.conn.execute(
            "SELECT message_id, input_tokens, output_tokens, cache_read_tokens,"
            " cache_write_tokens, reasoning_tokens, total_tokens FROM usage_events"
            " WHERE agent_name = 'opencode' AND tokentop_cost_computed = 1"):
        out[r[0]] = (*r[1:], None)  # a cost tokentop computed is no cost of the agent's
    return out


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "opencode"
    conn = build_db(data / "opencode.db", "opencode")
    copy_storage(data)
    yield data, conn
    conn.close()


def test_the_fixture_numbers_and_fields(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, data)
        assert events(store) == EXPECTED
        c = r.agents["opencode"]
        # db: 11 rows, 1 not JSON; files: 4, 1 not JSON (both "malformed", skipped)
        assert c.malformed == 2 and c.lines == 11 + 4
        assert r.ingest.inserted == len(EXPECTED)
        row = store.conn.execute(
            "SELECT agent_name, session_id, workspace_id, provider_id,"
            " model_raw, event_type, occurred_at FROM usage_events"
            " WHERE message_id = 'msg_02'").fetchone()
        assert row[:6] == ("opencode", "ses_a", "/home/u/app", "anthropic",
                           "claude-sonnet-4-20250514", "message_usage")
        assert row[6].startswith("2026-01-02T08:00:01")
        assert store.conn.execute(
            "SELECT session_id, workspace_id FROM usage_events"
            " WHERE message_id = 'msg_old1'").fetchone() == ("ses_old", "/home/u/legacy")


def test_a_message_in_the_database_and_a_json_file_counts_once(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        assert store.conn.execute(
            "SELECT COUNT(*) FROM usage_events WHERE message_id = 'msg-1'").fetchone() == (1,)


def test_a_second_run_reads_nothing_new(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        again = collect(store, tmp_path, data)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        assert again.ingest.enriched == 0 and again.ingest.duplicates == 0


def test_updates_in_place_new_rows_and_imported_rows_are_picked_up_once(
        tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, conn = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        now = int(time.time() * 1000)
        # the streaming message finishes its step: its row is rewritten in place
        conn.execute(
            "UPDATE message SET time_updated = ?, data = json_set(data,"
            " '$.tokens.input', 700, '$.tokens.output', 90, '$.cost', 0.01) WHERE id = 'msg_05'",
            (now,))
        # a second step of msg_02: tokens replaced by the latest step's (more here)
        conn.execute(
            "UPDATE message SET time_updated = ?, data = json_set(data,"
            " '$.tokens.cache.read', 12000, '$.cost', 0.02) WHERE id = 'msg_02'", (now,))
        # a session synced from elsewhere: a new row whose time_updated is long past
        conn.execute(
            "INSERT INTO message VALUES('msg_imp','ses_imp',1767225600000,1767225600000,"
            "'{\"role\":\"assistant\",\"modelID\":\"gpt-5\",\"providerID\":\"openai\","
            "\"time\":{\"created\":1767225600000},\"tokens\":{\"input\":7,\"output\":3,"
            "\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}},\"cost\":0.001}')")
        conn.commit()
        r = collect(store, tmp_path, data)
        assert r.ingest.inserted == 2 and r.ingest.enriched == 1
        got = events(store)
        assert got["msg_05"] == (700, 90, 0, 0, 0, 790, 0.01)
        assert got["msg_02"] == (1200, 250, 12000, 300, 0, 13750, 0.02)
        assert got["msg_imp"] == (7, 3, 0, 0, 0, 10, 0.001)
        assert store.conn.execute(
            "SELECT COUNT(*) FROM usage_events WHERE agent_name = 'opencode'"
        ).fetchone() == (len(EXPECTED) + 2,)
        # the database changed no further: nothing is read again
        assert collect(store, tmp_path, data).bytes_read == 0


def test_the_watermark_rereads_only_the_lag_window(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    """A row committed late (its time_updated a little before the mark) is not missed;
    rows older than the window, with lower rowids, are not read again."""
    from tokentop.store.usage.agents.base import open_read_only
    from tokentop.store.usage.agents.opencode import read_opencode_db
    from tokentop.store.usage.collectors.files import Counts

    data, conn = home
    ro = open_read_only(data / "opencode.db")
    try:
        first, mark = read_opencode_db(ro, data / "opencode.db", 0, Counts(), RowMarks())
        assert len(first) == 7 and unpack(mark) == (1767524401, 11)
        mark_s = unpack(mark)[0]
        late = (mark_s - LAG_S + 1) * 1000
        conn.execute("UPDATE message SET time_updated = ?, data = json_set(data,"
                     " '$.tokens.output', 61) WHERE id = 'db-msg-1'", (late,))
        conn.commit()
        again, mark2 = read_opencode_db(ro, data / "opencode.db", mark, Counts(), RowMarks())
        assert [r.message_id for r in again] == ["db-msg-1"] and again[0].output_tokens == 61
        assert mark2 == mark
    finally:
        ro.close()
    assert unpack(pack(1767524401, 11)) == (1767524401, 11)
    assert unpack(0) == (0, 0)


def test_nothing_is_written_to_opencode_files(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    data, _ = home
    files = [data / "opencode.db", data / "opencode.db-wal",
             *sorted((data / "storage").rglob("*.json"))]
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        collect(store, tmp_path, data)
    assert {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in files} == before


def test_a_missing_directory_is_no_error(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, tmp_path / "absent")
        assert r.ingest.inserted == 0 and r.agents["opencode"].files == 0


def test_a_database_without_a_message_table_is_skipped(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    data.mkdir()
    other = sqlite3.connect(data / "opencode.db")
    other.execute("CREATE TABLE project (id TEXT)")
    other.commit()
    other.close()
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect(store, tmp_path, data)
        assert r.agents["opencode"].skipped == {"no message table": 1}


def test_where_opencode_keeps_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCODE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert opencode_dirs() == [tmp_path / "xdg" / "opencode"]
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert opencode_dirs() == [tmp_path / ".local" / "share" / "opencode"]
    monkeypatch.setenv("OPENCODE_DATA_DIR", f" {tmp_path}/a , ,{tmp_path}/b,{tmp_path}/a")
    assert opencode_dirs() == [tmp_path / "a", tmp_path / "b"]
    assert data_dirs("NOT_SET_ANYWHERE_X", tmp_path) == [tmp_path]
    # no opencode.db: the first channel database (ccusage's rule)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "opencode-beta.db").write_bytes(b"")
    (tmp_path / "a" / "opencode-alpha.db").write_bytes(b"")
    (tmp_path / "a" / "opencode-bad name.db").write_bytes(b"")
    assert opencode_db(tmp_path / "a") == tmp_path / "a" / "opencode-alpha.db"
    (tmp_path / "a" / "opencode.db").write_bytes(b"")
    assert opencode_db(tmp_path / "a") == tmp_path / "a" / "opencode.db"
    assert [a.load() for a in AGENTS if a.name == "opencode"] == [OPENCODE_DB, OPENCODE_FILES]
    ref = by_name("opencode")
    assert ref is not None and ref.load() is OPENCODE_DB


# --- parity with the pinned ccusage (tests/support/install_ccusage.sh)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("opencode-parity")
    data = tmp / "opencode"
    build_db(data / "opencode.db", "opencode").close()
    copy_storage(data)
    return both_daily(tmp, "opencode", isolated_env(tmp, OPENCODE_DATA_DIR=str(data)))


# The reasoning (ccusage's "extra": tokens.total beyond the parts) is in tokentop's
# output, as it is billed; ccusage shows it in totalTokens only. 2026-01-03: msg_04's 300.
EXTRA = {"2026-01-03": 300}


def test_parity_tokens_per_day_equal_ccusage(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    assert list(by_date(ours)) == list(by_date(theirs)) == [
        "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    same = [k for k in TOKEN_KEYS if k != "outputTokens"] + ["totalTokens"]
    for day, t in by_date(theirs).items():
        o = by_date(ours)[day]
        assert {k: o[k] for k in same} == {k: t[k] for k in same}, day
        assert sorted(o["modelsUsed"]) == sorted(t["modelsUsed"]), day
    for k in same:
        assert ours["totals"][k] == theirs["totals"][k], k


def test_parity_reasoning_is_in_the_output(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    for day, t in by_date(theirs).items():
        assert by_date(ours)[day]["outputTokens"] == t["outputTokens"] + EXTRA.get(day, 0), day


@pytest.mark.parametrize("day", ["2026-01-01", "2026-01-02", "2026-01-03"])
def test_parity_cost_per_day(reports: tuple[dict, dict], day: str) -> None:
    ours, theirs = reports
    o, t = by_date(ours)[day]["totalCost"], by_date(theirs)[day]["totalCost"]
    assert o == pytest.approx(t, rel=COST_TOLERANCE), (day, o, t)


def test_parity_cost_of_a_dotted_copilot_model(reports: tuple[dict, dict]) -> None:
    ours, theirs = reports
    o, t = by_date(ours)["2026-01-04"]["totalCost"], by_date(theirs)["2026-01-04"]["totalCost"]
    assert o == pytest.approx(t, rel=COST_TOLERANCE), (o, t)


def test_odd_field_types_read_as_ccusage_reads_them() -> None:
    """What is not a string is absent (serde_json's ``as_str`` in ccusage), a count that
    is absent is 0; a non-object is malformed."""
    import msgspec

    from tokentop.store.usage.agents.opencode import decode, opencode_request

    msg = decode(b'{"modelID":" gpt-5 ","providerID":"openai","path":"odd",'
                 b'"time":{"created":1767312000000},"cost":"1",'
                 b'"tokens":{"input":5,"cache":{"read":7}}}')
    req = opencode_request(msg, message_id="m", session_id=None, channel="sqlite")
    assert req is not None
    assert (req.input_tokens, req.output_tokens, req.cache_read_tokens,
            req.reasoning_tokens, req.cost_usd, req.model_raw, req.session_id,
            req.workspace_id) == (5, 0, 7, 0, None, "gpt-5", "unknown", None)
    with pytest.raises(msgspec.DecodeError):
        decode(b"[1, 2]")


@pytest.mark.parametrize(("tokens", "reason"), [
    (b'{"input":5,"output":-3}', "negative tokens"),
    (b'{"input":5.5,"output":3}', "invalid tokens"),
    (b'{"input":5,"output":3,"reasoning":true}', "invalid tokens"),
    (b'{"input":"5","output":3}', "invalid tokens"),
    (b'{"input":5,"output":3,"cache":{"read":-1}}', "negative tokens"),
])
def test_a_count_opencode_cannot_write_refuses_the_message(tokens: bytes,
                                                            reason: str) -> None:
    """Issue 16's rule for every agent: a negative or non-integer count is malformed,
    named and skipped. ccusage reads it as 0 and keeps the message (``as_u64``): a
    deliberate difference, on rows OpenCode never writes."""
    from tokentop.store.usage.agents.opencode import BadCount, decode

    with pytest.raises(BadCount, match=reason):
        decode(b'{"modelID":"gpt-5","providerID":"openai","time":{"created":1767312000000},'
               b'"tokens":' + tokens + b'}')


def test_a_later_step_with_fewer_tokens_replaces_the_earlier_read(
        tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    """OpenCode REPLACES a message's tokens at every step (processor.ts ``finish-step``)
    while its cost adds up: the row as it stands is the truth. A live read mid-turn
    stored the first step; the next step's usage is smaller (a shorter cached prefix),
    and the store must take it, not keep the copy with more tokens."""
    data, conn = home
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        assert events(store)["msg_02"] == EXPECTED["msg_02"]
        conn.execute(
            "UPDATE message SET time_updated = ?, data = json_set(data,"
            " '$.tokens.cache.read', 5000, '$.cost', 0.0246) WHERE id = 'msg_02'",
            (int(time.time() * 1000),))
        conn.commit()
        r = collect(store, tmp_path, data)
        assert r.ingest.enriched == 1
        assert events(store)["msg_02"] == (1200, 250, 5000, 300, 0, 6750, 0.0246)


def test_an_older_revision_read_after_a_newer_one_does_not_win(tmp_path: Path) -> None:
    """Which revision stays depends on the revisions, never on the order they arrive."""
    from datetime import UTC, datetime

    from tokentop.store.usage.model import IngestRequest

    def step(revision: int, cache_read: int) -> IngestRequest:
        return IngestRequest(
            source_system="opencode", source_channel="sqlite", agent_name="opencode",
            occurred_at=datetime(2026, 5, 1, 12, tzinfo=UTC), session_id="ses",
            message_id="msg_r", model_raw="gpt-5", provider_id="openai",
            input_tokens=10, output_tokens=5, cache_read_tokens=cache_read,
            total_tokens=15 + cache_read, revision=revision)

    for order in ((step(1, 9000), step(2, 100)), (step(2, 100), step(1, 9000))):
        with UsageStore.open(tmp_path / f"u{order[0].revision}.db") as store:
            for req in order:
                store.ingest([req])
            assert store.conn.execute(
                "SELECT cache_read_tokens, tokentop_revision FROM usage_events"
                " WHERE message_id = 'msg_r'").fetchall() == [(100, 2)]
