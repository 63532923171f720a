"""A gridctl metrics writer: MetricsFlusher lines and lumberjack rotation, byte for byte.

The demo, the tests and the benchmarks need telemetry trees that look exactly like the
ones gridctl leaves on disk (DESIGN 2.1), because that is what the store has to cope
with: Go's RFC 3339 timestamps with trimmed nanoseconds, ``omitempty`` cost fields,
reset pairs, cost resets, and lumberjack's rename-then-compress rotation during which a
plain backup, a half-written ``.gz`` and a fresh active file coexist. Writing those by
hand in every test drifts from the real thing; this module is the one place that knows.

Nothing here is random and nothing reads the clock: every line gets the time it is
given (integer nanoseconds since the epoch), so a caller with a seeded generator and an
injected start time gets the same tree, byte for byte, every run.

The writer also keeps what a faithful replay must find (``ServerWriter.ring_tokens``,
``ring_cost``, ``reported_total``...), so tests compare the store to the writer rather
than to numbers worked out by hand.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

NS = 1_000_000_000
DIR_MODE = 0o700
FILE_MODE = 0o600
GZIP_LEVEL = 6  # Go's gzip.DefaultCompression, what lumberjack uses
SKILLS_DIR = "__skills__"


# -- values ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tokens:
    """gridctl's ``metrics.TokenCounts`` (``total_tokens`` is always input + output)."""

    input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(self.input + other.input, self.output + other.output)

    def __bool__(self) -> bool:
        return bool(self.input or self.output)

    def json(self) -> str:
        return (
            f'{{"input_tokens":{self.input},"output_tokens":{self.output},'
            f'"total_tokens":{self.input + self.output}}}'
        )


@dataclass(frozen=True, slots=True)
class Cost:
    """gridctl's ``metrics.CostMicroUSDCounts``: micro-USD, every part ``omitempty``."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def micro_usd(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.input + other.input,
            self.output + other.output,
            self.cache_read + other.cache_read,
            self.cache_write + other.cache_write,
        )

    def __bool__(self) -> bool:
        return bool(self.input or self.output or self.cache_read or self.cache_write)

    def json(self) -> str:
        # Go's omitempty drops zero parts, so ``{}`` is a valid (all-zero) cost.
        parts = []
        if self.input:
            parts.append(f'"input_micro_usd":{self.input}')
        if self.output:
            parts.append(f'"output_micro_usd":{self.output}')
        if self.cache_read:
            parts.append(f'"cache_read_micro_usd":{self.cache_read}')
        if self.cache_write:
            parts.append(f'"cache_write_micro_usd":{self.cache_write}')
        return "{" + ",".join(parts) + "}"


ZERO_TOKENS = Tokens()
ZERO_COST = Cost()
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # time.Time{} as JSON: omitempty never drops a struct


@dataclass(frozen=True, slots=True)
class ToolStat:
    """gridctl's ``metrics.ToolStat`` (``pkg/metrics/accumulator.go``): cumulative calls,
    the last call (``None``: the zero time) and, since per-tool attribution, the tool's
    own input/output tokens (``omitempty``)."""

    calls: int = 0
    last_ns: int | None = None
    input: int = 0
    output: int = 0

    def json(self, tz_offset_s: int = 0) -> str:
        # ``time.Unix(0, nanos)`` is local time: the offset is the gateway's zone.
        last = GO_ZERO_TIME if self.last_ns is None else go_time_local(self.last_ns, tz_offset_s)
        text = f'{{"calls":{self.calls},"last_called_at":"{last}"'
        if self.input:
            text += f',"input_tokens":{self.input}'
        if self.output:
            text += f',"output_tokens":{self.output}'
        return text + "}"


def usage_json(usage: Mapping[str, ToolStat], tz_offset_s: int = 0) -> str:
    """A ``tool_usage``/``prompt_usage`` map as Go marshals it: keys sorted, compact."""
    return "{" + ",".join(f"{json.dumps(k)}:{usage[k].json(tz_offset_s)}"
                          for k in sorted(usage)) + "}"


def _cost_json(inp: int, out: int, cache_read: int, cache_write: int) -> str:
    """``Cost.json`` without building a Cost: the bulk writer's hot path."""
    if inp and out and not cache_read and not cache_write:
        return f'{{"input_micro_usd":{inp},"output_micro_usd":{out}}}'
    return Cost(inp, out, cache_read, cache_write).json()


# -- time ------------------------------------------------------------------------------

_minute_prefix: dict[int, str] = {}


def go_time(ts_ns: int) -> str:
    """Format like Go's ``time.Time`` JSON (RFC3339Nano, UTC): trailing zeros trimmed.

    ``2026-05-05T12:01:00.48213Z``, or ``2026-05-05T12:01:00Z`` on a whole second. The
    calendar part is cached per minute: the benchmark formats a million of these.
    """
    sec, frac = divmod(ts_ns, NS)
    minute, s = divmod(sec, 60)
    prefix = _minute_prefix.get(minute)
    if prefix is None:
        if len(_minute_prefix) > 50_000:
            _minute_prefix.clear()
        prefix = _minute_prefix[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
    if frac:
        return f"{prefix}{s:02d}.{f'{frac:09d}'.rstrip('0')}Z"
    return f"{prefix}{s:02d}Z"


def go_time_local(ts_ns: int, tz_offset_s: int) -> str:
    """Go's RFC3339Nano of a ``time.Time`` in a zone ``tz_offset_s`` east of UTC
    (``Z`` when that zone is UTC, ``+02:00`` otherwise)."""
    if not tz_offset_s:
        return go_time(ts_ns)
    local = go_time(ts_ns + tz_offset_s * NS)[:-1]
    sign = "+" if tz_offset_s > 0 else "-"
    hours, minutes = divmod(abs(tz_offset_s) // 60, 60)
    return f"{local}{sign}{hours:02d}:{minutes:02d}"


def rotation_stamp(ts_ns: int) -> str:
    """lumberjack's backup time format ``2006-01-02T15-04-05.000`` (UTC, ms truncated)."""
    sec, frac = divmod(ts_ns, NS)
    return time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(sec)) + f".{frac // 1_000_000:03d}"


# -- lines -----------------------------------------------------------------------------


def snapshot_line(
    ts: str,
    server_json: str,
    diff: Tokens,
    total: Tokens,
    cost_diff: Cost | None = None,
    cost_total: Cost | None = None,
    *,
    reset: bool = False,
    cost_reset: bool = False,
    extra: str = "",
) -> str:
    """One ``MetricsSnapshotLine`` in Go's field order, compact, without the newline.

    ``server_json`` is the already-quoted server name; ``extra`` is raw ``,"k":v`` text
    appended as a newer gridctl's extra keys (``tool_usage``...) would be.
    """
    flags = ('"reset":true,' if reset else "") + ('"cost_reset":true,' if cost_reset else "")
    cost = ""
    if cost_diff is not None:
        cost += f',"cost_diff":{cost_diff.json()}'
    if cost_total is not None:
        cost += f',"cost_total":{cost_total.json()}'
    return (
        f'{{"ts":"{ts}","server":{server_json},{flags}"diff":{diff.json()},'
        f'"total":{total.json()}{cost}{extra}}}'
    )


def sentinel_line(ts: str, server_json: str) -> str:
    """The light reset sentinel gridctl writes before a reset line."""
    return f'{{"reset":true,"ts":"{ts}","server":{server_json}}}'


# -- files -----------------------------------------------------------------------------


def make_dir(path: Path) -> None:
    """``mkdir -p`` with gridctl's 0700 on every directory it creates."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=DIR_MODE)
        os.chmod(d, DIR_MODE)  # the umask must not widen or narrow what gridctl sets


def compress_file(src: Path, *, partial: bool = False) -> Path:
    """lumberjack's ``compressLogFile``: write ``src.gz`` (mode 0600), then remove ``src``.

    With ``partial`` only the first half of the gzip stream is written and ``src`` is
    kept: the state a reader sees while lumberjack is still compressing.
    """
    dst = src.with_name(src.name + ".gz")
    data = gzip.compress(src.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)
    if partial:
        data = data[: len(data) // 2]
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    if not partial:
        os.remove(src)
    return dst


class ServerWriter:
    """One server's ``metrics.jsonl`` family: gridctl's flusher state plus lumberjack.

    The flusher part keeps the cumulative ``total``/``cost_total`` and writes diff lines,
    reset pairs and cost resets. The lumberjack part appends each line with one write,
    rotates by size (``max_bytes``) or on request, compresses backups (at once or
    ``deferred`` until ``mill()``, like lumberjack's goroutine) and prunes beyond
    ``max_backups``.

    With ``batch()`` lines are gathered in memory and written in one go: fast history,
    same bytes. Outside a batch every line reaches the file before the call returns,
    which is what a follower sees from a real gridctl.
    """

    def __init__(
        self,
        directory: Path,
        server: str,
        *,
        cost: bool = True,
        max_bytes: int | None = None,
        max_backups: int | None = None,
    ) -> None:
        self.dir = directory
        self.server = server
        self.server_json = json.dumps(server)
        self.cost_enabled = cost  # False: a gridctl from before cost persistence
        self.max_bytes = max_bytes
        self.max_backups = max_backups
        make_dir(directory)
        self.path = directory / "metrics.jsonl"

        # flusher state
        self.total = ZERO_TOKENS
        self.cost_total: Cost | None = None
        self.tools: dict[str, ToolStat] = {}  # the accumulator's cumulative per-tool usage
        self.tz_offset_s = 0  # the gateway's local zone, for ``last_called_at``
        self._tool_parts: dict[str, str] = {}  # tool -> its rendered ``"name":{...}``
        self._tool_order: list[str] = []
        # what a replay must end up with (DESIGN 2.1 replay semantics)
        self.reported_total = ZERO_TOKENS  # ``total`` of the last line (sentinel: zero)
        self.reported_cost: int | None = None  # last non-missing ``cost_total``
        self.ring_tokens = ZERO_TOKENS  # sum of the diffs the ring must hold
        self.ring_cost = 0
        self.lines = 0
        self.last_ts_ns: int | None = None

        # lumberjack state
        self.size = self.path.stat().st_size if self.path.exists() else 0
        self.backups: list[Path] = []  # rotated files, oldest first (plain or .gz)
        self.pending: list[Path] = []  # rotated, not yet compressed (deferred)
        self._batch: list[bytes] | None = None

    @property
    def reported_tools(self) -> dict[str, ToolStat]:
        """What SeedFromFile restores: the last map written, none since a reset."""
        return dict(self.tools)

    # -- flusher -------------------------------------------------------------------
    def flush(
        self,
        ts_ns: int,
        diff: Tokens,
        cost: Cost | None = None,
        *,
        extra: str = "",
        tools: Mapping[str, tuple[int, int, int]] | None = None,
    ) -> None:
        """One flush with activity ``diff`` (and ``cost``) since the previous one.

        As gridctl: cost fields only when this minute had cost, so token-only lines stay
        byte-identical to the pre-cost schema; a server without cost never has them.
        ``tools`` are this minute's calls per tool as ``(calls, input, output)``
        (``RecordToolCallUsage``); once the server has any, every line carries the whole
        cumulative map (``flushOnce``). A zero ``diff`` with ``tools`` is the line
        gridctl writes when only tool usage changed.
        """
        self.total = self.total + diff
        cost_diff = cost_total = None
        if self.cost_enabled and cost:
            cost_diff = cost
            cost_total = self.cost_total = (self.cost_total or ZERO_COST) + cost
        if tools:
            parts = self._tool_parts
            for name, (calls, inp, out) in tools.items():
                old = self.tools.get(name, ToolStat())
                stat = self.tools[name] = ToolStat(old.calls + calls, ts_ns,
                                                   old.input + inp, old.output + out)
                if name not in parts:
                    self._tool_order = sorted([*parts, name])
                parts[name] = f"{json.dumps(name)}:{stat.json(self.tz_offset_s)}"
        if self.tools:
            # usage_json, with only the tools that changed re-rendered: the demo's day
            # of history writes thousands of these maps before the first paint.
            usage = ",".join(self._tool_parts[k] for k in self._tool_order)
            extra = f',"tool_usage":{{{usage}}}{extra}'
        ts = go_time(ts_ns)
        self._write_line(
            snapshot_line(ts, self.server_json, diff, self.total, cost_diff, cost_total,
                          extra=extra),
            ts_ns,
        )
        self.reported_total = self.total
        if cost_total is not None:
            self.reported_cost = cost_total.micro_usd
        self.ring_tokens = self.ring_tokens + diff
        if cost_diff is not None:
            self.ring_cost += cost_diff.micro_usd

    def flush_many(self, rows: Iterable[tuple[int, int, int, int, int]]) -> int:
        """Many plain flushes at once, for benchmarks: a million lines in seconds.

        Each row is ``(ts_ns, input, output, input_micro_usd, output_micro_usd)`` and
        gives the same bytes and the same bookkeeping as ``flush(ts_ns, Tokens(input,
        output), Cost(input=..., output=...))``, without an object per line. Rows are
        written in one go (no size rotation inside: rotate between calls). Returns the
        number of lines written.
        """
        if self.max_bytes is not None:
            n = 0
            for ts_ns, inp, out, ci, co in rows:
                self.flush(ts_ns, Tokens(inp, out), Cost(input=ci, output=co))
                n += 1
            return n
        sj = self.server_json
        ti, to = self.total.input, self.total.output
        ct = self.cost_total
        has_ct = ct is not None
        cti, cto, ctr, ctw = (ct.input, ct.output, ct.cache_read, ct.cache_write) if ct else (
            0, 0, 0, 0)
        ri, ro, rc = 0, 0, 0
        cost_on = self.cost_enabled
        out_lines: list[str] = []
        append = out_lines.append
        last_ts = None
        for ts_ns, inp, out, ci, co in rows:
            ti += inp
            to += out
            ri += inp
            ro += out
            head = (
                f'{{"ts":"{go_time(ts_ns)}","server":{sj},"diff":{{"input_tokens":{inp},'
                f'"output_tokens":{out},"total_tokens":{inp + out}}},"total":{{"input_tokens":'
                f'{ti},"output_tokens":{to},"total_tokens":{ti + to}}}'
            )
            if cost_on and (ci or co):
                cti += ci
                cto += co
                rc += ci + co
                has_ct = True
                append(
                    f'{head},"cost_diff":{_cost_json(ci, co, 0, 0)},'
                    f'"cost_total":{_cost_json(cti, cto, ctr, ctw)}}}\n'
                )
            else:
                append(head + "}\n")
            last_ts = ts_ns
        if not out_lines:
            return 0
        data = "".join(out_lines).encode()
        if self._batch is not None:
            self._batch.append(data)
        else:
            self._append(data)
        self.size += len(data)
        self.lines += len(out_lines)
        self.last_ts_ns = last_ts
        self.total = self.reported_total = Tokens(ti, to)
        if has_ct:
            self.cost_total = Cost(cti, cto, ctr, ctw)
            self.reported_cost = self.cost_total.micro_usd
        self.ring_tokens = self.ring_tokens + Tokens(ri, ro)
        self.ring_cost += rc
        return len(out_lines)

    def restart(self, ts_ns: int, snapshot: Tokens, cost: Cost | None = None) -> None:
        """A token counter reset (server restart): sentinel, then the reset line.

        The counters start again from zero, so the reset line's ``diff`` and ``total``
        are both the whole new snapshot; the cost side restarts with them
        (``cost_reset``). Replay adds nothing from the reset line to the series.
        """
        ts = go_time(ts_ns)
        self._write_line(sentinel_line(ts, self.server_json), ts_ns)
        self.reported_total = ZERO_TOKENS
        self.total = snapshot
        self.tools = {}  # a counter reset clears tool usage with the tokens
        self._tool_parts, self._tool_order = {}, []
        cost_diff = cost_total = None
        if self.cost_enabled and (cost or self.cost_total is not None):
            cost_diff = cost_total = self.cost_total = cost or ZERO_COST
        self._write_line(
            snapshot_line(ts, self.server_json, snapshot, snapshot, cost_diff, cost_total,
                          reset=True, cost_reset=cost_diff is not None),
            ts_ns,
        )
        self.reported_total = snapshot
        if cost_total is not None:
            self.reported_cost = cost_total.micro_usd

    def crash(self, ts_ns: int) -> None:
        """gridctl died between the two lines of a reset pair: a sentinel is the last line."""
        self._write_line(sentinel_line(go_time(ts_ns), self.server_json), ts_ns)
        self.reported_total = ZERO_TOKENS
        self.total = ZERO_TOKENS
        self.tools = {}
        self._tool_parts, self._tool_order = {}, []

    def clear_cost(self, ts_ns: int, diff: Tokens, cost_since_clear: Cost) -> None:
        """An independent cost reset: the line adds its tokens, its cost is a snapshot."""
        if not self.cost_enabled:
            raise ValueError(f"{self.server}: this gridctl does not persist cost")
        self.total = self.total + diff
        self.cost_total = cost_since_clear
        ts = go_time(ts_ns)
        self._write_line(
            snapshot_line(ts, self.server_json, diff, self.total, cost_since_clear,
                          cost_since_clear, cost_reset=True),
            ts_ns,
        )
        self.reported_total = self.total
        self.reported_cost = cost_since_clear.micro_usd
        self.ring_tokens = self.ring_tokens + diff

    def write_raw(self, text: str, ts_ns: int | None = None) -> None:
        """Append an arbitrary line (no newline in ``text``): for tolerance tests."""
        self._write_line(text, ts_ns)

    # -- lumberjack ----------------------------------------------------------------
    def _write_line(self, text: str, ts_ns: int | None) -> None:
        data = (text + "\n").encode()
        if self.max_bytes is not None and self.size and self.size + len(data) > self.max_bytes:
            # lumberjack rotates before a write that would overflow: lines never straddle.
            self.rotate(ts_ns if ts_ns is not None else time.time_ns(), compress="deferred")
        if self._batch is not None:
            self._batch.append(data)
        else:
            self._append(data)
        self.size += len(data)
        self.lines += 1
        if ts_ns is not None:
            self.last_ts_ns = ts_ns

    def _append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Gather lines in memory and write them at the end (or before a rotation)."""
        outer = self._batch is not None
        if not outer:
            self._batch = []
        try:
            yield
        finally:
            if not outer:
                self._drain()
                self._batch = None

    def _drain(self) -> None:
        if self._batch:
            self._append(b"".join(self._batch))
            self._batch.clear()
        elif not self.path.exists():
            self.touch()

    def touch(self) -> None:
        """Create the active file (zero bytes is normal) if it does not exist."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)

    def rotate(self, ts_ns: int, *, compress: bool | str = True, partial: bool = False) -> Path:
        """Rename the active file to its backup name, start a new one, then compress.

        ``compress``: True gzips at once (rename, new active, write ``.gz``, remove the
        plain file); ``"deferred"`` leaves that to ``mill()``, as lumberjack's goroutine
        does; False keeps a plain backup. ``partial`` leaves a half-written ``.gz`` next
        to the plain backup: lumberjack caught mid-compression. Returns the backup path.
        """
        if self._batch is not None:
            self._drain()
        if not self.path.exists():
            self.touch()
        backup = self.dir / f"metrics-{rotation_stamp(ts_ns)}.jsonl"
        if backup.exists() or backup.with_name(backup.name + ".gz").exists():
            raise FileExistsError(f"two rotations in one millisecond: {backup}")
        os.rename(self.path, backup)
        self.touch()
        self.size = 0
        self.backups.append(backup)
        if partial:
            compress_file(backup, partial=True)
        elif compress == "deferred":
            self.pending.append(backup)
        elif compress:
            self.backups[-1] = compress_file(backup)
            self._prune()
        return self.backups[-1]

    def mill(self) -> list[Path]:
        """Compress deferred backups and prune old ones (lumberjack's ``millRunOnce``)."""
        done = []
        for backup in self.pending:
            if backup.exists():
                gz = compress_file(backup)
                self.backups[self.backups.index(backup)] = gz
                done.append(gz)
        self.pending.clear()
        self._prune()
        return done

    def _prune(self) -> None:
        if self.max_backups is None:
            return
        while len(self.backups) > self.max_backups:
            old = self.backups.pop(0)
            for p in (old, old.with_name(old.name + ".gz")):
                with suppress(FileNotFoundError):
                    os.remove(p)
            if old in self.pending:
                self.pending.remove(old)


class GridctlWriter:
    """A telemetry root as gridctl writes it: ``<root>/<stack>/<server>/metrics.jsonl``.

    Each server gets a ``ServerWriter`` (one flusher output, one lumberjack file);
    ``skills`` writes the ``__skills__`` directory a stack may have, which is not a
    server and which the store must ignore.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int | None = None,
        max_backups: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.max_backups = max_backups
        make_dir(self.root)
        self.servers: dict[str, ServerWriter] = {}
        self.skill_lines = 0  # lines written by skills(): read, and counted, like any other

    def server(self, stack: str, server: str, *, cost: bool = True) -> ServerWriter:
        """The writer of ``stack/server`` (created on first use), keyed like the store."""
        key = f"{stack}/{server}"
        w = self.servers.get(key)
        if w is None:
            w = self.servers[key] = ServerWriter(
                self.root / stack / server,
                server,
                cost=cost,
                max_bytes=self.max_bytes,
                max_backups=self.max_backups,
            )
        return w

    def skills(self, stack: str, ts_ns: int, prompt_usage: Mapping[str, ToolStat],
               tz_offset_s: int = 0) -> Path:
        """Append a line of the prompt-usage writer to ``<stack>/__skills__/metrics.jsonl``.

        As ``flushOnce`` writes it: zero ``diff`` and ``total`` (not ``omitempty``), and
        the cumulative per-skill ``prompt_usage`` (calls and last use, never tokens).
        """
        directory = self.root / stack / SKILLS_DIR
        make_dir(directory)
        path = directory / "metrics.jsonl"
        usage = usage_json(prompt_usage, tz_offset_s)
        line = (f'{{"ts":"{go_time(ts_ns)}","server":"{SKILLS_DIR}","diff":{ZERO_TOKENS.json()},'
                f'"total":{ZERO_TOKENS.json()},"prompt_usage":{usage}}}\n')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        self.skill_lines += 1
        return path

    def mill(self) -> None:
        for w in self.servers.values():
            if w.pending:
                w.mill()

    def expected_ring_tokens(self, names: Iterable[str] | None = None) -> Tokens:
        """What the fleet series of a faithful replay must sum to."""
        total = ZERO_TOKENS
        for name, w in self.servers.items():
            if names is None or name in names:
                total = total + w.ring_tokens
        return total
