"""Where a team store is, on the server and on this machine.

The local files are named by a hash of the URL without its credentials (no user, no
password, no query): two users of one database share nothing secret in a file name,
and a password change does not orphan the cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from tokentop.store.redact import redact_url
from tokentop.store.usage.paths import default_db_path

SCHEMES = ("postgresql://", "postgres://")


def is_team_url(store: str | None) -> bool:
    """Whether ``--store`` names a PostgreSQL team store rather than a SQLite file."""
    return store is not None and store.strip().lower().startswith(SCHEMES)


def shown(url: str) -> str:
    """The URL as messages and status lines print it: credentials masked."""
    return redact_url(url)


def identity(url: str) -> str:
    """``host:port/database`` without credentials: what names the local files."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port or 5432
    except ValueError:
        return url.strip()
    return f"{host}:{port}{parts.path or '/'}"


def team_dir() -> Path:
    return default_db_path().parent / "team"


def cache_path(url: str) -> Path:
    """This machine's collection cache (offsets, and the rows not yet pushed)."""
    digest = hashlib.sha256(identity(url).encode()).hexdigest()[:16]
    return team_dir() / f"{digest}.db"


def replica_path(url: str) -> Path:
    """The local replica the read model runs on."""
    return cache_path(url).with_suffix(".read.db")
