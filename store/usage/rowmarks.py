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

Signing every row in SQLite (``quote`` of each value, joined) cost ~60 ms over 18,000
Hermes sessions on every change, more than fetching the rows themselves (~25 ms): SQLite
formats each REAL as text. So rows are also signed in blocks of consecutive rowids
(``BLOCK_ROWS``): Python digests each block's raw values (msgpack, then BLAKE2b) and
only the rows of the blocks whose digest moved are signed and compared one by one. A
block's mark is stored beside the rows' under a key no row has (``BLOCK_KEY``).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 500  # keys per ``IN (...)``: under SQLite's oldest variable limit (999)
LOOKUPS = 200  # marks looked up one by one before all are loaded (``RowMarks``)
BLOCK_SHIFT = 7  # rowids per block: 128 (18,000 sessions: ~150 block marks)
BLOCK_ROWS = 1 << BLOCK_SHIFT
# a block's mark is stored under this prefix and its number: the NUL keeps it apart
# from row keys (an agent's ids); were one to collide, the cost is a row read again
BLOCK_KEY = "\x00block:"
_BLOCK_END = "\x00block;"  # the first text after every key that starts with BLOCK_KEY


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


@dataclass(frozen=True, slots=True)
class StoredMarks:
    """Where the marks of one database are kept: the store's file (read through a
    connection of the reader's own) and the keys they are stored under."""

    store: Path
    collector: str
    path: str

    def connect(self) -> sqlite3.Connection:
        """A read-only connection of the caller's own (a worker thread's)."""
        return sqlite3.connect(f"{self.store.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)

    def load(self) -> dict[str, str]:
        """The marks. When they cannot be read, none: every row is read again and
        dedup keeps the store as it is, only slower."""
        try:
            conn = self.connect()
            try:
                return load(conn, self.collector, self.path)
            finally:
                conn.close()
        except (sqlite3.Error, OSError):
            return {}

    def load_blocks(self) -> dict[str, str]:
        """The block marks only (``BLOCK_KEY``): a range of the primary key."""
        try:
            conn = self.connect()
            try:
                return dict(conn.execute(
                    "SELECT row_key, mark FROM tokentop_row_marks WHERE collector = ?"
                    " AND path = ? AND row_key >= ? AND row_key < ?",
                    (self.collector, self.path, BLOCK_KEY, _BLOCK_END)).fetchall())
            finally:
                conn.close()
        except (sqlite3.Error, OSError):
            return {}


class RowMarks:
    """The rows read last time, by key; :meth:`fresh` says whether one needs reading.

    ``stored``: instead of the marks themselves, where they are (``StoredMarks``),
    read in the reading thread: one by one for a few rows, all at once for many.
    (Comparing them inside SQLite, the store attached to the agent's connection, was
    tried: 18,000 Hermes rows took 130 ms there against ~120 ms here, the composite
    key's look-ups costing more than loading the marks.)"""

    def __init__(self, known: Mapping[str, str] | None = None, *,
                 stored: StoredMarks | None = None) -> None:
        self._known: Mapping[str, str] | None = known or ({} if stored is None else None)
        self.stored_at = stored
        self._lookups = 0
        self._conn: sqlite3.Connection | None = None
        self.changed: dict[str, str] = {}

    @property
    def known(self) -> Mapping[str, str]:
        if self._known is None:
            assert self.stored_at is not None
            self._known = self.stored_at.load()
        return self._known

    def fresh(self, key: str, mark: str) -> bool:
        """True when the row ``key`` is new or its ``mark`` (:func:`signature_sql`)
        differs from the one read last time; the new mark is kept, to be stored with
        this read's events."""
        if self._stored_mark(key) == mark:
            return False
        self.changed[key] = mark
        return True

    def _stored_mark(self, key: str) -> str | None:
        """The mark read last time. Left in the store (``stored``), the first marks are
        looked up one by one: an agent read from a time watermark (Goose) offers only
        the few rows updated since, and loading all 20,000 of its marks to check them
        cost ~35 ms a pass. Past ``LOOKUPS`` they are loaded at once."""
        if self._known is not None or self.stored_at is None:
            return self.known.get(key)
        self._lookups += 1
        if self._lookups > LOOKUPS:
            self.close()
            return self.known.get(key)
        try:
            if self._conn is None:
                self._conn = self.stored_at.connect()
            row = self._conn.execute(
                "SELECT mark FROM tokentop_row_marks WHERE collector = ? AND path = ?"
                " AND row_key = ?", (self.stored_at.collector, self.stored_at.path, key),
            ).fetchone()
        except (sqlite3.Error, OSError):
            self.close()
            self._known = {}  # as load(): unreadable marks are none
            return None
        return None if row is None else row[0]

    def blocks(self) -> dict[str, str]:
        """The block marks read last time (:func:`changed_rows`), by key."""
        if self._known is None and self.stored_at is not None:
            return self.stored_at.load_blocks()
        return {k: m for k, m in self.known.items() if k.startswith(BLOCK_KEY)}

    def remember(self, key: str, mark: str) -> None:
        """Keep ``mark`` for ``key`` with this read's, unasked (a block's digest)."""
        self.changed[key] = mark

    def close(self) -> None:
        """Close the look-up connection, if one was opened (by the thread that read)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def stored(self, collector: str, path: str) -> list[RowMark]:
        return [RowMark(collector, path, k, m) for k, m in self.changed.items()]


def changed_rows(conn: sqlite3.Connection, table: str, key: str, columns: Sequence[str],
                 where: str, marks: RowMarks) -> Iterator[tuple[Any, ...]]:
    """``SELECT key, *columns, signature FROM table WHERE where`` for the rows whose
    signature is not the one ``marks`` knows (every row the first time).

    The rows are read in one snapshot (a read transaction, unless the caller holds
    one): the block digests and the rows signed are the same data. Blocks whose digest
    is known and unchanged are skipped unread; a table without integer rowids (WITHOUT
    ROWID) is signed row by row (:func:`_signed_rows`)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        digests = _block_digests(conn, table, key, columns, where)
        known = marks.blocks() if digests is not None else {}
        if digests is None or not known:
            yield from _signed_rows(conn, table, key, columns, where, marks)
        else:
            select = _select(table, key, columns, where)
            for block, digest in digests.items():
                if known.get(f"{BLOCK_KEY}{block}") == digest:
                    continue
                low = block << BLOCK_SHIFT
                for row in conn.execute(f"{select} AND rowid BETWEEN ? AND ?",
                                        (low, low + BLOCK_ROWS - 1)):
                    if marks.fresh(str(row[0]), row[-1]):
                        yield row
        for block, digest in (digests or {}).items():
            if known.get(f"{BLOCK_KEY}{block}") != digest:
                marks.remember(f"{BLOCK_KEY}{block}", digest)
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")


def _select(table: str, key: str, columns: Sequence[str], where: str) -> str:
    return (f"SELECT {key}, {', '.join(columns)}, {signature_sql(columns)} FROM {table}"
            f" WHERE {where}")


def _block_digests(conn: sqlite3.Connection, table: str, key: str,
                   columns: Sequence[str], where: str) -> dict[int, str] | None:
    """Each block's digest (BLAKE2b of its rows' rowid, key and values as msgpack:
    typed, so 5 and '5' and 5.0 differ), by block number; None when the table has no
    integer rowid to block by. A block absent (every row deleted or filtered out) has
    no digest and nothing to read."""
    import msgspec  # a dependency of the store; here only when a table is signed

    try:
        rows = conn.execute(f"SELECT rowid, {key}, {', '.join(columns)} FROM {table}"
                            f" WHERE {where} ORDER BY rowid")
    except sqlite3.OperationalError:  # WITHOUT ROWID: no rowid column
        return None
    encode = msgspec.msgpack.Encoder().encode
    try:  # a block at a time off the cursor: memory for 128 rows, not the table
        return {block: hashlib.blake2b(encode(list(group)), digest_size=16).hexdigest()
                for block, group in itertools.groupby(rows, key=_block_of)}
    except TypeError:  # a column named rowid, not an integer
        return None


def _block_of(row: tuple[Any, ...]) -> int:
    return row[0] >> BLOCK_SHIFT


def _signed_rows(conn: sqlite3.Connection, table: str, key: str, columns: Sequence[str],
                 where: str, marks: RowMarks) -> Iterator[tuple[Any, ...]]:
    """Every row signed by SQLite and compared by its mark. With marks from a last
    read, a first pass reads only keys and signatures (20,000 rows: 80 ms, not 120) and
    a second the changed rows whole; the mark kept is the one read with the row."""
    signature = signature_sql(columns)
    select = _select(table, key, columns, where)
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
