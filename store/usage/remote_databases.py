"""A box's SQLite agents, through the tokentop installed there (``tokentop export``).

Why not byte ranges as for logs: a database changes in pages, not at its end
(``remote_export`` says more). So when the shell program's listing shows one of the
box's agent databases changed (their default places, and the places the box's tokentop
named last time: ``Watch``), this machine runs ``tokentop export`` on the box over the
same multiplexed ssh connection, passing what it stored (watermarks, row marks,
fingerprints), and stores the events it prints with the new watermarks and marks in one
transaction, each event with its host, as for a local database. A warm poll runs
nothing: the listing alone says nothing changed. Without tokentop on the box, the
agents whose databases are there are named in one line of the host's status.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from tokentop.store.redact import redact_text
from tokentop.store.remote.session import Session, SshOptions
from tokentop.store.usage.collect import CollectReport, Sink, Store
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import FileOffset, IngestRequest
from tokentop.store.usage.remote_agents import database_agents, database_ref
from tokentop.store.usage.remote_export import (
    VERSION,
    Database,
    End,
    Event,
    Known,
    State,
    Watch,
    decoder,
)
from tokentop.store.usage.rowmarks import RowMark

TIMEOUT_S = 120.0
ENV = "TOKENTOP_REMOTE_TOKENTOP"  # BOX=PATH,... or PATH: the box's tokentop, when known


def tokentop_for(host: str, spec: str | None = None) -> str | None:
    """The tokentop executable on ``host`` as the user named it: ``spec`` (else
    ``$TOKENTOP_REMOTE_TOKENTOP``, which ``--remote-tokentop`` and the config file's
    ``remote-tokentops`` set) is ``BOX=PATH`` entries separated by commas, or a
    ``PATH`` (starting with ``/`` or ``~``) for every box. None: look for it there."""
    spec = os.environ.get(ENV, "") if spec is None else spec
    every = None
    for entry in spec.split(","):
        entry = entry.strip()
        if entry.startswith(("/", "~")):
            every = entry
            continue
        box, eq, path = entry.partition("=")
        if eq and box.strip() == host and path.strip():
            return path.strip()
    return every


@dataclass
class RemoteDatabases:
    """The database agents of one box: where its tokentop is, what to watch, notes."""

    host: str
    tokentop: str | None = None  # as configured; else found on the box per session
    options: SshOptions | None = None
    path: str | None = field(default=None, init=False)
    due: bool = field(default=True, init=False)
    watch: list[tuple[str, str, str]] = field(default_factory=list, init=False)
    notes: list[str] = field(default_factory=list, init=False)
    traffic: list[int] = field(default_factory=lambda: [0, 0], init=False)

    def opened(self, ses: Session) -> None:
        """A new session: find the box's tokentop (unless configured), export once."""
        self.path = self.tokentop or ses.tokentop()
        self.due = True

    def collect(self, store: Store, sink: Sink, report: CollectReport,
                present: Iterable[str], changed: bool, key: str
                ) -> list[tuple[str, str, str]]:
        """Export when a database changed (or on a new session) into ``sink``; the
        roots to watch that the box's tokentop named for the first time."""
        present = sorted(present)
        if self.path is None:
            self.notes = ([f"{', '.join(present)}: needs tokentop on {self.host}"]
                          if present else [])
            return []
        if not (self.due or changed):
            return []
        self.due = False
        out = self._run(self._state(store, key))
        if isinstance(out, str):
            self.notes = [f"{', '.join(present or database_agents())}: tokentop on "
                          f"{self.host} failed: {out}"]
            return []
        self.notes = []
        return self._ingest(out, sink, report, key)

    def _state(self, store: Store, prefix: str) -> State:
        known = []
        for name in database_agents():
            ref = database_ref(name)
            assert ref is not None
            for path, off in store.load_offsets(ref.collector).items():
                if not path.startswith(prefix):
                    continue
                marks = store.load_row_marks(ref.collector, path)
                known.append(Known(name, path[len(prefix):], off.inode,
                                   bytes(off.head).decode("utf-8", "replace"),
                                   off.offset, marks))
        return State(known)

    def _run(self, state: State) -> bytes | str:
        """The export's output, or why it failed (one line)."""
        assert self.path is not None
        options = self.options or SshOptions.from_env()
        command = f"exec {shlex.quote(self.path)} export --json --state -"
        data = msgspec.json.encode(state)
        try:
            done = subprocess.run(options.argv(self.host, command), input=data,
                                  capture_output=True, timeout=TIMEOUT_S,
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            return f"no answer in {TIMEOUT_S:.0f} s"
        except OSError as exc:
            return f"cannot run ssh: {exc.strerror or exc}"
        self.traffic[0] += len(data)
        self.traffic[1] += len(done.stdout)
        if done.returncode != 0:
            err = [ln.strip() for ln in done.stderr.decode("utf-8", "replace").splitlines()
                   if ln.strip()]
            return _plain(err[-1] if err else f"exit status {done.returncode}")
        return done.stdout

    def _ingest(self, out: bytes, sink: Sink, report: CollectReport, prefix: str
                ) -> list[tuple[str, str, str]]:
        pending: list[IngestRequest] = []
        new: list[tuple[str, str, str]] = []
        ended = False
        for raw in out.splitlines():
            try:
                line = decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # a line another version writes, or a login shell's noise
            if isinstance(line, Event):
                line.e.host = self.host
                pending.append(line.e)
            elif isinstance(line, Database):
                self._database(line, pending, sink, report, prefix)
                pending = []
            elif isinstance(line, Watch):
                for entry in line.roots:
                    if database_ref(entry[0]) is not None and entry not in self.watch:
                        self.watch.append(entry)
                        new.append(entry)
            elif isinstance(line, End):
                ended = True
                if line.version != VERSION:
                    self.notes = [f"tokentop on {self.host} speaks export version "
                                  f"{line.version}, not {VERSION}"]
        if not ended:
            self.notes = [f"tokentop on {self.host}: export ended early"]
        return new

    def _database(self, db: Database, events: list[IngestRequest], sink: Sink,
                  report: CollectReport, prefix: str) -> None:
        ref = database_ref(db.agent)
        if ref is None:
            return
        counts = report.agents.setdefault(db.agent, Counts())
        for problem in db.problems[:20]:
            counts.skip(_plain(problem))
        if not db.head:  # unreadable there: retried when it changes
            return
        counts.files_read += 1
        counts.bytes_read += db.size
        for req in events:
            sink.add(req, counts)
        key = prefix + db.path
        sink.row_marks([RowMark(ref.collector, key, k, m) for k, m in db.marks.items()])
        sink.offset(FileOffset(collector=ref.collector, path=key, inode=db.inode,
                               offset=db.watermark, head=db.head.encode()))
        sink.maybe_flush()


def _plain(text: str) -> str:
    """The box's text, one short printable line with credentials masked: it is shown as
    a status line and in reports."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return redact_text(text)[:200]
