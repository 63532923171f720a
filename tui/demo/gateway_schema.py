"""The ongoingai gateway's trace-store schema: its own migration files, verbatim.

The demo's gateway store and the tests' and benchmarks' SQLite and PostgreSQL stores
are all built from these, so tokentop is always read against the schema the gateway
really leaves behind (github.com/ongoingai/gateway, ``migrations/``; DESIGN 2.5).
All of them, PostgreSQL's 002 and 004 included: they add the tenant tables
(organizations, workspaces) and a foreign key from ``traces (org_id, workspace_id)``,
so a trace of a tenant the gateway never created cannot be written there either.
tokentop reads only ``traces`` (``org_id``/``workspace_id`` for ``--org``/``--workspace``).
:func:`apply_sqlite` and :func:`apply_postgres` replay them as the
gateway's runner (``migrations.Apply``) does: in order, each once, each in its own
transaction, recorded by name in ``schema_migrations``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

SQLITE_MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("sqlite/001_create_traces.sql", """\
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    trace_group_id TEXT,
    org_id TEXT NOT NULL DEFAULT 'default',
    workspace_id TEXT NOT NULL DEFAULT 'default',
    timestamp DATETIME NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request_method TEXT NOT NULL,
    request_path TEXT NOT NULL,
    request_headers TEXT,
    request_body TEXT,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    latency_ms INTEGER,
    time_to_first_token_ms INTEGER,
    time_to_first_token_us INTEGER,
    api_key_hash TEXT,
    estimated_cost_usd REAL,
    metadata TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_traces_timestamp ON traces(timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_provider ON traces(provider);
CREATE INDEX IF NOT EXISTS idx_traces_model ON traces(model);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash ON traces(api_key_hash);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_created_at_id ON traces(org_id, workspace_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_timestamp ON traces(org_id, workspace_id, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_created_at_id ON traces(created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_created_at_id ON traces(provider, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_model_created_at_id ON traces(model, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_created_at_id ON traces(api_key_hash, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_created_at_id ON traces(response_status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_timestamp ON traces(provider, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_model_timestamp ON traces(model, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_timestamp ON traces(api_key_hash, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_timestamp ON traces(response_status, timestamp);
"""),  # noqa: E501 - the gateway's file, verbatim
    ("sqlite/002_add_gateway_key_id.sql", """\
ALTER TABLE traces ADD COLUMN gateway_key_id TEXT;

UPDATE traces
SET gateway_key_id = NULLIF(json_extract(metadata, '$.gateway_key_id'), '')
WHERE gateway_key_id IS NULL
  AND json_valid(metadata);

CREATE INDEX IF NOT EXISTS idx_traces_gateway_key_id ON traces(gateway_key_id);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_gateway_key_timestamp ON traces(org_id, workspace_id, gateway_key_id, timestamp);
"""),  # noqa: E501 - the gateway's file, verbatim
)
POSTGRES_MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("postgres/001_create_traces.sql", """\
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    trace_group_id TEXT,
    org_id TEXT NOT NULL DEFAULT 'default',
    workspace_id TEXT NOT NULL DEFAULT 'default',
    timestamp TIMESTAMPTZ NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request_method TEXT NOT NULL,
    request_path TEXT NOT NULL,
    request_headers JSONB,
    request_body TEXT,
    response_status INTEGER,
    response_headers JSONB,
    response_body TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    latency_ms BIGINT,
    time_to_first_token_ms BIGINT,
    time_to_first_token_us BIGINT,
    api_key_hash TEXT,
    estimated_cost_usd DOUBLE PRECISION,
    metadata JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_traces_timestamp ON traces(timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_provider ON traces(provider);
CREATE INDEX IF NOT EXISTS idx_traces_model ON traces(model);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash ON traces(api_key_hash);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_created_at_id ON traces(org_id, workspace_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_timestamp ON traces(org_id, workspace_id, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_created_at_id ON traces(created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_created_at_id ON traces(provider, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_model_created_at_id ON traces(model, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_created_at_id ON traces(api_key_hash, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_created_at_id ON traces(response_status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_timestamp ON traces(provider, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_model_timestamp ON traces(model, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_timestamp ON traces(api_key_hash, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_timestamp ON traces(response_status, timestamp);
"""),  # noqa: E501 - the gateway's file, verbatim
    ("postgres/002_tenant_referential_integrity.sql", """\
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS name TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS created_at TIMESTAMPTZ NOT NULL DEFAULT NOW();

CREATE INDEX IF NOT EXISTS idx_workspaces_org_id ON workspaces(org_id);
CREATE INDEX IF NOT EXISTS idx_workspaces_id ON workspaces(id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_workspaces_org_id_id ON workspaces(org_id, id);

INSERT INTO organizations (id, name)
VALUES ('default', 'Default Organization')
ON CONFLICT (id) DO NOTHING;

INSERT INTO workspaces (id, org_id, name)
VALUES ('default', 'default', 'Default Workspace')
ON CONFLICT (org_id, id) DO UPDATE SET name = EXCLUDED.name;

INSERT INTO organizations (id, name)
SELECT DISTINCT org_id, org_id
FROM traces
WHERE org_id <> ''
ON CONFLICT (id) DO NOTHING;

INSERT INTO workspaces (id, org_id, name)
SELECT DISTINCT workspace_id, org_id, workspace_id
FROM traces
WHERE workspace_id <> '' AND org_id <> ''
ON CONFLICT (org_id, id) DO NOTHING;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE conname = 'fk_workspaces_organization'
    ) THEN
        ALTER TABLE workspaces
            ADD CONSTRAINT fk_workspaces_organization
            FOREIGN KEY (org_id)
            REFERENCES organizations(id)
            ON UPDATE CASCADE
            ON DELETE RESTRICT;
    END IF;
END $$;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE conname = 'fk_traces_workspace_tenant'
    ) THEN
        ALTER TABLE traces
            ADD CONSTRAINT fk_traces_workspace_tenant
            FOREIGN KEY (org_id, workspace_id)
            REFERENCES workspaces(org_id, id)
            ON UPDATE CASCADE
            ON DELETE RESTRICT;
    END IF;
END $$;
"""),
    ("postgres/003_add_gateway_key_id.sql", """\
ALTER TABLE traces ADD COLUMN IF NOT EXISTS gateway_key_id TEXT;

UPDATE traces
SET gateway_key_id = NULLIF(metadata ->> 'gateway_key_id', '')
WHERE gateway_key_id IS NULL;

CREATE INDEX IF NOT EXISTS idx_traces_gateway_key_id ON traces(gateway_key_id);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_gateway_key_timestamp ON traces(org_id, workspace_id, gateway_key_id, timestamp);
"""),  # noqa: E501 - the gateway's file, verbatim
    ("postgres/004_workspace_scope_by_org.sql", """\
CREATE INDEX IF NOT EXISTS idx_workspaces_org_id ON workspaces(org_id);
CREATE INDEX IF NOT EXISTS idx_workspaces_id ON workspaces(id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_workspaces_org_id_id ON workspaces(org_id, id);

DO $$
DECLARE
    pk_cols TEXT[];
BEGIN
    SELECT array_agg(att.attname ORDER BY ord.n)
    INTO pk_cols
    FROM pg_constraint con
    JOIN pg_class rel ON rel.oid = con.conrelid
    JOIN pg_namespace nsp ON nsp.oid = rel.relnamespace
    JOIN unnest(con.conkey) WITH ORDINALITY AS ord(attnum, n) ON TRUE
    JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ord.attnum
    WHERE con.contype = 'p'
      AND nsp.nspname = 'public'
      AND rel.relname = 'workspaces';

    -- Legacy schemas used a global primary key on id, which prevented the same
    -- workspace id from being reused under different organizations.
    IF pk_cols = ARRAY['id'] THEN
        ALTER TABLE workspaces DROP CONSTRAINT workspaces_pkey;
    END IF;
END $$;
"""),
)

SQLITE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT PRIMARY KEY,
    applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""
POSTGRES_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
"""


def apply_sqlite(conn: sqlite3.Connection, applied_at: datetime | None = None) -> None:
    """Replay :data:`SQLITE_MIGRATIONS` on ``conn`` as the gateway does.

    ``applied_at`` is recorded instead of the wall clock when given, so a seeded
    demo gives the same file byte for byte.
    """
    conn.executescript(SQLITE_MIGRATIONS_TABLE)
    stamp = None if applied_at is None else applied_at.strftime("%Y-%m-%d %H:%M:%S")
    for name, sql in SQLITE_MIGRATIONS:
        if conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
            continue
        conn.executescript("BEGIN;\n" + sql)  # the transaction stays open until commit()
        conn.execute("INSERT INTO schema_migrations (name, applied_at) "
                     "VALUES (?, COALESCE(?, CURRENT_TIMESTAMP))", (name, stamp))
        conn.commit()


async def apply_postgres(conn: Any) -> None:
    """Replay :data:`POSTGRES_MIGRATIONS` on an asyncpg connection as the gateway does."""
    await conn.execute(POSTGRES_MIGRATIONS_TABLE)
    for name, sql in POSTGRES_MIGRATIONS:
        async with conn.transaction():
            claimed = await conn.fetchval(
                "INSERT INTO schema_migrations (name) VALUES ($1) "
                "ON CONFLICT (name) DO NOTHING RETURNING true", name)
            if claimed:
                await conn.execute(sql)


def index_statements(migrations: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """``(index name, CREATE INDEX statement)`` of every index the migrations create."""
    found = []
    for _, sql in migrations:
        for line in sql.splitlines():
            if line.startswith("CREATE INDEX IF NOT EXISTS "):
                found.append((line.split()[5], line))
    return found
