"""The spool: a crash-safe on-disk queue of records waiting to be ingested (DESIGN 2.2).

One file per record, ``<19-digit unix ns>_<uuid>.jsonl``, holding one JSON line
``{spool_id, created_at, source_system, source_channel, payload, attempt, last_error}``
(openusage's format, so either tool can drain the other's spool). A record is written
to ``<name>.tmp``, fsynced, then renamed: a reader sees a whole record or none. Names
sort by creation time, so the oldest come first.

Draining ingests a batch (one transaction) and only then deletes ("acks") its files.
A crash between the two leaves acked-nothing records that are ingested again on the
next drain, and their dedup keys make that second ingest a no-op: nothing is lost and
nothing counts twice (tests/usage/test_spool.py kills a draining process with SIGKILL
at each step to show it).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import msgspec

from tokentop.store.tail.regular import read_regular
from tokentop.store.usage.model import IngestRequest, IngestResult
from tokentop.store.usage.timefmt import format_ts, parse_ts

SUFFIX = ".jsonl"
TMP = ".tmp"
BAD = ".bad"


@dataclass
class SpoolRecord:
    """One queued record. ``payload`` is whatever JSON the producer wrote."""

    spool_id: str
    created_at: datetime
    source_system: str
    source_channel: str
    payload: Any
    attempt: int = 0
    last_error: str = ""

    def to_json(self) -> bytes:
        doc = {
            "spool_id": self.spool_id,
            "created_at": format_ts(self.created_at),
            "source_system": self.source_system,
            "source_channel": self.source_channel,
            "payload": self.payload,
            "attempt": self.attempt,
        }
        if self.last_error:
            doc["last_error"] = self.last_error
        return msgspec.json.encode(doc) + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> SpoolRecord:
        doc = msgspec.json.decode(data.strip())
        if not isinstance(doc, dict) or "payload" not in doc:
            raise ValueError("not a spool record")
        return cls(
            spool_id=str(doc.get("spool_id") or ""),
            created_at=parse_ts(doc["created_at"]) if doc.get("created_at") else datetime.now(UTC),
            source_system=str(doc.get("source_system") or ""),
            source_channel=str(doc.get("source_channel") or ""),
            payload=doc["payload"],
            attempt=int(doc.get("attempt") or 0),
            last_error=str(doc.get("last_error") or ""),
        )


@dataclass
class PendingRecord:
    """A record and the file it lives in (ack or mark_failed take the path)."""

    path: Path
    record: SpoolRecord


@dataclass
class SpoolCleanupResult:
    removed_files: int = 0
    removed_bytes: int = 0
    remaining_files: int = 0
    remaining_bytes: int = 0


@dataclass
class DrainResult:
    """What one drain did: the ingest counts, and records acked or marked failed."""

    ingest: IngestResult = field(default_factory=IngestResult)
    acked: int = 0
    failed: int = 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + TMP)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Spool:
    """A spool directory (created 0700 on first write)."""

    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory).expanduser()

    def write(self, source_system: str, source_channel: str, payload: Any) -> Path:
        """Queue one record durably; returns its file."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        spool_id = str(uuid.uuid4())
        now_ns = time.time_ns()
        record = SpoolRecord(
            spool_id=spool_id,
            created_at=datetime.fromtimestamp(now_ns / 1e9, UTC),
            source_system=source_system,
            source_channel=source_channel,
            payload=payload,
        )
        path = self.dir / f"{now_ns:019d}_{spool_id}{SUFFIX}"
        _write_atomic(path, record.to_json())
        return path

    def paths(self) -> list[Path]:
        """Complete record files, oldest first."""
        try:
            names = [n for n in os.listdir(self.dir) if n.endswith(SUFFIX)]
        except FileNotFoundError:
            return []
        names.sort()
        return [self.dir / n for n in names]

    def read(self, paths: Iterable[Path]) -> list[PendingRecord]:
        """Load these files. One that vanished is skipped; one that is not a record is
        renamed ``.bad`` (kept for inspection, never retried)."""
        out = []
        for path in paths:
            try:
                data = read_regular(path)
            except FileNotFoundError:
                continue
            try:
                out.append(PendingRecord(path, SpoolRecord.from_json(data)))
            except (msgspec.DecodeError, ValueError, TypeError, KeyError):
                os.replace(path, path.with_name(path.name + BAD))
        return out

    def read_oldest(self, limit: int) -> list[PendingRecord]:
        """Up to ``limit`` of the oldest records."""
        out: list[PendingRecord] = []
        paths = self.paths()
        while paths and len(out) < limit:
            take, paths = paths[: limit - len(out)], paths[limit - len(out):]
            out.extend(self.read(take))
        return out

    def ack(self, path: Path) -> None:
        """The record is stored: delete its file (already gone is fine)."""
        Path(path).unlink(missing_ok=True)

    def mark_failed(self, path: Path, error: str) -> None:
        """Count a failed attempt: attempt+1 and last_error, rewritten atomically."""
        try:
            record = SpoolRecord.from_json(read_regular(path))
        except FileNotFoundError:
            return
        record.attempt += 1
        record.last_error = error.splitlines()[0][:500] if error else "error"
        _write_atomic(path, record.to_json())

    def cleanup(
        self,
        max_age: timedelta | float | None = None,
        max_files: int | None = None,
        max_bytes: int | None = None,
        now: float | None = None,
    ) -> SpoolCleanupResult:
        """Drop records older than ``max_age`` (seconds or timedelta), then the oldest
        until at most ``max_files`` files and ``max_bytes`` bytes remain. Leftover
        ``.tmp`` files (a writer that died) older than ``max_age`` go too."""
        result = SpoolCleanupResult()
        now = time.time() if now is None else now
        age = max_age.total_seconds() if isinstance(max_age, timedelta) else max_age
        entries = []
        for path in self.paths():
            try:
                entries.append((path, path.stat().st_size, _created_s(path)))
            except FileNotFoundError:
                continue
        keep = []
        for path, size, created in entries:
            if age is not None and now - created > age:
                self._remove(path, size, result)
            else:
                keep.append((path, size))
        total = sum(size for _, size in keep)
        while keep and (
            (max_files is not None and len(keep) > max_files)
            or (max_bytes is not None and total > max_bytes)
        ):
            path, size = keep.pop(0)
            total -= size
            self._remove(path, size, result)
        if age is not None and self.dir.is_dir():
            for tmp in self.dir.glob(f"*{TMP}"):
                try:
                    if now - tmp.stat().st_mtime > age:
                        tmp.unlink()
                except FileNotFoundError:
                    pass
        result.remaining_files = len(keep)
        result.remaining_bytes = total
        return result

    @staticmethod
    def _remove(path: Path, size: int, result: SpoolCleanupResult) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            return
        result.removed_files += 1
        result.removed_bytes += size


def _created_s(path: Path) -> float:
    """Creation time from the name's unix-ns prefix (mtime if the name is foreign)."""
    head = path.name.split("_", 1)[0]
    if len(head) == 19 and head.isdigit():
        return int(head) / 1e9
    return path.stat().st_mtime


class _Ingests(Protocol):
    def ingest(self, requests: list[IngestRequest]) -> IngestResult: ...


def drain(
    spool: Spool,
    store: _Ingests,
    parse: Callable[[SpoolRecord], list[IngestRequest]],
    batch: int = 500,
) -> DrainResult:
    """Ingest every record queued now, ``batch`` records per transaction, then ack them.

    A record ``parse`` raises on is marked failed and left for later (or for cleanup).
    Ingest commits before any ack, so a crash anywhere re-ingests at most the last
    batch, which dedup turns into duplicates.
    """
    result = DrainResult()
    paths = spool.paths()
    for start in range(0, len(paths), batch):
        pending = spool.read(paths[start:start + batch])
        requests: list[IngestRequest] = []
        parsed: list[PendingRecord] = []
        for item in pending:
            try:
                requests.extend(parse(item.record))
            except Exception as exc:  # a producer's bad record must not stop the drain
                spool.mark_failed(item.path, f"{type(exc).__name__}: {exc}")
                result.failed += 1
                continue
            parsed.append(item)
        if requests:
            result.ingest.add(store.ingest(requests))
        for item in parsed:
            spool.ack(item.path)
            result.acked += 1
    return result
