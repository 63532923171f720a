"""Helpers that write gridctl metrics files the way gridctl does, for the store tests."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path


def metrics_line(
    ts: str,
    server: str = "github",
    diff: tuple[int, int] = (0, 0),
    total: tuple[int, int] = (0, 0),
    cost_diff: dict | None = None,
    cost_total: dict | None = None,
    **extra: object,
) -> str:
    obj: dict[str, object] = {
        "ts": ts,
        "server": server,
        "diff": {"input_tokens": diff[0], "output_tokens": diff[1], "total_tokens": sum(diff)},
        "total": {"input_tokens": total[0], "output_tokens": total[1], "total_tokens": sum(total)},
    }
    if cost_diff is not None:
        obj["cost_diff"] = cost_diff
    if cost_total is not None:
        obj["cost_total"] = cost_total
    obj.update(extra)
    return json.dumps(obj, separators=(",", ":"))


def server_dir(root: Path, stack: str = "stack-a", server: str = "github") -> Path:
    d = root / stack / server
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def write(path: Path, lines: list[str], *, newline: str = "\n", mode: str = "w") -> Path:
    with open(path, mode, newline="") as fh:
        fh.write("".join(line + newline for line in lines))
    return path


def append(path: Path, text: str) -> None:
    with open(path, "a", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_gz(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", newline="") as fh:
        fh.write("".join(line + "\n" for line in lines))
    return path


def rotate(active: Path, stamp: str, *, compress: bool = False) -> Path:
    """lumberjack's rotation: rename the active file, optionally gzip and remove it."""
    rotated = active.with_name(f"metrics-{stamp}.jsonl")
    os.rename(active, rotated)
    if compress:
        with open(rotated, "rb") as src, gzip.open(str(rotated) + ".gz", "wb") as dst:
            dst.write(src.read())
        os.remove(rotated)
        return Path(str(rotated) + ".gz")
    return rotated
