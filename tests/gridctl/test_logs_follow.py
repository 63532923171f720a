"""Following logs.jsonl: a bounded tail at start, then every appended record once,
through rotation (plain and .gz siblings), partial lines and wipes."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from gridlog_lines import NS, T0, append, fixed_logs, local_ts, slog, write

from tokentop.store.gridctl.follow import SignalFollower
from tokentop.store.gridctl.logs import LogRecord, parse_lines
from tokentop.store.tail.backread import last_plain_lines, read_tail

SERVER = "prod/github"


def rec(i: int) -> str:
    return slog(local_ts(T0 + i * NS, 120), "INFO", f"call {i}", component="github", n=i)


def ns(records: list[LogRecord]) -> list[int]:
    return [r.attrs["n"] for r in records]


@pytest.fixture
def sdir(tmp_path: Path) -> Path:
    d = tmp_path / "prod" / "github"
    d.mkdir(parents=True)
    return d


def follower(tmp_path: Path, capacity: int = 10_000) -> SignalFollower[LogRecord]:
    return SignalFollower(tmp_path, "logs", parse_lines, capacity=capacity)


def test_load_reads_rotations_oldest_first_then_active(tmp_path: Path, sdir: Path) -> None:
    write(sdir / "logs-2026-05-05T10-00-00.000.jsonl.gz", [rec(i) for i in range(0, 5)], gz=True)
    write(sdir / "logs-2026-05-05T11-00-00.000.jsonl", [rec(i) for i in range(5, 9)])
    write(sdir / "logs.jsonl", [rec(i) for i in range(9, 12)])
    f = follower(tmp_path)
    records = f.load()
    assert ns(records) == list(range(12))
    assert {r.server for r in records} == {SERVER}
    assert f.servers() == [SERVER] and f.servers_with_files() == [SERVER]
    assert f.rescan() == []  # nothing read twice


def test_load_keeps_only_the_newest_capacity(tmp_path: Path, sdir: Path) -> None:
    write(sdir / "logs-2026-05-05T10-00-00.000.jsonl.gz", [rec(i) for i in range(0, 500)],
          gz=True)
    write(sdir / "logs.jsonl", [rec(i) for i in range(500, 530)])
    assert ns(follower(tmp_path, capacity=50).load()) == list(range(480, 530))
    # Enough in the active file: the rotation is not even opened (garbage would count).
    (sdir / "logs-2026-05-05T10-00-00.000.jsonl.gz").write_bytes(b"\x1f\x8bgarbage")
    f = follower(tmp_path, capacity=20)
    assert ns(f.load()) == list(range(510, 530))
    assert f.stats.truncated_gz == 0 and f.stats.malformed == 0


def test_backwards_read_of_a_large_file(tmp_path: Path) -> None:
    path = write(tmp_path / "logs.jsonl", [rec(i) + " " * (i % 97) for i in range(30_000)])
    append(path, '{"ts":"partial')  # a writer mid-line: not returned, not consumed
    lines, cursor, _ = last_plain_lines(path, 3)
    assert [line.decode().split('"n":')[1].split("}")[0] for line in lines] == \
        ["29997", "29998", "29999"]
    assert cursor.offset == path.stat().st_size - len('{"ts":"partial')
    everything, _, _ = last_plain_lines(path, 100_000)
    assert len(everything) == 30_000


def test_appends_are_read_once_and_partial_lines_wait(tmp_path: Path, sdir: Path) -> None:
    active = write(sdir / "logs.jsonl", [rec(0)])
    f = follower(tmp_path)
    assert ns(f.load()) == [0]
    text = rec(1) + "\n"
    append(active, text[:30])
    assert f.rescan() == []
    append(active, text[30:] + rec(2) + "\n")
    assert ns(f.rescan()) == [1, 2]
    assert f.rescan() == []
    assert f.stats.malformed == 0


def test_rotation_loses_nothing(tmp_path: Path, sdir: Path) -> None:
    """lumberjack renames the active file, gzips it later; lines written just before the
    rename are read from the backup, the new active file from its start."""
    active = write(sdir / "logs.jsonl", [rec(0), rec(1)])
    f = follower(tmp_path)
    assert ns(f.load()) == [0, 1]
    append(active, rec(2) + "\n")
    backup = sdir / "logs-2026-05-05T12-00-03.000.jsonl"
    os.rename(active, backup)
    write(active, [rec(3)])
    assert ns(f.rescan()) == [2, 3]
    # Compressed afterwards: the .gz of a consumed stamp is not read again.
    (sdir / (backup.name + ".gz")).write_bytes(gzip.compress(backup.read_bytes()))
    backup.unlink()
    append(active, rec(4) + "\n")
    assert ns(f.rescan()) == [4]


def test_rotation_already_compressed(tmp_path: Path, sdir: Path) -> None:
    active = write(sdir / "logs.jsonl", [rec(0)])
    f = follower(tmp_path)
    f.load()
    append(active, rec(1) + "\n")
    data = active.read_bytes()
    active.unlink()
    (sdir / "logs-2026-05-05T12-00-03.000.jsonl.gz").write_bytes(gzip.compress(data))
    write(active, [rec(2)])
    assert ns(f.rescan()) == [1, 2]


def test_wiped_file_is_read_again(tmp_path: Path, sdir: Path) -> None:
    active = write(sdir / "logs.jsonl", [rec(0), rec(1)])
    f = follower(tmp_path)
    f.load()
    active.unlink()  # gridctl's Wipe, then new records
    write(active, [rec(7)])
    assert ns(f.rescan()) == [7]
    assert f.stats.truncations == 1


def test_new_servers_and_malformed_lines(tmp_path: Path, sdir: Path) -> None:
    write(sdir / "logs.jsonl", [rec(0)])
    f = follower(tmp_path)
    f.load()
    other = tmp_path / "dev" / "search" / "logs.jsonl"
    write(other, ["{not json", fixed_logs("search", 1)[0], ""])
    new = f.rescan()
    assert [r.server for r in new] == ["dev/search"]
    assert (f.stats.malformed, f.stats.blank) == (1, 1)
    assert f.servers() == ["dev/search", SERVER]


def test_truncated_gzip_rotation_is_read_as_far_as_it_goes(tmp_path: Path, sdir: Path) -> None:
    data = gzip.compress(("\n".join(rec(i) for i in range(200)) + "\n").encode())
    (sdir / "logs-2026-05-05T11-00-00.000.jsonl.gz").write_bytes(data[: len(data) // 2])
    write(sdir / "logs.jsonl", [rec(500)])
    f = follower(tmp_path)
    records = f.load()
    assert ns(records)[-1] == 500 and len(records) > 1
    assert f.stats.truncated_gz == 1


def test_missing_root_is_an_error_not_a_crash(tmp_path: Path) -> None:
    f = SignalFollower(tmp_path / "nope", "logs", parse_lines)
    assert f.load() == []
    assert f.error is not None and "does not exist" in f.error
    tail = read_tail(tmp_path / "nope", "logs", 10)
    assert tail.lines == [] and tail.cursor is None
