"""A day of gridctl history: what a fleet of MCP servers left on disk before tokentop ran.

The history exercises every shape the store has to read (DESIGN 2.1), placed where a
real day would put them: two stacks with one gridctl each (so one flusher phase per
stack), busy and quiet servers, a server restart (reset pair), a cost reset, an old
gridctl without cost, a server that crashed between the two lines of a reset pair and
stopped, a ``__skills__`` directory, lumberjack backups (gzipped, plain, and one caught
mid-compression), zero-byte ``logs.jsonl`` files, and modification times that match.
"""

from __future__ import annotations

import contextlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from tokentop.tui.demo.activity import PROFILES, Activity, Profile
from tokentop.tui.demo.gridctl import NS, GridctlWriter, ServerWriter, ToolStat
from tokentop.tui.demo.gridlogs import CallLog, new_call_log, write_history

DEMO_MAX_BACKUPS = 8  # keeps a long-running demo's tree small


@dataclass
class DemoServer:
    """One server of the demo: how it behaves and where it writes."""

    profile: Profile
    activity: Activity
    writer: ServerWriter
    rng: random.Random
    calls: CallLog | None = None  # its logs.jsonl and traces.jsonl (tokentop.tui.demo.gridlogs)


def _set_mtime(path: Path, ts_ns: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.utime(path, ns=(ts_ns, ts_ns))


def build_history(
    root: Path,
    *,
    now_ns: int,
    seed: int,
    minutes: int,
    tz_offset_s: int = 0,
    profiles: tuple[Profile, ...] = PROFILES,
) -> tuple[GridctlWriter, list[DemoServer]]:
    """Write ``minutes`` of per-minute history ending at ``now_ns`` under ``root``."""
    writer = GridctlWriter(root, max_backups=DEMO_MAX_BACKUPS)
    stack_phase: dict[str, int] = {}
    servers = []
    now_s = now_ns // NS
    first_minute = now_s // 60 - minutes + 1
    for index, prof in enumerate(profiles):
        rng = random.Random(f"{seed}:{prof.name}")
        if prof.stack not in stack_phase:
            # One gridctl per stack: its 60 s ticker has one phase for all its servers.
            stack_phase[prof.stack] = random.Random(f"{seed}:{prof.stack}").randrange(60 * NS)
        activity = Activity(prof, rng, tz_offset_s)
        w = writer.server(prof.stack, prof.server, cost=prof.price is not None)
        w.tz_offset_s = tz_offset_s
        servers.append(DemoServer(prof, activity, w, rng))
        _write_server(w, prof, activity, rng, stack_phase[prof.stack] + index * 37_000,
                      first_minute, minutes, now_ns)
        for name in ("logs.jsonl", "traces.jsonl") if prof.stack == "prod" else ("logs.jsonl",):
            fd = os.open(w.dir / name, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        servers[-1].calls = calls = new_call_log(prof, w.dir, seed=seed, tz_offset_s=tz_offset_s)
        stopped = (prof.stopped_minutes_ago or 0) * 60 * NS
        write_history(calls, first_ns=first_minute * 60 * NS, end_ns=now_ns - stopped)
    for stack in stack_phase:
        _set_mtime(writer.skills(stack, now_ns - 3_600 * NS, {
            "code-review": ToolStat(4, now_ns - 3_660 * NS),
            "release-notes": ToolStat(1, now_ns - 20_000 * NS),
        }, tz_offset_s), now_ns - 3_600 * NS)
    return writer, servers


def _write_server(
    w: ServerWriter,
    prof: Profile,
    activity: Activity,
    rng: random.Random,
    phase_ns: int,
    first_minute: int,
    minutes: int,
    now_ns: int,
) -> None:
    """Flush once per minute, with this server's rotations and resets on the way."""
    stop_at = minutes
    if prof.stopped_minutes_ago is not None:
        stop_at = minutes - min(prof.stopped_minutes_ago, minutes // 2)
    # Where, as a fraction of the day, this server's lumberjack rotated.
    rotations = {int(stop_at * rng.uniform(0.33, 0.45)): "gz",
                 int(stop_at * rng.uniform(0.68, 0.8)): "plain"}
    if prof.name == "prod/github":
        rotations[int(stop_at * 0.15)] = "gz"
    if prof.name == "prod/filesystem":
        rotations[max(rotations)] = "partial"
    restart_at = int(minutes * 0.62) if prof.name == "prod/postgres" else -1
    cost_clear_at = int(minutes * 0.78) if prof.name == "prod/github" else -1
    backups: list[tuple[Path, int]] = []

    with w.batch():
        for i in range(stop_at):
            ts_ns = (first_minute + i) * 60 * NS + phase_ns + rng.randrange(-2_000_000, 2_000_000)
            if ts_ns > now_ns:
                break
            kind = rotations.get(i)
            if kind is not None:
                # lumberjack rotates when the write that would overflow arrives: the
                # backup is stamped a few microseconds after this line's ts was taken.
                rot_ns = ts_ns + rng.randrange(20_000, 400_000)
                backup = w.rotate(rot_ns, compress=kind == "gz", partial=kind == "partial")
                backups.append((backup, rot_ns))
            tokens, cost = activity.draw(ts_ns / NS, 60.0)
            if i == restart_at:
                w.restart(ts_ns, tokens, cost)
                continue
            if i == cost_clear_at and cost is not None:
                w.clear_cost(ts_ns, tokens, cost)
                continue
            if not tokens:
                continue  # the flusher writes nothing for a server with no deltas
            tools = activity.tool_calls(tokens) if prof.extra_keys else None
            w.flush(ts_ns, tokens, cost, tools=tools)
        if prof.stopped_minutes_ago is not None and w.last_ts_ns is not None:
            w.crash(w.last_ts_ns + 41 * NS)  # died writing a reset pair, never came back
    for backup, rot_ns in backups:
        for path in (backup, backup.with_name(backup.name + ".gz")):
            _set_mtime(path, rot_ns)
    if w.last_ts_ns is not None:
        _set_mtime(w.path, w.last_ts_ns)

