"""A local copy of a directory tree on a box, kept up to date by appended bytes only.

Why a copy: gridctl's telemetry tree (``--metrics-dir user@box:PATH``) is read by the
metrics source as local files, with its own handling of rotation, gzipped backups and
partial lines; pulling the box's new bytes into a copy under tokentop's state directory
lets that reader follow it unchanged. The copy is tokentop's own cache (it writes no
file it does not own) and can be deleted at any time: it is rebuilt from the box.

Each file is continued from the copy's own size when the box's file still starts with
the copy's first bytes (checked on the box, ``script``'s ``R``); otherwise it is copied
again, into a new file renamed over the old one, so the local reader sees a replaced
file as gridctl's was. A box file renamed (gridctl's rotation: ``x.jsonl`` to
``x.jsonl.1``) is renamed in the copy too, not copied again, when this process saw it
before.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tokentop.store.remote.session import (
    Listed,
    RemoteError,
    Session,
    SshOptions,
    check_host,
)
from tokentop.store.state import state_dir

CHUNK = 4 << 20
HEAD = 128


def split_target(text: str) -> tuple[str, str] | None:
    """``user@box:PATH`` -> (``user@box``, ``PATH``); None for a local path (one with a
    slash before its first colon, or no colon at all)."""
    host, sep, path = text.partition(":")
    if not sep or not host or "/" in host or not path:
        return None
    return host, path


def default_copy_dir(host: str, path: str) -> Path:
    """Where the copy of ``host:path`` lives: one directory per box and path."""
    digest = hashlib.sha256(f"{host}:{path}".encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in host)
    return state_dir("tokentop") / "remote-metrics" / f"{safe}-{digest}"


@dataclass
class Mirror:
    """``host:root`` copied into ``local``; ``sync`` brings the copy up to date."""

    host: str
    root: str
    local: Path
    options: SshOptions | None = None
    session: Session | None = field(default=None, init=False)
    resolved: str = field(default="", init=False)  # root as the box spells it
    listing: dict[str, tuple[int, int]] = field(default_factory=dict, init=False)
    pulled: int = field(default=0, init=False)  # bytes copied so far (this process)

    def __post_init__(self) -> None:
        self.host = check_host(self.host)
        self.local.mkdir(parents=True, exist_ok=True)

    def sync(self) -> int:
        """Copy what changed on the box; returns the bytes copied. Raises RemoteError
        (one line) when the box cannot be read; the copy keeps what it had."""
        try:
            return self._sync()
        except RemoteError:
            self.close()
            raise

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def _sync(self) -> int:
        if self.session is None or not self.session.alive:
            self.close()
            self.session = Session(self.host, self.options)
            self.resolved = self.session.follow_tree(self.root)
            self.listing.clear()
        ses = self.session
        changed, total = ses.list()
        old = dict(self.listing)
        for f in changed:
            self.listing[f.path] = (f.inode, f.size)
        if len(self.listing) != total:  # files went away: the whole listing again
            ses.forget()
            self.listing = {f.path: (f.inode, f.size) for f in ses.list()[0]}
            changed = [Listed("m", i, s, 0, p) for p, (i, s) in self.listing.items()
                       if old.get(p) != (i, s)]
            self._drop_gone()
        by_inode = {inode: path for path, (inode, _) in old.items()}
        copied = 0
        # renames first: a rotated file's old name is about to hold a new file
        for _, inode, _, _, path in changed:
            was = by_inode.get(inode)
            if was is not None and was != path and old.get(path, (None,))[0] != inode:
                src, dst = self._local(was), self._local(path)
                if src is not None and dst is not None and src.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dst)
        for f in changed:
            copied += self._copy(ses, f.path)
        self.pulled += copied
        return copied

    def _local(self, path: str) -> Path | None:
        """The copy of the box's ``path``; None for one outside the root (never written)."""
        root = self.resolved.rstrip("/") + "/"
        if not path.startswith(root):
            return None
        rel = PurePosixPath(path[len(root):])
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            return None
        return self.local.joinpath(*rel.parts)

    def _drop_gone(self) -> None:
        """Remove copies of files the box no longer has."""
        keep = {self._local(p) for p in self.listing}
        for dirpath, _, names in os.walk(self.local):
            for name in names:
                p = Path(dirpath) / name
                if p not in keep and not name.startswith(".tokentop-"):
                    p.unlink(missing_ok=True)

    def _copy(self, ses: Session, path: str) -> int:
        target = self._local(path)
        if target is None:
            return 0
        try:
            with open(target, "rb") as fh:
                head = fh.read(HEAD)
                start = os.fstat(fh.fileno()).st_size
        except FileNotFoundError:
            head, start = b"", 0
        got = ses.read(path, start, head, CHUNK)
        if got is None:
            return 0
        inode, used, data = got
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = used == 0 and start > 0  # replaced or truncated on the box
        name = target.with_name(f".tokentop-{target.name}") if fresh else target
        n = 0
        with open(name, "wb" if fresh else "ab") as out:
            pos = used
            while True:
                out.write(data)
                n += len(data)
                pos += len(data)
                if len(data) < CHUNK:
                    break
                more = ses.read(path, pos, b"", CHUNK)
                if more is None or more[1] != pos or more[0] != inode:
                    break
                data = more[2]
        if fresh:
            os.replace(name, target)
        return n


class Follower:
    """``Mirror.sync`` every ``poll_s`` in a thread of its own (every ``retry_s`` while
    the box cannot be reached): the metrics source follows the copy as local files."""

    def __init__(self, mirror: Mirror, poll_s: float = 1.0, retry_s: float = 10.0) -> None:
        import threading

        self.mirror = mirror
        self.poll_s, self.retry_s = poll_s, retry_s
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"tokentop-mirror-{mirror.host}")

    def first(self) -> str | None:
        """One sync now (before the source replays the copy); the reason it failed."""
        try:
            self.mirror.sync()
            self.error = None
        except RemoteError as exc:
            self.error = str(exc)
        return self.error

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.mirror.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.retry_s if self.first() else self.poll_s
            self._stop.wait(wait)
