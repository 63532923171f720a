"""``rowmarks.changed_rows``: which rows of a table of running totals moved since the
last read, on a real SQLite table (Hermes's shape: one row per session, rewritten)."""

from __future__ import annotations

import sqlite3

from tokentop.store.usage.rowmarks import BLOCK_KEY, BLOCK_ROWS, RowMarks, changed_rows


def rows_of(marks: dict[str, str]) -> dict[str, str]:
    """The row marks of a read, its block marks left out."""
    return {k: m for k, m in marks.items() if not k.startswith(BLOCK_KEY)}


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
    assert set(rows_of(second.changed)) == set(moved)
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


def traced(conn: sqlite3.Connection) -> list[str]:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    return statements


def test_only_the_blocks_whose_digest_moved_are_signed() -> None:
    """A change anywhere in a block (a REAL's last bit, 5 becoming '5', NULL becoming a
    value) moves its digest; only that block's rows are signed and compared, and the
    other blocks are not read past the digest pass."""
    n = BLOCK_ROWS * 8
    conn = table(n)
    first = RowMarks()
    assert len(read(conn, first)) == n
    blocks = {rowid // BLOCK_ROWS for rowid in range(1, n + 1)}  # rowids from 1
    assert len([k for k in first.changed if k.startswith(BLOCK_KEY)]) == len(blocks)
    cases = [
        "UPDATE s SET cost = cost + 1e-13 WHERE id = 's3'",
        "UPDATE s SET tokens = CAST(tokens AS TEXT) WHERE id = 's300'",
        "UPDATE s SET model = 'x' WHERE id = 's701'",
    ]
    marks = dict(first.changed)
    for case, row in zip(cases, ["s3", "s300", "s701"], strict=True):
        conn.execute(case)
        again = RowMarks(marks)
        statements = traced(conn)
        assert read(conn, again) == [row], case
        assert sum("BETWEEN" in s for s in statements) == 1  # one block signed
        assert len(rows_of(again.changed)) == 1
        marks.update(again.changed)
        conn.set_trace_callback(None)
    assert read(conn, RowMarks(marks)) == []
    # a new row lands in a block of its own (or the last): read, nothing else
    conn.execute("INSERT INTO s VALUES ('new', 1, 1.0, 'm')")
    assert read(conn, RowMarks(marks)) == ["new"]


def test_marks_of_rows_without_block_marks_still_spare_the_unchanged() -> None:
    """A store written before block marks holds row marks only: the first read signs
    every row but yields only the changed, and leaves block marks for the next."""
    conn = table(500)
    first = RowMarks()
    read(conn, first)
    conn.execute("UPDATE s SET tokens = -1 WHERE id = 's42'")
    older = RowMarks(rows_of(first.changed))
    assert read(conn, older) == ["s42"]
    assert any(k.startswith(BLOCK_KEY) for k in older.changed)
    statements = traced(conn)
    assert read(conn, RowMarks({**first.changed, **older.changed})) == []
    assert not any("BETWEEN" in s for s in statements)


def test_tables_without_integer_rowids_are_signed_row_by_row() -> None:
    """WITHOUT ROWID, or a column that takes the name rowid: no blocks, every row
    signed, the same answers."""
    for ddl in ("CREATE TABLE s (id TEXT PRIMARY KEY, tokens, cost REAL, model TEXT)"
                " WITHOUT ROWID",
                "CREATE TABLE s (id TEXT PRIMARY KEY, tokens, cost REAL, model TEXT,"
                " rowid TEXT)"):
        conn = sqlite3.connect(":memory:")
        conn.execute(ddl)
        conn.executemany("INSERT INTO s (id, tokens, cost, model) VALUES (?, ?, ?, ?)",
                         [(f"s{i}", i, i / 3, "m") for i in range(300)])
        if "rowid TEXT" in ddl:
            conn.execute("UPDATE s SET rowid = 'r' || id")
        first = RowMarks()
        assert len(read(conn, first)) == 300
        assert not any(k.startswith(BLOCK_KEY) for k in first.changed)
        conn.execute("UPDATE s SET tokens = 0 WHERE id = 's7'")
        assert read(conn, RowMarks(first.changed)) == ["s7"]


def test_one_snapshot_and_a_callers_transaction_left_open(tmp_path) -> None:
    """The digests and the rows signed come from one read transaction, ended when the
    rows are read; a caller's own transaction is neither begun nor ended here."""
    conn = table(300)
    conn.commit()  # the rows inserted
    statements = traced(conn)
    read(conn, RowMarks())
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert not conn.in_transaction
    conn.execute("BEGIN")
    conn.execute("UPDATE s SET tokens = 5 WHERE id = 's5'")
    read(conn, RowMarks())
    assert conn.in_transaction
    conn.execute("COMMIT")
