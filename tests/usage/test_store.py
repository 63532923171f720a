"""The store file: creation and permissions, pragmas, read-only use of a database
another connection writes, openusage's variable-width times, and one-line errors."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tokentop.store.usage import schema
from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.timefmt import bound, format_ts, parse_ts

T = datetime(2026, 11, 20, 9, 14, 3, 512000, tzinfo=UTC)


def event(n: int, **kw) -> IngestRequest:
    base = {"source_system": "codex", "source_channel": "jsonl", "session_id": "s",
            "turn_id": f"t{n}", "occurred_at": T + timedelta(seconds=n), "input_tokens": n}
    base.update(kw)
    return IngestRequest(**base)


def test_open_creates_private_dir_and_file_with_wal(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentop.store.usage.paths import default_db_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "state" / "tokentop" / "usage.db"
    assert default_db_path() == path  # only tokentop's own directory is ever made
    with UsageStore.open(path) as store:
        assert store.path == path and not store.read_only
        store.ingest([event(1)])
        conn = store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(f"{path}-wal").stat().st_mode) == 0o600
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"usage_events", "usage_raw_events", "collector_offsets",
                "tokentop_migrations"} <= tables
    # reopening an existing store is fine and keeps the data
    with UsageStore.open(path) as store:
        assert store.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 1


def test_default_path_is_xdg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    with UsageStore.open() as store:
        assert store.path == tmp_path / "xdg" / "tokentop" / "usage.db"


def test_read_only_reads_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    writer = UsageStore.open(path)
    writer.ingest([event(1)])
    reader = UsageStore.open(path, read_only=True)
    assert reader.read_only
    v0 = reader.data_version()
    # the writer holds an open write transaction: the reader still reads, unblocked
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.conn.execute("DELETE FROM usage_events")
    assert reader.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 1
    writer.conn.execute("ROLLBACK")
    writer.ingest([event(2)])
    assert reader.data_version() != v0
    assert reader.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.conn.execute("DELETE FROM usage_events")
    with pytest.raises(UsageStoreError, match="read-only"):
        reader.ingest([event(3)])
    reader.close()
    writer.close()


def openusage_db(path: Path, times: list[str]) -> None:
    """A database as openusage writes it: core tables only, Go RFC3339Nano times."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(schema.CORE)
    conn.execute("INSERT INTO usage_raw_events VALUES ('r', '2026-11-20T09:00:00Z', "
                 "'claude_code', 'jsonl', 'v1', '{}', 'h', NULL, NULL)")
    for i, ts in enumerate(times):
        conn.execute(
            "INSERT INTO usage_events (event_id, occurred_at, agent_name, event_type,"
            " status, dedup_key, raw_event_id, normalization_version, input_tokens)"
            " VALUES (?, ?, 'claude_code', 'message_usage', 'ok', ?, 'r', 'v1', ?)",
            (f"e{i}", ts, f"k{i}", i),
        )
    conn.commit()
    conn.close()


def test_openusage_variable_width_times_read_in_order(tmp_path: Path) -> None:
    # true order: .5 < .512 < .52 within 09:14:03, then 09:14:04, then +02:00 offset one
    times = ["2026-11-20T09:14:04Z", "2026-11-20T09:14:03.52Z", "2026-11-20T09:14:03.5Z",
             "2026-11-20T11:14:04.000000001+02:00", "2026-11-20T09:14:03.512Z",
             "2026-11-20T09:14:02.999999999Z"]
    path = tmp_path / "telemetry.db"
    openusage_db(path, times)
    size, mtime = path.stat().st_size, path.stat().st_mtime_ns
    with UsageStore.open(path, read_only=True) as store:
        rows = store.conn.execute("SELECT occurred_at FROM usage_events").fetchall()
        got = sorted(parse_ts(r[0]) for r in rows)
        # as text, openusage's strings misorder (.5Z sorts after .512Z): parse them
        assert sorted(r[0] for r in rows).index("2026-11-20T09:14:03.5Z") == 3
        assert [format_ts(t) for t in got] == [
            "2026-11-20T09:14:02.999999000Z", "2026-11-20T09:14:03.500000000Z",
            "2026-11-20T09:14:03.512000000Z", "2026-11-20T09:14:03.520000000Z",
            "2026-11-20T09:14:04.000000000Z", "2026-11-20T09:14:04.000000000Z"]
        # whole-second range bounds are right for openusage's widths too
        lo = bound(datetime(2026, 11, 20, 9, 14, 3, tzinfo=UTC))
        hi = bound(datetime(2026, 11, 20, 9, 14, 4, tzinfo=UTC))
        n = store.conn.execute("SELECT count(*) FROM usage_events WHERE occurred_at >= ?"
                               " AND occurred_at < ?", (lo, hi)).fetchone()[0]
        assert n == 3
        assert store.load_offsets("claude_code") == {}
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert "collector_offsets" not in tables  # read-only: no schema change
    assert path.stat().st_size == size and path.stat().st_mtime_ns == mtime


def test_tokentop_times_sort_as_text_and_bounds_match_both_widths(tmp_path: Path) -> None:
    instants = [T + timedelta(microseconds=k * 7919) for k in range(300)]
    texts = [format_ts(t) for t in instants]
    assert all(len(t) == 30 for t in texts)
    assert sorted(texts) == [format_ts(t) for t in sorted(instants)]
    assert all(parse_ts(format_ts(t)) == t for t in instants)
    assert bound(T) == "2026-11-20T09:14:03"
    for text in ("2026-11-20T09:14:03Z", "2026-11-20T09:14:03.5Z", texts[0]):
        assert bound(T) <= text < bound(T + timedelta(seconds=1))
    assert bound(T) > "2026-11-20T09:14:02.999999999Z"


def test_parse_ts_accepts_go_forms() -> None:
    assert parse_ts("2026-11-20T09:14:03Z") == T.replace(microsecond=0)
    assert parse_ts("2026-11-20T09:14:03.512Z") == T
    assert parse_ts("2026-11-20T10:14:03.512000000+01:00") == T
    assert parse_ts("2026-11-20 09:14:03.512") == T
    with pytest.raises(ValueError):
        parse_ts("yesterday")


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageStoreError, match="not found") as e:
        UsageStore.open(tmp_path / "missing.db", read_only=True)
    assert "\n" not in str(e.value)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all\n" * 400)
    for ro in (True, False):
        with pytest.raises(UsageStoreError, match="not a SQLite database"):
            UsageStore.open(garbage, read_only=ro)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageStoreError, match="no such directory"):
        UsageStore.open(blocker / "sub" / "usage.db")


def test_locked_database_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    UsageStore.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    store = UsageStore.open(path, busy_timeout_ms=50)
    with pytest.raises(UsageStoreError, match="locked"):
        store.ingest([event(1)])
    other.execute("ROLLBACK")
    assert store.ingest([event(1)]).inserted == 1
    store.close()
    other.close()


def test_checkpoint_truncates_the_wal(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([event(i) for i in range(200)])
        assert store.wal_size() > 0
        assert store.maybe_checkpoint(every_s=3600) is False
        assert store.maybe_checkpoint(every_s=0) is True
        assert store.wal_size() == 0


def test_has_collector_offsets_tells_ours_from_foreign(tmp_path: Path) -> None:
    from tokentop.store.usage.db import has_collector_offsets

    ours = tmp_path / "usage.db"
    UsageStore.open(ours).close()
    foreign = tmp_path / "telemetry.db"
    conn = sqlite3.connect(foreign)
    conn.executescript(schema.CORE)  # openusage's tables only
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    assert has_collector_offsets(ours)
    assert not has_collector_offsets(foreign)
    assert not has_collector_offsets(garbage)
    assert not has_collector_offsets(tmp_path / "missing.db")


def test_stores_created_at_once_are_one_store_never_foreign(tmp_path: Path) -> None:
    """The dashboard's reader and collector create a missing store together. Created in
    place, one could see the other's file as a database without tokentop's mark and
    refuse it as foreign ("not tokentop's store"), which stopped the collector for the
    whole session. Here one thread creates each store while this one keeps opening it
    until the creator is done: every open must succeed."""

    import sys

    from tokentop.store.usage.ownership import is_own_store

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the two threads as finely as CPython allows
    try:
        _open_while_created(tmp_path)
    finally:
        sys.setswitchinterval(interval)
    assert all(is_own_store(p) for p in tmp_path.glob("usage-*.db"))
    # no draft is left behind
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _open_while_created(tmp_path: Path) -> None:
    import threading

    for round_ in range(30):
        target = tmp_path / f"usage-{round_}.db"
        errors: list[BaseException] = []

        def create(target: Path = target, errors: list[BaseException] = errors) -> None:
            try:
                UsageStore.open(target).close()
            except BaseException as exc:
                errors.append(exc)

        creator = threading.Thread(target=create)
        creator.start()
        while creator.is_alive():
            if target.exists():
                try:
                    UsageStore.open(target).close()
                except UsageStoreError as exc:
                    errors.append(exc)
        creator.join()
        assert [str(e) for e in errors] == []
