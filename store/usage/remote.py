"""Agent logs of another box, collected over SSH into this machine's usage store.

Why: the user runs agents on several boxes and wants one view without running a hub.
Each poll asks the box (``tokentop.store.remote``) which of its agents' files changed
(Claude Code, Codex, and every other file agent at its default place under the box's
home: ``remote_agents``), then pulls only the bytes after the stored offset of each log,
or the whole of a document the agent rewrites in place, and feeds them through the same
parsers (each agent's own), in-pass dedup and store transaction as local collection
(``tokentop.store.usage.collect``): each batch commits its events with the offsets of
the bytes they came from, so a connection dropped mid-read repeats nothing and loses
nothing. SQLite agents are read by the tokentop installed on the box
(``remote_databases``).

A parser is kept between polls with where it stopped; a collector started afresh
rebuilds it (``LineParser.prime``) from the box's bytes before the offset, once per
file. Side files a few parsers consult beside a log (Kimi's ``config.json``, Grok's
``summary.json``, Droid's sidecar, pi's parent sessions) are not fetched: they are
looked up at the same path on this machine, where they are normally absent, and the
parser's fallback applies.

A remote file's offset is kept under ``<host>:<path>`` (``offset_key``) in the same
``collector_offsets`` table, so the same path on two boxes, or on a box and here, never
share one; every event carries its host (``IngestRequest.host``, the ``tokentop_host``
column). The dedup keys do not include the host: a message seen on two boxes (a synced
home directory) is one message.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tokentop.store.remote.session import (
    Listed,
    RemoteError,
    Session,
    SshOptions,
    check_host,
)
from tokentop.store.tail.reader import HEAD_BYTES, MAX_LINE
from tokentop.store.usage.agents.base import (
    LineParser,
    LinesAgent,
    WholeFileAgent,
    feed_line,
    parse_document,
    prime,
)
from tokentop.store.usage.collect import CollectReport, Sink, Store
from tokentop.store.usage.collectors import claude, codex
from tokentop.store.usage.collectors.codex import CodexParser, CodexState
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import FileOffset
from tokentop.store.usage.remote_agents import (
    RemoteRoot,
    database_ref,
    database_roots,
    file_roots,
)
from tokentop.store.usage.remote_databases import RemoteDatabases, tokentop_for

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
    notes: list[str] = field(default_factory=list)  # one line each: what is not read

    @property
    def reachable(self) -> bool:
        return self.error is None and self.last_ok is not None


@dataclass
class _Seen:
    inode: int
    size: int  # the size the last read reached (a partial last line is not asked again)
    mtime: int = 0


@dataclass
class _Parsed:
    """A line parser kept between polls, with where it stopped: the next read from
    there needs nothing of the file before it."""

    done: int
    parser: LineParser


@dataclass
class RemoteCollector:
    """One box: its session (reopened after a drop), its listing and parser state.
    ``tokentop`` is the box's tokentop executable for its SQLite agents (None: the one
    on its PATH or in ``~/.local/bin``, if any)."""

    host: str
    options: SshOptions | None = None
    tokentop: str | None = None
    status: HostStatus = field(init=False)
    session: Session | None = field(default=None, init=False)
    listing: dict[tuple[str, str], Listed] = field(default_factory=dict, init=False)
    seen: dict[tuple[str, str], _Seen] = field(default_factory=dict, init=False)
    codex_states: dict[str, tuple[int, CodexState]] = field(default_factory=dict, init=False)
    parsers: dict[tuple[str, str], _Parsed] = field(default_factory=dict, init=False)
    roots: list[tuple[RemoteRoot, str]] = field(default_factory=list, init=False)
    databases: RemoteDatabases = field(init=False)

    def __post_init__(self) -> None:
        self.host = check_host(self.host)
        self.status = HostStatus(self.host)
        if self.tokentop is None:
            self.tokentop = tokentop_for(self.host)
        self.databases = RemoteDatabases(self.host, self.tokentop, self.options)

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
        """(bytes up, bytes down) of the current session and the exports it ran."""
        t = self.session.traffic if self.session is not None else None
        up, down = (t.up, t.down) if t is not None else (0, 0)
        return up + self.databases.traffic[0], down + self.databases.traffic[1]

    # --- one pass -----------------------------------------------------------------------

    def _open(self) -> Session:
        """A new session, told every other agent's roots and the databases' defaults
        (``remote_agents``), and asked where the box's tokentop is."""
        ses = Session(self.host, self.options)
        self.roots = [(spec, root) for spec in (*file_roots(), *database_roots())
                      for root in spec.roots]
        for n, (spec, root) in enumerate(self.roots):
            ses.add_root(n, spec.pattern, root)
        self.databases.opened(ses)
        self._watch(ses, self.databases.watch)  # those the box's tokentop named before
        return ses

    def _watch(self, ses: Session, entries: Iterable[tuple[str, str, str]]) -> None:
        """List the databases the box's tokentop reads where it said they are."""
        for agent, root, pattern in entries:
            ref = database_ref(agent)
            if ref is not None:
                ses.add_root(len(self.roots), pattern, root)
                self.roots.append((RemoteRoot(ref, (root,), pattern), root))

    def _pass(self, store: Store, report: CollectReport) -> None:
        if self.session is None or not self.session.alive:
            self.close()
            self.session = self._open()
        ses = self.session
        changed, total = ses.list()
        self._merge(changed)
        if len(self.listing) != total:  # files went away: list them all again
            ses.forget()
            self.listing.clear()
            self._merge(ses.list()[0])
        self.status.files = len(self.listing)
        report.claude.files = sum(1 for k, _ in self.listing if k == "c")
        report.codex.files = sum(1 for k, _ in self.listing if k == "x")
        databases_changed = False
        todo: list[tuple[str, str]] = []
        for key, f in sorted(self.listing.items(), key=lambda kv: kv[0][1]):
            spec = self._spec(f.kind)
            if spec is not None:
                report.agents.setdefault(spec.ref.name, Counts()).files += 1
            seen = self.seen.get(key)
            if seen is not None and (seen.inode, seen.size, seen.mtime) == (
                    f.inode, f.size, f.mtime):
                continue
            if spec is not None and spec.ref.kind == "database":
                databases_changed = True
                self.seen[key] = _Seen(f.inode, f.size, f.mtime)
                continue
            todo.append(key)
        specs = (self._spec(k) for k, _ in self.listing)
        present = {s.ref.name for s in specs if s is not None and s.ref.kind == "database"}
        sink = Sink(store, report)
        named = self.databases.collect(store, sink, report, present, databases_changed,
                                       offset_key(self.host, ""))
        if named:
            self._named(ses, named)
        self.status.notes = list(self.databases.notes)
        if todo:
            self._files(ses, store, sink, report, todo)
        sink.flush()
        report.bytes_total = report.bytes_read

    def _named(self, ses: Session, named: list[tuple[str, str, str]]) -> None:
        """Watch the places the box's tokentop just named, as they are now: the export
        has just read them (a write in the moment between is read with the next one)."""
        self._watch(ses, named)
        changed, total = ses.list()
        self._merge(changed)
        if len(self.listing) != total:
            ses.forget()
            self.listing.clear()
            self._merge(ses.list()[0])
        for key, f in self.listing.items():
            spec = self._spec(f.kind)
            if spec is not None and spec.ref.kind == "database":
                self.seen[key] = _Seen(f.inode, f.size, f.mtime)

    def _spec(self, kind: str) -> RemoteRoot | None:
        if kind[:1] != "a":
            return None
        n = int(kind[1:])
        return self.roots[n][0] if n < len(self.roots) else None

    def _files(self, ses: Session, store: Store, sink: Sink, report: CollectReport,
               todo: list[tuple[str, str]]) -> None:
        prefix = offset_key(self.host, "")
        offsets: dict[str, dict[str, FileOffset]] = {}

        def stored(collector: str) -> dict[str, FileOffset]:
            # loaded only when a file of the collector changed: a warm poll loads none
            if collector not in offsets:
                offsets[collector] = {k: v for k, v in store.load_offsets(collector).items()
                                      if k.startswith(prefix)}
            return offsets[collector]

        for key in todo:
            kind, path = key
            f = self.listing[key]
            spec = self._spec(kind)
            if spec is None:
                collector = COLLECTORS[kind]
                counts = report.claude if kind == "c" else report.codex
            else:
                if not spec.wanted(path):
                    self.seen[key] = _Seen(f.inode, f.size, f.mtime)
                    continue
                collector = spec.ref.collector
                counts = report.agents.setdefault(spec.ref.name, Counts())
            prev = stored(collector).get(offset_key(self.host, path))
            if spec is not None and spec.ref.kind == "whole":
                self._whole(ses, spec, f, prev, sink, counts)
                self.seen[key] = _Seen(f.inode, f.size, f.mtime)
                continue
            start, head = 0, b""
            if prev is not None and prev.inode == f.inode and prev.offset <= f.size:
                if prev.offset == f.size:
                    self.seen[key] = _Seen(f.inode, f.size, f.mtime)
                    continue
                start, head = prev.offset, prev.head
            reach = self._file(ses, kind, spec, path, start, head, sink, counts, collector)
            # unreadable: not asked again until the listing shows it changed
            self.seen[key] = (_Seen(reach[0], reach[1], f.mtime) if reach is not None
                              else _Seen(f.inode, f.size, f.mtime))

    def _merge(self, changed: Iterable[Listed]) -> None:
        for f in changed:
            self.listing[(f.kind, f.path)] = f

    def _whole(self, ses: Session, spec: RemoteRoot, f: Listed, prev: FileOffset | None,
               sink: Sink, counts: Counts) -> None:
        """A document the agent rewrites in place (Gemini's ``.json``, Amp's threads,
        Droid's settings): read whole when its size or mtime moved since the copy read
        last (``head`` keeps ``mtime:size``), parsed by the agent's own ``parse``."""
        mark = f"{f.mtime}:{f.size}".encode()
        if prev is not None and prev.inode == f.inode and bytes(prev.head) == mark:
            return
        data = _whole_file(ses, f.path)
        if data is None:
            counts.cannot_read(f"{self.host}:{f.path}", OSError("cannot read"))
            return
        agent = spec.ref.load()
        assert isinstance(agent, WholeFileAgent)
        requests = parse_document(agent, Path(f.path), data, counts)
        if requests is None:
            return
        counts.files_read += 1
        counts.bytes_read += len(data)
        for req in requests:
            req.host = self.host
            sink.add(req, counts)
        sink.offset(FileOffset(collector=agent.collector, path=offset_key(self.host, f.path),
                               inode=f.inode, offset=len(data), head=mark))
        sink.maybe_flush()

    def _file(self, ses: Session, kind: str, spec: RemoteRoot | None, path: str, start: int,
              head: bytes, sink: Sink, counts: Counts, collector: str
              ) -> tuple[int, int] | None:
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
        if spec is None:
            feed, finish = self._feeder(ses, kind, path, start, counts, sink)
        else:
            feed, finish = self._agent_feeder(ses, spec, path, start, counts, sink)
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
        finish(done)
        return inode, pos

    # --- the agents' parsers ----------------------------------------------------------

    def _feeder(self, ses: Session, kind: str, path: str, start: int, counts: Counts,
                sink: Sink) -> tuple[Callable[[bytes], None], Callable[[int], None]]:
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
            return feed_claude, lambda done: None
        parser = self._codex_parser(ses, path, start, counts)

        def feed_codex(line: bytes) -> None:
            for req in parser.feed(line):
                req.host = host
                sink.add(req, counts)

        def keep(done: int) -> None:
            self.codex_states[path] = (done, parser.state)
        return feed_codex, keep

    def _agent_feeder(self, ses: Session, spec: RemoteRoot, path: str, start: int,
                      counts: Counts, sink: Sink
                      ) -> tuple[Callable[[bytes], None], Callable[[int], None]]:
        """The agent's own line parser (``LinesAgent.parser``), as the local runner
        feeds it: one line at a time, a line it cannot read skipped."""
        host = self.host
        key = (spec.ref.collector, path)
        parser = self._agent_parser(ses, spec, path, start, counts)

        def feed(line: bytes) -> None:
            for req in feed_line(parser, line, counts):
                req.host = host
                sink.add(req, counts)

        def keep(done: int) -> None:
            self.parsers[key] = _Parsed(done, parser)
        return feed, keep

    def _agent_parser(self, ses: Session, spec: RemoteRoot, path: str, start: int,
                      counts: Counts) -> LineParser:
        """The parser of the last pass when it stopped at ``start``; else a new one,
        primed (``LineParser.prime``) on a private copy of the box's bytes before
        ``start``, at the box's path under a temporary directory (the names the parser
        takes from the path stay the box's)."""
        agent = spec.ref.load()
        assert isinstance(agent, LinesAgent)
        cached = self.parsers.pop((spec.ref.collector, path), None)
        if start and cached is not None and cached.done == start:
            cached.parser.counts = counts
            return cached.parser
        parser = agent.parser(Path(path), counts)
        if start:
            with tempfile.TemporaryDirectory(prefix="tokentop-prime-") as tmp:
                copy = Path(tmp, *PurePosixPath(path).parts[1:])
                copy.parent.mkdir(parents=True)
                with open(copy, "wb") as out:
                    for chunk in _bytes_before(ses, path, start):
                        out.write(chunk)
                parser.path, parser.counts = copy, Counts()
                prime(parser, start, counts)  # misread: read on unprimed
                parser.path, parser.counts = Path(path), counts
        return parser

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


def _bytes_before(ses: Session, path: str, end: int) -> Iterator[bytes]:
    """The box's file from 0 to ``end``, in chunks."""
    pos = 0
    while pos < end:
        got = ses.read(path, pos, b"", min(CHUNK, end - pos))
        if got is None or not got[2]:
            break
        yield got[2]
        pos += len(got[2])


def _lines_before(ses: Session, path: str, end: int) -> list[bytes]:
    """The complete lines of the box's file before ``end`` (a line boundary)."""
    data = b"".join(_bytes_before(ses, path, end))
    return data.split(b"\n")[:-1] if data else []


def _whole_file(ses: Session, path: str) -> bytes | None:
    """The box's file as it is now (None when it cannot be read)."""
    got = ses.read(path, 0, b"", CHUNK)
    if got is None:
        return None
    inode, _, data = got
    parts, pos = [data], len(data)
    while len(data) == CHUNK:
        more = ses.read(path, pos, b"", CHUNK)
        if more is None or more[0] != inode or more[1] != pos:
            return None  # replaced while read: the next pass reads what it became
        data = more[2]
        parts.append(data)
        pos += len(data)
    return b"".join(parts)


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

