"""The usage store: one SQLite database, opened read-write by a writer or read-only.

Read-write opens tokentop's own store only (created on first use: directory 0700, file
0600, schema, WAL, ``synchronous=NORMAL``, ``busy_timeout``); any other existing
database (openusage's ``telemetry.db``, ...) raises :class:`ForeignStoreError` before
anything is written (``tokentop.store.usage.ownership``). Read-only opens any compatible
database through ``ownership.read_only_uri`` (``mode=ro``; ``immutable`` for a foreign
WAL file nobody has open, so no ``-wal``/``-shm`` is left behind), which is how tokentop
reads openusage's ``telemetry.db``, also while openusage is writing to it.

``foreign_keys`` is ON, as openusage sets it on its one connection: an event must
reference an existing raw event, and a raw event still referenced cannot be deleted.
Every failure a user can cause (missing file, not a database, corrupt, locked,
read-only) becomes a :class:`UsageStoreError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from tokentop.store.pricing import PriceTable
from tokentop.store.sqlite_errors import describe
from tokentop.store.usage import rowmarks, schema
from tokentop.store.usage.ingest import Prepared, ingest_batch
from tokentop.store.usage.model import FileOffset, IngestRequest, IngestResult
from tokentop.store.usage.ownership import (
    UnreadableStore,
    is_own_store,
    nonempty,
    owned,
    read_only_uri,
)
from tokentop.store.usage.paths import default_db_path
from tokentop.store.usage.rowmarks import RowMark

BUSY_TIMEOUT_MS = 5000
GROUP_COMMIT_S = 1.0  # the longest a collector's batches wait to be committed together
AUTOCHECKPOINT_PAGES = 65536
CACHE_KIB = 65536  # page cache per connection: index pages of a few million events


class UsageStoreError(Exception):
    """A user-facing, one-line problem with the store (missing, corrupt, locked...)."""


class ForeignStoreError(UsageStoreError):
    """A writer was pointed at a database tokentop did not create (openusage's, ...)."""


def _parent_dir(target: Path, create: bool) -> None:
    """``create``: only tokentop's own state directory is made; a path the user named
    must be in a directory that exists (``--store /nonexistent/x.db`` once made
    ``/nonexistent``)."""
    if target.parent.is_dir():
        return
    if not create:
        raise UsageStoreError(f"no such directory: {target.parent}")
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageStoreError(f"cannot create {target.parent}: {exc.strerror}") from None


class UsageStore:
    """A connection to a usage database and the operations writers and readers need."""

    def __init__(self, path: Path, conn: sqlite3.Connection, read_only: bool) -> None:
        self.path = path
        self.conn = conn
        self.read_only = read_only
        self._last_checkpoint = time.monotonic()
        self._group_delay: float | None = None  # set inside group_commit()
        self._began = 0.0

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        read_only: bool = False,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> UsageStore:
        """Open (read-write: create if needed) the store at ``path``.

        Raises UsageStoreError with a one-line message.
        """
        target = Path(path).expanduser() if path is not None else default_db_path()
        if read_only:
            if not target.is_file():
                raise UsageStoreError(f"usage database not found: {target}")
            uri = read_only_uri(target)
            try:
                conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                       check_same_thread=False)
            except sqlite3.Error as exc:
                raise UsageStoreError(describe(exc, target)) from None
        else:
            if not target.exists():
                cls._create(target, create_parent=target == default_db_path(),
                            busy_timeout_ms=busy_timeout_ms)
            try:
                foreign = nonempty(target) and not owned(target)
            except UnreadableStore as exc:
                raise UsageStoreError(str(exc)) from None
            if foreign:
                raise ForeignStoreError(
                    f"not tokentop's store, only read (dashboard, report): {target}")
            conn = cls._open_rw(target, create_parent=target == default_db_path())
        store = cls(target, conn, read_only)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if not read_only:
                store._prepare()
        except sqlite3.Error as exc:
            conn.close()
            raise UsageStoreError(describe(exc, target)) from None
        return store

    @classmethod
    def _create(cls, target: Path, *, create_parent: bool, busy_timeout_ms: int) -> None:
        """Make a new store whole before it has its name, so nobody sees it half made.

        The dashboard's reader and its collector start together, and each creates the
        store if it is missing. Created in place, the second one could find the file
        already a database but without tokentop's mark yet, and refuse it as foreign
        (the collector then stopped for the session). Here the schema is written to a
        private file, which is then hard-linked to ``target``: the link either makes
        the finished store appear at once or fails because someone else's did.
        """
        _parent_dir(target, create_parent)
        draft = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.new")
        try:
            try:
                os.close(os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                conn = sqlite3.connect(draft, isolation_level=None, check_same_thread=False)
            except OSError as exc:
                raise UsageStoreError(f"cannot create {target}: {exc.strerror}") from None
            except sqlite3.Error as exc:
                raise UsageStoreError(describe(exc, target)) from None
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                cls(draft, conn, False)._prepare()
            except sqlite3.Error as exc:
                raise UsageStoreError(describe(exc, target)) from None
            finally:
                conn.close()  # the last connection: SQLite folds the WAL back in
            try:
                os.link(draft, target)
            except FileExistsError:
                pass  # another process or thread made it first: theirs is used
            except OSError:
                # a filesystem without hard links: a rename is atomic too, only not
                # exclusive (checked just before, so the window is tiny)
                if not target.exists():
                    try:
                        os.replace(draft, target)
                    except OSError as exc:
                        raise UsageStoreError(
                            f"cannot create {target}: {exc.strerror}") from None
        finally:
            for leftover in (draft, draft.with_name(draft.name + "-wal"),
                             draft.with_name(draft.name + "-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    @staticmethod
    def _open_rw(target: Path, create_parent: bool) -> sqlite3.Connection:
        """``create_parent``: only tokentop's own state directory is made; a path the
        user named must be in a directory that exists (``--store /nonexistent/x.db``
        once made ``/nonexistent``)."""
        _parent_dir(target, create_parent)
        try:
            if not target.exists():
                # SQLite gives -wal and -shm the main file's mode, so 0600 covers all.
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise UsageStoreError(f"cannot create {target}: {exc.strerror}") from None
        if not target.is_file():
            raise UsageStoreError(f"not a file: {target}")
        try:
            return sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise UsageStoreError(describe(exc, target)) from None

    def _prepare(self) -> None:
        conn = self.conn
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints are driven by maybe_checkpoint (TRUNCATE, every 60 s). SQLite's
        # own auto-checkpoint after 1000 pages (the default) would copy every large
        # batch into the file right after writing it to the WAL, nearly doubling the
        # bytes written and fsyncing per batch (bench, 1M events: 18.2 -> 14.5 KB/event,
        # +35% events/s); 65536 pages (256 MB) only bounds the WAL should a writer never
        # call maybe_checkpoint. journal_size_limit trims a reset WAL to 64 MB.
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        threshold = PriceTable.load().tier_threshold
        if not schema.is_current(conn, threshold):
            conn.execute("BEGIN IMMEDIATE")
            try:
                schema.migrate(conn, threshold)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    # -- writing -------------------------------------------------------------------

    def ingest(
        self, requests: Sequence[IngestRequest | Prepared],
        offsets: Sequence[FileOffset] = (), marks: Sequence[RowMark] = (),
    ) -> IngestResult:
        """Store a batch and the collector offsets that produced it, in ONE transaction.

        Inside :meth:`group_commit` the transaction is shared with the batches around
        it and committed about once per ``max_delay``. Rejected requests are counted by
        reason, never raised; a database failure raises UsageStoreError and stores
        nothing of the batch (nor of the uncommitted batches of its group).
        """
        if self.read_only:
            raise UsageStoreError(f"opened read-only: {self.path}")
        if not requests and not offsets and not marks:
            return IngestResult()
        conn = self.conn
        if not conn.in_transaction:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise UsageStoreError(describe(exc, self.path)) from None
            self._began = time.monotonic()
        with self.undone_on_error():
            result = ingest_batch(conn, requests, offsets, marks=marks)
            if self._group_delay is None or (
                time.monotonic() - self._began >= self._group_delay
            ):
                conn.execute("COMMIT")
        return result

    @contextlib.contextmanager
    def undone_on_error(self) -> Iterator[None]:
        """The open transaction rolled back if the block fails: an SQLite error becomes
        the one-line UsageStoreError, anything else (an interrupt, a server's error in a
        team push) is raised as it is. Every writer of this store's transactions uses it."""
        try:
            yield
        except sqlite3.Error as exc:
            self._rollback()
            raise UsageStoreError(describe(exc, self.path)) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already: a failed COMMIT on a
        full disk rolls back by itself, and a second ROLLBACK raising then turned a
        one-line "disk full" into a traceback. The store is as the last commit left it."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def group_commit(self, max_delay: float = GROUP_COMMIT_S) -> Iterator[UsageStore]:
        """Share one transaction among the batches ingested in this block, committing
        when it is ``max_delay`` seconds old and at the end (rolled back on an error).

        Why: a batch of 5,000 Claude events dirties a leaf of the random-keyed
        dedup index per event (``schema.DEDUP_INDEX``, a quarter of the size it had before
        schema 9), and every dirty page is a 4 KB WAL frame per transaction; one commit
        a second instead of one per batch writes each leaf once for all of them
        (tests/bench/bench_ingest.py). Safe for collectors: their file
        offsets commit in the same transaction as the events, so a crash loses at most
        the last second of work and re-reads it. Not for the spool, whose records are
        acknowledged (deleted) after ingest: the spool commits every batch.
        """
        if self._group_delay is not None:  # nested: the outer block commits
            yield self
            return
        self._group_delay = max_delay
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        finally:
            self._group_delay = None
        self.commit()

    def commit(self) -> None:
        """Commit a group's open transaction now (readers see it), then maybe checkpoint."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise UsageStoreError(describe(exc, self.path)) from None
        self.maybe_checkpoint()

    def load_offsets(self, collector: str) -> dict[str, FileOffset]:
        """Where ``collector`` stopped in each file, keyed by path."""
        try:
            rows = self.conn.execute(
                "SELECT path, inode, offset, head FROM collector_offsets WHERE collector = ?",
                (collector,),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return {}  # a foreign (openusage) database opened read-only
            raise UsageStoreError(describe(exc, self.path)) from None
        return {
            path: FileOffset(collector=collector, path=path, inode=inode, offset=offset,
                             head=bytes(head or b""))
            for path, inode, offset, head in rows
        }

    def load_row_marks(self, collector: str, path: str) -> dict[str, str]:
        """The row digests ``collector`` stored for the database at ``path``
        (``tokentop.store.usage.rowmarks``)."""
        try:
            return rowmarks.load(self.conn, collector, path)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return {}  # a foreign database, or one an older tokentop made, read-only
            raise UsageStoreError(describe(exc, self.path)) from None

    def checkpoint(self) -> None:
        """Fold the WAL into the database and truncate it to zero bytes."""
        if self.read_only:
            return
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as exc:
            raise UsageStoreError(describe(exc, self.path)) from None
        self._last_checkpoint = time.monotonic()

    def maybe_checkpoint(self, every_s: float = 60.0) -> bool:
        """Checkpoint (TRUNCATE) if the last one was ``every_s`` or more ago.

        Writers call it after each ingest: with readers polling, SQLite's own
        auto-checkpoint may never find a moment to reset the WAL, which then grows
        without bound (openusage's RunWALCheckpointLoop has the same reason).
        """
        if (self.read_only or self.conn.in_transaction
                or time.monotonic() - self._last_checkpoint < every_s):
            return False
        self.checkpoint()
        return True

    # -- reading -------------------------------------------------------------------

    def data_version(self) -> int:
        """Changes when another connection commits: poll it, re-query only on change."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def wal_size(self) -> int:
        """Bytes in the ``-wal`` file (0 when there is none)."""
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> UsageStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


has_collector_offsets = is_own_store  # the name callers used before the owner mark
