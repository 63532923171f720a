"""Amp (``store/usage/agents/amp.py``): thread documents into the store, and the daily
report against ccusage's on the same files.

Fixtures (``fixtures/amp``, sources in its README.md): ccusage's own Amp adapter tests
(ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/amp/parser.rs`` and
``rust/crates/ccusage/src/main.rs``), and threads generated in the shape those tests and
the adapter's README describe (ledger entries pointing at messages for their cache
tokens, current-schema message usage, totals beyond the parts, entries without a time
or model, a half-written file, and an ``archive/`` copy of one thread).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from opencode_support import both_daily, by_date, isolated_env

from tokentop.store.usage.agents.amp import AMP, roots
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "amp"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
COPY = "T-5d1c2b3a-7e8f-4a9b-8c0d-1e2f3a4b5c6d"


def collect(store: UsageStore, tmp: Path, *dirs: Path):  # type: ignore[no-untyped-def]
    agent = dataclasses.replace(AMP, roots=lambda: [d / "threads" for d in dirs])
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, substr(occurred_at, 1, 19), session_id, model_raw,"
        " input_tokens, output_tokens, cache_write_tokens, cache_read_tokens"
        " FROM usage_events WHERE agent_name = 'amp'")}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "data", tmp_path / "data")
    return tmp_path / "data"


def test_env_variable_takes_comma_separated_directories(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMP_DATA_DIR", f" {tmp_path}/a, ,{tmp_path}/b,{tmp_path}/a")
    assert roots() == [tmp_path / "a" / "threads", tmp_path / "b" / "threads"]
    monkeypatch.delenv("AMP_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # ccusage ignores it
    assert roots() == [tmp_path / ".local" / "share" / "amp" / "threads"]


def test_ledger_entries_else_message_usage(data: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, data)
        got = rows(store)
    counts = report.agents["amp"]
    assert counts.files == 9 and counts.malformed == 1  # T-broken.json
    assert got["thread-a:ledger:event-a"] == (
        "2026-05-01T01:02:03", "thread-a", "claude-sonnet-4-20250514", 100, 50, 20, 10)
    # only a total: all of it is output
    assert got["thread-b:ledger:event-a"][3:7] == (0, 345, 0, 0)
    # the ledger wins over the messages
    assert [k for k in got if k.startswith("thread-c:")] == ["thread-c:ledger:event-a"]
    assert got["T-thread-a:message#1"][2:7] == ("claude-haiku-4-5-20251001", 10, 178, 986,
                                                11372)
    assert got["T-thread-a:message#2"][3:7] == (5, 42, 0, 12000)
    assert got["T-thread-total:message#0"][3:7] == (0, 345, 0, 0)
    led = "T-9a8b7c6d-0000-4e1f-8a2b-3c4d5e6f7a8b:ledger:"
    # cache tokens from the message each entry points at; none without toMessageId
    assert got[led + "led-1"][3:7] == (12, 300, 9000, 0)
    assert got[led + "led-2"][3:7] == (4, 800, 1500, 9000)
    assert got[led + "led-3"][3:7] == (640, 25 + 35, 0, 0)  # total 700: 35 extra output
    cur = COPY + ":message:"
    assert got[cur + "1"][:7] == ("2026-05-28T10:20:05", COPY, "claude-sonnet-4-5-20250929",
                                  3, 412, 18234, 0)
    # +02:00 kept as the instant; totalTokens 22000 beyond the parts: 260 extra output
    assert got[cur + "3"][:1] + got[cur + "3"][3:7] == ("2026-05-28T10:41:30", 6, 1290 + 260,
                                                        2210, 18234)
    assert got[cur + "5"][2:7] == ("gpt-5", 5120, 377, 0, 2048)
    assert len(got) == 12
    assert counts.skipped == {"no tokens": 1, "ledger entry without time, model or tokens": 2,
                              "message usage without time or model": 2}


def test_a_second_run_reads_nothing_and_a_rewritten_thread_is_read_once(
        data: Path, tmp_path: Path) -> None:
    thread = data / "threads" / f"{COPY}.json"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
        again = collect(store, tmp_path, data)
        assert again.bytes_read == 0 and again.ingest.inserted == 0

        doc = json.loads(thread.read_text())  # Amp rewrites the whole thread
        doc["messages"].append({"role": "assistant", "messageId": 8, "usage": {
            "model": "gpt-5", "inputTokens": 70, "outputTokens": 30,
            "timestamp": "2026-05-30T08:00:00.000Z"}})
        thread.write_text(json.dumps(doc))
        third = collect(store, tmp_path, data)
        assert third.ingest.inserted == 1
        # the thread's earlier messages were stored at the last read (``docmarks``):
        # only the new one reaches the store, not three duplicates beside it
        assert third.agents["amp"].requests == 1 and third.ingest.duplicates == 0
        n = store.conn.execute("SELECT COUNT(*), SUM(input_tokens) FROM usage_events WHERE"
                               f" agent_name = 'amp' AND session_id = '{COPY}'").fetchone()
        assert n == (4, 3 + 6 + 5120 + 70)

        # an earlier message whose usage grew is passed on again, and the store takes it
        doc["messages"][-1]["usage"]["outputTokens"] = 90
        thread.write_text(json.dumps(doc))
        fourth = collect(store, tmp_path, data)
        assert fourth.agents["amp"].requests == 1 and fourth.ingest.inserted == 0
        assert rows(store)[f"{COPY}:message:8"][4] == 90

        # the same thread written again under a new inode: nothing new to pass on
        copy = thread.with_suffix(".tmp")
        copy.write_bytes(thread.read_bytes())
        copy.replace(thread)
        fifth = collect(store, tmp_path, data)
        assert fifth.agents["amp"].files_read == 1 and fifth.agents["amp"].requests == 0


def test_a_copy_in_a_second_directory_counts_once(data: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data, FIXTURES / "archive")
        n = store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE agent_name = 'amp'"
                               f" AND session_id = '{COPY}'").fetchone()[0]
    assert n == 3


def test_nothing_is_written_to_amps_files(data: Path, tmp_path: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.rglob("*.json")}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, data)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.rglob("*.json")} == before


# --- parity with the pinned ccusage: ``ccusage amp daily`` on the same files


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("amp-parity")
    shutil.copytree(FIXTURES / "data", tmp / "data")
    return both_daily(tmp, "amp", isolated_env(tmp, AMP_DATA_DIR=str(tmp / "data")))


# the "extra" of a total beyond the parts: in ccusage's total and cost, not its output
EXTRA = {"2026-05-02": 35, "2026-05-28": 260}


def test_parity_days_and_tokens_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = by_date(both[0]), by_date(both[1])
    assert list(ours) == list(theirs) == [
        "2026-01-02", "2026-01-19", "2026-05-01", "2026-05-02", "2026-05-28", "2026-05-29"]
    for day, a in ours.items():
        b = theirs[day]
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, day
        assert a["outputTokens"] == b["outputTokens"] + EXTRA.get(day, 0), day
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), day


def test_parity_cost_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = by_date(both[0]), by_date(both[1])
    for day, a in ours.items():
        assert a["totalCost"] == pytest.approx(theirs[day]["totalCost"], rel=0.005), day


def test_parity_a_copied_thread(tmp_path: Path) -> None:
    """The same thread in two ``AMP_DATA_DIR`` directories: ccusage counts it twice,
    tokentop once (2026-05-28: 40,649 tokens here, 81,298 in ccusage)."""
    shutil.copytree(FIXTURES / "data", tmp_path / "data")
    env = isolated_env(tmp_path, AMP_DATA_DIR=f"{tmp_path / 'data'},{FIXTURES / 'archive'}")
    ours, theirs = (by_date(d) for d in both_daily(tmp_path, "amp", env))
    assert ours["2026-05-28"]["totalTokens"] == 40_649
    assert theirs["2026-05-28"]["totalTokens"] == 2 * 40_649
    assert ours["2026-05-29"]["totalTokens"] * 2 == theirs["2026-05-29"]["totalTokens"]
