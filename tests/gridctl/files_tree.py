"""Write gridctl telemetry families (active file, plain and .gz backups) with fixed mtimes.

Shared by the inventory and wipe tests, the Files screen's pilot and snapshot tests
and the Files bench. Sizes and modification times are chosen by the caller (``os.utime``)
so expected sums, spans and "last write" texts are known without running the code
under test, and identical on every machine.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 5, 5, 12, 30, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
DAY = 86400.0


def metrics_bytes(n: int, server: str = "github") -> bytes:
    """``n`` valid gridctl metrics lines (the app replays them; they must parse)."""
    out = []
    for i in range(n):
        out.append(json.dumps({
            "ts": f"2026-05-0{1 + i % 5}T10:{i % 60:02d}:00Z", "server": server,
            "diff": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
            "total": {"input_tokens": i + 1, "output_tokens": i + 1, "total_tokens": 2 * i + 2},
        }, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode() if out else b""


def content(signal: str, size: int) -> bytes:
    """Exactly ``size`` bytes of whole lines: valid metrics lines for ``metrics``."""
    if size <= 0:
        return b""
    if signal != "metrics":
        return b"a" * (size - 1) + b"\n"
    data = metrics_bytes(size // 100 + 1)
    cut = data.rfind(b"\n", 0, size) + 1  # whole lines only, then blank lines to pad
    return data[:cut] + b"\n" * (size - cut)


def gz_bytes(data: bytes) -> bytes:
    """gzip with stored blocks: the same size with every zlib (snapshots show sizes)."""
    return gzip.compress(data, compresslevel=0, mtime=0)


def put(path: Path, data: bytes, mtime: float) -> Path:
    """One file as gridctl writes it (dirs 0700, files 0600), with a fixed mtime."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    path.chmod(0o600)
    os.utime(path, (mtime, mtime))
    return path


@dataclass(frozen=True)
class Backup:
    """A rotated sibling: its stamp, plain or gz (or both while compressing), mtime.

    ``size`` is the plain file's; the ``.gz`` holds the same bytes, a little larger.
    """

    stamp: str
    mtime: float
    size: int = 100
    gz: bool = False
    plain: bool = True


def family(server_dir: Path, signal: str, *, active: tuple[int, float] | None,
           backups: tuple[Backup, ...] = ()) -> list[Path]:
    """Write ``<signal>.jsonl`` (size, mtime) and its backups; returns the paths written."""
    written = []
    for b in backups:
        name = f"{signal}-{b.stamp}.jsonl"
        data = content(signal, b.size)
        if b.plain:
            written.append(put(server_dir / name, data, b.mtime))
        if b.gz:
            written.append(put(server_dir / (name + ".gz"), gz_bytes(data), b.mtime))
    if active is not None:
        size, mtime = active
        written.append(put(server_dir / f"{signal}.jsonl", content(signal, size), mtime))
    return written


def screen_tree(root: Path) -> Path:
    """The Files screen's fixed tree (snapshots, pilot tests, screenshots).

    - prod/github: logs (active + a .gz and a plain backup), metrics (active + a plain
      backup that is also half compressed), traces (active)
    - prod/slack: logs (a zero-byte active file), metrics (active)
    - dev/search: traces only, last written two days ago
    - dev/idle: a server directory with no files (no record)
    - dev/__skills__: metrics.jsonl (not a server: no record)
    - prod/github/notes.txt: an unrelated file (never counted, never wiped)
    """
    gh = root / "prod" / "github"
    family(gh, "logs", active=(48_000, NOW - 60), backups=(
        Backup("2026-05-01T08-00-00.000", NOW - 4 * DAY, 9_500, gz=True, plain=False),
        Backup("2026-05-03T08-00-00.000", NOW - 2 * DAY, 100_000_000 // 1000),
    ))
    family(gh, "metrics", active=(30_000, NOW - 30), backups=(
        Backup("2026-05-04T12-00-00.000", NOW - DAY, 120_000, gz=True),
    ))
    family(gh, "traces", active=(2_500_000, NOW - 5))
    put(gh / "notes.txt", b"keep me\n", NOW - 3 * DAY)
    slack = root / "prod" / "slack"
    family(slack, "logs", active=(0, NOW - 3 * HOUR))
    family(slack, "metrics", active=(4_500, NOW - 90))
    family(root / "dev" / "search", "traces", active=(700_000, NOW - 2 * DAY - 5 * HOUR),
           backups=(Backup("2026-04-28T00-00-00.000", NOW - 7 * DAY, 1_000_000, gz=True,
                           plain=False),))
    (root / "dev" / "idle").mkdir(parents=True, mode=0o700)
    put(root / "dev" / "__skills__" / "metrics.jsonl",
        b'{"ts":"2026-05-05T12:00:00Z","server":"__skills__","prompt_usage":{"p":1}}\n',
        NOW - 600)
    return root
