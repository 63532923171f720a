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


def _store_with(tmp_path, marks: dict[str, str]):
    """A real tokentop store file holding ``marks`` for ('hermes', 'agent.db')."""
    from tokentop.store.usage.db import UsageStore
    from tokentop.store.usage.rowmarks import RowMark

    path = tmp_path / "usage.db"
    store = UsageStore.open(path)
    store.ingest([], marks=[RowMark("hermes", "agent.db", k, m) for k, m in marks.items()])
    store.close()
    return path


def test_a_few_rows_offered_are_checked_one_by_one_many_load_every_mark(tmp_path) -> None:
    """An agent read from a time watermark offers a few rows: their marks are looked up
    one by one in the store (none loaded); past ``LOOKUPS`` every mark is loaded once.
    Either way the answers are the stored marks'."""
    from tokentop.store.usage import rowmarks
    from tokentop.store.usage.rowmarks import StoredMarks

    stored = {f"s{i}": f"m{i}" for i in range(500)}
    store = _store_with(tmp_path, stored)
    at = StoredMarks(store, "hermes", "agent.db")
    few = RowMarks(stored=at)
    assert few.fresh("s1", "m1") is False
    assert few.fresh("s2", "changed") is True
    assert few.fresh("new", "m") is True
    assert few._known is None and few.changed == {"s2": "changed", "new": "m"}
    few.close()
    many = RowMarks(stored=at)
    answers = [many.fresh(f"s{i}", f"m{i}" if i % 2 else "x") for i in range(rowmarks.LOOKUPS + 50)]
    assert answers == [i % 2 == 0 for i in range(rowmarks.LOOKUPS + 50)]
    assert many._known == stored and many._conn is None  # loaded once, connection closed
    gone = RowMarks(stored=StoredMarks(tmp_path / "missing.db", "hermes", "agent.db"))
    assert gone.fresh("s1", "m1") is True  # marks that cannot be read are none
