"""``tokentop serve`` as a user starts it: a subprocess, its one printed URL, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

TOKENTOP = Path(sys.executable).with_name("tokentop")
_URL = re.compile(r"http://\S+")


@dataclass
class Served:
    """A running ``tokentop serve``: its URL, and (after exit) what it printed."""

    process: asyncio.subprocess.Process
    url: str
    first_line: str
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    _stderr_task: asyncio.Task[bytes] | None = field(default=None, repr=False)

    async def interrupt(self, timeout: float = 15.0) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group (the
        dashboards included), then wait for the exit."""
        assert self.process.stdout is not None
        os.killpg(self.process.pid, signal.SIGINT)
        rest = await asyncio.wait_for(self.process.stdout.read(), timeout)
        self.returncode = await asyncio.wait_for(self.process.wait(), timeout)
        self.stdout = self.first_line + rest.decode(errors="replace")
        if self._stderr_task is not None:
            self.stderr = (await self._stderr_task).decode(errors="replace")

    async def group_gone(self, timeout: float = 10.0) -> bool:
        """Whether every process of serve's group (its dashboards) has exited."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)  # polling the condition: no event says "exited"


@contextlib.asynccontextmanager
async def serve(*args: str, env: dict[str, str] | None = None,
                timeout: float = 20.0) -> AsyncIterator[Served]:
    """``tokentop serve ARGS`` until its URL line; killed on exit if still running."""
    process = await asyncio.create_subprocess_exec(
        str(TOKENTOP), "serve", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})}, start_new_session=True)
    assert process.stdout is not None and process.stderr is not None
    stderr_task = asyncio.create_task(process.stderr.read())
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout)).decode()
        found = _URL.search(line)
        if not found:
            await process.wait()
            raise AssertionError(f"tokentop serve printed no URL: {line!r} "
                                 f"{(await stderr_task).decode()!r}")
        yield Served(process, found.group(), line, _stderr_task=stderr_task)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        stderr_task.cancel()
