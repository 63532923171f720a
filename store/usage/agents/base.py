"""What an agent collector is: where an agent keeps its usage, and how to read it.

tokentop reads the usage of every coding agent ccusage 20.0.24 reads (issue 14). The
agents keep it in three shapes, and the runner (``tokentop.store.usage.collect``) reads
each shape the same way whatever the agent:

- ``LinesAgent``: append-only JSONL (Gemini CLI's ``.jsonl``, Qwen Code, pi, Kimi's
  ``wire.jsonl``, Copilot's ``events.jsonl``). Read from the stored offset on, line by
  line, as the Claude collector reads; a file truncated or replaced is read again from 0.
  A parser that needs what came before the offset (a session id in the first line, the
  model of an earlier turn) rebuilds it in ``prime``.
- ``WholeFileAgent``: one JSON document rewritten in place (Gemini CLI's
  ``session-*.json``, Amp's threads, Factory's ``*.settings.json``). Read whole whenever
  its size or mtime changed; the stored "offset" is the size and the head is the
  fingerprint (mtime and size) of the copy read. Re-reading is harmless: stable message
  ids make the store keep one event per message (the copy with more tokens wins).
- ``DatabaseAgent``: an SQLite database the agent writes while we read (opencode, Kilo,
  Goose, Hermes, ZCode). Opened read-only (``open_read_only``); ``read`` gets the
  watermark it returned last time (0 the first time) and returns the requests after it
  and the new watermark, which the store keeps with the events. A table of running
  totals rewritten in place has no watermark: its reader asks ``marks``
  (``tokentop.store.usage.rowmarks``) which rows changed since the last read.

Every agent writes canonical events with ``source_system`` and ``agent_name`` =
``system``; ``name`` is ccusage's subcommand and tokentop's ``--source`` value.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.tail.regular import check_regular
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.rowmarks import RowMarks


class LineParser(ABC):
    """Turns one file's lines into requests; one instance per file and pass. Each
    line agent subclasses it with its format's ``feed``."""

    def __init__(self, path: Path, counts: Counts) -> None:
        self.path = path
        self.counts = counts

    def prime(self, offset: int) -> None:  # noqa: B027 (a stateless format needs none)
        """Reading resumes at ``offset``: rebuild any state the lines before it set."""

    @abstractmethod
    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        """The requests this line carries (none for most lines)."""


def feed_line(parser: LineParser, line: bytes, counts: Counts) -> list[IngestRequest]:
    """One line through an agent's parser, as every runner feeds it (this process, a
    parsing worker, a remote box): a line it cannot read is counted and skipped, never
    the end of the file."""
    try:
        return list(parser.feed(line))
    except Exception as exc:  # one line we cannot read: skip it, go on
        counts.skip(f"unreadable line ({type(exc).__name__})")
        return []


def prime(parser: LineParser, offset: int, counts: Counts) -> bool:
    """``parser.prime(offset)``; False (counted) when the file's earlier lines are in a
    format we misread: that file pays, not the pass."""
    try:
        parser.prime(offset)
    except Exception as exc:  # an agent's format we misread: that file, not all
        counts.skip(f"unreadable file ({type(exc).__name__})")
        return False
    return True


@dataclass(frozen=True)
class Agent:
    """Fields every agent has."""

    name: str  # ccusage's subcommand, tokentop's --source: "gemini"
    system: str  # source_system and agent_name of its events: "gemini_cli"
    label: str  # for people: "Gemini CLI"
    env: tuple[str, ...]  # the variables that move its data, as the agent reads them
    roots: Callable[[], list[Path]]  # where it keeps usage now (variables applied)

    @property
    def collector(self) -> str:
        """The name its offsets are kept under in ``collector_offsets``."""
        return "agent:" + self.name


@dataclass(frozen=True)
class LinesAgent(Agent):
    patterns: tuple[str, ...]  # file names, one "*" each, under roots
    parser: Callable[[Path, Counts], LineParser]


@dataclass(frozen=True)
class WholeFileAgent(Agent):
    patterns: tuple[str, ...]
    parse: Callable[[Path, bytes, Counts], Iterable[IngestRequest]]


def parse_document(agent: WholeFileAgent, path: Path, data: bytes, counts: Counts,
                   ) -> list[IngestRequest] | None:
    """A whole document's requests, counted as one line; None (counted) when it cannot
    be read: half-written or unexpected, it is read again when it next changes."""
    counts.lines += 1
    try:
        return list(agent.parse(path, data, counts))
    except Exception as exc:  # a half-written or unexpected document: next time
        counts.skip(f"unreadable file ({type(exc).__name__})")
        return None


@dataclass(frozen=True)
class DatabaseAgent(Agent):
    """``roots`` are the database files themselves."""

    read: Callable[[sqlite3.Connection, Path, int, Counts, RowMarks],
                   tuple[Sequence[IngestRequest], int]]


def open_read_only(path: Path) -> sqlite3.Connection:
    """An agent's live database, read-only, writing nothing next to it: ``mode=ro``
    while the agent has it open (its ``-wal`` is there, and we see its commits), else
    ``immutable`` (``mode=ro`` alone would leave an empty ``-wal`` and ``-shm`` behind:
    openusage's store taught us that, ``ownership.read_only_uri``). One pass reads it
    and closes it, so a writer that starts meanwhile is seen on the next pass."""
    from urllib.parse import quote

    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    if not os.path.exists(f"{resolved}-wal"):
        uri += "&immutable=1"
    check_regular(resolved)  # SQLite would wait on a FIFO for a writer
    conn = sqlite3.connect(uri, uri=True, timeout=2.0)
    conn.execute("PRAGMA query_only = ON")
    return conn
