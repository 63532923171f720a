"""Read complete lines from a plain or gzip file, from a byte offset, in bounded chunks.

A poller (``family_tail``) never holds files open: it reopens, seeks to the end of the
last complete line it consumed, and reads on. A trailing partial line is left unconsumed (it is read
again, whole, once its newline arrives), so no per-file buffer has to be kept. Chunks
bound memory on 100 MB files; a single line of several MB just spans chunks.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.tail.regular import open_binary

CHUNK = 4 << 20
# The longest line read (see LineSplitter): far past any real usage or metrics line.
MAX_LINE = 8 << 20


@dataclass
class ReadResult:
    """What one pass over a file consumed."""

    ident: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of the file actually read
    end: int = 0  # offset just past the last complete line (decompressed offset for gz)
    tail: bytes = b""  # bytes after the last newline, not consumed
    truncated: bool = False  # a gzip stream that ended before its end marker
    head: bytes = b""  # the file's first bytes: tells a reused inode from the same file
    oversized: int = 0  # lines longer than MAX_LINE, skipped (LineSplitter)


HEAD_BYTES = 128


class LineReader:
    """Iterate batches of complete lines (without their newline) of one file.

    ``progress`` receives the number of on-disk bytes consumed since the last call, so a
    replay can report how far through the history it is, compressed files included.
    """

    def __init__(self, path: Path, offset: int = 0, progress=None) -> None:
        self.path = path
        self.offset = offset
        self.progress = progress
        self.result = ReadResult(end=offset)

    def batches(self) -> Iterator[list[bytes]]:
        """Raises FileNotFoundError if the file vanished before it could be opened."""
        gz = self.path.name.endswith(".gz")
        with open_binary(self.path) as fh:
            st = os.fstat(fh.fileno())
            self.result.ident = (st.st_dev, st.st_ino)
            if gz:
                yield from self._gz(fh)
            else:
                self.result.head = os.pread(fh.fileno(), HEAD_BYTES, 0)
                fh.seek(self.offset)
                yield from self._split(self._plain(fh), self.offset)

    def _plain(self, fh) -> Iterator[bytes]:
        while True:
            data = fh.read(CHUNK)
            if not data:
                return
            if self.progress:
                self.progress(len(data))
            yield data

    def _gz(self, fh) -> Iterator[list[bytes]]:
        skip = self.offset

        def chunks() -> Iterator[bytes]:
            nonlocal skip
            d = zlib.decompressobj(wbits=31)
            fed = False  # has the current member's decompressor seen any input?
            while True:
                raw = fh.read(CHUNK // 4)
                if not raw:
                    break
                if self.progress:
                    self.progress(len(raw))
                while raw:
                    fed = True
                    try:
                        out = d.decompress(raw, CHUNK)
                    except zlib.error:
                        self.result.truncated = True
                        return
                    raw = d.unconsumed_tail
                    if d.eof:  # a concatenated member may follow
                        raw = d.unused_data + raw
                        d = zlib.decompressobj(wbits=31)
                        fed = False
                    if not self.result.head and out:
                        self.result.head = out[:HEAD_BYTES]
                    if skip:
                        cut = min(skip, len(out))
                        out = out[cut:]
                        skip -= cut
                    if out:
                        yield out
            if fed:
                self.result.truncated = True

        yield from self._split(chunks(), self.offset)

    def _split(self, chunks: Iterator[bytes], start: int) -> Iterator[list[bytes]]:
        split = LineSplitter(start)
        for lines in split.batches(chunks):
            self.result.end = split.end
            self.result.oversized = split.oversized
            yield lines
        self.result.end = split.end  # a dropped line may end after the last batch
        self.result.oversized = split.oversized
        self.result.tail = split.carry


class LineSplitter:
    """Cuts a stream of byte chunks into batches of complete lines.

    ``end`` is the offset just past the last complete line handed out (counted from
    ``start``); ``carry`` holds the bytes after it, a line still waiting for its newline.

    A line is at most ``MAX_LINE`` bytes: a longer one (a log line that never ends, a
    sparse file, a gzip bomb of one line) is dropped as it streams past, counted in
    ``oversized``, and consumed at its newline, so memory stays bounded and the lines
    after it are read. A partial line is kept as the chunks it came in and joined once,
    at its newline: re-copying it per chunk made one 512 MiB line quadratic.
    """

    def __init__(self, start: int = 0, max_line: int | None = None) -> None:
        self.end = start
        self.max_line = MAX_LINE if max_line is None else max_line
        self.oversized = 0
        self._parts: list[bytes] = []
        self._held = 0  # bytes of the current partial line (kept or being dropped)
        self._dropping = False

    @property
    def carry(self) -> bytes:
        return b"" if self._dropping else b"".join(self._parts)

    def _hold(self, data: bytes) -> None:
        if not data:
            return
        self._held += len(data)
        if self._dropping:
            return
        self._parts.append(data)
        if self._held > self.max_line:
            self._parts, self._dropping = [], True

    def batches(self, chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
        for data in chunks:
            first = data.find(b"\n")
            if first < 0:
                self._hold(data)
                continue
            lines: list[bytes] = []
            if self._held:  # the carried line ends at ``first``
                if self._dropping or self._held + first > self.max_line:
                    self.oversized += 1
                else:
                    lines.append(b"".join(self._parts) + data[:first])
                consumed = self._held + first + 1
                self._parts, self._held, self._dropping = [], 0, False
                rest, offset = data, first + 1
            else:
                consumed, rest, offset = 0, data, 0
            cut = rest.rfind(b"\n")
            if cut >= offset:
                lines.extend(self._bounded(rest[offset:cut].split(b"\n")))
                consumed += cut + 1 - offset
                tail = rest[cut + 1:]
            else:
                tail = rest[offset:]
            self.end += consumed
            self._hold(tail)
            if lines:
                yield lines

    def _bounded(self, lines: list[bytes]) -> list[bytes]:
        """Lines whole within one chunk can be long too (a chunk is 4 MiB)."""
        if self.max_line >= CHUNK:
            return lines
        keep = [line for line in lines if len(line) <= self.max_line]
        self.oversized += len(lines) - len(keep)
        return keep


def read_gz_head(path: Path, n: int) -> bytes:
    """The first ``n`` decompressed bytes of a gzip file (fewer if it is shorter)."""
    d = zlib.decompressobj(wbits=31)
    out = b""
    with open_binary(path) as fh:
        while len(out) < n:
            raw = fh.read(4096)
            if not raw:
                break
            try:
                out += d.decompress(raw, n - len(out))
            except zlib.error:
                break
    return out[:n]

