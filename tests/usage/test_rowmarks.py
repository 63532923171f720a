"""``rowmarks.changed_rows``: which rows of a table of running totals moved since the
last read, on a real SQLite table (Hermes's shape: one row per session, rewritten)."""

from __future__ import annotations

import sqlite3

from tokentop.store.usage.rowmarks import RowMarks, changed_rows


def table(n: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE s (id TEXT PRIMARY KEY, tokens, cost REAL, model TEXT)")
    conn.executemany("INSERT INTO s VALUES (?, ?, ?, ?)",
                     [(f"s{i}", i, i / 3, None if i % 7 else "m") for i in range(n)])
    return conn


def read(conn: sqlite3.Connection, marks: RowMarks) -> list[str]:
    return [row[0] for row in changed_rows(conn, "s", "id", ["tokens", "cost", "model"],
                                           "1", marks)]


def test_only_the_rows_that_moved_are_read_again_in_chunks() -> None:
    conn = table(1200)
    first = RowMarks()
    assert len(read(conn, first)) == 1200
    # more changed rows than one IN (...) chunk holds; a type change with the same
    # digits ('5' for 5) and a NULL becoming a value are changes too
    conn.execute("UPDATE s SET tokens = tokens + 1 WHERE CAST(substr(id, 2) AS INTEGER) < 700")
    conn.execute("UPDATE s SET tokens = '900' WHERE id = 's900'")
    conn.execute("UPDATE s SET model = 'n' WHERE id = 's701'")
    second = RowMarks(first.changed)
    moved = read(conn, second)
    assert sorted(moved) == sorted([f"s{i}" for i in range(700)] + ["s900", "s701"])
    assert set(second.changed) == set(moved)
    third = RowMarks({**first.changed, **second.changed})
    assert read(conn, third) == []
