"""A real PostgreSQL for the trace-store tests, and the fixture data on both backends.

``pg_server`` (session) runs its own server: ``initdb`` in a temporary directory, then
``pg_ctl start`` on 127.0.0.1 with a free port and the unix socket in that directory;
it is stopped and removed at the end of the session. Binaries are found with
``pg_config --bindir``, then /usr/lib/postgresql/*/bin, then ``initdb`` on PATH. The
tests skip only when no PostgreSQL binaries exist (CI installs Debian's
``postgresql`` package, so there they run). initdb refuses to run as root: as root,
the server runs as the ``postgres`` user (``runuser -u postgres --``), which owns the
temporary directory.

``fixture_targets`` writes :func:`gateway_db.fixture_rows` once to a SQLite file and to
a PostgreSQL database: the same rows on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_db import fixture_rows, write_postgres, write_sqlite


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl live, or None if PostgreSQL is not installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))

    def version(p: Path) -> float:
        try:
            return float(p.parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file() and (d / "postgres").is_file():
            return d
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    port: int
    admin_dsn: str

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A fresh empty database; returns its DSN."""
        import asyncpg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"

        async def run() -> None:
            conn = await asyncpg.connect(self.admin_dsn)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        # Its own loop in its own thread: callable from sync and async tests alike.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run()).result()
        return self.dsn(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    base = Path(tempfile.mkdtemp(prefix="tokentop-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")  # Debian's package creates it
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    port = free_port()
    log = base / "server.log"

    def run(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}\n{tail}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--no-locale")
    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
        "-o", options, "start")
    try:
        yield PgServer(port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Targets:
    sqlite: str
    postgresql: str | None


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
