"""The SQLite agents of a box, read by the tokentop installed there (``tokentop export``).

Why on the box: an agent's database is written while it is read, in pages a byte-range
copy cannot follow, and copying it whole each time it changes would send megabytes for
one new message. The box's tokentop opens each database read-only (``mode=ro``, as
locally: ``agents.base.open_read_only``), runs the same readers from the watermark and
row marks this machine passes in (its stored ones), and prints the new canonical events
as JSON lines; this machine stores them with the new watermark and marks in one
transaction, as for a local database. The box keeps nothing: no store, no state file,
nothing written there.

One line per record, each a tagged ``msgspec`` struct (``Line``): ``event`` lines of a
database, then its ``db`` line (its new watermark, marks and fingerprint: the events
before it belong to it), a ``watch`` line (the files to watch for a change, so the
next export is asked for only then), and ``end``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import msgspec

from tokentop.store.tail.offsets import FileTask
from tokentop.store.usage.agents import AGENTS
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.rowmarks import RowMarks

VERSION = 1


class Known(msgspec.Struct):
    """What this machine stored for one of the box's databases."""

    agent: str
    path: str
    inode: int
    head: str  # the fingerprint read last (mtimes and sizes of the file and its -wal)
    watermark: int = 0
    marks: dict[str, str] = msgspec.field(default_factory=dict)


class State(msgspec.Struct):
    known: list[Known] = msgspec.field(default_factory=list)


class Event(msgspec.Struct, tag="event"):
    agent: str
    e: IngestRequest


class Database(msgspec.Struct, tag="db"):
    agent: str
    path: str
    inode: int
    size: int
    head: str
    watermark: int
    marks: dict[str, str]
    problems: list[str] = msgspec.field(default_factory=list)  # what could not be read


class Watch(msgspec.Struct, tag="watch"):
    roots: list[tuple[str, str, str]]  # (agent, root, file name pattern): ``add_root``


class End(msgspec.Struct, tag="end"):
    version: int = VERSION


Line = Event | Database | Watch | End
decoder = msgspec.json.Decoder(Line)
_encoder = msgspec.json.Encoder()


def watch_roots(root: Path) -> list[tuple[str, str]]:
    """What to watch for a change of the database ``root``: the ``*.db*`` beside a
    ``.db`` (a new Antigravity conversation or OpenCode channel shows there), the same
    under a directory named with no suffix (Antigravity's ``conversations`` before its
    first database), else the file and its ``-wal``."""
    if root.name.endswith(".db"):
        return [(str(root.parent), "*.db*")]
    if "." not in root.name:
        return [(str(root), "*.db*")]
    return [(str(root), "*"), (f"{root}-wal", "*")]


def export(sources: Iterable[str] | None, state: State) -> Iterator[bytes]:
    """The lines for the database agents named in ``sources`` (all when None)."""
    from tokentop.store.usage.collect import _fingerprint, _read_database

    wanted = set(sources) if sources is not None else None
    known = {(k.agent, k.path): k for k in state.known}
    watch: list[tuple[str, str, str]] = []
    for ref in AGENTS:
        if ref.kind != "database" or (wanted is not None and ref.name not in wanted):
            continue
        for root in ref.roots():
            watch.extend((ref.name, r, pattern) for r, pattern in watch_roots(root))
            if not root.is_file():
                continue
            mark = _fingerprint(root, True)
            if mark is None:
                continue
            inode, size, head = mark
            prev = known.get((ref.name, str(root)))
            if prev is not None and prev.inode == inode and prev.head == head.decode():
                continue  # unchanged since this machine read it
            resumed = prev is not None and prev.inode == inode
            task = FileTask(root, 0, size, inode, resumed)
            marks = RowMarks(prev.marks if resumed and prev is not None else None)
            read = _read_database(ref, task, prev.watermark if resumed and prev else 0,
                                  marks, None)
            if read is None:
                continue
            problems = _problems(read.counts)
            if read.requests is None:
                yield _encoder.encode(Database(ref.name, str(root), inode, size, "",
                                               0, {}, problems)) + b"\n"
                continue
            for req in read.requests:
                yield _encoder.encode(Event(ref.name, req)) + b"\n"
            yield _encoder.encode(Database(
                ref.name, str(root), inode, size, read.fingerprint[2].decode(),
                read.watermark, dict(read.marks.changed), problems)) + b"\n"
    yield _encoder.encode(Watch(list(dict.fromkeys(watch)))) + b"\n"
    yield _encoder.encode(End()) + b"\n"


def _problems(counts: Counts) -> list[str]:
    return [*(f"{n} skipped: {why}" for why, n in sorted(counts.skipped.items())),
            *(f"cannot read {p}" for p in counts.unreadable)]


def read_state(data: bytes) -> State:
    """The state passed in (empty input: nothing known)."""
    return msgspec.json.decode(data, type=State) if data.strip() else State()


def sources_of(text: str | None, names: Sequence[str]) -> list[str] | None:
    """``--source a,b`` as a list (None: every database agent); an unknown name raises
    ValueError."""
    if not text:
        return None
    out = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in out if s not in names]
    if bad:
        raise ValueError(f"not a database agent: {', '.join(bad)} "
                         f"(one of {', '.join(names)})")
    return out
