"""How tokentop opens a usage database it must not write: one URI for every reader."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def read_only_uri(path: Path) -> str:
    """The URI that reads ``path`` without writing anything next to it.

    ``mode=ro`` alone on a WAL database (openusage's) whose ``-wal`` is absent, i.e. no
    connection has it open, creates ``-wal`` and ``-shm`` and, being read-only, cannot
    remove them on close. Then nothing is writing the file, so it is opened
    ``immutable`` (no locks, no side files). Trade-off: a writer that starts later is not
    seen until the store is reopened. While a writer runs (``-wal`` present), plain
    ``mode=ro`` shares its WAL and sees its commits.
    """
    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    if _is_wal(resolved) and not Path(f"{resolved}-wal").exists():
        uri += "&immutable=1"
    return uri


def _is_wal(path: Path) -> bool:
    """The header's read/write versions (bytes 18, 19) are 2 in WAL mode."""
    try:
        with path.open("rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return len(head) == 20 and head[18] == 2 and head[19] == 2
