"""The demo tree and the gridctl writer, checked against the store that will read them.

Everything here uses real files: the point of the demo writer is that the store cannot
tell it from gridctl, so the checks are the store's replay and follower agreeing with
what the writer says it wrote (every line once, the same totals).
"""

from __future__ import annotations

import gzip
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import tokentop.tui.demo.live as live_mod
from tokentop.store.metrics import MetricsSource
from tokentop.tui.demo import build_demo
from tokentop.tui.demo.activity import PROFILES
from tokentop.tui.demo.cleanup import MARKER, sweep_stale
from tokentop.tui.demo.gridctl import (
    NS,
    Cost,
    GridctlWriter,
    ServerWriter,
    Tokens,
    go_time,
    rotation_stamp,
)
from tokentop.tui.demo.live import LiveWriter

NOW = 1_778_000_000.0  # 2026-05-05T16:53:20Z: a fixed "now" for deterministic trees
T0 = int(NOW) * NS


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.02)
    return condition()


def ring_sum(src: MetricsSource, server: str | None) -> tuple[int, int, int]:
    ring = src.ring
    head = ring.head
    if head is None:
        return (0, 0, 0)
    p = ring.total(server, head - ring.capacity + 1, head)
    return (p.input_tokens, p.output_tokens, p.cost_micro_usd)


def assert_matches_writer(src: MetricsSource, writer: GridctlWriter) -> None:
    """The ring and the totals hold exactly what the writer says it wrote."""
    for name, w in writer.servers.items():
        expected = (w.ring_tokens.input, w.ring_tokens.output, w.ring_cost)
        assert ring_sum(src, name) == expected, name
        totals = src.state.totals[name]
        assert (totals.tokens.input_tokens, totals.tokens.output_tokens) == (
            w.reported_total.input,
            w.reported_total.output,
        ), name
        assert totals.tokens.total_tokens == w.reported_total.total, name
        assert totals.cost_micro_usd == w.reported_cost, name
    fleet = writer.expected_ring_tokens()
    fleet_cost = sum(w.ring_cost for w in writer.servers.values())
    assert ring_sum(src, None) == (fleet.input, fleet.output, fleet_cost)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def all_text(server_dir: Path) -> str:
    """Every metrics line of one server, rotated (plain or gzipped) and active."""
    parts = []
    for p in sorted(server_dir.glob("metrics*")):
        data = p.read_bytes()
        parts.append(gzip.decompress(data) if p.name.endswith(".gz") else data)
    return b"".join(parts).decode()


# -- the format --------------------------------------------------------------------------


def test_go_time_trims_like_rfc3339nano() -> None:
    base = 1_777_982_460 * NS  # 2026-05-05T12:01:00Z
    assert go_time(base + 482_130_000) == "2026-05-05T12:01:00.48213Z"
    assert go_time(base) == "2026-05-05T12:01:00Z"
    assert go_time(base + 5) == "2026-05-05T12:01:00.000000005Z"
    assert rotation_stamp(base + 482_999_999) == "2026-05-05T12-01-00.482"


def test_lines_are_gridctls(tmp_path: Path) -> None:
    w = ServerWriter(tmp_path / "s" / "github", "github")
    w.flush(T0 + 480_000_000, Tokens(25, 10), Cost(input=50_000))
    w.flush(T0 + 60 * NS, Tokens(100, 50))  # a token-only minute: no cost fields at all
    w.restart(T0 + 120 * NS, Tokens(7, 3), Cost(output=9))
    w.clear_cost(T0 + 180 * NS, Tokens(1, 1), Cost())
    lines = w.path.read_text().splitlines()
    assert lines == [
        '{"ts":"2026-05-05T16:53:20.48Z","server":"github",'
        '"diff":{"input_tokens":25,"output_tokens":10,"total_tokens":35},'
        '"total":{"input_tokens":25,"output_tokens":10,"total_tokens":35},'
        '"cost_diff":{"input_micro_usd":50000},"cost_total":{"input_micro_usd":50000}}',
        '{"ts":"2026-05-05T16:54:20Z","server":"github",'
        '"diff":{"input_tokens":100,"output_tokens":50,"total_tokens":150},'
        '"total":{"input_tokens":125,"output_tokens":60,"total_tokens":185}}',
        '{"reset":true,"ts":"2026-05-05T16:55:20Z","server":"github"}',
        '{"ts":"2026-05-05T16:55:20Z","server":"github","reset":true,"cost_reset":true,'
        '"diff":{"input_tokens":7,"output_tokens":3,"total_tokens":10},'
        '"total":{"input_tokens":7,"output_tokens":3,"total_tokens":10},'
        '"cost_diff":{"output_micro_usd":9},"cost_total":{"output_micro_usd":9}}',
        '{"ts":"2026-05-05T16:56:20Z","server":"github","cost_reset":true,'
        '"diff":{"input_tokens":1,"output_tokens":1,"total_tokens":2},'
        '"total":{"input_tokens":8,"output_tokens":4,"total_tokens":12},'
        '"cost_diff":{},"cost_total":{}}',
    ]
    assert stat.S_IMODE(w.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(w.dir.stat().st_mode) == 0o700


def test_rotation_is_lumberjacks(tmp_path: Path) -> None:
    w = ServerWriter(tmp_path / "s" / "github", "github")
    w.flush(T0, Tokens(1, 1))
    first = w.path.read_bytes()
    gz = w.rotate(T0 + 1_234_567_891)
    assert gz.name == "metrics-2026-05-05T16-53-21.234.jsonl.gz"
    assert not gz.with_suffix("").exists()  # the plain file is removed after compressing
    assert gzip.decompress(gz.read_bytes()) == first
    assert w.path.exists() and w.path.stat().st_size == 0
    plain = w.rotate(T0 + 2 * NS, compress="deferred")
    assert plain.exists() and not plain.with_name(plain.name + ".gz").exists()
    assert [p.name for p in w.mill()] == [plain.name + ".gz"]
    assert not plain.exists()
    half = w.rotate(T0 + 3 * NS, partial=True)  # caught mid-compression: both exist
    assert half.exists() and half.with_name(half.name + ".gz").exists()
    for p in w.dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


# -- the demo tree -----------------------------------------------------------------------


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    return tmp_path / "telemetry"


def test_build_demo_replays_cleanly(demo_root: Path) -> None:
    # Synchronous, before the first paint: under a second of this process's CPU (wall
    # time would count the other test worker on the same cores too).
    started = time.process_time()
    tree = build_demo(demo_root, now=NOW, seed=7)
    assert time.process_time() - started < 1.0
    try:
        assert tree.root == demo_root
        src = MetricsSource(tree.root)
        assert src.replay() > 1000
        st = src.state.stats
        assert (st.malformed, st.blank, st.truncated_gz, st.truncations) == (0, 0, 0, 0)

        expected = {p.name for p in PROFILES}
        assert set(src.ring.servers()) == expected
        assert not any("__skills__" in name for name in src.ring.servers())
        skills = tree.root / "prod" / "__skills__" / "metrics.jsonl"
        assert '"prompt_usage"' in skills.read_text()
        assert_matches_writer(src, tree.writer)

        for name in expected:
            names = [p.name for p in (tree.root / name).iterdir()]
            assert "metrics.jsonl" in names
            assert any(n.endswith(".jsonl.gz") for n in names), name
            assert any(n.startswith("metrics-") and n.endswith(".jsonl") for n in names), name

        # The shapes the store must cope with are all there.
        assert src.state.totals["staging/filesystem"].cost_micro_usd is None  # old gridctl
        crashed = (tree.root / "staging/browser/metrics.jsonl").read_text().splitlines()
        assert crashed[-1].startswith('{"reset":true,') and crashed[-1].count(",") == 2
        assert src.state.totals["staging/browser"].tokens.total_tokens == 0
        assert '"reset":true,"cost_reset":true' in all_text(tree.root / "prod/postgres")
        assert '"cost_reset":true,"diff"' in all_text(tree.root / "prod/github")
        assert '"tool_usage"' in all_text(tree.root / "prod/github")
        fs = list((tree.root / "prod/filesystem").glob("metrics-*.jsonl"))
        assert any(p.with_name(p.name + ".gz").exists() for p in fs)  # mid-compression
        # One day of history, ending at "now" (the last flush of each stack before it).
        assert int(NOW) // 60 - 1 <= src.ring.head <= int(NOW) // 60
        assert src.ring.head - src.ring.oldest_minute() >= 23 * 60
        for p in tree.root.rglob("*"):
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode == (0o700 if p.is_dir() else 0o600), p
    finally:
        tree.stop()
    assert not demo_root.exists()


def test_build_demo_is_deterministic(tmp_path: Path) -> None:
    a = build_demo(tmp_path / "a", now=NOW, seed=3, history_minutes=240)
    b = build_demo(tmp_path / "b", now=NOW, seed=3, history_minutes=240)
    c = build_demo(tmp_path / "c", now=NOW, seed=4, history_minutes=240)
    try:
        assert tree_bytes(a.root) == tree_bytes(b.root)
        assert tree_bytes(a.root) != tree_bytes(c.root)
    finally:
        for t in (a, b, c):
            t.stop()


def test_live_writer_lines_are_followed(demo_root: Path) -> None:
    tree = build_demo(demo_root, history_minutes=120)
    tree.live.interval = 0.05
    try:
        src = MetricsSource(tree.root)
        src.replay()
        before = src.ring.version
        tree.start()
        assert tree.live.running

        def moved() -> bool:
            src.rescan()
            return src.ring.version != before

        assert wait_for(moved), "the live writer's lines never reached the ring"
        assert wait_for(lambda: tree.live.ticks >= 5)
        tree.live.stop()
        assert not tree.live.running
        src.rescan()
        assert_matches_writer(src, tree.writer)
        assert src.state.stats.malformed == 0
        assert src.state.stats.lines == (sum(w.lines for w in tree.writer.servers.values())
                                         + tree.writer.skill_lines)
    finally:
        tree.stop()
    assert not demo_root.exists()


def test_live_events_are_read_once(demo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Restarts, cost resets and rotations on every tick: nothing lost, nothing twice."""
    monkeypatch.setattr(live_mod, "RESTART_PER_TICK", 0.5)
    monkeypatch.setattr(live_mod, "COST_RESET_PER_TICK", 0.5)
    monkeypatch.setattr(live_mod, "ROTATE_PER_TICK", 1.0)
    tree = build_demo(demo_root, now=NOW, history_minutes=90)
    try:
        live = LiveWriter(tree.writer, tree.servers, seed=11)
        src = MetricsSource(tree.root)
        src.replay()
        for i in range(60):
            live.tick(T0 + (i + 1) * NS + 1)
            if i % 3 == 0:
                src.rescan()
        tree.writer.mill()
        src.rescan()
        assert_matches_writer(src, tree.writer)
        assert src.state.stats.lines == (sum(w.lines for w in tree.writer.servers.values())
                                         + tree.writer.skill_lines)
        text = "".join(p.read_text() for p in tree.root.rglob("metrics.jsonl"))
        assert '"cost_reset":true' in text and '{"reset":true,' in text
    finally:
        tree.stop()


def test_every_active_server_moves_every_second(
    demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RESTART_PER_TICK", "COST_RESET_PER_TICK", "ROTATE_PER_TICK"):
        monkeypatch.setattr(live_mod, name, 0.0)
    with build_demo(demo_root, now=NOW, history_minutes=60) as tree:
        live = LiveWriter(tree.writer, tree.servers, interval=1.0)
        for second in range(1, 4):
            before = {s.profile.name: s.writer.lines for s in tree.servers}
            live.tick(T0 + second * NS)
            for s in tree.servers:
                wrote = s.writer.lines - before[s.profile.name]
                if s.profile.live and not s.profile.quiet:
                    assert wrote == 1, s.profile.name
                elif not s.profile.live:
                    assert wrote == 0, s.profile.name


def test_stop_removes_the_tree_and_is_idempotent() -> None:
    tree = build_demo(history_minutes=30)
    root = tree.root
    assert root.name.startswith("tokentop-demo-") and root.is_dir()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    tree.start()
    tree.stop()
    tree.stop()
    assert not root.exists()
    assert tree.live.error is None
    with pytest.raises(RuntimeError):
        tree.start()


def test_context_manager_and_callers_empty_dir(tmp_path: Path) -> None:
    with build_demo(tmp_path, history_minutes=30) as tree:
        assert (tmp_path / "prod").is_dir()
    assert tmp_path.is_dir() and not any(tmp_path.iterdir())  # emptied, not removed
    (tmp_path / "keep").write_text("real telemetry")
    with pytest.raises(ValueError):
        build_demo(tmp_path)
    assert tree.root == tmp_path


def test_hangup_removes_the_tree(tmp_path: Path) -> None:
    """Closing the terminal (SIGHUP) skips atexit; the demo must clean up anyway."""
    code = (
        "import sys, threading, tokentop.tui.demo\n"
        "tree = tokentop.tui.demo.build_demo(history_minutes=30)\n"
        "tree.start()\n"
        "print(tree.root, flush=True)\n"
        "threading.Event().wait(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        root = Path(proc.stdout.readline().strip())
        assert (root / "prod").is_dir() and (root / MARKER).is_file()
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(10) == -signal.SIGHUP  # still dies by the signal, as before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not root.exists()


def test_sweep_removes_trees_of_dead_processes(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "tokentop-demo-stale"
    (stale / "prod" / "github").mkdir(parents=True)
    (stale / MARKER).write_text(f"{dead.pid}\n")
    live = tmp_path / "tokentop-demo-live"
    live.mkdir()
    (live / MARKER).write_text(f"{os.getpid()}\n")
    unmarked = tmp_path / "tokentop-demo-unmarked"
    unmarked.mkdir()
    assert sweep_stale(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and unmarked.exists()


def test_demo_does_not_import_textual() -> None:
    code = "import sys, tokentop.tui.demo; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -- the writer against the follower ----------------------------------------------------


def test_rotation_then_more_lines_read_once(tmp_path: Path) -> None:
    """rename, new active, gzip, remove, more lines: the follower reads each line once."""
    writer = GridctlWriter(tmp_path)
    w = writer.server("prod", "github")
    clock = iter(range(T0, T0 + 10_000 * NS, 7 * NS + 123_457))
    n = 0

    def lines(count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            w.flush(next(clock), Tokens(n, 2 * n), Cost(input=3 * n) if n % 2 else None)

    def check() -> None:
        src.rescan()
        assert_matches_writer(src, writer)
        assert src.state.stats.lines == w.lines

    lines(5)
    src = MetricsSource(tmp_path)
    src.replay()
    check()
    # lumberjack's two steps, each seen by a scan: rename + new active, then gzip + remove.
    lines(3)
    w.rotate(next(clock), compress="deferred")
    lines(2)
    check()
    w.mill()
    lines(4)
    check()
    # Both steps done before the scan: the tail of the old file is read from the .gz.
    lines(3)
    w.rotate(next(clock))
    lines(3)
    check()
    # Two rotations between scans, the first caught mid-compression.
    lines(2)
    w.rotate(next(clock), partial=True)
    lines(2)
    w.rotate(next(clock), compress="deferred")
    lines(2)
    check()
    w.mill()
    lines(1)
    check()
    # A reset pair and a cost reset across a rotation.
    w.restart(next(clock), Tokens(9, 9), Cost(output=5))
    w.rotate(next(clock))
    w.clear_cost(next(clock), Tokens(4, 4), Cost(input=8))
    lines(1)
    check()
    assert src.state.stats.malformed == 0


def test_flush_many_writes_the_same_bytes(tmp_path: Path) -> None:
    rows = [(T0 + i * 61 * NS + i * 1_237, i % 97, i % 31, 3 * (i % 97), 15 * (i % 31))
            for i in range(300)]
    a = GridctlWriter(tmp_path / "a").server("prod", "github")
    b = GridctlWriter(tmp_path / "b").server("prod", "github")
    a.flush(T0 - NS, Tokens(1, 1), Cost(cache_read=4))  # totals carried into the bulk path
    b.flush(T0 - NS, Tokens(1, 1), Cost(cache_read=4))
    for ts, i, o, ci, co in rows:
        a.flush(ts, Tokens(i, o), Cost(input=ci, output=co))
    assert b.flush_many(rows) == len(rows)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert (a.ring_tokens, a.ring_cost, a.reported_total, a.reported_cost, a.lines) == (
        b.ring_tokens, b.ring_cost, b.reported_total, b.reported_cost, b.lines)


@pytest.mark.parametrize("seed", range(12))
def test_random_writer_histories_are_followed_exactly(tmp_path: Path, seed: int) -> None:
    """Random interleavings of flushes, resets, crashes, rotations (all three kinds),
    compressions and follower scans: the store ends where the writer says it must."""
    rng = random.Random(seed)
    writer = GridctlWriter(tmp_path)
    servers = [
        writer.server("prod", "github"),
        writer.server("prod", "slack", cost=False),
        writer.server("staging", "postgres"),
    ]
    t = T0
    src: MetricsSource | None = None
    for _ in range(300):
        t += rng.randrange(1, 3 * NS)
        w = rng.choice(servers)
        op = rng.random()
        if op < 0.6:
            cost = Cost(input=rng.randrange(50)) if rng.random() < 0.7 else None
            w.flush(t, Tokens(rng.randrange(100), rng.randrange(100)), cost)
        elif op < 0.65:
            cost = Cost(output=3) if rng.random() < 0.5 else None
            w.restart(t, Tokens(rng.randrange(9), 1), cost)
        elif op < 0.7 and w.cost_enabled:
            w.clear_cost(t, Tokens(2, 2), Cost(input=rng.randrange(5)))
        elif op < 0.8:
            w.rotate(t, compress=rng.choice([True, "deferred", False]), partial=rng.random() < 0.1)
        elif op < 0.85:
            w.mill()
        elif op < 0.88:
            w.crash(t)
        elif src is None:
            src = MetricsSource(tmp_path)
            src.replay()
        else:
            src.rescan()
    if src is None:
        src = MetricsSource(tmp_path)
        src.replay()
    writer.mill()
    src.rescan()
    assert_matches_writer(src, writer)
    assert src.state.stats.malformed == 0
    assert src.state.stats.lines == sum(w.lines for w in servers)


def test_size_rotation_keeps_lines_whole(tmp_path: Path) -> None:
    """``max_bytes`` rotates before the write that would overflow, as lumberjack does."""
    writer = GridctlWriter(tmp_path, max_bytes=2_000, max_backups=50)
    w = writer.server("prod", "postgres")
    src = MetricsSource(tmp_path)
    for i in range(200):
        w.flush(T0 + i * NS * 5, Tokens(i, i), Cost(input=i))
        if i % 17 == 0:
            src.rescan()
            writer.mill()
    src.rescan()
    backups = sorted(w.dir.glob("metrics-*.jsonl.gz"))
    assert len(backups) > 10
    for gz in backups:
        data = gzip.decompress(gz.read_bytes())
        assert len(data) <= 2_000 and data.endswith(b"\n")
    assert_matches_writer(src, writer)
    assert src.state.stats.lines == w.lines == 200


def test_pruned_backups_vanish(tmp_path: Path) -> None:
    writer = GridctlWriter(tmp_path, max_backups=2)
    w = writer.server("prod", "slack")
    for i in range(5):
        w.flush(T0 + i * NS, Tokens(1, 1))
        w.rotate(T0 + i * NS + 1_000_000)
    names = sorted(p.name for p in w.dir.iterdir())
    assert len([n for n in names if n.startswith("metrics-")]) == 2
    assert os.path.exists(w.path)


# -- the live pace keeps to the history's (issue 17, defect 14) -----------------------------


def test_gridctl_live_minutes_look_like_the_history(tmp_path: Path) -> None:
    """A live writer far above the history made every chart spike at "now"."""
    tree = build_demo(tmp_path / "t", now=NOW, seed=7, history_minutes=120)
    try:
        for s in range(1, 10 * 60 + 1):
            tree.live.tick(int((NOW + s) * 1e9))
        src = MetricsSource(tree.root)
        src.replay()
        now = int(NOW) // 60
        points = src.ring.buckets(None, now - 60, now + 10, 1, dense=True)
        history = [p.total_tokens for p in points if p.minute < now]
        live = [p.total_tokens for p in points if now < p.minute < now + 10]
        ratio = (sum(live) / len(live)) / (sum(history) / len(history))
        assert 0.6 < ratio < 1.6, ratio
    finally:
        tree.stop()


def test_access_live_reads_keep_the_primed_pace() -> None:
    from tokentop.tui.demo import access

    factory = access.AccessFactory(7)
    primed = access.history_lines(factory, NOW, 30, access.LIVE_RATE)
    per_minute_primed = len(primed) / 30
    demo = access.DemoAccess.__new__(access.DemoAccess)
    demo.factory = access.AccessFactory(8)
    lines: list[str] = []
    demo._append = lines.extend  # type: ignore[method-assign]
    steps = int(60 * 60 / access.STEP)  # an hour of half-seconds
    for i in range(steps):
        demo.step(NOW + i * access.STEP)
    per_minute_live = len(lines) / 60
    # The primed history has a busy stretch (three times the pace) in it.
    assert 0.5 < per_minute_live / per_minute_primed < 1.5, (per_minute_live, per_minute_primed)


def test_traces_live_rate_is_the_historys(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from tokentop.tui.demo.traces import build_demo_traces, live_rate

    at = datetime(2026, 5, 5, 14, 0, tzinfo=UTC)  # a Tuesday afternoon
    demo = build_demo_traces(seed=7, now=at, root=tmp_path / "gw")
    try:
        conn = sqlite3.connect(demo.path)
        times = [r[0] for r in conn.execute("SELECT timestamp FROM traces")]
        conn.close()
        # Weekday afternoons of the history: requests per minute there.
        since = at - timedelta(hours=5)
        recent = [t for t in times if t[:19] >= since.strftime("%Y-%m-%d %H:%M:%S")]
        history = len(recent) / (5 * 60)
        assert 0.5 < live_rate(at) / history < 2.0, (live_rate(at), history)
        assert live_rate(at) < 5  # a request a second was fifty times the history's
    finally:
        demo.stop()


def test_usage_live_gap_is_the_historys() -> None:
    from tokentop.tui.demo.usage import LIVE_GAP_S, DemoUsage

    assert DemoUsage.__init__.__kwdefaults__["interval"] == LIVE_GAP_S >= 30


def test_log_lines_are_encoded_as_json_dumps_encodes_them(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    """gridlogs writes its lines with msgspec (speed): the demo's files are byte for byte
    those ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` wrote. (The two
    differ only in a float's exponent, ``1e-7`` against ``1e-07``; the demo's log and
    span lines hold no float, and a reader gets the same value from both.)"""
    import json

    from tokentop.tui.demo import gridlogs

    build_demo(tmp_path / "fast", now=NOW, seed=7)
    monkeypatch.setattr(gridlogs, "_dumps", lambda obj: json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False))
    build_demo(tmp_path / "json", now=NOW, seed=7)
    fast = {p.relative_to(tmp_path / "fast"): p.read_bytes()
            for p in (tmp_path / "fast").rglob("*") if p.is_file()}
    slow = {p.relative_to(tmp_path / "json"): p.read_bytes()
            for p in (tmp_path / "json").rglob("*") if p.is_file()}
    assert len(fast) > 20 and fast == slow
    odd = {"a": "é\u2028\x01\x1f\"\\/\t\n", "d": [None, True, 0.1 + 0.2, -0.0, 1e-7]}
    assert json.loads(gridlogs._dumps(odd)) == odd
