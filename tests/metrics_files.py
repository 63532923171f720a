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


def current_gridctl_tree(root: Path) -> Path:
    """A telemetry root as a current gridctl leaves it (after 2026-08-07, gridctl
    5245a795): tokens and per-tool ``tool_usage``, no ``cost_*`` anywhere, a tool-only
    line, and a ``__skills__`` writer, over the half hour before the tests' NOW
    (2026-05-05 12:30 UTC). Written by ``tokentop.tui.demo.gridctl``, which follows
    gridctl's ``MetricsFlusher.flushOnce`` (pkg/telemetry/metrics.go) byte for byte.
    """
    from tokentop.tui.demo.gridctl import NS, GridctlWriter, Tokens, ToolStat

    t0 = 1_777_982_400 * NS  # 2026-05-05T12:00:00Z
    writer = GridctlWriter(root)
    gh = writer.server("prod", "github", cost=False)
    fs = writer.server("prod", "filesystem", cost=False)
    for i in range(0, 30, 3):
        ts = t0 + i * 60 * NS + 4_250_000_000
        gh.flush(ts, Tokens(900 + 10 * i, 300), tools={
            "search_code": (2, 600 + 10 * i, 200), "create_issue": (1, 300, 100)})
        fs.flush(ts + 37_000, Tokens(120, 2400 + i), tools={"read_file": (3, 120, 2400 + i)})
    gh.flush(t0 + 29 * 60 * NS, Tokens(), tools={"list_pull_requests": (1, 0, 0)})
    writer.skills("prod", t0 + 20 * 60 * NS, {
        "code-review": ToolStat(3, t0 + 20 * 60 * NS),
        "release-notes": ToolStat(1, t0 + 5 * 60 * NS)})
    return root
