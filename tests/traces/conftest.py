"""A real PostgreSQL for the trace-store tests, and the fixture data on both backends.

``pg_server`` (session, in tests/conftest.py: the team usage store's tests share it)
runs its own server (tests/traces/pg_server.py: initdb in a temporary directory,
pg_ctl on 127.0.0.1 with a free port, as the ``postgres`` user when run as root) and
stops it at the end of the session. It skips only when no PostgreSQL binaries exist;
CI installs Debian's ``postgresql`` package, so there the PostgreSQL tests run.

``sqlite_fixture`` and ``pg_fixture`` hold :func:`gateway_db.fixture_rows` written once
to a SQLite file and to a PostgreSQL database: the same rows on both backends.
``target`` runs a test on each in turn.
"""

from __future__ import annotations

import asyncio

import pytest
from gateway_db import fixture_rows, write_postgres, write_sqlite
from pg_server import PgServer

# ``pg_server`` (one PostgreSQL server for the whole session) is in tests/conftest.py:
# the team usage store's tests run on it too.


@pytest.fixture(scope="session")
def sqlite_fixture(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("traces") / "ongoingai.db"
    write_sqlite(path, fixture_rows())
    return str(path)


@pytest.fixture(scope="session")
def pg_fixture(pg_server: PgServer) -> str:
    dsn = pg_server.create_database("fixture")
    asyncio.run(write_postgres(dsn, fixture_rows()))
    return dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest) -> str:
    """The fixture data's store on each backend in turn."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_fixture"))
    return str(request.getfixturevalue("pg_fixture"))
