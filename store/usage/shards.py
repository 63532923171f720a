"""A cold scan of many unread log bytes, parsed on every core, stored by one writer.

A first run over a heavy user's ``projects/`` tree reads a gigabyte of JSON lines, and on
one core the parsing alone took longer than the whole of ccusage (a native binary using
both cores). So when the unread bytes of the JSONL files (Claude Code's and every line
agent's: Gemini, Qwen, pi, Kimi, Copilot, OpenClaw...) are many (``POOL_MIN_BYTES``),
the files are cut into groups of a few MiB and parsed in a process pool; the collecting
thread stays the store's only writer; whole JSON documents (Amp, Codebuff, Droid...)
go the same way. Databases (read in threads already) and Codex (its parser state is
kept between passes) stay in process.
Small work (a warm pass, a few appended lines) never pays for starting processes: it
stays on the in-process path.

Nothing about what is stored may depend on which path ran. A worker does not decide
anything the sink decides: it returns, per file, the same sequence the in-process loop
produces (per chunk of the file: the parsed requests and the offset reached, plus the
file's counts and how it ended), and the collecting thread replays that sequence into
the same sink, in the planned file order. The store therefore sees the very same
``ingest`` calls, batches and offsets as from the serial path: a batch and the offsets
that produced it commit together, and a crash loses or repeats nothing.

For Claude files the worker's line loop is a byte-level pre-filter: it finds
``"usage":{`` in each 4 MiB chunk and cuts out only the lines that hold it, instead of
splitting every line of the chunk into its own bytes object and searching each (2.8x
faster on 1-20 KB lines). Lines, malformed lines, oversized lines and offsets are
counted exactly as the line reader (``tokentop.store.tail.reader``) counts them.

Workers are forked on Linux when the collecting process runs a single thread (no
interpreter start, nothing to import), else started from a fork server, or spawned
where there is none; what they run and receive is importable and picklable.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from tokentop.store.tail.offsets import FileTask, read_lines
from tokentop.store.tail.reader import CHUNK, LineReader, LineSplitter
from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents import AgentRef, kind_of, loaded
from tokentop.store.usage.agents.base import (
    Agent,
    LinesAgent,
    WholeFileAgent,
    feed_line,
    parse_document,
    prime,
)
from tokentop.store.usage.collectors import claude
from tokentop.store.usage.collectors.files import Counts, offset_of
from tokentop.store.usage.model import FileOffset, IngestRequest

if TYPE_CHECKING:  # multiprocessing and concurrent.futures are imported by ``scan`` only:
    # every pass asks ``worth_a_pool``, and warm ones never start a pool (~20 ms of a
    # warm report's imports)
    import multiprocessing.context
    from concurrent.futures import Future

# Unread Claude bytes from which a pass parses in processes: below it, parsing in
# process costs less than starting the pool (~20 ms forked, ~200 ms spawned).
POOL_MIN_BYTES = 64 << 20
# Bytes of unread log a worker parses per task: small enough to balance two workers and
# keep few results waiting in the writer's queue, large enough to amortise the hand-off.
GROUP_BYTES = 8 << 20
MAX_WORKERS = 4

# The requests cross from worker to writer as one JSON document per chunk: msgspec
# encodes and decodes them in C, where pickling a Struct calls back into Python per
# request (a third of the writer's time on 60,000 Claude requests; on a multi-agent
# home 5 s in the workers and 6 s in the writer's process). JSON keeps each time's own
# UTC offset, as the parsed request has it.
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[IngestRequest]).decode


def _pack(requests: list[IngestRequest]) -> bytes | list[IngestRequest]:
    """The requests as JSON when JSON gives them back equal (every Claude request;
    an agent's payload could hold a tuple, bytes or a time JSON would turn into a list
    or a string: those chunks are pickled as they are)."""
    if not requests:
        return requests
    try:
        data = _encode(requests)
        if _decode(data) == requests:
            return data
    except (TypeError, ValueError, OverflowError, msgspec.DecodeError):
        pass
    return requests


def unpack(requests: bytes | list[IngestRequest]) -> list[IngestRequest]:
    """``_pack``'s requests back."""
    return _decode(requests) if isinstance(requests, bytes) else requests


@dataclass
class ChunkScan:
    """What one 4 MiB chunk of a file yielded: its usage lines parsed (``requests``,
    ``_pack``ed), the offset after it, and the bytes it read (the progress ticks of the
    serial loop)."""

    requests: bytes | list[IngestRequest]
    offset: FileOffset
    ticked: int

    def parsed(self) -> list[IngestRequest]:
        """The requests, in line order. A Claude request's ``is_sidechain`` is the
        sidechain flag ``claude.parse_line`` returns beside it."""
        return unpack(self.requests)


@dataclass
class FileScan:
    """One Claude file parsed by a worker, in the order the serial loop would store it.

    ``end`` is "done" (read to its last complete line), "gone" (vanished: nothing more),
    "error" (an OSError, already in ``counts``) or "whole" (a whole document: its
    counts hold its reading, its one chunk, if any, its requests)."""

    task: FileTask
    chunks: list[ChunkScan] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    end: str = "done"
    final: FileOffset | None = None
    oversized: int = 0
    bytes_read: int = 0
    ticked: int = 0  # bytes read after the last chunk with a complete line

    def tick(self, n: int) -> None:
        """The reader's progress: counted until the next chunk takes it."""
        self.ticked += n


@dataclass
class _Lines:
    """The lines of one chunk the collector needs: those holding the usage marker (in
    order), how many complete lines there were and how many were not JSON objects."""

    usage: list[bytes]
    lines: int
    malformed: int


def _malformed(line: bytes) -> bool:
    """The serial loop's test for a line that is not a JSON object (blank lines pass)."""
    return line[:1] != b"{" and bool(line.strip()) and line.lstrip()[:1] != b"{"


class _UsageSplitter(LineSplitter):
    """``LineSplitter`` that hands out ``_Lines`` per chunk instead of every line: the
    same ``end``, ``carry`` and ``oversized`` bookkeeping, without a bytes object per
    line. A batch is handed out exactly when the line splitter would hand one out."""

    def batches(self, chunks: Iterator[bytes]) -> Iterator[_Lines]:  # type: ignore[override]
        marker = claude.USAGE_MARKER
        for data in chunks:
            first = data.find(b"\n")
            if first < 0:
                self._hold(data)
                continue
            out = _Lines([], 0, 0)
            if self._held:  # the carried line ends at ``first``
                if self._dropping or self._held + first > self.max_line:
                    self.oversized += 1
                else:
                    self._classify(b"".join(self._parts) + data[:first], out)
                consumed = self._held + first + 1
                self._parts, self._held, self._dropping = [], 0, False
                offset = first + 1
            else:
                consumed, offset = 0, 0
            cut = data.rfind(b"\n")
            if cut >= offset:
                if self.max_line >= CHUNK:  # no line within a chunk can be too long
                    self._scan(data, offset, cut, marker, out)
                else:
                    for line in self._bounded(data[offset:cut].split(b"\n")):
                        self._classify(line, out)
                consumed += cut + 1 - offset
                tail = data[cut + 1:]
            else:
                tail = data[offset:]
            self.end += consumed
            self._hold(tail)
            if out.lines:
                yield out

    @staticmethod
    def _classify(line: bytes, out: _Lines) -> None:
        out.lines += 1
        if claude.USAGE_MARKER in line:
            out.usage.append(line)
        elif _malformed(line):
            out.malformed += 1

    @staticmethod
    def _scan(data: bytes, p: int, cut: int, marker: bytes, out: _Lines) -> None:
        """The lines of ``data[p:cut]``: line starts by ``find``, usage lines by one
        search for the marker across the chunk (a marker holds no newline, so the line
        it falls in is the line that holds it)."""
        m = data.find(marker, p, cut)
        n = 0
        while True:
            e = data.find(b"\n", p, cut)
            if e < 0:
                e = cut
            n += 1
            if 0 <= m < e:
                out.usage.append(data[p:e])
                m = data.find(marker, e, cut)
            elif data[p:p + 1] != b"{" and _malformed(data[p:e]):
                out.malformed += 1
            if e == cut:
                break
            p = e + 1
        out.lines += n


class _UsageReader(LineReader):
    """``LineReader`` whose batches are ``_Lines`` (plain files: Claude logs are never
    compressed; a ``.gz`` name would still be read, through the same splitter)."""

    def _split(self, chunks, start):  # type: ignore[no-untyped-def, override]
        split = _UsageSplitter(start)
        for lines in split.batches(chunks):
            self.result.end = split.end
            self.result.oversized = split.oversized
            yield lines
        self.result.end = split.end
        self.result.oversized = split.oversized
        self.result.tail = split.carry


def scan_claude_file(task: FileTask) -> FileScan:
    """Parse one Claude file from its planned offset (runs in a worker)."""
    scan = FileScan(task)
    counts = scan.counts
    fallback = claude.project_of(task.path)
    reader = _UsageReader(task.path, task.start, scan.tick)
    parse = claude.parse_usage_line

    def parsed(lines: _Lines) -> list[IngestRequest]:
        counts.lines += lines.lines
        counts.malformed += lines.malformed
        out: list[IngestRequest] = []
        for line in lines.usage:
            got = parse(line, counts, fallback)
            if got is not None:
                out.append(got[0])
        return out

    return _record(scan, reader, reader.batches(), parsed, claude.COLLECTOR)


def scan_lines_file(agent: Agent | AgentRef, task: FileTask) -> FileScan:
    """Parse one line agent's file from its planned offset (runs in a worker): the loop
    of ``Collector._agent_lines``, recorded per chunk instead of stored."""
    lines_agent = loaded(agent)
    assert isinstance(lines_agent, LinesAgent)
    scan = FileScan(task)
    counts = scan.counts
    parser = lines_agent.parser(task.path, counts)
    if task.resumed and not prime(parser, task.start, counts):
        scan.end = "gone"
        return scan
    reader, batches = read_lines(task, scan.tick)

    def parsed(batch: list[bytes]) -> list[IngestRequest]:
        counts.lines += len(batch)
        out: list[IngestRequest] = []
        for line in batch:
            out.extend(feed_line(parser, line, counts))
        return out

    return _record(scan, reader, batches, parsed, lines_agent.collector)


def _record(scan: FileScan, reader: LineReader, batches: Iterable[Any],
            parsed: Callable[[Any], list[IngestRequest]], collector: str) -> FileScan:
    """The worker's loop for a lines file: each batch parsed and recorded as a chunk
    with the offset it reached and the bytes read for it; where reading stopped, and
    why, as the serial loop would have stored it."""
    task = scan.task
    try:
        for batch in batches:
            requests = parsed(batch)
            scan.chunks.append(ChunkScan(_pack(requests), offset_of(collector, task, reader),
                                         scan.ticked))
            scan.ticked = 0
    except FileNotFoundError:
        scan.end = "gone"
        return scan
    except OSError as exc:
        scan.counts.cannot_read(task.path, exc)
        scan.end = "error"
        return scan
    scan.oversized = reader.result.oversized
    scan.bytes_read = reader.result.end - task.start
    scan.final = offset_of(collector, task, reader)
    return scan


def scan_whole_file(agent: Agent | AgentRef, task: FileTask) -> FileScan:
    """Parse one whole JSON document of an agent (runs in a worker): the whole-file
    branch of ``Collector._agent_task``. Its one chunk holds every request and the
    file's fingerprint as its offset; ``end`` is "whole" (the counts say it all)."""
    from tokentop.store.usage.collect import _fingerprint  # the runner's: one definition

    whole = loaded(agent)
    assert isinstance(whole, WholeFileAgent)
    scan = FileScan(task, end="whole")
    counts = scan.counts
    mark = _fingerprint(task.path, False)
    if mark is None:
        return scan
    st_ino, size, head = mark
    try:
        with open_binary(task.path) as fh:
            data = fh.read()
    except FileNotFoundError:
        return scan
    except OSError as exc:
        counts.cannot_read(task.path, exc)
        return scan
    requests = parse_document(whole, task.path, data, counts)
    if requests is None:
        return scan
    counts.files_read += 1
    counts.bytes_read += size
    scan.chunks.append(ChunkScan(_pack(requests), FileOffset(
        collector=whole.collector, path=str(task.path), inode=st_ino, offset=len(data),
        head=head), size))
    return scan


# One file to parse: the agent it belongs to (None: Claude Code) and its task.
Job = tuple["Agent | AgentRef | None", FileTask]


def _scan_job(agent: Agent | AgentRef | None, task: FileTask) -> FileScan:
    if agent is None:
        return scan_claude_file(task)
    if kind_of(agent) == "lines":
        return scan_lines_file(agent, task)
    return scan_whole_file(agent, task)


def scan_group(jobs: Sequence[Job]) -> list[FileScan]:
    """A worker's unit of work: a few consecutive files of the plan."""
    return [_scan_job(a, t) for a, t in jobs]


def unread(tasks: Sequence[FileTask]) -> int:
    return sum(t.size - t.start for t in tasks)


def worth_a_pool(tasks: Sequence[FileTask], min_bytes: int | None = None) -> bool:
    """Whether parsing ``tasks`` in processes pays for starting them."""
    least = POOL_MIN_BYTES if min_bytes is None else min_bytes
    return workers() > 1 and len(tasks) > 1 and unread(tasks) >= least


def workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def groups(jobs: Sequence[Job], size: int = GROUP_BYTES) -> Iterator[list[Job]]:
    """Consecutive runs of the plan of about ``size`` unread bytes (a bigger file alone)."""
    group: list[Job] = []
    held = 0
    for job in jobs:
        group.append(job)
        held += job[1].size - job[1].start
        if held >= size:
            yield group
            group, held = [], 0
    if group:
        yield group


def _context() -> multiprocessing.context.BaseContext:
    """Fork where it exists and this process runs one thread (no interpreter start, no
    imports: the CLI's cold report). With other threads running (the dashboard's, the
    database readers'), a forked child could inherit a lock one of them held, so the
    workers come from a fork server (one fresh interpreter; its children import the
    parser once each) or, where there is none, are spawned."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def scan(jobs: Sequence[Job], *, max_workers: int | None = None,
         context: str | None = None, group_bytes: int | None = None,
         ) -> Iterator[FileScan]:
    """Every file of ``jobs`` parsed in a process pool, yielded in the jobs' order.

    At most two groups per worker wait unconsumed, so memory stays bounded by the
    writer's pace, not by the corpus. Closing the iterator (the writer failed) cancels
    what has not started and waits for the rest.

    A group the pool could not parse (no process could be started, a worker died, the
    group could not be sent: an agent defined in a script, a main module without its
    ``if __name__ == "__main__"`` guard under spawn) is parsed here instead: slower,
    never lost. An error of the parsing itself is then raised here, as in process."""
    import multiprocessing
    from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

    n = max_workers or workers()
    ctx = multiprocessing.get_context(context) if context else _context()
    todo = groups(jobs, GROUP_BYTES if group_bytes is None else group_bytes)
    pending: deque[tuple[list[Job], Future[list[FileScan]] | None]] = deque()
    pool: ProcessPoolExecutor | None
    try:
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    except (OSError, NotImplementedError, ValueError):  # no semaphores, no processes
        pool = None

    def submit(group: list[Job]) -> None:
        nonlocal pool
        future = None
        if pool is not None:
            try:
                future = pool.submit(scan_group, group)
            except (BrokenExecutor, OSError):
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
        pending.append((group, future))

    try:
        for group in itertools.islice(todo, 2 * n):
            submit(group)
        while pending:
            group, future = pending.popleft()
            done = None
            if future is not None:
                try:
                    done = future.result()
                except Exception:  # the pool's failure or the parser's: see here
                    done = None
            if done is None:
                done = scan_group(group)
            nxt = next(todo, None)
            if nxt is not None:
                submit(nxt)
            yield from done
    finally:
        for _, f in pending:
            if f is not None:
                f.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def scan_claude(tasks: Sequence[FileTask], **kw: Any) -> Iterator[FileScan]:
    """``scan`` over Claude files only."""
    return scan([(None, t) for t in tasks], **kw)
