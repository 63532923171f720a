"""Agent logs of another box, collected over SSH into this machine's usage store.

Why: the user runs agents on several boxes and wants one view without running a hub.
Each poll asks the box (``tokentop.store.remote``) which of its Claude Code and Codex
logs changed, then pulls only the bytes after the stored offset of each, and feeds them
through the same parsers, in-pass dedup and store transaction as local collection
(``tokentop.store.usage.collect``): each batch commits its events with the offsets of
the bytes they came from, so a connection dropped mid-read repeats nothing and loses
nothing.

A remote file's offset is kept under ``<host>:<path>`` (``offset_key``) in the same
``collector_offsets`` table, so the same path on two boxes, or on a box and here, never
share one; every event carries its host (``IngestRequest.host``, the ``tokentop_host``
column). The dedup keys do not include the host: a message seen on two boxes (a synced
home directory) is one message.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tokentop.store.remote.session import (
    Listed,
    RemoteError,
    Session,
    SshOptions,
    check_host,
)
from tokentop.store.tail.reader import HEAD_BYTES, MAX_LINE
from tokentop.store.usage.collect import CollectReport, Sink, Store
from tokentop.store.usage.collectors import claude, codex
from tokentop.store.usage.collectors.codex import CodexParser, CodexState
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import FileOffset

CHUNK = 4 << 20  # bytes asked for at once; a longer backlog comes in several
COLLECTORS = {"c": claude.COLLECTOR, "x": codex.COLLECTOR}

__all__ = ["HostStatus", "RemoteCollector", "RemoteError", "collect_hosts", "last_read",
           "offset_key"]


def offset_key(host: str, path: str) -> str:
    """Where a remote file's offset is kept: local paths are absolute, so no remote key
    (``user@box:/home/...``) can be taken for one of them."""
    return f"{host}:{path}"


@dataclass
class HostStatus:
    """What the dashboard and reports say about one box."""

    host: str
    last_ok: float | None = None  # wall time of the last poll that read the box
    error: str | None = None  # one line, None while it is reachable
    files: int = 0

    @property
    def reachable(self) -> bool:
        return self.error is None and self.last_ok is not None


@dataclass
class _Seen:
    inode: int
    size: int  # the size the last read reached (a partial last line is not asked again)


@dataclass
class RemoteCollector:
    """One box: its session (reopened after a drop), its listing and parser state."""

    host: str
    options: SshOptions | None = None
    status: HostStatus = field(init=False)
    session: Session | None = field(default=None, init=False)
    listing: dict[str, tuple[str, int, int]] = field(default_factory=dict, init=False)
    seen: dict[str, _Seen] = field(default_factory=dict, init=False)
    codex_states: dict[str, tuple[int, CodexState]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.host = check_host(self.host)
        self.status = HostStatus(self.host)

    def collect(self, store: Store) -> CollectReport:
        """Read the box's new bytes into ``store``. Raises RemoteError (one line, also
        kept in ``status``) when the box cannot be reached or the connection drops;
        what was committed before stays, the rest is read on the next call."""
        t0 = time.perf_counter()
        report = CollectReport()
        try:
            self._pass(store, report)
        except RemoteError as exc:
            self.close()
            self.status.error = str(exc)
            raise
        self.status.error = None
        self.status.last_ok = time.time()
        report.elapsed_s = time.perf_counter() - t0
        return report

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        self.listing.clear()  # a new session lists every file again

    @property
    def traffic(self) -> tuple[int, int]:
        """(bytes up, bytes down) of the current session."""
        t = self.session.traffic if self.session is not None else None
        return (t.up, t.down) if t is not None else (0, 0)

    # --- one pass -----------------------------------------------------------------------

    def _pass(self, store: Store, report: CollectReport) -> None:
        if self.session is None or not self.session.alive:
            self.close()
            self.session = Session(self.host, self.options)
        ses = self.session
        changed, total = ses.list()
        self._merge(changed)
        if len(self.listing) != total:  # files went away: list them all again
            ses.forget()
            self.listing.clear()
            self._merge(ses.list()[0])
        self.status.files = len(self.listing)
        report.claude.files = sum(1 for k, *_ in self.listing.values() if k == "c")
        report.codex.files = len(self.listing) - report.claude.files
        todo = [path for path, (_, inode, size) in sorted(self.listing.items())
                if (seen := self.seen.get(path)) is None
                or (seen.inode, seen.size) != (inode, size)]
        if not todo:
            return  # a warm poll: not even the offsets are loaded
        prefix = offset_key(self.host, "")
        offsets = {
            name: {k: v for k, v in store.load_offsets(name).items() if k.startswith(prefix)}
            for name in COLLECTORS.values()
        }
        sink = Sink(store, report)
        for path in todo:
            kind, inode, size = self.listing[path]
            collector = COLLECTORS[kind]
            prev = offsets[collector].get(offset_key(self.host, path))
            start, head = 0, b""
            if prev is not None and prev.inode == inode and prev.offset <= size:
                if prev.offset == size:
                    self.seen[path] = _Seen(inode, size)
                    continue
                start, head = prev.offset, prev.head
            counts = report.claude if kind == "c" else report.codex
            reach = self._file(ses, kind, path, start, head, sink, counts)
            # unreadable: not asked again until the listing shows it changed
            self.seen[path] = _Seen(*reach) if reach is not None else _Seen(inode, size)
        sink.flush()
        report.bytes_total = report.bytes_read

    def _merge(self, changed: Iterable[Listed]) -> None:
        for kind, inode, size, _, path in changed:
            self.listing[path] = (kind, inode, size)

    def _file(self, ses: Session, kind: str, path: str, start: int, head: bytes,
              sink: Sink, counts: Counts) -> tuple[int, int] | None:
        """Read one file from ``start``; (inode, bytes reached) or None if unreadable."""
        got = ses.read(path, start, head, CHUNK)
        if got is None:
            counts.cannot_read(f"{self.host}:{path}", OSError("cannot read"))
            return None
        inode, used, data = got
        if used != start:  # truncated or replaced on the box: from the start again
            start, head = 0, b""
        if start == 0:
            head = data[:HEAD_BYTES]
        feed, parser = self._feeder(ses, kind, path, start, counts, sink)
        collector = COLLECTORS[kind]
        key = offset_key(self.host, path)
        done, carry, pos = start, b"", start
        counts.files_read += 1
        while True:
            counts.bytes_read += len(data)
            pos += len(data)
            buf = carry + data if carry else data
            end = buf.rfind(b"\n")
            if end >= 0:
                lines = buf[:end].split(b"\n")
                counts.lines += len(lines)
                for line in lines:
                    feed(line)
                done += end + 1
                carry = buf[end + 1:]
            else:
                carry = buf
            if len(carry) > MAX_LINE:  # no real line is this long: skipped whole
                counts.skip(f"line longer than {MAX_LINE >> 20} MiB")
                done += len(carry)
                carry = b""
            sink.offset(FileOffset(collector=collector, path=key, inode=inode, offset=done,
                                   head=head))
            sink.maybe_flush()
            if len(data) < CHUNK:
                break
            got = ses.read(path, pos, b"", CHUNK)
            if got is None or got[1] != pos or got[0] != inode:
                break  # it changed under us: the next pass sees what it became
            data = got[2]
        if parser is not None:
            self.codex_states[path] = (done, parser.state)
        return inode, pos

    # --- the agents' parsers ----------------------------------------------------------

    def _feeder(self, ses: Session, kind: str, path: str, start: int, counts: Counts,
                sink: Sink) -> tuple[Callable[[bytes], None], CodexParser | None]:
        host = self.host
        if kind == "c":
            fallback = claude.project_of(PurePosixPath(path))

            def feed_claude(line: bytes) -> None:
                if claude.USAGE_MARKER in line:
                    got = claude.parse_line(line, counts, fallback)
                    if got is not None:
                        got[0].host = host
                        sink.add_claude(*got)
                elif line[:1] != b"{" and line.strip() and line.lstrip()[:1] != b"{":
                    counts.malformed += 1
            return feed_claude, None
        parser = self._codex_parser(ses, path, start, counts)

        def feed_codex(line: bytes) -> None:
            for req in parser.feed(line):
                req.host = host
                sink.add(req, counts)
        return feed_codex, parser

    def _codex_parser(self, ses: Session, path: str, start: int, counts: Counts
                      ) -> CodexParser:
        """A Codex file read on from ``start`` needs what its earlier lines set (session,
        model, running totals): kept from the last pass, else rebuilt from the box."""
        cached = self.codex_states.get(path)
        if start and cached is not None and cached[0] == start:
            return CodexParser(PurePosixPath(path), counts, cached[1])  # type: ignore[arg-type]
        parser = CodexParser(PurePosixPath(path), counts)  # type: ignore[arg-type]
        if start:
            saved, parser.counts = parser.counts, Counts()
            for line in _lines_before(ses, path, start):
                parser.parse(line, emit=False)
            parser.counts, parser.extra = saved, []
        return parser


def last_read(conn: sqlite3.Connection, host: str) -> str | None:
    """When bytes of ``host`` were last stored (its offsets' newest ``updated_at``), for
    saying how stale a box is that cannot be reached now; None: never."""
    prefix = offset_key(host, "")
    try:
        row = conn.execute(
            "SELECT MAX(updated_at) FROM collector_offsets WHERE substr(path, 1, ?) = ?",
            (len(prefix), prefix)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row and row[0] else None


def _lines_before(ses: Session, path: str, end: int) -> list[bytes]:
    """The complete lines of the box's file before ``end`` (a line boundary)."""
    parts, pos = [], 0
    while pos < end:
        got = ses.read(path, pos, b"", min(CHUNK, end - pos))
        if got is None or not got[2]:
            break
        parts.append(got[2])
        pos += len(got[2])
    data = b"".join(parts)
    return data.split(b"\n")[:-1] if data else []


def collect_hosts(store: Store, collectors: Sequence[RemoteCollector],
                  on_error: Callable[[HostStatus], None] | None = None,
                  ) -> list[tuple[HostStatus, CollectReport | None]]:
    """Poll every box in turn; one that fails is reported (``on_error``) and the others
    are read all the same."""
    out: list[tuple[HostStatus, CollectReport | None]] = []
    for col in collectors:
        try:
            report: CollectReport | None = col.collect(store)
        except RemoteError:
            report = None
            if on_error is not None:
                on_error(col.status)
        out.append((col.status, report))
    return out

