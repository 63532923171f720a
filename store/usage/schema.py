"""The usage store's schema: openusage's two core tables, plus tokentop's own.

The core tables (``usage_raw_events``, ``usage_events``) have openusage's columns
(``CORE`` is openusage's DDL, verbatim) so each tool can read the other's database;
their keys and indexes are tokentop's since migration 9 (below). tokentop adds
``collector_offsets`` (where each collector stopped in each log file, committed in the
same transaction as the events it produced, so a crash never loses or repeats one) and
``tokentop_migrations``, the hourly rollup (``tokentop.store.usage.rollup``), durable quota
snapshots
(``usage_limit_snapshots``: the raw payload a ``limit_snapshot`` came in is blanked an
hour after ingest, but the Usage screen's gauges need the latest one for as long as
it is the latest) and ``tokentop_meta``. Everything is ``IF NOT EXISTS``: opening
openusage's database read-write would add only tokentop's tables, never change
openusage's.

Versions (``tokentop_migrations``, once ``_migrations``: openusage's name, see
:data:`MIGRATIONS`): 1 the tables above without the rollup; 2 drops
``idx_usage_events_message_id`` (nothing queries it since Claude message keys became
global, and its random keys cost a third of the pages a batch dirtied) and adds the
rollup, built from the events already stored, and the quota snapshots; 3 adds the
rollup's coarser grains (per UTC day, per hour and model, sessions per day) and
rebuilds every grain from the events; 4 (Claude Code 2.1's usage fields, see
``TOKENTOP_COLUMNS``) adds tokentop-named columns to ``usage_events`` and rebuilds the
rollup with the 1-hour cache-write sums and fast-mode models apart; 5 adds
``tokentop_cost_computed`` and fills ``cost_usd`` of the messages already stored with
the cost tokentop computes (``tokentop.store.usage.costing``), so openusage reading
tokentop's store no longer sees them as free. The rollup is unchanged by 5: its cost
sums hold only costs the agents gave, as before. 6 adds ``tokentop_row_marks``: a digest
of each row read from an agent database of running totals
(``tokentop.store.usage.rowmarks``), so a re-read parses only the rows that changed.
7 adds ``tokentop_revision``: when a source rewrote a record in place, so the later
revision of an OpenCode or Kilo message replaces the earlier one whatever its tokens.
8 adds ``tokentop_host``: the box an event was read from over SSH (``--host``,
``tokentop.store.usage.remote``); NULL for this machine's own logs, shown as ``local``
(not the hostname: a store outlives a rename and may be copied to another machine).
9 lays the write side out for ingest (issue 19): ``usage_events`` is rebuilt in place
(SQLite's create-copy-drop-rename, in the opening transaction; every rowid, column,
value and trigger kept) without openusage's ``dedup_key TEXT NOT NULL UNIQUE``, whose
index of random 64-character keys dirtied a page per ingested event. Keys are found
through ``idx_tokentop_dedup`` on ``substr(dedup_key, -8)`` instead (a quarter of the
entry size; a match is compared on the whole key, so a shared suffix costs one more row
read, never a lost or merged event), and uniqueness is kept by the writers, which look
their keys up in the write transaction that inserts them (``ingest``, the team pull).
openusage's ``(provider_id, account_id, occurred_at)``, ``(provider_id, account_id,
event_type, occurred_at DESC)`` and ``(event_type, provider_id)`` indexes are dropped:
EXPLAIN QUERY PLAN of every statement the read, report, session, retention, rollup and
team tests run shows none uses them but the quota fallback, which gets a partial index
of the ``limit_snapshot`` events. The columns are openusage's, so openusage still reads
the file; openusage WRITING into tokentop's store would no longer have its duplicates
refused by a constraint (tokentop never writes openusage's file; openusage writes its
own). The rollup is unchanged. 1M events migrate in ~17 s (11 s of CPU; load 2).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from tokentop.store.usage import costing, rollup

SCHEMA_VERSION = 9

CORE = """
CREATE TABLE IF NOT EXISTS usage_raw_events (
  raw_event_id TEXT PRIMARY KEY,
  ingested_at TEXT NOT NULL,
  source_system TEXT NOT NULL,
  source_channel TEXT NOT NULL,
  source_schema_version TEXT NOT NULL,
  source_payload TEXT NOT NULL,
  source_payload_hash TEXT NOT NULL,
  workspace_id TEXT,
  agent_session_id TEXT
);
CREATE TABLE IF NOT EXISTS usage_events (
  event_id TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  provider_id TEXT,
  agent_name TEXT NOT NULL,
  account_id TEXT,
  workspace_id TEXT,
  session_id TEXT,
  turn_id TEXT,
  message_id TEXT,
  tool_call_id TEXT,
  event_type TEXT NOT NULL,
  model_raw TEXT,
  model_canonical TEXT,
  model_lineage_id TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  reasoning_tokens INTEGER,
  cache_read_tokens INTEGER,
  cache_write_tokens INTEGER,
  total_tokens INTEGER,
  cost_usd REAL,
  requests INTEGER,
  tool_name TEXT,
  status TEXT NOT NULL,
  dedup_key TEXT NOT NULL UNIQUE,
  raw_event_id TEXT NOT NULL,
  normalization_version TEXT NOT NULL,
  FOREIGN KEY(raw_event_id) REFERENCES usage_raw_events(raw_event_id)
);
CREATE INDEX IF NOT EXISTS idx_usage_events_occurred_at ON usage_events(occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_raw_event_id ON usage_events(raw_event_id);
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_window
  ON usage_events(provider_id, account_id, occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_account_type_occurred
  ON usage_events(provider_id, account_id, event_type, occurred_at DESC);
CREATE INDEX IF NOT EXISTS idx_usage_events_type_provider ON usage_events(event_type, provider_id);
"""

# --- migration 9: the write side laid out for ingest (issue 19) ---------------------
# openusage's tables with openusage's columns, so it reads this file as its own; but
# not its write-side keys. Its ``dedup_key TEXT NOT NULL UNIQUE`` puts a random sha256
# under a 64-byte-key index: every event dirtied a page of it, ~6 of the 7 KB a batch
# wrote per event into a store of 1M events. tokentop finds a key through
# :data:`DEDUP_INDEX` instead, on the key's last 8 hex digits (a quarter of the entry, so
# a quarter of the leaves a batch dirties), and enforces uniqueness itself: every writer
# looks its keys up in the write transaction that inserts them (``ingest``, the team
# pull), and an equal suffix is compared on the whole key, so a suffix two keys share
# costs one more row read, never a lost event. Of openusage's secondary indexes only
# those tokentop's queries use are kept (EXPLAIN QUERY PLAN of every statement the read,
# report, session, retention, rollup and team tests run: the time range and the raw
# event an event points at); the quota fallback's ``event_type`` lookup gets a partial
# index of the snapshot events alone. Each index dropped was an entry per event.
EVENTS_DDL = CORE[CORE.index("CREATE TABLE IF NOT EXISTS usage_events"):
                  CORE.index("CREATE INDEX IF NOT EXISTS idx_usage_events_occurred_at")
                  ].replace("dedup_key TEXT NOT NULL UNIQUE", "dedup_key TEXT NOT NULL")
RAW_DDL = CORE[:CORE.index("CREATE TABLE IF NOT EXISTS usage_events")]
DEDUP_SUFFIX = 8
DEDUP_INDEX = "idx_tokentop_dedup"
DEDUP_SUFFIX_SQL = f"substr(dedup_key, -{DEDUP_SUFFIX})"
# the quota gauges' fallback (``read.quotas``) finds the few ``limit_snapshot`` events
# here; openusage's (event_type, provider_id) index held an entry for every event
LIMITS_INDEX = "idx_tokentop_limit_snapshots"
EVENT_INDEXES = f"""
CREATE INDEX IF NOT EXISTS idx_usage_events_occurred_at ON usage_events(occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_raw_event_id ON usage_events(raw_event_id);
CREATE INDEX IF NOT EXISTS {DEDUP_INDEX} ON usage_events({DEDUP_SUFFIX_SQL});
CREATE INDEX IF NOT EXISTS {LIMITS_INDEX} ON usage_events(event_type, occurred_at)
  WHERE event_type = 'limit_snapshot';
"""
# openusage's indexes that no query of tokentop's uses: dropped by migration 9 (should
# openusage's Store.Init add them back, they are only slower writes, and left alone)
UNUSED_INDEXES = ("idx_usage_events_provider_window",
                  "idx_usage_events_provider_account_type_occurred",
                  "idx_usage_events_type_provider")


def dedup_suffix(key: str) -> str:
    """What :data:`DEDUP_INDEX` holds for ``key`` (SQLite's ``substr(key, -8)``)."""
    return key[-DEDUP_SUFFIX:]


TOKENTOP = """
CREATE TABLE IF NOT EXISTS tokentop_migrations (
  version INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collector_offsets (
  collector TEXT NOT NULL,
  path TEXT NOT NULL,
  inode INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  head BLOB NOT NULL DEFAULT x'',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (collector, path)
);
CREATE TABLE IF NOT EXISTS tokentop_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_limit_snapshots (
  event_id TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  provider_id TEXT,
  account_id TEXT,
  snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_usage_limit_snapshots_time
  ON usage_limit_snapshots(occurred_at);
CREATE TABLE IF NOT EXISTS tokentop_row_marks (
  collector TEXT NOT NULL,
  path TEXT NOT NULL,
  row_key TEXT NOT NULL,
  mark TEXT NOT NULL,
  PRIMARY KEY (collector, path, row_key)
) WITHOUT ROWID;
""" + rollup.DDL

THRESHOLD_KEY = "rollup_tier_threshold"
# tokentop's migration bookkeeping. Not ``_migrations``: openusage's RunMigrations keeps
# ``_migrations (name TEXT PRIMARY KEY, applied_at)`` and queries ``WHERE name = ?``,
# which fails on a table keyed by ``version`` (internal/telemetry/store.go).
MIGRATIONS = "tokentop_migrations"
# Written when tokentop creates (or migrates) its own store: what makes a database
# tokentop's (``tokentop.store.usage.db.is_own_store``); any other is only read.
OWNER_KEY, OWNER_VALUE = "store_owner", "tokentop"
# Index names tokentop used before taking openusage's own names for the same columns
# (openusage's Store.Init would add its names beside them: the same index twice).
OLD_INDEXES = ("idx_usage_events_provider_account_time",
               "idx_usage_events_provider_account_type_time")

# --- migration 4: Claude Code 2.1's usage fields, in tokentop-named columns -----------
# openusage's ``usage_events`` has one cache_write_tokens column (kept = all writes);
# the 1-hour part, the speed, the sidechain flag and the shown-not-priced fields live
# in columns named ``tokentop_*`` (ALTER TABLE ADD COLUMN: O(1), no row rewritten;
# openusage names its columns, so it reads and writes the table as before).
TOKENTOP_COLUMNS = (
    ("tokentop_cache_write_1h", "INTEGER"), ("tokentop_speed", "TEXT"),
    ("tokentop_sidechain", "INTEGER"), ("tokentop_web_search_requests", "INTEGER"),
    ("tokentop_web_fetch_requests", "INTEGER"), ("tokentop_service_tier", "TEXT"),
    ("tokentop_inference_geo", "TEXT"),
    # migration 5: 1 when ``cost_usd`` is tokentop's computed cost, not the agent's own
    ("tokentop_cost_computed", "INTEGER"),
    # migration 7: the source's revision of a record it rewrites in place (OpenCode's
    # ``time_updated``): the later revision wins a dedup (``dedup.copy_rank``)
    ("tokentop_revision", "INTEGER"),
    # migration 8: the ssh destination an event was read from (NULL: this machine)
    ("tokentop_host", "TEXT"),
)


def has_tokentop_columns(conn: sqlite3.Connection) -> bool:
    """Whether ``usage_events`` has migration 4's columns (a foreign store has not)."""
    names = {row[1] for row in conn.execute("PRAGMA table_info(usage_events)")}
    return TOKENTOP_COLUMNS[0][0] in names


def missing_tokentop_columns(conn: sqlite3.Connection) -> list[str]:
    """The ``tokentop_*`` columns this store lacks (all of them in a foreign store;
    the newer ones in a store of ours that an older tokentop last migrated)."""
    names = {row[1] for row in conn.execute("PRAGMA table_info(usage_events)")}
    return [name for name, _ in TOKENTOP_COLUMNS if name not in names]


def _add_tokentop_columns(conn: sqlite3.Connection) -> None:
    names = {row[1] for row in conn.execute("PRAGMA table_info(usage_events)")}
    for name, kind in TOKENTOP_COLUMNS:
        if name not in names:
            conn.execute(f"ALTER TABLE usage_events ADD COLUMN {name} {kind}")


def _migrate_4(conn: sqlite3.Connection) -> None:
    """Add the columns and recreate the rollup grains, whose sums gained columns."""
    _add_tokentop_columns(conn)
    for table in rollup.TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    # Claude logs are read again once, so events stored without the split gain it
    # (ingest fills a NULL 1-hour part from the re-read copy; dedup keeps one event).
    conn.execute("DELETE FROM collector_offsets WHERE collector = 'claude_code'")
    for statement in rollup.DDL.split(";"):
        if statement.strip():
            conn.execute(statement)


# Claude Code 2.1's shown-not-priced fields are on few rows of a store that holds every
# agent: the JSON reports' ``tokentop`` section reads them through this partial index
# instead of scanning every event (its query repeats the predicate, so SQLite uses it).
DETAILS_PREDICATE = (
    "(tokentop_service_tier IS NOT NULL OR tokentop_speed IS NOT NULL"
    " OR tokentop_cache_write_1h > 0 OR tokentop_web_search_requests > 0"
    " OR tokentop_web_fetch_requests > 0 OR tokentop_inference_geo IS NOT NULL)")
DETAILS_INDEX = "idx_tokentop_claude_details"


def _details_index(conn: sqlite3.Connection) -> None:
    # keyed by (agent, time): no column set openusage indexes, so openusage's Init never
    # finds its own index here under another name
    conn.execute(f"CREATE INDEX IF NOT EXISTS {DETAILS_INDEX}"
                 f" ON usage_events(agent_name, occurred_at) WHERE {DETAILS_PREDICATE}")


# The events read on other boxes (migration 8): few beside the local ones, and the Usage
# screen asks for them alone, through this partial index, to break the window down by
# host without scanning every event (its queries repeat the predicate).
HOST_INDEX = "idx_tokentop_host"


def _host_index(conn: sqlite3.Connection) -> None:
    conn.execute(f"CREATE INDEX IF NOT EXISTS {HOST_INDEX}"
                 " ON usage_events(tokentop_host, occurred_at) WHERE tokentop_host IS NOT NULL")


def create(conn: sqlite3.Connection) -> None:
    """Create every table and index that is missing (idempotent)."""
    conn.executescript(RAW_DDL + EVENTS_DDL + TOKENTOP)
    _add_tokentop_columns(conn)
    _event_indexes(conn)
    _details_index(conn)
    _host_index(conn)


def _event_indexes(conn: sqlite3.Connection) -> None:
    for statement in EVENT_INDEXES.split(";"):
        if statement.strip():
            conn.execute(statement)


def has_unique_dedup_key(conn: sqlite3.Connection) -> bool:
    """Whether ``usage_events`` still has openusage's UNIQUE ``dedup_key`` (before 9)."""
    for _, name, unique, origin, _ in conn.execute("PRAGMA index_list(usage_events)"):
        if unique and origin == "u":
            cols = [r[2] for r in conn.execute(f"PRAGMA index_info({_quote(name)})")]
            if cols == ["dedup_key"]:
                return True
    return False


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _migrate_9(conn: sqlite3.Connection) -> None:
    """Copy ``usage_events`` into a table without the UNIQUE constraint (SQLite cannot
    drop one in place), keeping every row's rowid, column and value, and its triggers
    (the team cache's outbox); then the indexes of :data:`EVENT_INDEXES`.

    A table rebuilt by SQLite's documented procedure (create, copy, drop, rename), in
    the caller's transaction: a crash leaves the store at version 8, whole."""
    if has_unique_dedup_key(conn):
        old = [(r[1], r[2]) for r in conn.execute("PRAGMA table_info(usage_events)")]
        triggers = [sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'usage_events'"
            " AND sql IS NOT NULL")]
        conn.execute(EVENTS_DDL.replace("IF NOT EXISTS usage_events", "tokentop_events_new"))
        have = {r[1] for r in conn.execute("PRAGMA table_info(tokentop_events_new)")}
        for name, kind in old:
            if name not in have:
                conn.execute(f"ALTER TABLE tokentop_events_new ADD COLUMN {_quote(name)}"
                             f" {kind}")
        names = ", ".join(_quote(name) for name, _ in old)
        conn.execute(f"INSERT INTO tokentop_events_new (rowid, {names})"
                     f" SELECT rowid, {names} FROM usage_events ORDER BY rowid")
        conn.execute("DROP TABLE usage_events")
        conn.execute("ALTER TABLE tokentop_events_new RENAME TO usage_events")
        for sql in triggers:
            conn.execute(sql)
    for name in UNUSED_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    _event_indexes(conn)


REQUIRED_TABLES = ("usage_raw_events", "usage_events", MIGRATIONS, "collector_offsets",
                   "tokentop_meta", "usage_limit_snapshots", "tokentop_row_marks",
                   *rollup.TABLES)


def version(conn: sqlite3.Connection) -> int:
    """The highest migration applied (0: none recorded, or no bookkeeping table)."""
    try:
        row = conn.execute(f"SELECT MAX(version) FROM {MIGRATIONS}").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0] or 0)


def rollup_basis(conn: sqlite3.Connection) -> str | None:
    """What the rollup was computed with (``rollup.basis``; None: no rollup yet). A
    store an older tokentop built holds the tier threshold alone."""
    try:
        row = conn.execute("SELECT value FROM tokentop_meta WHERE key = ?",
                           (THRESHOLD_KEY,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def rollup_threshold(conn: sqlite3.Connection) -> int | None:
    """The tier threshold the rollup's ``*_over`` sums were computed with (None: none)."""
    value = rollup_basis(conn)
    return None if value is None else int(value.split(";")[0])


def is_current(conn: sqlite3.Connection, threshold: int) -> bool:
    """Whether every table, index and migration of :func:`migrate` is in place.

    Checked before migrating so that opening an existing store takes no write lock
    (``CREATE ... IF NOT EXISTS`` still writes), e.g. while another writer holds it.
    """
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    wanted = (set(REQUIRED_TABLES) | set(_index_names())
              | {DETAILS_INDEX, HOST_INDEX, *_index_names(EVENT_INDEXES)})
    return (wanted <= names and version(conn) >= SCHEMA_VERSION
            and not missing_tokentop_columns(conn)
            and rollup_basis(conn) == rollup.basis(threshold) and is_owned(conn)
            and not names & set(OLD_INDEXES))


def is_owned(conn: sqlite3.Connection) -> bool:
    """Whether tokentop's owner mark is in this database."""
    try:
        row = conn.execute("SELECT value FROM tokentop_meta WHERE key = ?",
                           (OWNER_KEY,)).fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] == OWNER_VALUE


def _adopt_legacy_bookkeeping(conn: sqlite3.Connection) -> None:
    """Move a store's ``_migrations (version, applied_at)`` rows into
    ``tokentop_migrations`` and drop it, and drop the index names tokentop used before
    openusage's. openusage's own ``_migrations`` (keyed by ``name``) is left alone."""
    cols = [r[1] for r in conn.execute("PRAGMA table_info(_migrations)")]
    if cols == ["version", "applied_at"]:
        conn.execute(f"INSERT OR IGNORE INTO {MIGRATIONS} SELECT version, applied_at"
                     " FROM _migrations")
        conn.execute("DROP TABLE _migrations")
    for name in OLD_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def migrate(conn: sqlite3.Connection, threshold: int) -> None:
    """Bring the store to ``SCHEMA_VERSION`` (the caller holds a write transaction).

    ``threshold`` is the price table's tier threshold: the rollup's per-message excess
    sums depend on it, so a new table with another threshold rebuilds the rollup.
    """
    _create_each(conn)
    _adopt_legacy_bookkeeping(conn)
    conn.execute("INSERT OR REPLACE INTO tokentop_meta VALUES (?, ?)", (OWNER_KEY, OWNER_VALUE))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    have = version(conn)
    if have < 1:
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (1, ?)", (now,))
    rebuild = rollup_basis(conn) != rollup.basis(threshold)
    if have < 2:
        conn.execute("DROP INDEX IF EXISTS idx_usage_events_message_id")
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (2, ?)", (now,))
        rebuild = True
    if have < 3:
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (3, ?)", (now,))
        rebuild = True
    if have < 4:
        _migrate_4(conn)
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (4, ?)", (now,))
        rebuild = True
    if have < 5:
        _add_tokentop_columns(conn)
        costing.backfill(conn)
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (5, ?)", (now,))
    if have < 6:  # tokentop_row_marks: made by _create_each above
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (6, ?)", (now,))
    if have < 7:
        _add_tokentop_columns(conn)
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (7, ?)", (now,))
    if have < 8:
        _add_tokentop_columns(conn)
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (8, ?)", (now,))
    if have < 9:
        _add_tokentop_columns(conn)
        _migrate_9(conn)
        conn.execute("INSERT OR IGNORE INTO tokentop_migrations VALUES (9, ?)", (now,))
    _event_indexes(conn)
    _details_index(conn)
    _host_index(conn)
    if rebuild:
        rollup.rebuild(conn, threshold)
        conn.execute("INSERT OR REPLACE INTO tokentop_meta VALUES (?, ?)",
                     (THRESHOLD_KEY, rollup.basis(threshold)))


def _create_each(conn: sqlite3.Connection) -> None:
    """The DDL statement by statement: ``executescript`` would commit the caller's
    transaction first."""
    for statement in (RAW_DDL + EVENTS_DDL + TOKENTOP).split(";"):
        if statement.strip():
            conn.execute(statement)


def _index_names(ddl: str = RAW_DDL + TOKENTOP) -> list[str]:
    out = []
    for line in ddl.splitlines():
        words = line.split()
        if words[:5] == ["CREATE", "INDEX", "IF", "NOT", "EXISTS"]:
            out.append(words[5])
    return out
