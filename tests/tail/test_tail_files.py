"""store/tail on real files: line reader, cursor, family listing, family tail, offsets."""

from __future__ import annotations

import gzip
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tokentop.store.tail.backread import read_tail, start_after
from tokentop.store.tail.cursor import Cursor, same_file
from tokentop.store.tail.family import list_family, rotated_family
from tokentop.store.tail.family_tail import FamilyTail
from tokentop.store.tail.offsets import plan, read_lines
from tokentop.store.tail.reader import LineReader
from tokentop.store.tail.walk import find_files

STAMP1 = "2026-05-05T12-00-00.000"
STAMP2 = "2026-05-05T13-00-00.000"


def read_all(path: Path, offset: int = 0) -> tuple[list[bytes], LineReader]:
    reader = LineReader(path, offset)
    lines = [line for batch in reader.batches() for line in batch]
    return lines, reader


def test_reader_leaves_a_partial_line_and_resumes_from_its_end(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"one\ntwo\nthr")
    lines, reader = read_all(f)
    assert lines == [b"one", b"two"]
    assert reader.result.end == 8 and reader.result.tail == b"thr"
    with open(f, "ab") as fh:
        fh.write(b"ee\nfour\n")
    lines, reader = read_all(f, 8)
    assert lines == [b"three", b"four"]
    assert reader.result.end == f.stat().st_size and reader.result.tail == b""
    assert reader.result.head == b"one\ntwo\nthree\nfour\n"


def test_reader_decompresses_gzip_and_flags_a_truncated_stream(tmp_path: Path) -> None:
    whole = tmp_path / "a.jsonl.gz"
    whole.write_bytes(gzip.compress(b"one\ntwo\nlast"))
    lines, reader = read_all(whole)
    assert lines == [b"one", b"two"] and reader.result.tail == b"last"
    assert not reader.result.truncated
    assert read_all(whole, 4)[0] == [b"two"]  # offsets are decompressed offsets
    cut = tmp_path / "b.jsonl.gz"
    data = gzip.compress(b"".join(b"line %d\n" % i for i in range(2000)))
    cut.write_bytes(data[: len(data) // 2])
    lines, reader = read_all(cut)
    assert reader.result.truncated
    assert 0 < len(lines) < 2000 and lines[0] == b"line 0"


def test_same_file_sees_truncation_and_a_rewrite_of_the_same_size(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"first\nsecond\n")
    _lines, reader = read_all(f)
    cursor = Cursor(reader.result.ident, reader.result.end, reader.result.head)
    assert cursor.matches(f)
    f.write_bytes(b"first\n")
    assert not cursor.matches(f)  # shrank below the offset
    f.write_bytes(b"FIRST\nsecond\n")
    assert not cursor.matches(f)  # same size, other first bytes
    gz = tmp_path / "a-x.jsonl.gz"
    gz.write_bytes(gzip.compress(b"first\nsecond\n"))
    assert same_file(gz, cursor.offset, cursor.head)  # its compressed copy is the same file
    assert not same_file(tmp_path / "missing.jsonl", 0, b"")


def test_family_lists_rotations_by_stamp_plain_preferred(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_bytes(b"")
    (tmp_path / f"metrics-{STAMP2}.jsonl").write_bytes(b"")
    (tmp_path / f"metrics-{STAMP1}.jsonl.gz").write_bytes(b"")
    (tmp_path / f"metrics-{STAMP2}.jsonl.gz").write_bytes(b"")  # still compressing
    (tmp_path / f"logs-{STAMP1}.jsonl").write_bytes(b"")
    fam = list_family(tmp_path, "metrics")
    assert [r.stamp for r in fam.rotations] == [STAMP1, STAMP2]
    assert fam.rotations[0].preferred.name == f"metrics-{STAMP1}.jsonl.gz"
    assert fam.rotations[1].preferred.name == f"metrics-{STAMP2}.jsonl"
    assert len(fam.all_paths()) == 4
    assert rotated_family(f"logs-{STAMP1}.jsonl") == "logs"
    assert rotated_family("logs.jsonl") is None


@dataclass
class Stats:
    files: int = 0
    truncations: int = 0
    truncated_gz: int = 0


@dataclass
class Collect:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stats: Stats = field(default_factory=Stats)
    lines: list[bytes] = field(default_factory=list)

    def apply(self, key: str, lines: list[bytes]) -> int:
        self.lines.extend(lines)
        return len(lines)

    def apply_tail(self, key: str, tail: bytes) -> None:
        self.lines.append(tail)


def test_family_tail_reads_every_byte_once_through_rotate_and_truncate(tmp_path: Path) -> None:
    active = tmp_path / "app.jsonl"
    active.write_bytes(b"a\nb\n")
    sink = Collect()
    tail = FamilyTail("k", tmp_path, sink, "app")
    assert tail.scan() == 2
    with open(active, "ab") as fh:
        fh.write(b"c\npart")
    assert tail.scan() == 1
    # lumberjack: rename (same inode), compress, start a new active file.
    rotated = tmp_path / f"app-{STAMP1}.jsonl"
    os.rename(active, rotated)
    (tmp_path / f"app-{STAMP1}.jsonl.gz").write_bytes(gzip.compress(rotated.read_bytes()))
    rotated.unlink()
    active.write_bytes(b"d\n")
    assert tail.scan() == 2  # the rotated file's last (unterminated) line, then the new one
    assert sink.lines == [b"a", b"b", b"c", b"part", b"d"]
    active.write_bytes(b"")
    active.write_bytes(b"e\n")
    assert tail.scan() == 1
    assert sink.lines[-1] == b"e" and sink.stats.truncations == 1
    assert tail.scan() == 0


def test_backread_then_follow_reads_nothing_twice(tmp_path: Path) -> None:
    (tmp_path / f"app-{STAMP1}.jsonl.gz").write_bytes(gzip.compress(b"1\n2\n3\n"))
    active = tmp_path / "app.jsonl"
    active.write_bytes(b"4\n5\n")
    last = read_tail(tmp_path, "app", 3)
    assert last.lines == [b"3", b"4", b"5"]
    sink = Collect()
    tail = FamilyTail("k", tmp_path, sink, "app")
    start_after(tail, last)
    with open(active, "ab") as fh:
        fh.write(b"6\n")
    assert tail.scan() == 1 and sink.lines == [b"6"]


@dataclass
class Stored:
    inode: int
    offset: int
    head: bytes


def test_offsets_plan_resumes_rereads_and_skips(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    grown = tmp_path / "sub" / "grown.jsonl"
    same = tmp_path / "same.jsonl"
    rewritten = tmp_path / "rewritten.jsonl"
    (tmp_path / "other.txt").write_bytes(b"x\n")
    for f in (grown, same, rewritten):
        f.write_bytes(b"old\n")
    paths = find_files([tmp_path, tmp_path / "nope"], "*.jsonl")
    assert paths == sorted(str(f) for f in (grown, same, rewritten))
    stored = {str(f): Stored(f.stat().st_ino, 4, b"old\n") for f in (grown, same, rewritten)}
    with open(grown, "ab") as fh:
        fh.write(b"new\n")
    rewritten.write_bytes(b"NEW\nmore\n")
    tasks = {t.path.name: t for t in plan(paths, stored)}
    assert set(tasks) == {"grown.jsonl", "rewritten.jsonl"}
    assert (tasks["grown.jsonl"].start, tasks["grown.jsonl"].resumed) == (4, True)
    assert (tasks["rewritten.jsonl"].start, tasks["rewritten.jsonl"].resumed) == (0, False)
    reader, batches = read_lines(tasks["grown.jsonl"])
    assert [line for b in batches for line in b] == [b"new"]
    assert reader.result.end == 8
