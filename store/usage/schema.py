"""The usage store's schema: openusage's two core tables, verbatim, plus tokentop's own.

The core tables (``usage_raw_events``, ``usage_events``) and their indexes match
openusage's ``telemetry.db`` so each tool can read the other's database. tokentop adds
``collector_offsets`` (where each collector stopped in each log file, committed in the
same transaction as the events it produced, so a crash never loses or repeats one) and
``_migrations``. Everything is ``IF NOT EXISTS``: opening openusage's database
read-write would add only tokentop's tables, never change openusage's.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

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
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_account_time
  ON usage_events(provider_id, account_id, occurred_at);
CREATE INDEX IF NOT EXISTS idx_usage_events_provider_account_type_time
  ON usage_events(provider_id, account_id, event_type, occurred_at DESC);
CREATE INDEX IF NOT EXISTS idx_usage_events_type_provider ON usage_events(event_type, provider_id);
"""

TOKENTOP = """
CREATE TABLE IF NOT EXISTS _migrations (
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
CREATE INDEX IF NOT EXISTS idx_usage_events_message_id ON usage_events(message_id);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create every table and index that is missing (idempotent)."""
    conn.executescript(CORE + TOKENTOP)


REQUIRED_TABLES = ("usage_raw_events", "usage_events", "_migrations", "collector_offsets")


def is_current(conn: sqlite3.Connection) -> bool:
    """Whether every table and index of :func:`create` exists already.

    Checked before creating so that opening an existing store takes no write lock
    (``CREATE ... IF NOT EXISTS`` still writes), e.g. while another writer holds it.
    """
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    wanted = set(REQUIRED_TABLES) | set(_index_names())
    return wanted <= names


def _index_names() -> list[str]:
    out = []
    for line in (CORE + TOKENTOP).splitlines():
        words = line.split()
        if words[:5] == ["CREATE", "INDEX", "IF", "NOT", "EXISTS"]:
            out.append(words[5])
    return out
