"""Wipe while a writer appends, and while the real metrics follower follows the file.

Waits are bounded loops on a condition (the writer's count, the ring's tokens), never
a fixed sleep standing in for synchronisation.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tokentop.store.gridctl.wipe import wipe
from tokentop.store.metrics import MetricsSource

SERVER = "stack-a/github"


def wait_for(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def metrics_line(minute: int, inp: int) -> str:
    return json.dumps({
        "ts": f"2026-05-05T12:{minute:02d}:00Z", "server": "github",
        "diff": {"input_tokens": inp, "output_tokens": 0, "total_tokens": inp},
        "total": {"input_tokens": inp, "output_tokens": 0, "total_tokens": inp}})


def append(path: Path, text: str) -> None:
    """gridctl's writers append whole lines with O_APPEND; opening per write recreates."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def test_wipe_while_a_thread_appends(tmp_path: Path) -> None:
    d = tmp_path / "stack-a" / "github"
    d.mkdir(parents=True)
    path = d / "logs.jsonl"
    written = 0
    wiped = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal written
        try:
            after = 0
            while after < 200:
                append(path, f'{{"n":{written},"msg":"{"x" * 50}"}}\n')
                written += 1
                if wiped.is_set():
                    after += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for(lambda: written >= 300)
    report = wipe(tmp_path, SERVER, "logs")
    wiped.set()
    thread.join(30)
    assert not thread.is_alive() and errors == []
    assert report.ok and report.deleted == [path]
    numbers = [json.loads(line)["n"] for line in path.read_text().splitlines()]
    # What is left is a contiguous run of whole lines ending with the last one written,
    # and it starts after the wipe (the first 300 lines are gone).
    assert numbers == list(range(numbers[0], written))
    assert numbers[0] >= 300
    assert len(numbers) >= 199  # the line in flight during the unlink went to the old inode


def ring_tokens(src: MetricsSource) -> int:
    ring = src.ring
    head = ring.head or 0
    return sum(p.input_tokens for p in ring.buckets(SERVER, head - 10_000, head))


def test_follower_recovers_after_a_wipe(tmp_path: Path) -> None:
    d = tmp_path / "stack-a" / "github"
    d.mkdir(parents=True)
    active = d / "metrics.jsonl"
    append(active, metrics_line(0, 1) + "\n")
    src = MetricsSource(tmp_path)
    src.replay()
    assert ring_tokens(src) == 1
    stop = threading.Event()
    follower = threading.Thread(target=src.follow, args=(stop,))
    follower.start()
    try:
        append(active, metrics_line(1, 10) + "\n")  # the follower is live
        wait_for(lambda: ring_tokens(src) == 11)
        report = wipe(tmp_path, SERVER, "metrics")
        assert report.ok and report.deleted == [active]
        assert not active.exists()
        # gridctl appends again: the file reappears and the new lines reach the ring.
        append(active, metrics_line(2, 100) + "\n")
        append(active, metrics_line(3, 1000) + "\n")
        wait_for(lambda: ring_tokens(src) == 1111)
        append(active, metrics_line(4, 10000) + "\n")  # and it keeps following it
        wait_for(lambda: ring_tokens(src) == 11111)
        assert src.error is None
    finally:
        stop.set()
        follower.join(10)
    assert not follower.is_alive()
