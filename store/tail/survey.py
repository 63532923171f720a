"""Find every log file and stat it in worker threads while the caller does other work.

A warm pass over a home of many agents (the issue-14 bench: ~14,000 files in ~4,000
directories) spends most of its time in ``scandir`` and ``stat``: kernel time, run
with the GIL released. Loading where each collector stopped (~14,000 offset rows from
SQLite, also mostly outside the GIL) used to wait for it; here both run at once, and
the walk itself is spread over two threads, one source each, so on two cores they
overlap instead of adding up. The stats are taken once: planning compares them with
the stored offsets without calling ``stat`` again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

Lister = Callable[[], list[str]]


class Survey:
    """The files of each source (``files``) and their stats (``stats``), gathered in
    the background from the moment it is made; each accessor waits for its source."""

    def __init__(self, sources: Mapping[Hashable, tuple[Lister, bool]],
                 workers: int = 2) -> None:
        """``sources``: key -> (a function listing its files, whether they are SQLite
        databases, whose ``-wal`` is stat'ed too)."""
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokentop-walk")
        self._jobs: dict[Hashable, Future] = {
            key: self._pool.submit(_list_and_stat, lister, database)
            for key, (lister, database) in sources.items()
        }
        self._pool.shutdown(wait=False)
        self.stats: dict[str, os.stat_result | None] = {}

    def files(self, key: Hashable) -> list[str]:
        """The files found for ``key`` (sorted); their stats join ``stats``."""
        files, stats = self._jobs[key].result()
        self.stats.update(stats)
        return files

    def close(self) -> None:
        """Wait for every job (a failed pass leaves no thread behind)."""
        for job in self._jobs.values():
            job.exception()


def _list_and_stat(lister: Lister, database: bool
                   ) -> tuple[list[str], dict[str, os.stat_result | None]]:
    files = lister()
    stats: dict[str, os.stat_result | None] = {}
    for name in files:
        try:
            stats[name] = os.stat(name)
        except OSError:
            stats[name] = None
        if database:
            wal = f"{name}-wal"
            try:
                stats[wal] = os.stat(wal)
            except OSError:
                stats[wal] = None
    return files, stats
