"""Run a throwaway PostgreSQL server: for the trace-store tests and the benchmark.

``initdb`` in a temporary directory, then ``pg_ctl start`` on 127.0.0.1 with a free
port and the unix socket in that directory; stopped and removed on exit. Binaries are
found with ``pg_config --bindir``, then /usr/lib/postgresql/*/bin, then ``initdb`` on
PATH. initdb refuses to run as root: as root, the server runs as the ``postgres``
user (``runuser -u postgres --``, which Debian's package creates), owning the
temporary directory.
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
        if all((d / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    port: int

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

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

        # Its own loop in its own thread: callable from sync and async code alike.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run()).result()
        return self.dsn(name)


@contextlib.contextmanager
def running_server(bindir: Path, *, settings: tuple[str, ...] = ()) -> Iterator[PgServer]:
    """A started server (fsync off: test data), stopped and deleted on exit."""
    base = Path(tempfile.mkdtemp(prefix="tokentop-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    log = base / "server.log"
    port = free_port()

    def run(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr or proc.stdout}\n"
                               f"{tail}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale")
        options = " ".join([f"-p {port}", f"-k {base}", "-c listen_addresses=127.0.0.1",
                            "-c fsync=off", "-c synchronous_commit=off",
                            "-c full_page_writes=off", *(f"-c {s}" for s in settings)])
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
            "-o", options, "start")
        try:
            yield PgServer(port)
        finally:
            with contextlib.suppress(Exception):
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
