"""Collect once, or keep collecting: agent logs -> the usage store, exactly once.

``collect_once`` runs every collector (Claude Code, Codex, openusage's hook spool):
discover files, read only the bytes after each file's stored offset, turn usage lines
into IngestRequests and hand them to the store in batches of a few thousand, each batch
in one transaction with the offsets of the bytes it came from. A crash between batches
loses nothing and repeats nothing: the next run starts at the committed offsets, and
the store's dedup keys absorb any re-read. Claude copies of one message inside a batch
are collapsed here already (the copy with the most tokens), which spares the store
most of the duplicate work on real logs.

``watch`` collects once, then watches the log directories with ``watchfiles`` and
collects the files that changed, so a new Claude message reaches the store within
about half a second.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Protocol

from tokentop.store.tail.offsets import FileTask, plan, read_lines
from tokentop.store.tail.reader import MAX_LINE
from tokentop.store.tail.regular import open_binary
from tokentop.store.tail.survey import Stats, Survey
from tokentop.store.usage import docmarks, shards, sources
from tokentop.store.usage.agents import AgentRef, kind_of, loaded
from tokentop.store.usage.agents.base import (
    Agent,
    DatabaseAgent,
    LinesAgent,
    WholeFileAgent,
    feed_line,
    open_read_only,
    parse_document,
    prime,
)
from tokentop.store.usage.bounds import latest
from tokentop.store.usage.collectors import claude, codex, hookspool
from tokentop.store.usage.collectors.claude import tokens_of
from tokentop.store.usage.collectors.codex import CodexParser, CodexState
from tokentop.store.usage.collectors.files import Counts, offset_of
from tokentop.store.usage.dedup import copy_rank, copy_tiebreak
from tokentop.store.usage.forkmap import ForkMap
from tokentop.store.usage.ingest import Prepared, prepare
from tokentop.store.usage.model import FileOffset, IngestRequest, IngestResult
from tokentop.store.usage.rowmarks import RowMark, RowMarks, StoredMarks
from tokentop.store.usage.timefmt import format_ts

BATCH = 4000
Progress = Callable[[int, int], None]


class Store(Protocol):
    def ingest(
        self, requests: Sequence[IngestRequest | Prepared],
        offsets: Sequence[FileOffset] = (),
        marks: Sequence[RowMark] = (),
    ) -> IngestResult: ...
    def load_offsets(self, collector: str) -> dict[str, FileOffset]: ...
    def load_row_marks(self, collector: str, path: str) -> dict[str, str]: ...
    def maybe_checkpoint(self) -> bool: ...


@dataclass
class CollectReport:
    """What one pass read and what the store did with it."""

    claude: Counts = field(default_factory=Counts)
    codex: Counts = field(default_factory=Counts)
    hook_spool: Counts = field(default_factory=Counts)
    agents: dict[str, Counts] = field(default_factory=dict)  # by ccusage's agent name
    ingest: IngestResult = field(default_factory=IngestResult)
    bytes_total: int = 0  # new bytes found at the start of the pass
    batches: int = 0
    elapsed_s: float = 0.0

    @property
    def bytes_read(self) -> int:
        return (self.claude.bytes_read + self.codex.bytes_read + self.hook_spool.bytes_read
                + sum(c.bytes_read for c in self.agents.values()))

    @property
    def changed(self) -> bool:
        return bool(self.ingest.inserted or self.ingest.enriched)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claude": self.claude.as_dict(),
            "codex": self.codex.as_dict(),
            "hook_spool": self.hook_spool.as_dict(),
            **{name: c.as_dict() for name, c in self.agents.items()},
            "inserted": self.ingest.inserted,
            "enriched": self.ingest.enriched,
            "duplicates": self.ingest.duplicates,
            "rejected": dict(self.ingest.rejected),
            "bytes_total": self.bytes_total,
            "bytes_read": self.bytes_read,
            "batches": self.batches,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class _Sink:
    """Pending requests and offsets; flushed to the store as one transaction."""

    def __init__(self, store: Store, report: CollectReport) -> None:
        self.store = store
        self.report = report
        self.requests: list[IngestRequest] = []
        self.sidechain: list[bool] = []
        self.by_message: dict[str, int] = {}
        self.offsets: dict[str, FileOffset] = {}
        self.marks: list[RowMark] = []
        # the requests laid out by ``ingest.prepare``, by index: the copies of a Claude
        # message that met another in this batch (validated once, not again by the store)
        self.prepared: dict[int, Prepared] = {}
        self.newest: datetime | None = None

    def _prepare(self, req: IngestRequest) -> Prepared:
        if self.newest is None:
            self.newest = latest()
        return prepare(req, self.newest)

    def _valid(self, i: int) -> bool:
        """Whether the store will take the request at ``i`` (it is prepared for it)."""
        item = self.prepared.get(i)
        if item is None:
            item = self.prepared[i] = self._prepare(self.requests[i])
        return item.row is not None

    def add_claude(self, req: IngestRequest, side: bool) -> None:
        """One copy of a Claude message: of its copies in this batch only the better one
        (``dedup.copy_rank``, as the store would merge them) goes on, and a copy the
        store would refuse never displaces a valid one: on a meeting, the copy that
        would be kept is validated first; a refused one goes on by itself, to be
        counted as refused."""
        mid = req.message_id
        if mid is not None:
            i = self.by_message.get(mid)
            if i is not None:
                old = self.requests[i]
                new_rank = copy_rank(0, side, tokens_of(req), req.speed)
                old_rank = copy_rank(0, self.sidechain[i], tokens_of(old), old.speed)
                if new_rank > old_rank or (new_rank == old_rank and copy_tiebreak(
                        format_ts(req.occurred_at), req.session_id, req.workspace_id)
                        < copy_tiebreak(format_ts(old.occurred_at), old.session_id,
                                        old.workspace_id)):
                    item = self._prepare(req)
                    if item.row is None:  # refused: by itself; the kept copy stays
                        self.prepared[len(self.requests)] = item
                        self._append(req, side)
                    else:
                        self.requests[i], self.sidechain[i], self.prepared[i] = req, side, item
                elif not self._valid(i):  # the kept copy is refused: this one replaces it
                    self.prepared[len(self.requests)] = self.prepared.pop(i)
                    self._append(old, self.sidechain[i])
                    self.requests[i], self.sidechain[i] = req, side
                return
            self.by_message[mid] = len(self.requests)
        self._append(req, side)
        self.report.claude.requests += 1

    def _append(self, req: IngestRequest, side: bool) -> None:
        self.requests.append(req)
        self.sidechain.append(side)

    def add(self, req: IngestRequest, counts: Counts) -> None:
        self._append(req, False)
        counts.requests += 1

    def offset(self, off: FileOffset) -> None:
        self.offsets[f"{off.collector}\0{off.path}"] = off

    def row_marks(self, marks: Sequence[RowMark]) -> None:
        self.marks.extend(marks)

    def maybe_flush(self) -> None:
        if len(self.requests) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.requests and not self.offsets and not self.marks:
            return
        items: Sequence[IngestRequest | Prepared] = self.requests
        if self.prepared:
            items = [self.prepared.get(i, r) for i, r in enumerate(self.requests)]
        result = self.store.ingest(items, list(self.offsets.values()), self.marks)
        self.report.ingest.add(result)
        self.report.batches += 1
        self.requests, self.sidechain, self.by_message, self.offsets = [], [], {}, {}
        self.marks, self.prepared, self.newest = [], {}, None
        self.store.maybe_checkpoint()


Sink = _Sink  # remote collection (``tokentop.store.usage.remote``) fills the same sink


class Collector:
    """All collectors over fixed locations; keeps Codex state between passes (for watch)."""

    def __init__(
        self,
        *,
        claude_roots: Sequence[Path] | None = None,
        codex_dir: Path | None = None,
        hook_spool: Path | None = None,
        agents: Sequence[Agent | AgentRef] | None = None,
        parallel: bool | None = None,
    ) -> None:
        # None: log files (Claude's, every agent's but databases) are parsed in worker
        # processes when their unread bytes are many (``shards.worth_a_pool``), else
        # here; True/False forces one path (tests, benchmarks)
        self.parallel = parallel
        self.where = sources.where(claude_roots, codex_dir, hook_spool, agents)
        self.agents = self.where.agents
        self.claude_dirs = list(self.where.claude_dirs)
        self.codex_dir = self.where.codex_dir
        self.hook_spool = self.where.hook_spool
        self._codex_states: dict[str, tuple[int, CodexState]] = {}

    def watch_dirs(self) -> list[Path]:
        dirs = [*self.claude_dirs, self.codex_dir, self.hook_spool]
        for agent in self.agents:
            for root in agent.roots():
                # a database is watched through its directory (its -wal changes first);
                # a file root is watched itself, never its parent (which may be $HOME)
                dirs.append(root.parent if kind_of(agent) == "database" else root)
        return list(dict.fromkeys(d for d in dirs if d.exists()))

    def _under(self, path: Path, dirs: Sequence[Path]) -> bool:
        return any(path.is_relative_to(d) for d in dirs)

    def collect(
        self, store: Store, progress: Progress | None = None, only: set[Path] | None = None
    ) -> CollectReport:
        t0 = time.perf_counter()
        report = CollectReport()
        # A whole pass lists and stats every source's files once (``survey``): planning
        # reads those stats; a report's pass takes the one its start forked.
        survey = (sources.take(self.where) or sources.survey(self.where)
                  if only is None else None)
        try:
            return self._collect_surveyed(store, report, t0, progress, only, survey)
        finally:
            if survey is not None:
                survey.close()

    def _collect_surveyed(self, store: Store, report: CollectReport, t0: float,
                          progress: Progress | None, only: set[Path] | None,
                          survey: Survey | None) -> CollectReport:
        stored = {c: store.load_offsets(c) for c in dict.fromkeys(
            (claude.COLLECTOR, codex.COLLECTOR, hookspool.COLLECTOR,
             *(a.collector for a in self.agents)))}
        # Agent databases are read in worker threads while this thread walks the log
        # directories: SQLite runs its scans with the GIL released, so a database of
        # running totals (Hermes: ~100 ms to sign 18,000 rows) costs no wall time
        # beside a walk of thousands of files. Only the reads run there; the store is
        # touched by this thread alone, and their results are stored in agent order.
        databases = [(i, a) for i, a in enumerate(self.agents) if kind_of(a) == "database"]
        db_work = {agent.name: self._agent_plan(agent, stored[agent.collector], only, survey, i)
                   for i, agent in databases}
        reads: dict[tuple[str, Path], _Pending] = {}
        pool: Any = None
        if any(tasks for _, tasks in db_work.values()):
            # the row marks of the last read (Hermes: 18,000 of them, ~50 ms) are loaded
            # there too, through a read-only connection of the reader's own, when what
            # this connection committed is all there is to see
            own = None if store.read_only or store.conn.in_transaction else store.path
            jobs = []
            for _, agent in databases:
                for task, watermark in db_work[agent.name][1]:
                    marks = None
                    if task.resumed and own is None:
                        marks = RowMarks(store.load_row_marks(agent.collector, str(task.path)))
                    jobs.append(((agent.name, task.path), (agent, task, watermark, marks, own)))
            # a forked child (``forkmap``: a lock of its own, the other core) when this
            # process runs one thread, else two worker threads (SQLite's scans run without
            # the lock); either way the agent's module is imported there
            if ForkMap.possible():
                pool = ForkMap(lambda job: _read_database(*job), [job for _, job in jobs],
                               _pack_read, _unpack_read)
                for i, (key, _) in enumerate(jobs):
                    reads[key] = _Pending(pool.result, i)
            else:
                from concurrent.futures import ThreadPoolExecutor

                pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tokentop-db")
                for key, job in jobs:
                    reads[key] = _Pending(pool.submit(_read_database, *job).result)
        try:
            return self._collect(store, report, t0, progress, only, db_work, reads, stored,
                                 survey)
        finally:
            if isinstance(pool, ForkMap):
                pool.close()
            elif pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, store: Store, report: CollectReport, t0: float,
                 progress: Progress | None, only: set[Path] | None,
                 db_work: dict[str, tuple[int, list[tuple[FileTask, int]]]],
                 reads: dict[tuple[str, Path], _Pending],
                 stored: dict[str, dict[str, FileOffset]],
                 survey: Survey | None) -> CollectReport:
        stats = None
        if survey is not None:
            claude_files = survey.files("claude")
            codex_files = survey.files("codex")
            spool_files = survey.files("spool")
            stats = survey.stats
        else:
            claude_files = sorted(
                str(p) for p in only if p.suffix == ".jsonl" and self._under(p, self.claude_dirs)
            )
            codex_files = sorted(
                str(p)
                for p in only
                if p.name.startswith("rollout-")
                and p.suffix == ".jsonl"
                and self._under(p, [self.codex_dir])
            )
            spool_files = sorted(
                str(p) for p in only if p.suffix == ".json" and p.parent == self.hook_spool
            )
        # databases were planned already (an agent's name is not enough: OpenCode has a
        # database and a directory of message files under one name)
        work = [(agent, db_work[agent.name] if kind_of(agent) == "database"
                 else self._agent_plan(agent, stored[agent.collector], only, survey, i))
                for i, agent in enumerate(self.agents)]
        report.claude.files, report.codex.files = len(claude_files), len(codex_files)
        report.hook_spool.files = len(spool_files)
        c_tasks = plan(claude_files, stored[claude.COLLECTOR], stats) if claude_files else []
        x_tasks = plan(codex_files, stored[codex.COLLECTOR], stats) if codex_files else []
        s_tasks = plan(spool_files, stored[hookspool.COLLECTOR], stats) if spool_files else []
        total = sum(t.size - t.start for t in (*c_tasks, *x_tasks, *s_tasks))
        total += sum(t.size - t.start for _, (_, tasks) in work for t, _ in tasks)
        report.bytes_total = total
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(min(done, total), total)

        sink = _Sink(store, report)
        group = getattr(store, "group_commit", None)
        jobs = self._pool_jobs(c_tasks, work)
        with (group() if group is not None else contextlib.nullcontext(),
              contextlib.closing(shards.scan(jobs)) if jobs else contextlib.nullcontext()
              as scans):
            for task in c_tasks:
                if scans is not None:
                    self._claude_scan(next(scans), sink, report.claude, tick)
                else:
                    self._claude_file(task, sink, report.claude, tick)
            for task in x_tasks:
                self._codex_file(task, sink, report.codex, tick)
            for task in s_tasks:
                self._spool_file(task, sink, report.hook_spool, tick)
            for agent, (found, tasks) in work:
                counts = report.agents.setdefault(agent.name, Counts())
                counts.files += found
                for task, watermark in tasks:
                    read = reads.get((agent.name, task.path))
                    if read is not None:
                        self._stored_read(agent, task, read.result(), sink, counts, tick)
                    elif scans is not None and kind_of(agent) != "database":
                        self._agent_scan(next(scans), sink, counts, tick,
                                         agent.collector if kind_of(agent) == "whole"
                                         else None)
                    else:
                        self._agent_task(agent, task, watermark, sink, counts, tick)
            sink.flush()
        if progress is not None:
            progress(total, total)
        report.elapsed_s = time.perf_counter() - t0
        return report

    # --- every other agent (``tokentop.store.usage.agents``) ----------------------------

    def _agent_files(self, agent: Agent | AgentRef, only: set[Path] | None) -> list[str]:
        """The agent's files (``sources.agent_files``), or those of them in ``only``."""
        if only is None:
            return sources.agent_files(agent)
        roots = agent.roots()
        if kind_of(agent) == "database":
            return [str(r) for r in roots if r.is_file()
                    and (r in only or Path(f"{r}-wal") in only)]
        patterns = agent.patterns  # type: ignore[union-attr]
        files = {r for r in roots if r.is_file()}
        return sorted(str(p) for p in only if p in files or (
            self._under(p, roots) and any(fnmatch(p.name, pat) for pat in patterns)))

    def _agent_plan(self, agent: Agent | AgentRef, stored: dict[str, FileOffset],
                    only: set[Path] | None, survey: Survey | None = None, index: int = -1,
                    ) -> tuple[int, list[tuple[FileTask, int]]]:
        """(files found, the tasks with something new). Lines: from the stored offset;
        whole files and databases: whole, when their fingerprint changed. ``survey``:
        the pass's files and stats, the agent's under ``index``."""
        files = survey.files(index) if survey is not None else self._agent_files(agent, only)
        if not files:
            return 0, []
        stats = survey.stats if survey is not None else None
        if kind_of(agent) == "lines":
            return len(files), [(t, 0) for t in plan(files, stored, stats)]
        tasks = []
        database = kind_of(agent) == "database"  # once: thousands of documents a pass
        for name in files:
            mark = _fingerprint(name, database, stats)
            if mark is None:
                continue
            st_ino, size, head = mark
            prev = stored.get(name)
            if prev is not None and prev.inode == st_ino and prev.head == head:
                continue
            # a database resumes at its watermark (0: from the start) and with the row
            # marks of the last read; a file is read whole (a database replaced under the
            # same name, e.g. restored, starts over)
            resumed = prev is not None and prev.inode == st_ino and database
            mark_at = prev.offset if resumed and prev is not None else 0
            tasks.append((FileTask(Path(name), 0, size, st_ino, resumed), mark_at))
        return len(files), tasks

    def _agent_task(self, ref: Agent | AgentRef, task: FileTask, watermark: int,
                    sink: _Sink, counts: Counts, tick: Callable[[int], None]) -> None:
        agent = loaded(ref)  # the collector is imported only now: there is work for it
        if isinstance(agent, LinesAgent):
            self._agent_lines(agent, task, sink, counts, tick)
            return
        if isinstance(agent, DatabaseAgent):
            marks = RowMarks(sink.store.load_row_marks(agent.collector, str(task.path))
                             if task.resumed else None)
            self._stored_read(agent, task, _read_database(agent, task, watermark, marks, None),
                              sink, counts, tick)
            return
        assert isinstance(agent, WholeFileAgent)
        mark = _fingerprint(task.path, False)
        if mark is None:
            return
        st_ino, size, head = mark
        try:
            with open_binary(task.path) as fh:
                data = fh.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            counts.cannot_read(task.path, exc)
            return
        requests = parse_document(agent, task.path, data, counts)
        if requests is None:
            return
        tick(size)
        counts.files_read += 1
        counts.bytes_read += size
        _document_events(agent.collector, str(task.path), requests, sink, counts)
        sink.offset(FileOffset(collector=agent.collector, path=str(task.path), inode=st_ino,
                               offset=len(data), head=head))
        sink.maybe_flush()

    @staticmethod
    def _stored_read(agent: Agent | AgentRef, task: FileTask, read: DatabaseRead | None,
                     sink: _Sink, counts: Counts, tick: Callable[[int], None]) -> None:
        """Hand one database read (``_read_database``) to the sink: its requests, its
        row marks and its watermark, stored together; its counts join the agent's."""
        if read is None:
            return
        counts.merge(read.counts)
        if read.requests is None:  # unreadable: counted, nothing stored, retried next pass
            return
        st_ino, size, head = read.fingerprint
        tick(size)
        counts.files_read += 1
        counts.bytes_read += size
        for req in read.requests:
            sink.add(req, counts)
        sink.row_marks(read.marks.stored(agent.collector, str(task.path)))
        sink.offset(FileOffset(collector=agent.collector, path=str(task.path), inode=st_ino,
                               offset=read.watermark, head=head))
        sink.maybe_flush()

    def _agent_lines(self, agent: LinesAgent, task: FileTask, sink: _Sink, counts: Counts,
                     tick: Callable[[int], None]) -> None:
        parser = agent.parser(task.path, counts)
        if task.resumed and not prime(parser, task.start, counts):
            return
        reader, batches = read_lines(task, tick)
        try:
            for batch in batches:
                counts.lines += len(batch)
                for line in batch:
                    for req in feed_line(parser, line, counts):
                        sink.add(req, counts)
                sink.offset(offset_of(agent.collector, task, reader))
                sink.maybe_flush()
        except FileNotFoundError:
            return
        except OSError as exc:
            counts.cannot_read(task.path, exc)
            return
        counts.files_read += 1
        _count_oversized(reader.result.oversized, counts)
        counts.bytes_read += reader.result.end - task.start
        sink.offset(offset_of(agent.collector, task, reader))

    def _claude_file(self, task: FileTask, sink: _Sink, counts: Counts, tick) -> None:
        fallback = claude.project_of(task.path)
        reader, batches = read_lines(task, tick)
        start = task.start
        parse = claude.parse_usage_line
        try:
            for batch in batches:
                counts.lines += len(batch)
                for line in batch:
                    if claude.USAGE_MARKER in line:
                        got = parse(line, counts, fallback)
                        if got is not None:
                            sink.add_claude(*got)
                    elif line[:1] != b"{" and line.strip() and line.lstrip()[:1] != b"{":
                        counts.malformed += 1
                sink.offset(offset_of(claude.COLLECTOR, task, reader))
                sink.maybe_flush()
        except FileNotFoundError:
            return
        except OSError as exc:  # another user's file: named, and the pass goes on
            counts.cannot_read(task.path, exc)
            return
        counts.files_read += 1
        _count_oversized(reader.result.oversized, counts)
        counts.bytes_read += reader.result.end - start
        sink.offset(offset_of(claude.COLLECTOR, task, reader))

    def _pool_jobs(self, c_tasks: Sequence[FileTask],
                   work: Sequence[tuple[Agent | AgentRef, tuple[int, list[tuple[FileTask, int]]]]],
                   ) -> list[shards.Job]:
        """The files this pass parses in processes (``shards``), in the order they are
        stored: every Claude file and every agent's file (lines or whole documents; not
        databases), when there are many unread bytes in them; none otherwise (the pass
        parses in process)."""
        jobs: list[shards.Job] = [(None, t) for t in c_tasks]
        jobs += [(agent, t) for agent, (_, tasks) in work if kind_of(agent) != "database"
                 for t, _ in tasks]
        if self.parallel is False or not jobs:
            return []
        if self.parallel is None and not shards.worth_a_pool([t for _, t in jobs]):
            return []
        return jobs

    @staticmethod
    def _claude_scan(scan: shards.FileScan, sink: _Sink, counts: Counts,
                     tick: Callable[[int], None]) -> None:
        """A Claude file a worker parsed, stored exactly as ``_claude_file`` stores it:
        the same requests, offsets and flushes, in the same order."""
        for chunk in scan.chunks:
            tick(chunk.ticked)
            for req in chunk.parsed():
                sink.add_claude(req, bool(req.is_sidechain))
            sink.offset(chunk.offset)
            sink.maybe_flush()
        _scan_end(scan, sink, counts, tick)

    @staticmethod
    def _agent_scan(scan: shards.FileScan, sink: _Sink, counts: Counts,
                    tick: Callable[[int], None], document: str | None = None) -> None:
        """An agent's file a worker parsed, stored as ``_agent_lines`` (or, for a whole
        document, ``_agent_task``) stores it. ``document``: the collector of a whole
        document, whose events pass its marks (``docmarks``) as there."""
        for chunk in scan.chunks:
            tick(chunk.ticked)
            if document is None:
                for req in chunk.parsed():
                    sink.add(req, counts)
            else:
                _document_events(document, str(scan.task.path), chunk.parsed(), sink, counts)
            sink.offset(chunk.offset)
            sink.maybe_flush()
        _scan_end(scan, sink, counts, tick)

    def _codex_file(self, task: FileTask, sink: _Sink, counts: Counts, tick) -> None:
        key = str(task.path)
        cached = self._codex_states.get(key)
        if task.resumed and cached is not None and cached[0] == task.start:
            parser = CodexParser(task.path, counts, cached[1])
        else:
            parser = CodexParser(task.path, counts)
            if task.resumed:
                parser.prime(task.start)
        reader, batches = read_lines(task, tick)
        try:
            for batch in batches:
                counts.lines += len(batch)
                for line in batch:
                    for req in parser.feed(line):
                        sink.add(req, counts)
                sink.offset(offset_of(codex.COLLECTOR, task, reader))
                sink.maybe_flush()
        except FileNotFoundError:
            return
        except OSError as exc:
            counts.cannot_read(task.path, exc)
            return
        counts.files_read += 1
        _count_oversized(reader.result.oversized, counts)
        counts.bytes_read += reader.result.end - task.start
        sink.offset(offset_of(codex.COLLECTOR, task, reader))
        self._codex_states[key] = (reader.result.end, parser.state)

    def _spool_file(self, task: FileTask, sink: _Sink, counts: Counts, tick) -> None:
        try:
            with open_binary(task.path) as fh:
                st = os.fstat(fh.fileno())
                data = fh.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            counts.cannot_read(task.path, exc)
            return
        tick(len(data))
        counts.files_read += 1
        counts.bytes_read += len(data)
        counts.lines += 1
        req = hookspool.parse_spool_file(task.path, data, counts)
        if req is not None:
            sink.add(req, counts)
        sink.offset(
            FileOffset(
                collector=hookspool.COLLECTOR,
                path=str(task.path),
                inode=st.st_ino,
                offset=len(data),
                head=data[:128],
            )
        )
        sink.maybe_flush()


def _document_events(collector: str, path: str, requests: Sequence[IngestRequest],
                     sink: _Sink, counts: Counts) -> None:
    """A whole document's events, those the last read of it gave already left out
    (``docmarks``), and its new mark, to be stored with them. A document of one event
    (a Droid session's settings, an OpenCode message file: thousands of them) is passed
    on as it is: its mark would cost more than the duplicate it saves."""
    if len(requests) < docmarks.MIN_EVENTS:
        for req in requests:
            sink.add(req, counts)
        return
    known = sink.store.load_row_marks(collector, path).get(docmarks.DOC_KEY)
    new, mark = docmarks.fresh(requests, known)
    for req in new:
        sink.add(req, counts)
    if mark != known:
        sink.row_marks([RowMark(collector, path, docmarks.DOC_KEY, mark)])


def _scan_end(scan: shards.FileScan, sink: _Sink, counts: Counts,
              tick: Callable[[int], None]) -> None:
    """How a file parsed in a worker ended: its counts, and its final offset if it was
    read to the end (a file gone or unreadable mid-way keeps the chunks stored before)."""
    tick(scan.ticked)
    counts.merge(scan.counts)
    if scan.end != "done" or scan.final is None:
        return
    counts.files_read += 1
    _count_oversized(scan.oversized, counts)
    counts.bytes_read += scan.bytes_read
    sink.offset(scan.final)


def _count_oversized(n: int, counts: Counts) -> None:
    """Lines the reader dropped as longer than any real one (``MAX_LINE``)."""
    if n:
        counts.skip(f"line longer than {MAX_LINE >> 20} MiB", n)


def _fingerprint(path: str | Path, database: bool, stats: Stats | None = None,
                 ) -> tuple[int, int, bytes] | None:
    """(inode, size, fingerprint) of a whole file or a database: its mtime and size,
    and for a database those of its ``-wal`` too (a WAL database changes there first).
    ``stats``: the pass's stats (``survey``), else the file is stat'ed now."""
    name = str(path)
    if stats is not None and name in stats:
        st = stats[name]
        if st is None:
            return None
        wal = stats.get(f"{name}-wal") if database else None
    else:
        try:
            st = os.stat(path)
        except OSError:
            return None
        wal = None
        if database:
            with contextlib.suppress(OSError):
                wal = os.stat(f"{path}-wal")
    parts = [f"{st.st_mtime_ns}:{st.st_size}"]
    size = st.st_size
    if wal is not None:
        parts.append(f"{wal.st_mtime_ns}:{wal.st_size}")
        size += wal.st_size
    return st.st_ino, size, " ".join(parts).encode()


@dataclass
class DatabaseRead:
    """One agent database read by ``_read_database``: ``requests`` None when it could
    not be read (the reason is in ``counts``)."""

    fingerprint: tuple[int, int, bytes]
    requests: Sequence[IngestRequest] | None
    watermark: int
    marks: RowMarks
    counts: Counts


class _Pending:
    """One database read on its way: ``result()`` waits for it (a thread's future, or
    the forked child's reply)."""

    def __init__(self, get: Callable[..., DatabaseRead | None], *args: Any) -> None:
        self._get, self._args = get, args

    def result(self) -> DatabaseRead | None:
        return self._get(*self._args)


def _pack_read(read: DatabaseRead | None) -> tuple | None:
    """A read as the forked child sends it: the requests as JSON (``shards._pack``),
    the row marks it would store, the rest as it is."""
    if read is None:
        return None
    requests = None if read.requests is None else shards._pack(list(read.requests))
    return (read.fingerprint, requests, read.watermark, dict(read.marks.changed),
            read.counts)


def _unpack_read(packed: tuple | None) -> DatabaseRead | None:
    if packed is None:
        return None
    fingerprint, requests, watermark, changed, counts = packed
    marks = RowMarks()
    marks.changed = changed
    return DatabaseRead(fingerprint, None if requests is None else shards.unpack(requests),
                        watermark, marks, counts)


def _read_database(agent: Agent | AgentRef, task: FileTask, watermark: int,
                   marks: RowMarks | None, store_path: Path | None) -> DatabaseRead | None:
    """Read one agent database from ``watermark``: its own read-only connection and its
    own counts, nothing of the store's connection, so it can run in a worker thread.
    ``marks`` None: a resumed read loads them from the store at ``store_path`` here.
    None when the file is gone."""
    agent = loaded(agent)
    assert isinstance(agent, DatabaseAgent)
    mark = _fingerprint(task.path, True)
    if mark is None:
        return None
    counts = Counts()
    if marks is None:
        marks = (RowMarks(stored=StoredMarks(Path(store_path), agent.collector, str(task.path)))
                 if task.resumed and store_path is not None else RowMarks())
    try:
        conn = open_read_only(task.path)
        try:
            requests, watermark = agent.read(conn, task.path, watermark, counts, marks)
        finally:
            conn.close()
            marks.close()
    except Exception as exc:  # locked, corrupt, or a schema we do not know
        if isinstance(exc, OSError):  # not a regular file, not this user's
            counts.cannot_read(task.path, exc)
        elif isinstance(exc, sqlite3.Error) and "unable to open" in str(exc):
            counts.cannot_read(task.path, OSError(str(exc)))
        else:
            counts.skip(f"database unreadable ({type(exc).__name__})")
        return DatabaseRead(mark, None, watermark, marks, counts)
    return DatabaseRead(mark, list(requests), watermark, marks, counts)


def collect_once(
    store: Store,
    *,
    claude_roots: Sequence[Path] | None = None,
    codex_dir: Path | None = None,
    hook_spool: Path | None = None,
    agents: Sequence[Agent | AgentRef] | None = None,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> CollectReport:
    """Read every collector's new bytes into ``store``. Locations default to the user's
    (``claude_roots()``, ``codex_sessions_dir()``, ``openusage_hook_spool_dir()``);
    ``parallel`` as ``Collector``'s."""
    return Collector(claude_roots=claude_roots, codex_dir=codex_dir, hook_spool=hook_spool,
                     agents=agents, parallel=parallel).collect(store, progress)


def watch(
    store: Store | Callable[[], Store],
    stop: threading.Event,
    on_change: Callable[[CollectReport], None],
    *,
    claude_roots: Sequence[Path] | None = None,
    codex_dir: Path | None = None,
    hook_spool: Path | None = None,
    agents: Sequence[Agent | AgentRef] | None = None,
    debounce_ms: int = 150,
    on_error: Callable[[str | None], None] | None = None,
    retry_s: float = 5.0,
    on_note: Callable[[str], None] | None = None,
) -> None:
    """Collect once, then on every change under the log directories until ``stop`` is set.

    ``on_change`` gets the report of each pass that inserted or enriched events. Runs in
    the calling thread; ``store`` may be a factory, called here, for a store whose
    connection must be opened in this thread. Directories that do not exist yet are
    looked for again every second.

    A pass the store refuses (disk full, locked past the busy timeout) stored nothing:
    its offsets were not committed either, so nothing is lost. ``on_error`` gets the
    one-line reason (and None once a pass succeeds again); whole passes are retried
    every ``retry_s`` seconds, and on every change, until one lands. Without
    ``on_error`` the error is raised, as before. ``on_note`` hears when the kernel
    refuses a file watcher and the directories are polled instead.
    """
    import watchfiles

    from tokentop.store.tail import watching
    from tokentop.store.usage.db import UsageStoreError

    if callable(store) and not hasattr(store, "ingest"):
        store = store()
    assert not callable(store) or hasattr(store, "ingest")
    col = Collector(claude_roots=claude_roots, codex_dir=codex_dir, hook_spool=hook_spool,
                    agents=agents)
    failed_at: float | None = None

    def run(only: set[Path] | None = None) -> None:
        nonlocal failed_at
        try:
            # after a failure a pass covers everything: what failed was not recorded
            report = col.collect(store, only=None if failed_at is not None else only)  # type: ignore[arg-type]
        except UsageStoreError as exc:
            if on_error is None:
                raise
            failed_at = time.monotonic()
            on_error(str(exc))
            return
        if failed_at is not None:
            failed_at = None
            if on_error is not None:
                on_error(None)
        if report.changed:
            on_change(report)

    run()
    while not stop.is_set():
        dirs = col.watch_dirs()
        if not dirs:
            stop.wait(1.0)
            continue
        armed = False
        for changes in watching.watch(
            *dirs,
            stop=stop,
            poll_delay_ms=1000,
            on_fallback=on_note,
            debounce=debounce_ms,
            step=20,
            rust_timeout=500,
            yield_on_timeout=True,
        ):
            if not armed:
                # The watcher is running now; what was written before it started shows
                # in no event, so read everything once more.
                armed = True
                changes = set()
                run()
            if changes:
                touched = {Path(p) for kind, p in changes if kind != watchfiles.Change.deleted}
                # A new directory: files written in it before its watch was added show
                # in no event, so look at everything (cheap: unchanged files are skipped).
                whole = any(p.is_dir() for p in touched)
                run(None if whole else touched)
            elif failed_at is not None and time.monotonic() - failed_at >= retry_s:
                run()
            if set(col.watch_dirs()) != set(dirs):
                run()
                break
