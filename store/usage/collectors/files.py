"""What a usage collector did in one pass, and where it stopped in each file.

Which files changed and from where to read them is ``tokentop.store.tail.offsets``
(resume from a stored offset, reread a file truncated or replaced); this module keeps
the usage side: the per-pass ``Counts`` and the ``FileOffset`` the store keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokentop.store.tail.offsets import FileTask, inode_read
from tokentop.store.tail.reader import LineReader
from tokentop.store.usage.model import FileOffset

UNREADABLE_NAMED = 20


@dataclass
class Counts:
    """What one collector did in one pass (JSON-friendly)."""

    files: int = 0  # files found
    files_read: int = 0  # files that had new bytes
    bytes_read: int = 0
    lines: int = 0  # complete lines consumed
    usage_lines: int = 0  # lines that carried usage and became requests
    requests: int = 0  # requests handed to the store (after in-pass dedup)
    malformed: int = 0  # lines that are not JSON
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> lines
    # files or databases this user may not read: named (the first UNREADABLE_NAMED),
    # not skipped in silence, and never the end of the rest of the pass
    unreadable: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def cannot_read(self, path: object, exc: OSError) -> None:
        self.skip("unreadable file")
        if len(self.unreadable) < UNREADABLE_NAMED:
            self.unreadable.append(f"{path}: {(exc.strerror or str(exc)).lower()}")

    def merge(self, other: Counts) -> None:
        """Add what another pass over part of the same collector's files counted (a
        database read in a worker thread)."""
        for name in ("files", "files_read", "bytes_read", "lines", "usage_lines",
                     "requests", "malformed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.skipped.items():
            self.skip(reason, n)
        room = UNREADABLE_NAMED - len(self.unreadable)
        self.unreadable.extend(other.unreadable[:max(room, 0)])

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "files_read": self.files_read,
            "bytes_read": self.bytes_read,
            "lines": self.lines,
            "usage_lines": self.usage_lines,
            "requests": self.requests,
            "malformed": self.malformed,
            "skipped": dict(sorted(self.skipped.items())),
            "unreadable": list(self.unreadable),
        }


def offset_of(collector: str, task: FileTask, reader: LineReader) -> FileOffset:
    """Where ``reader`` stopped in ``task``'s file, as the store keeps it."""
    r = reader.result
    return FileOffset(
        collector=collector,
        path=str(task.path),
        inode=inode_read(task, reader),
        offset=r.end,
        head=r.head,
    )
