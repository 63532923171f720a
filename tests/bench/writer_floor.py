"""The single writer's floor: what the store's SQL costs when nothing else does.

Run by ``bench_claude_scan.py`` and ``bench_agents.py --floor`` in a child process:

    python tests/bench/writer_floor.py WORK [--claude CORPUS]

It runs one cold ``collect_once`` into ``WORK/floor-a.db`` in process, recording every
statement the store's ingest runs on its connection (the SQL and its parameters,
materialised) and where the store committed (its group commit: about once a second),
then replays the recording into a fresh store ``WORK/floor-b.db`` in the same
transactions, with no Python work between the statements, and prints one JSON line:
the replay's wall and CPU, the number of batches, commits and statements, and the
seconds per kind of statement (the first three words of its SQL).

Why: on two cores the cold report is bound by the store's one writer. Validation, dedup
keys, costs and rollup sums are Python that could run elsewhere; these statements
cannot: SQLite's work plus CPython's binding of each value. Printed beside ccusage's
whole run, the floor says whether any split of the Python work could reach the issue's
1.0x (issue 19). ``--claude CORPUS``: only Claude Code's logs under CORPUS (as
bench_claude_scan collects); without it every agent the environment points at.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tokentop.store.usage import db as usage_db  # noqa: E402
from tokentop.store.usage.collect import collect_once  # noqa: E402
from tokentop.store.usage.db import UsageStore  # noqa: E402

Call = tuple[bool, str, list[Any]]


class Recorder:
    """The store's connection as ``ingest_batch`` sees it, keeping what it is asked."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.calls = conn, []  # type: list[Call]

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        params = list(params)
        self.calls.append((False, sql, params))
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        rows = [tuple(r) for r in rows]
        self.calls.append((True, sql, rows))
        return self.conn.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def record(work: Path, claude: Path | None) -> list[tuple[list[Call], bool]]:
    """Each batch's statements, and whether the store committed after it."""
    batches: list[tuple[list[Call], bool]] = []
    real_batch, real_ingest = usage_db.ingest_batch, UsageStore.ingest

    def recorded(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
        rec = Recorder(conn)
        result = real_batch(rec, *args, **kwargs)  # type: ignore[arg-type]
        batches.append((rec.calls, False))
        return result

    def ingest(self: UsageStore, *args: Any, **kwargs: Any) -> Any:
        result = real_ingest(self, *args, **kwargs)
        if batches and not self.conn.in_transaction:
            batches[-1] = (batches[-1][0], True)
        return result

    usage_db.ingest_batch = recorded  # type: ignore[assignment]
    UsageStore.ingest = ingest  # type: ignore[method-assign]
    try:
        with UsageStore.open(work / "floor-a.db") as store:
            if claude is None:
                collect_once(store, parallel=False)
            else:
                collect_once(store, claude_roots=[claude], codex_dir=claude / "none",
                             hook_spool=claude / "none", agents=(), parallel=False)
    finally:
        usage_db.ingest_batch = real_batch  # type: ignore[assignment]
        UsageStore.ingest = real_ingest  # type: ignore[method-assign]
    return batches


def replay(path: Path, batches: list[tuple[list[Call], bool]]) -> dict[str, Any]:
    UsageStore.open(path).close()  # the schema, WAL and pragmas
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("foreign_keys = ON", "synchronous = NORMAL", "cache_size = -65536"):
        conn.execute("PRAGMA " + pragma)
    kinds: Counter[str] = Counter()
    commits = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for n, (calls, committed) in enumerate(batches):
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        for many, sql, params in calls:
            t = time.perf_counter()
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params).fetchall()
            kinds[" ".join(sql.split()[:3])] += time.perf_counter() - t
        if committed or n == len(batches) - 1:
            t = time.perf_counter()
            conn.execute("COMMIT")
            kinds["COMMIT"] += time.perf_counter() - t
            commits += 1
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "batches": len(batches), "commits": commits,
            "statements": sum(len(c) for c, _ in batches),
            "kinds": {k: round(v, 3) for k, v in kinds.most_common()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--claude", type=Path, help="a CLAUDE_CONFIG_DIR-shaped corpus")
    args = ap.parse_args()
    for f in args.work.glob("floor-*.db*"):
        f.unlink()
    batches = record(args.work, args.claude)
    print(json.dumps(replay(args.work / "floor-b.db", batches)))
    for f in args.work.glob("floor-*.db*"):
        f.unlink()


if __name__ == "__main__":
    main()
