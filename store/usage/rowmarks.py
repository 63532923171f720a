"""Which rows of an agent's database changed since the last read.

Some agents keep usage as running totals, one row per session rewritten in place
(Hermes's ``sessions``), with no column that says when a row last changed: no rowid
or time watermark can tell the new from the old. Reading and ingesting every row on
every change made one new Hermes message cost a second over 20,000 sessions. So the
runner remembers each row it read by its values (a signature SQLite builds,
``tokentop_row_marks``, committed in the same transaction as the events those rows
gave, like a file offset) and the agent parses only the rows whose signature moved.
Marks belong to one database file: when its offset is gone or the file was replaced,
the runner starts with none and every row is read again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHUNK = 500  # keys per ``IN (...)``: under SQLite's oldest variable limit (999)


@dataclass(frozen=True, slots=True)
class RowMark:
    """One row's signature as stored: ``collector`` and ``path`` as in the file offsets."""

    collector: str
    path: str
    key: str
    mark: str


def signature_sql(columns: Sequence[str]) -> str:
    """An SQL expression of a row's values as one text (``quote`` of each, joined): the
    row's mark. SQLite builds it, Python only compares it, so checking 20,000 unchanged
    rows costs a dictionary look-up each (a digest in Python: 100 ms more)."""
    return " || ',' || ".join(f"quote({c})" for c in columns)


def load(conn: sqlite3.Connection, collector: str, path: str) -> dict[str, str]:
    """The marks stored for one database, by row key: the store's own connection
    (``UsageStore.load_row_marks``) or a worker thread's."""
    return dict(conn.execute(
        "SELECT row_key, mark FROM tokentop_row_marks WHERE collector = ? AND path = ?",
        (collector, path)).fetchall())


class RowMarks:
    """The rows read last time, by key; :meth:`fresh` says whether one needs reading."""

    def __init__(self, known: Mapping[str, str] | None = None) -> None:
        self.known: Mapping[str, str] = known or {}
        self.changed: dict[str, str] = {}

    def fresh(self, key: str, mark: str) -> bool:
        """True when the row ``key`` is new or its ``mark`` (:func:`signature_sql`)
        differs from the one read last time; the new mark is kept, to be stored with
        this read's events."""
        if self.known.get(key) == mark:
            return False
        self.changed[key] = mark
        return True

    def stored(self, collector: str, path: str) -> list[RowMark]:
        return [RowMark(collector, path, k, m) for k, m in self.changed.items()]


def changed_rows(conn: sqlite3.Connection, table: str, key: str, columns: Sequence[str],
                 where: str, marks: RowMarks) -> Iterator[tuple[Any, ...]]:
    """``SELECT key, *columns, signature FROM table WHERE where`` for the rows whose
    signature is not the one ``marks`` knows. With marks from a last read, a first pass
    reads only keys and signatures (20,000 rows: 80 ms, not 120) and a second the
    changed rows whole; the mark kept is the one read with the row."""
    signature = signature_sql(columns)
    select = f"SELECT {key}, {', '.join(columns)}, {signature} FROM {table} WHERE {where}"
    if not marks.known:
        for row in conn.execute(select):
            if marks.fresh(str(row[0]), row[-1]):
                yield row
        return
    known = marks.known
    moved = [k for k, m in conn.execute(f"SELECT {key}, {signature} FROM {table}"
                                        f" WHERE {where}") if known.get(str(k)) != m]
    for start in range(0, len(moved), CHUNK):
        chunk = moved[start:start + CHUNK]
        for row in conn.execute(f"{select} AND {key} IN ({', '.join('?' * len(chunk))})",
                                chunk):
            if marks.fresh(str(row[0]), row[-1]):  # changed back meanwhile: nothing new
                yield row
