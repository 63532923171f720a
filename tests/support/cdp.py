"""Headless Chromium driven over the DevTools protocol: just enough to load a
textual-serve page, read its screen, press a key and take a screenshot.

Debian's ``chromium`` package, not a browser downloaded by playwright; the protocol is
spoken over aiohttp's websocket client (aiohttp comes with textual-serve).

The page draws the terminal on a canvas, so its text is not in the DOM. It is read
through xterm.js's public buffer API (``terminal.buffer.active.getLine(i)``). The
terminal object is private to textual-serve's script; a hook installed before the page's
scripts run catches it when the script stores it (``this.terminal = new Terminal(…)``)
and keeps it as ``window.__xterms[0]``, then removes itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

# Chromium's name on Debian, then on other distributions.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")

_HOOK = """
(() => {
  const found = [];
  Object.defineProperty(window, "__xterms", {value: found});
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    get() { return undefined; },
    set(value) {
      Object.defineProperty(this, "terminal",
        {value, writable: true, configurable: true, enumerable: true});
      if (value && value.buffer && value.buffer.active) {
        found.push(value);
        delete Object.prototype.terminal;
      }
    },
  });
})();
"""

_SCREEN_TEXT = """
(() => {
  const t = window.__xterms && window.__xterms[0];
  if (!t) return null;
  const b = t.buffer.active, lines = [];
  for (let i = 0; i < t.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""


def find_browser() -> str | None:
    """The Chromium executable on PATH, if any."""
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    return None


class CDPError(RuntimeError):
    """The browser answered a command with an error, or never answered."""


class Page:
    """One page target's DevTools session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(CDPError("the browser closed the connection"))

    async def send(self, method: str, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        try:
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise CDPError(f"{method}: no answer in {timeout} s") from None
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            raise CDPError(f"evaluate: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        """Navigate, with the terminal hook installed before the page's scripts and no
        request leaving this machine."""
        await self.send("Page.enable")
        await self.send("Network.enable")
        # textual-serve's page asks Google for a font: offline that stalls the page's load
        # (and so the terminal) until the request times out; the test stays hermetic
        await self.send("Network.setBlockedURLs", urls=["*://fonts.googleapis.com/*",
                                                        "*://fonts.gstatic.com/*"])
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=_HOOK)
        await self.send("Page.navigate", url=url)

    async def screen_text(self) -> str | None:
        """The terminal's visible rows, or None before the terminal exists."""
        return await self.evaluate(_SCREEN_TEXT)

    async def wait_for_text(self, pattern: str, timeout: float = 15.0) -> str:
        """The screen once it matches ``pattern`` (a regex); CDPError with the last
        screen after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        text: str | None = None
        while time.monotonic() < deadline:
            text = await self.screen_text()
            if text and re.search(pattern, text):
                return text
            await asyncio.sleep(0.1)  # polling the page: the condition is the screen text
        raise CDPError(f"no {pattern!r} on the page in {timeout} s; screen was:\n{text}")

    async def press(self, key: str) -> None:
        """A printable key, typed into the focused terminal as a user would."""
        await self.evaluate("window.__xterms[0].focus()")
        code = f"Digit{key}" if key.isdigit() else f"Key{key.upper()}"
        common = {"key": key, "code": code, "windowsVirtualKeyCode": ord(key.upper())}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=key, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self, path: Path) -> None:
        """A PNG of the page once the browser has drawn the terminal's last write."""
        await self.send("Runtime.evaluate", awaitPromise=True, expression=(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"))
        result = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._ws.close()


@contextlib.asynccontextmanager
async def chromium(browser: str, width: int = 1280, height: int = 800,
                   timeout: float = 20.0) -> AsyncIterator[Page]:
    """A headless Chromium with one blank page of ``width`` x ``height`` CSS pixels,
    gone (with its profile) on exit."""
    profile = tempfile.mkdtemp(prefix="tokentop-chromium-")
    process = await asyncio.create_subprocess_exec(
        browser, "--headless=new", "--remote-debugging-port=0",
        f"--user-data-dir={profile}", f"--window-size={width},{height}",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-dev-shm-usage",
        *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses root otherwise
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    session: aiohttp.ClientSession | None = None
    page: Page | None = None
    try:
        port = await asyncio.wait_for(_devtools_port(process), timeout)
        session = aiohttp.ClientSession()
        targets = await _page_targets(session, port, timeout)
        ws = await session.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        yield page
    finally:
        if page is not None:
            await page.close()
        if session is not None:
            await session.close()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    """Chromium's DevTools port, from the line it prints on stderr."""
    assert process.stderr is not None
    seen: list[str] = []
    while line := await process.stderr.readline():
        text = line.decode(errors="replace")
        if found := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", text):
            # keep draining stderr so the browser never blocks on a full pipe
            asyncio.get_running_loop().create_task(_drain(process.stderr))
            return int(found.group(1))
        seen.append(text)
    raise CDPError("chromium exited before listening: " + "".join(seen[-20:]))


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


async def _page_targets(session: aiohttp.ClientSession, port: int,
                        timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
            pages = [t for t in await reply.json() if t.get("type") == "page"]
        if pages:
            return pages
        await asyncio.sleep(0.1)
    raise CDPError("chromium opened no page")
