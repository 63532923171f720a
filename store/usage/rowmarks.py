"""Which rows of an agent's database changed since the last read.

Some agents keep usage as running totals, one row per session rewritten in place
(Hermes's ``sessions``), with no column that says when a row last changed: no rowid
or time watermark can tell the new from the old. Reading and ingesting every row on
every change made one new Hermes message cost a second over 20,000 sessions. So the
runner remembers a digest of each row it read (``tokentop_row_marks``, committed in the
same transaction as the events those rows gave, like a file offset) and the agent
parses only the rows whose digest moved. Marks belong to one database file: when its
offset is gone or the file was replaced, the runner starts with none and every row is
read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RowMark:
    """One row's digest as stored: ``collector`` and ``path`` as in the file offsets."""

    collector: str
    path: str
    key: str
    mark: int


def digest(row: Iterable[Any]) -> int:
    """A stable 63-bit digest of a row's values (``repr`` is stable across processes for
    the types SQLite returns; ``hash`` of a str is not)."""
    data = repr(tuple(row)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1


class RowMarks:
    """The rows read last time, by key; :meth:`fresh` says whether one needs reading."""

    def __init__(self, known: Mapping[str, int] | None = None) -> None:
        self.known: Mapping[str, int] = known or {}
        self.changed: dict[str, int] = {}

    def fresh(self, key: str, row: Iterable[Any]) -> bool:
        """True when ``row`` is new or differs from the copy read last time (and remember
        it, to be stored with this read's events)."""
        mark = digest(row)
        if self.known.get(key) == mark:
            return False
        self.changed[key] = mark
        return True

    def stored(self, collector: str, path: str) -> list[RowMark]:
        return [RowMark(collector, path, k, m) for k, m in self.changed.items()]
