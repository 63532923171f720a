"""Retention (old events, raw payloads, orphans, ANALYZE, VACUUM) and the
``tokentop db check|prune|vacuum`` commands, including their one-line errors."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.store.usage import retention
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.tui.commands.db import db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def ev(n: int, age: timedelta) -> IngestRequest:
    return IngestRequest(source_system="codex", source_channel="jsonl", session_id="s",
                         turn_id=f"t{n}", occurred_at=NOW - age, input_tokens=n,
                         payload={"line": n})


def filled(path: Path, old: int, new: int) -> UsageStore:
    store = UsageStore.open(path)
    store.ingest([ev(i, timedelta(days=100, minutes=i)) for i in range(old)])
    store.ingest([ev(old + i, timedelta(days=1, minutes=i)) for i in range(new)])
    return store


def count(store: UsageStore, table: str) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_prune_in_batches_then_orphans(tmp_path: Path) -> None:
    with filled(tmp_path / "usage.db", old=120, new=30) as store:
        assert count(store, "usage_raw_events") == 2
        assert retention.prune_old_events(store, 90, now=NOW, batch=50) == 120
        assert count(store, "usage_events") == 30
        assert retention.prune_orphan_raw_events(store) == 1
        assert count(store, "usage_raw_events") == 1
        # an event exactly at the cutoff second stays
        assert retention.prune_old_events(store, 1, now=NOW, batch=7) == 29


def test_raw_payloads_cleared_after_an_hour(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([ev(1, timedelta(minutes=5))])
        assert retention.clear_raw_payloads(store, 1, now=datetime.now(UTC)) == 0
        later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
        assert retention.clear_raw_payloads(store, 1, now=later) == 1
        assert store.conn.execute("SELECT source_payload FROM usage_raw_events").fetchone() \
            == ("{}",)
        assert retention.clear_raw_payloads(store, 1, now=later) == 0


def test_run_vacuums_only_when_many_rows_went(tmp_path: Path) -> None:
    with filled(tmp_path / "usage.db", old=10, new=100) as store:
        res = retention.run(store, 90, now=NOW)
        assert (res.events_deleted, res.orphans_deleted, res.vacuumed) == (10, 1, False)
        assert store.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]
    with filled(tmp_path / "b.db", old=300, new=20) as store:
        res = retention.run(store, 90, now=NOW)
        assert res.events_deleted == 300 and res.vacuumed
        assert store.wal_size() == 0
        assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


# -- the CLI ---------------------------------------------------------------------


def cli(*args: str):
    return CliRunner().invoke(db, list(args))


def one_line_error(res, text: str) -> None:
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in res.output


def test_check_prune_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    filled(path, old=5, new=7).close()
    res = cli("--store", str(path), "check")
    assert res.exit_code == 0, res.output
    assert "integrity  ok" in res.output and "events     12" in res.output
    assert "compatible: tokentop" in res.output and "wal" in res.output
    res = cli("--store", str(path), "prune", "--days", "90")
    assert res.exit_code == 0, res.output
    assert "events deleted    5" in res.output
    res = cli("--store", str(path), "vacuum")
    assert res.exit_code == 0 and "MB ->" in res.output


def test_check_reads_an_openusage_database(tmp_path: Path) -> None:
    from tokentop.store.usage import schema

    path = tmp_path / "telemetry.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(schema.CORE)  # openusage's tables only
    conn.close()
    res = cli("--store", str(path), "check")
    assert res.exit_code == 0, res.output
    assert "openusage-compatible" in res.output


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    one_line_error(cli("--store", str(tmp_path / "nope.db"), "check"), "not found")
    one_line_error(cli("--store", str(tmp_path / "nope.db"), "prune"), "not found")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00garbage" * 1000)
    for cmd in ("check", "prune", "vacuum"):
        one_line_error(cli("--store", str(garbage), cmd), "not a SQLite database")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    one_line_error(cli("--store", str(other), "check"), "not a usage database")


def test_corrupt_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as store:
        store.ingest([ev(i, timedelta(days=1)) for i in range(3000)])
        store.checkpoint()
    data = bytearray(path.read_bytes())
    page = 4096
    for p in range(3, len(data) // page - 1, 3):  # scribble over many pages, not page 1
        data[p * page + 8: p * page + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    one_line_error(cli("--store", str(path), "check"), "corrupt")


def test_locked_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    filled(path, old=5, new=5).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        one_line_error(cli("--store", str(path), "--busy-timeout", "50", "prune"), "locked")
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("args", [["--help"], ["check", "--help"], ["prune", "--help"]])
def test_help(args: list[str]) -> None:
    assert cli(*args).exit_code == 0
