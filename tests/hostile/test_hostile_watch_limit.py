"""A user whose inotify instances are all taken (the kernel's per-user limit, 128 by
default, shared by every process and container of the user): the collector raised
"Error creating recommended watcher: Too many open files" and stopped, so the dashboard
showed no new usage. Now the watcher polls instead and says so.

Each case runs in a child process as ``nobody`` (the limit is per user; taking all of
root's instances would starve the suite), which first takes every inotify instance the
kernel grants it, then runs the real follower.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or not sys.platform.startswith("linux"),
    reason="needs Linux, root and setpriv (to run as another user)")

EXHAUST = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
held = []
while libc.inotify_init() >= 0:
    held.append(1)
"""

COLLECT = EXHAUST + """
import json, sys, threading, time
from pathlib import Path
from tokentop.store.usage.collect import watch
from tokentop.store.usage.db import UsageStore

top = Path(sys.argv[1])
project = top / "claude" / "projects" / "-home-u-app"
stop, noted, stored = threading.Event(), [], threading.Event()
def on_change(report):
    if report.changed:
        stored.set()
thread = threading.Thread(target=watch, args=(lambda: UsageStore.open(top / "usage.db"), stop,
                          on_change), kwargs=dict(claude_roots=[top / "claude"], agents=[],
                          codex_dir=top / "codex", hook_spool=top / "spool",
                          on_note=noted.append))
thread.start()
deadline = time.monotonic() + 30
while not noted and time.monotonic() < deadline:
    time.sleep(0.01)
line = {"cwd": "/home/u/app", "sessionId": "s", "type": "assistant", "requestId": "r1",
        "uuid": "u1", "timestamp": "2026-05-05T12:20:00.000Z",
        "message": {"id": "m1", "role": "assistant", "model": "claude-sonnet-4-20250514",
                    "usage": {"input_tokens": 4200, "output_tokens": 100}}}
with (project / "s.jsonl").open("a") as fh:
    fh.write(json.dumps(line, separators=(",", ":")) + "\\n")
ok = stored.wait(30)
stop.set()
thread.join(10)
print(json.dumps({"noted": noted, "stored": ok}))
"""

FOLLOW = EXHAUST + """
import json, sys, threading, time
from pathlib import Path
from types import SimpleNamespace
from tokentop.store.tail.follower import FileFollower

class Lines(FileFollower):
    def _publish(self, lines):
        got.extend(lines)
        return len(lines)

got = []
path = Path(sys.argv[1]) / "events.jsonl"
path.write_bytes(b"one\\n")
status = SimpleNamespace(state="connecting", last_error=None)
stop = threading.Event()
follower = Lines(path, status, follow=True)
thread = threading.Thread(target=follower.run, args=(stop,))
thread.start()
deadline = time.monotonic() + 30
while not (got and status.last_error) and time.monotonic() < deadline:
    time.sleep(0.01)
with path.open("ab") as fh:
    fh.write(b"two\\n")
while len(got) < 2 and time.monotonic() < deadline:
    time.sleep(0.01)
stop.set()
thread.join(10)
print(json.dumps({"lines": [g.decode() for g in got], "note": status.last_error}))
"""


@pytest.fixture
def shared() -> Iterator[Path]:
    top = Path(tempfile.mkdtemp(prefix="tokentop-inotify-", dir="/tmp"))
    top.chmod(0o777)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def as_nobody(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_STATE_HOME")}
    env["HOME"] = "/nonexistent"
    return subprocess.run([*NOBODY, sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=120, cwd="/", env=env)


def test_the_collector_polls_when_the_kernel_refuses_a_watcher(shared: Path) -> None:
    project = shared / "claude" / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    for d in (shared / "claude", shared / "claude" / "projects", project):
        d.chmod(0o777)
    done = as_nobody(COLLECT, str(shared))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["stored"] is True
    assert len(result["noted"]) == 1
    assert "polling" in result["noted"][0]
    assert "Too many open files" in result["noted"][0]


def test_a_followed_file_is_polled_when_the_kernel_refuses_a_watcher(shared: Path) -> None:
    done = as_nobody(FOLLOW, str(shared))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["lines"] == ["one", "two"]
    assert "polling every 250 ms" in result["note"]
