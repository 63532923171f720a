"""The team store on a real PostgreSQL (tests/conftest.py ``pg_server``): the same
numbers as a SQLite store of the same logs, whichever machine pushes first; dedup by
the database; a re-ingest that writes nothing; a pull that never skips a transaction
that committed late; one-line errors with the password masked.

Two "machines" are two ``XDG_STATE_HOME`` directories (each its own cache of the team
store) reading their own copy of the logs.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from pathlib import Path

import asyncpg
import pytest
from claude_corpus import write_corpus

from tokentop.store.usage import rollup
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.team import sync
from tokentop.store.usage.team.location import cache_path, replica_path
from tokentop.store.usage.team.pgschema import event_columns

# every column but the ids each machine draws for itself
COMPARED = [c for c in event_columns() if c not in ("event_id", "raw_event_id")]


def _collector(logs: Path, tmp: Path):
    def collect(store: UsageStore):
        return collect_once(store, claude_roots=[logs], codex_dir=tmp / "none",
                            hook_spool=tmp / "none-spool")
    return collect


def _machine(monkeypatch: pytest.MonkeyPatch, tmp: Path, name: str) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp / name / "state"))


def _split(corpus: Path, tmp: Path) -> tuple[Path, Path]:
    """Machine A holds every main session file, B every subagent file and a third of
    the main ones: B's sidechain replays of A's messages, and plain overlap."""
    a, b = tmp / "logs-a", tmp / "logs-b"
    mains = sorted(p for p in corpus.rglob("*.jsonl") if "subagents" not in p.parts)
    for i, f in enumerate(mains):
        for root in (a, b) if i % 3 == 0 else (a,):
            dest = root / f.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dest)
    for f in corpus.rglob("subagents/*.jsonl"):
        dest = b / f.relative_to(corpus)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dest)
    return a, b


def _events(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT {', '.join(COMPARED)} FROM usage_events"
                            " ORDER BY dedup_key").fetchall()
    finally:
        conn.close()


def _rollups(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in rollup.TABLES}
    finally:
        conn.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    write_corpus(tmp_path / "corpus", seed=7, days=3, sessions=14, line_kb=(1, 2))
    return tmp_path / "corpus"


@pytest.fixture
def local(tmp_path: Path, corpus: Path) -> Path:
    """A plain SQLite store of every log both machines hold."""
    path = tmp_path / "local.db"
    with UsageStore.open(path) as store:
        collect_once(store, claude_roots=[corpus], codex_dir=tmp_path / "none",
                     hook_spool=tmp_path / "none-spool")
    return path


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_team_store_equals_local_store(pg_server, tmp_path, corpus, local, monkeypatch,
                                       order):
    url = pg_server.create_database("team")
    a, b = _split(corpus, tmp_path)
    for name in order:
        _machine(monkeypatch, tmp_path, name)
        _report, pushed = sync.ingest(url, _collector(a if name == "a" else b, tmp_path))
        assert pushed.sent > 0
    _machine(monkeypatch, tmp_path, "reader")
    replica, pulled = sync.refresh(url)
    want = _events(local)
    assert pulled.events == len(want) > 50
    assert _events(replica) == want
    assert _rollups(replica) == _rollups(local)


def test_reingest_and_repush_write_nothing(pg_server, tmp_path, corpus, monkeypatch):
    url = pg_server.create_database("team")
    _machine(monkeypatch, tmp_path, "a")
    sync.ingest(url, _collector(corpus, tmp_path))
    xids = asyncio.run(_xids(url))
    _report, again = sync.ingest(url, _collector(corpus, tmp_path))
    assert (again.sent, again.written) == (0, 0)
    # every row of the cache sent again (as after a push that failed half way)
    conn = sqlite3.connect(cache_path(url))
    conn.execute("INSERT OR IGNORE INTO tokentop_team_outbox SELECT dedup_key FROM usage_events")
    conn.commit()
    conn.close()
    forced = sync.push_pending(url)
    assert forced.sent > 50 and forced.written == 0
    assert asyncio.run(_xids(url)) == xids  # no row rewritten
    _path, first = sync.refresh(url)
    _path, second = sync.refresh(url)
    assert first.events == forced.sent and second.events == 0


async def _xids(url: str) -> list[tuple]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(
            "SELECT dedup_key, tokentop_xid::text FROM usage_events ORDER BY dedup_key")]
    finally:
        await conn.close()


def test_the_better_copy_wins_in_the_database(pg_server, tmp_path, monkeypatch):
    """A sidechain replay pushed first is replaced by the main-session copy pushed
    later, whatever its tokens (copy_rank), and the reverse order keeps the main one."""
    from test_claude import line, proj, write

    url = pg_server.create_database("team")
    main = line("msg_1", "req_1", session="main", out=5)
    side = line("msg_1", "req_9", session="main", out=50, sidechain=True)
    for name, text in (("b", side), ("a", main)):
        root = tmp_path / f"logs-{name}"
        write(proj(root) / ("agent-x.jsonl" if name == "b" else "main.jsonl"), text)
        _machine(monkeypatch, tmp_path, name)
        sync.ingest(url, _collector(root, tmp_path))
    replica, _ = sync.refresh(url)
    rows = sqlite3.connect(replica).execute(
        "SELECT output_tokens, tokentop_sidechain FROM usage_events").fetchall()
    assert rows == [(5, 0)]


def test_pull_takes_a_transaction_that_committed_late(pg_server, tmp_path, corpus,
                                                       monkeypatch):
    url = pg_server.create_database("team")
    _machine(monkeypatch, tmp_path, "a")
    sync.ingest(url, _collector(corpus, tmp_path))

    async def scenario() -> int:
        late = await asyncpg.connect(url)
        try:
            tx = late.transaction()
            await tx.start()
            # an xid drawn now, committed after the next pull
            await late.execute("UPDATE usage_events SET output_tokens = output_tokens + 1000"
                               " WHERE dedup_key = (SELECT min(dedup_key) FROM usage_events)")
            await asyncio.to_thread(sync.refresh, url)
            await tx.commit()
            return 0
        finally:
            await late.close()

    asyncio.run(scenario())
    replica = replica_path(url)
    before = sqlite3.connect(replica).execute(
        "SELECT max(output_tokens) FROM usage_events").fetchone()[0]
    _path, pulled = sync.refresh(url)
    assert pulled.events == 1
    after = sqlite3.connect(replica).execute(
        "SELECT output_tokens FROM usage_events ORDER BY dedup_key LIMIT 1").fetchone()[0]
    assert after >= 1000 and before is not None


def test_a_recreated_database_is_pulled_whole(pg_server, tmp_path, corpus, monkeypatch):
    url = pg_server.create_database("team")
    _machine(monkeypatch, tmp_path, "a")
    sync.ingest(url, _collector(corpus, tmp_path))
    replica, first = sync.refresh(url)

    async def recreate() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("UPDATE tokentop_meta SET value = 'another'"
                               " WHERE key = 'team_store_id'")
            await conn.execute("DELETE FROM usage_events WHERE dedup_key ="
                               " (SELECT min(dedup_key) FROM usage_events)")
        finally:
            await conn.close()

    asyncio.run(recreate())
    _path, second = sync.refresh(url)
    count = sqlite3.connect(replica).execute("SELECT count(*) FROM usage_events").fetchone()[0]
    assert second.events == first.events - 1 == count


@pytest.mark.parametrize("make_url, says", [
    (lambda s: f"postgresql://bob:s3cret@127.0.0.1:{_closed_port()}/x",
     "cannot connect to PostgreSQL"),
    (lambda s: f"postgresql://postgres:s3cret@127.0.0.1:{s.port}/no_such_db",
     "no such PostgreSQL database"),
])
def test_errors_are_one_line_without_the_password(pg_server, tmp_path, monkeypatch,
                                                  make_url, says):
    _machine(monkeypatch, tmp_path, "a")
    url = make_url(pg_server)
    for action in (lambda: sync.refresh(url), lambda: sync.ingest(url, lambda s: None)):
        with pytest.raises(sync.TeamStoreError) as err:
            action()
        text = str(err.value)
        assert says in text and "\n" not in text
        assert "s3cret" not in text and ":***@" in text


def _closed_port() -> int:
    from pg_server import free_port

    return free_port()


def test_quota_snapshots_reach_the_replica_once(pg_server, tmp_path, monkeypatch):
    """The Usage screen's gauges read ``usage_limit_snapshots``: two machines that saw
    the same two snapshots give the replica the quotas a local store shows."""
    from datetime import UTC, datetime

    from tokentop.store.usage import read
    from tokentop.store.usage.model import IngestRequest

    def snap(at: str, used: int) -> IngestRequest:
        return IngestRequest(
            source_system="codex", source_channel="jsonl", event_type="limit_snapshot",
            occurred_at=datetime.fromisoformat(at), provider_id="openai", account_id="a",
            payload={"snapshot": {"metrics": {"requests": {
                "limit": 100, "remaining": 100 - used, "unit": "requests", "window": "5h"}}}})

    batch = [snap("2026-11-20T10:00:00+00:00", 10), snap("2026-11-20T11:00:00+00:00", 40)]
    url = pg_server.create_database("team")
    for name in ("a", "b"):
        _machine(monkeypatch, tmp_path, name)
        sync.ingest(url, lambda store: store.ingest(batch))
    replica, _ = sync.refresh(url)
    with UsageStore.open(tmp_path / "local.db") as local:
        local.ingest(batch)
        want = read.quotas(local.conn)
    conn = sqlite3.connect(replica)
    assert conn.execute("SELECT count(*) FROM usage_limit_snapshots").fetchone()[0] == 2
    got = read.quotas(conn)
    assert got == want and got[0].used == 40
    assert got[0].full_at is not None and got[0].full_at > datetime(2026, 11, 20, 11, tzinfo=UTC)


def test_a_refused_login_is_one_line(pg_server, tmp_path, monkeypatch):
    """A role that must give a password (scram-sha-256 for it alone, ahead of the test
    server's trust lines), given the wrong one."""
    url = pg_server.create_database("team")

    async def password_role() -> None:
        conn = await asyncpg.connect(pg_server.admin_dsn)
        try:
            await conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE"
                               " rolname = 'alice') THEN CREATE ROLE alice LOGIN"
                               " PASSWORD 'right'; END IF; END $$")
            hba = Path(await conn.fetchval("SHOW hba_file"))
            text = hba.read_text()
            if "alice" not in text:
                hba.write_text("host all alice 127.0.0.1/32 scram-sha-256\n" + text)
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(password_role())
    _machine(monkeypatch, tmp_path, "a")
    wrong = url.replace("postgres@", "alice:wr0ng@")
    # the reload is asynchronous: wait for the server to apply it (trust before it)
    deadline = time.monotonic() + 20
    text = ""
    while not text.startswith("PostgreSQL refused") and time.monotonic() < deadline:
        try:
            sync.refresh(wrong)
        except sync.TeamStoreError as exc:
            text = str(exc)
    assert text.startswith("PostgreSQL refused the login: postgresql://alice:***@")
    assert "wr0ng" not in text and "\n" not in text


def test_a_column_a_later_migration_adds_flows_through(pg_server, tmp_path, corpus,
                                                       monkeypatch):
    """PostgreSQL's columns are the SQLite schema's: a ``tokentop_*`` column added to
    ``schema.TOKENTOP_COLUMNS`` (as the ssh branch adds ``tokentop_host``) is added to an
    existing team store and travels from a cache to the replica, nothing else changed."""
    from tokentop.store.usage import schema
    from tokentop.store.usage.team import merge, pgschema

    url = pg_server.create_database("team")
    _machine(monkeypatch, tmp_path, "a")
    sync.ingest(url, _collector(corpus, tmp_path))  # the store as today's schema makes it

    def clear() -> None:
        for cached in (pgschema.sqlite_columns, pgschema.event_columns, merge.upsert_sql):
            cached.cache_clear()

    monkeypatch.setattr(schema, "TOKENTOP_COLUMNS",
                        (*schema.TOKENTOP_COLUMNS, ("tokentop_future", "TEXT")))
    clear()
    try:
        assert "tokentop_future" in pgschema.event_columns()
        # what the migration that brings the column does to each SQLite store
        for path in (cache_path(url), sync.prepare_replica(url)):
            conn = sqlite3.connect(path)
            if "tokentop_future" not in schema.missing_tokentop_columns(conn):
                conn.close()
                continue
            conn.execute("ALTER TABLE usage_events ADD COLUMN tokentop_future TEXT")
            conn.commit()
            conn.close()
        conn = sqlite3.connect(cache_path(url))
        conn.execute("UPDATE usage_events SET tokentop_future = 'box-1'"
                     " WHERE dedup_key = (SELECT min(dedup_key) FROM usage_events)")
        conn.commit()
        conn.close()
        pushed = sync.push_pending(url)
        assert (pushed.sent, pushed.written) == (1, 1)
        replica, _ = sync.refresh(url)
        conn = sqlite3.connect(replica)
        assert conn.execute("SELECT count(*) FROM usage_events WHERE tokentop_future"
                            " = 'box-1'").fetchone()[0] == 1
        conn.close()
    finally:
        monkeypatch.undo()
        clear()
