"""``tokentop --demo``'s browser: a JSONL file of event envelopes that keeps growing.

Like the rest of the demo nothing is faked past the file: a thread appends envelopes
(``{"seq": N, "event": {...}}``, DESIGN 2.4) to ``<root>/browser-events.jsonl`` and
the dashboard follows it with the ordinary ``FileSource``, so the Events screen shows
what it would show for a real browser, every unpleasant case included:

- every category at a realistic pace (about 20 events a second in all): console lines,
  request/response pairs with their timings, navigations with their load milestones,
  clicks and keys, API calls, connections, screenshots, the odd OOM kill or captcha,
  and types tokentop does not know;
- a burst of ``BURST`` events at once every ``BURST_EVERY`` seconds, more than the
  viewer's 4096-event ring, so the screen falls behind and says how many it missed;
- an upstream gap (``GAP`` seqs never written) every ``GAP_EVERY`` seconds;
- a restart (seq back to 1) every ``RESTART_EVERY`` seconds;
- a screenshot above 1 MB every ``BIG_EVERY`` seconds (truncated on arrival).

The file is rotated (renamed, recreated) past ``ROTATE_BYTES`` so the demo does not
fill the disk; ``stop()`` deletes the directory (also at exit and on SIGHUP/SIGTERM).
``sample_lines`` gives a fixed, seeded excerpt for screenshots and tests.
"""

from __future__ import annotations

import base64
import json
import os
import random
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from tokentop.tui.demo.cleanup import PREFIX, DemoDir, write_marker

FILE_NAME = "browser-events.jsonl"
RATE = 20.0  # events per second, all categories together
STEP = 0.1  # seconds between writes
BURST = 8000
BURST_EVERY = 50.0
FIRST_BURST = 15.0
GAP = 37
GAP_EVERY = 60.0
FIRST_GAP = 8.0
RESTART_EVERY = 180.0
FIRST_RESTART = 100.0
BIG_EVERY = 45.0
FIRST_BIG = 25.0
BIG_BYTES = 1_200_000
ROTATE_BYTES = 32_000_000

SITES = ("https://shop.example.com", "https://api.example.com", "https://cdn.example.net",
         "https://auth.example.com")
PATHS = ("/", "/cart", "/checkout", "/api/v1/items?page=2", "/static/app.4f2c1.js",
         "/static/styles.css", "/img/hero.webp", "/api/v1/session", "/graphql",
         "/favicon.ico")
CONSOLE = (
    ("log", "[HMR] connected"),
    ("info", "Download the React DevTools for a better development experience"),
    ("warning", "Warning: Each child in a list should have a unique \"key\" prop."),
    ("error", "Uncaught TypeError: Cannot read properties of undefined (reading 'map')"),
    ("error", "Failed to load resource: the server responded with a status of 404 ()"),
    ("debug", "cart: 3 items, total $41.97"),
    ("log", "[bold red]not markup[/] \x1b[31mnot a colour\x1b[0m"),
)
TARGETS = ("button#checkout", "a.nav-link[href='/cart']", "input[name=email]",
           "div.product-card:nth-child(3)", "button.add-to-cart")
# In-VM API operations as kernel-images names its handlers (server/lib/events/
# category_gen.go): the agent's (api_call, category control) and the VM's
# (platform_api_call, category platform).
OPERATIONS = ("TakeScreenshot", "ClickMouse", "TypeText", "ExecutePlaywrightCode", "Scroll",
              "PressKey")
PLATFORM_OPERATIONS = ("StartRecording", "StopRecording", "ReadFile", "ProcessExec",
                       "PatchDisplay")
CDP_METHODS = (("Input.dispatchMouseEvent", {"event_type": "mousePressed", "button": "left"}),
               ("Input.dispatchKeyEvent", {"event_type": "keyDown"}),
               ("Page.captureScreenshot", {"format": "png"}))
# (category, type, weight): the steady mix; "network" makes request/response pairs.
MIX = (
    ("console", "console", 6), ("network", "network", 8), ("page", "page", 0.6),
    ("interaction", "interaction", 1.5), ("control", "api_call", 2), ("screenshot", "shot", 0.2),
    ("control", "cdp_command", 1), ("platform", "platform_api_call", 0.3),
    ("connection", "connection", 0.1), ("system", "system", 0.02),
    ("captcha", "captcha_solve_result", 0.05), ("monitor", "monitor", 0.05),
    ("unknown", "unknown", 0.3),
)


class EventFactory:
    """Plausible browser events from a seeded RNG; keeps open requests to answer."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(f"{seed}:events")
        self.request_no = 1000
        self.pending: deque[tuple[int, dict[str, Any]]] = deque()  # (due ts, response)
        self.url = SITES[0] + "/"

    @staticmethod
    def event(ts: int, category: str, type_: str, data: dict[str, Any] | None,
              kind: str = "cdp", source_event: str = "") -> dict[str, Any]:
        return {"ts": ts, "type": type_, "category": category,
                "source": {"kind": kind, "event": source_event}, "data": data}

    def url_(self) -> str:
        return self.rng.choice(SITES) + self.rng.choice(PATHS)

    def due(self, ts: int) -> list[dict[str, Any]]:
        """Responses whose time has come."""
        out = []
        while self.pending and self.pending[0][0] <= ts:
            out.append(self.pending.popleft()[1])
        return out

    def one(self, ts: int) -> list[dict[str, Any]]:
        """One step of the steady mix (a request may schedule its response)."""
        rng = self.rng
        _category, kind, _ = rng.choices(MIX, weights=[m[2] for m in MIX])[0]
        ev = self.event
        if kind == "console":
            level, text = rng.choice(CONSOLE)
            if text.startswith("Uncaught"):  # Runtime.exceptionThrown: no level
                return [ev(ts, "console", "console_error",
                           {"url": self.url, "text": text, "line": 41, "column": 17,
                            "source_url": SITES[2] + "/static/app.4f2c1.js"},
                           source_event="Runtime.exceptionThrown")]
            t = "console_error" if level == "error" else "console_log"
            return [ev(ts, "console", t, {"url": self.url, "level": level, "text": text,
                                          "args": [text]},
                       source_event="Runtime.consoleAPICalled")]
        if kind == "network":
            self.request_no += 1
            rid = f"{self.request_no}.1"
            url = self.url_()
            method = "POST" if "/api/" in url and rng.random() < 0.4 else "GET"
            latency = int(rng.lognormvariate(4.3, 0.8) * 1000)  # ~70 ms, long tail
            status = rng.choices((200, 304, 404, 500), weights=(85, 8, 5, 2))[0]
            due = ts + latency
            if rng.random() < 0.03:
                resp = ev(due, "network", "network_loading_failed",
                          {"request_id": rid, "url": url, "canceled": False,
                           "error_text": "net::ERR_CONNECTION_RESET"},
                          source_event="Network.loadingFailed")
            else:
                resp = ev(due, "network", "network_response",
                          {"request_id": rid, "method": method, "status": status, "url": url,
                           "mime_type": "application/json"},
                          source_event="Network.loadingFinished")
            self.pending.append((due, resp))
            return [ev(ts, "network", "network_request",
                       {"request_id": rid, "method": method, "url": url,
                        "initiator_type": "script"},
                       source_event="Network.requestWillBeSent")]
        if kind == "page":
            self.url = rng.choice(SITES[:1]) + rng.choice(PATHS[:3])
            nav = {"url": self.url, "frame_id": "F1", "loader_id": f"L{self.request_no}"}
            return [
                ev(ts, "page", "page_navigation", nav, source_event="Page.frameNavigated"),
                ev(ts + 180_000, "page", "page_dom_content_loaded",
                   {**nav, "cdp_timestamp": 8123.18}, source_event="Page.domContentEventFired"),
                ev(ts + 420_000, "page", "page_load", {**nav, "cdp_timestamp": 8123.42},
                   source_event="Page.loadEventFired"),
                ev(ts + 450_000, "page", "page_layout_shift",
                   {**nav, "layout_shift_details": {"value": round(rng.random() / 20, 4),
                                                     "had_recent_input": False}},
                   source_event="PerformanceTimeline.timelineEventAdded"),
                ev(ts + 510_000, "page", "page_lcp",
                   {**nav, "lcp_details": {"element_id": "hero", "size": 184_320,
                                           "url": SITES[2] + "/img/hero.webp"}},
                   source_event="PerformanceTimeline.timelineEventAdded"),
            ]
        if kind == "interaction":
            r = rng.random()
            bound = "Runtime.bindingCalled"  # interaction.js reports through a binding
            if r < 0.6:
                return [ev(ts, "interaction", "interaction_click",
                           {"url": self.url, "selector": rng.choice(TARGETS), "tag": "BUTTON",
                            "x": rng.randint(10, 1270), "y": rng.randint(10, 700)},
                           source_event=bound)]
            if r < 0.85:
                return [ev(ts, "interaction", "interaction_key",
                           {"url": self.url, "key": rng.choice(("Enter", "Tab", "a")),
                            "selector": "input[name=email]", "tag": "INPUT"},
                           source_event=bound)]
            y = rng.randint(0, 4000)
            return [ev(ts, "interaction", "interaction_scroll_settled",
                       {"url": self.url, "from_x": 0, "from_y": y, "to_x": 0,
                        "to_y": y + rng.randint(200, 1600), "target_selector": "html"},
                       source_event=bound)]
        if kind in ("api_call", "platform_api_call"):
            status = rng.choices((200, 400, 500), weights=(95, 3, 2))[0]
            ops = OPERATIONS if kind == "api_call" else PLATFORM_OPERATIONS
            self.request_no += 1
            return [ev(ts, "control" if kind == "api_call" else "platform", kind,
                       {"request_id": f"vm/{self.request_no:06d}",
                        "operation_id": rng.choice(ops), "status": status,
                        "duration_ms": round(rng.uniform(3, 900), 1)}, kind="kernel_api")]
        if kind == "cdp_command":
            method, args = rng.choice(CDP_METHODS)
            return [ev(ts, "control", "cdp_command",
                       {"method": method, **args, "connection_id": "c1"}, kind="kernel_api")]
        if kind == "shot":
            return [self.screenshot(ts, 30_000)]
        if kind == "connection":
            t = rng.choice(("cdp_connect", "live_view_connect", "live_view_disconnect"))
            data: dict[str, Any] = ({"connection_id": "c1"} if t == "cdp_connect" else
                                    {"session_id": "lv-3", "duration_ms": 42_000}
                                    if t == "live_view_disconnect" else {"session_id": "lv-3"})
            return [ev(ts, "connection", t, data, kind="kernel_api")]
        if kind == "system":
            if rng.random() < 0.5:
                return [ev(ts, "system", "system_oom_kill",
                           {"process_name": "chrome", "pid": rng.randint(900, 9000),
                            "rss_kb": rng.randint(900, 3000) * 1000},
                           kind="local_process")]
            if rng.random() < 0.5:
                return [ev(ts, "page", "page_crashed",
                           {"target_id": "T1", "target_type": "page", "url": self.url},
                           source_event="Inspector.targetCrashed")]
            return [ev(ts, "system", "service_crashed",
                       {"service_name": "mutter", "phase": "running", "pid": 311},
                       kind="local_process")]
        if kind == "captcha_solve_result":
            status = rng.choices(("success", "failure", "timeout"), weights=(8, 1, 1))[0]
            return [ev(ts, "captcha", "captcha_solve_result",
                       {"captcha_type": "turnstile", "status": status,
                        "duration_ms": rng.randint(800, 9000),
                        "website_host": "shop.example.com"}, kind="kernel_api")]
        if kind == "monitor":
            if rng.random() < 0.5:
                return [ev(ts, "monitor", "monitor_disconnected",
                           {"reason": "chrome_restarted"}, kind="local_process")]
            return [ev(ts, "monitor", "monitor_reconnected",
                       {"reconnect_duration_ms": rng.randint(300, 3000)}, kind="local_process")]
        # Something tokentop does not know: a new type in a known category, or both new.
        if rng.random() < 0.5:
            return [ev(ts, "media", "media_playback_started",
                       {"src": "https://cdn.example.net/intro.mp4", "muted": True})]
        return [ev(ts, "page", "page_visibility_changed", {"state": "hidden"})]

    def screenshot(self, ts: int, size: int) -> dict[str, Any]:
        """A screenshot event whose base64 ``data.png`` is about ``size`` bytes (the
        monitor's payload: nav context + ``png``)."""
        raw = self.rng.randbytes(size * 3 // 4)
        return self.event(ts, "screenshot", "monitor_screenshot",
                          {"url": self.url, "png": base64.b64encode(raw).decode()},
                          kind="local_process")

    def burst(self, ts: int, n: int) -> list[dict[str, Any]]:
        """A flood of console lines, as a page logging in a tight loop produces."""
        return [self.event(ts + i, "console", "console_log",
                           {"level": "log", "text": f"poll tick {i}: still waiting for #app",
                            "args": [f"poll tick {i}: still waiting for #app"]},
                           source_event="Runtime.consoleAPICalled") for i in range(n)]


def encode(seq: int, event: dict[str, Any]) -> str:
    return json.dumps({"seq": seq, "event": event}, separators=(",", ":"))


class DemoEvents(DemoDir):
    """The demo browser's envelope file and the thread that keeps appending to it."""

    THREAD = "demo-events"

    def __init__(self, root: Path, *, seed: int = 7, rate: float = RATE) -> None:
        super().__init__(root)
        self.path = root / FILE_NAME
        self.factory = EventFactory(seed)
        self.rate = rate
        self.seq = 0

    # -- writing ---------------------------------------------------------------------
    def _lines(self, events: list[dict[str, Any]]) -> list[str]:
        out = []
        for ev in events:
            self.seq += 1
            out.append(encode(self.seq, ev))
        return out

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        if self.path.exists() and self.path.stat().st_size > ROTATE_BYTES:
            os.replace(self.path, self.root / (FILE_NAME + ".1"))
        with self.path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def prime(self, now: float) -> None:
        """Half a minute of history, so the screen is not empty when first shown."""
        start = int((now - 30) * 1_000_000)
        lines: list[str] = []
        for i in range(300):
            ts = start + i * 100_000
            lines += self._lines(self.factory.due(ts) + self.factory.one(ts))
        lines += self._lines([self.factory.screenshot(start + 29_000_000, 20_000)])
        self._append(lines)

    def step(self, now: float, elapsed: float, last: float) -> None:
        """Write what happens between ``last`` and ``elapsed`` seconds after start."""
        f = self.factory
        ts = int(now * 1_000_000)

        def crossed(first: float, every: float) -> bool:
            if elapsed < first:
                return False
            k = int((elapsed - first) // every)
            return last < first + k * every <= elapsed

        events: list[dict[str, Any]] = f.due(ts)
        n = f.rng.random() * 2 * self.rate * (elapsed - last)
        for _ in range(int(n)):
            events += f.one(ts)
        lines = self._lines(events)
        if crossed(FIRST_GAP, GAP_EVERY):
            self.seq += GAP  # never written: the viewer sees a gap in seq
        if crossed(FIRST_RESTART, RESTART_EVERY):
            self.seq = 0  # the browser's API restarted: seq starts again from 1
            lines += self._lines([
                f.event(ts, "monitor", "monitor_reconnected", {"reconnect_duration_ms": 1800},
                        kind="local_process"),
                f.event(ts, "connection", "cdp_connect", {"connection_id": "c2"},
                        kind="kernel_api"),
            ])
        if crossed(FIRST_BURST, BURST_EVERY):
            lines += self._lines(f.burst(ts, BURST))
        if crossed(FIRST_BIG, BIG_EVERY):
            lines += self._lines([f.screenshot(ts, BIG_BYTES)])
        self._append(lines)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.prime(time.time())
        self._start_thread(self._run)

    def _run(self) -> None:
        start = time.monotonic()
        last = 0.0
        try:
            while not self._stop.wait(STEP):
                elapsed = time.monotonic() - start
                self.step(time.time(), elapsed, last)
                last = elapsed
        except OSError as exc:  # the directory was removed under us: stop quietly
            self.error = str(exc)



def build_demo_events(*, seed: int = 7, root: Path | None = None) -> DemoEvents:
    """A demo event file in a fresh temporary directory (or ``root``); call ``start()``."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix=PREFIX + "events-"))
        write_marker(root)
    else:
        root.mkdir(parents=True, exist_ok=True)
    return DemoEvents(root, seed=seed)


def sample_lines(now: float, seed: int = 7) -> list[str]:
    """A fixed excerpt (for screenshots): a minute of the mix with a gap, a restart, a
    truncated screenshot and an unknown type near the end, where the log shows them."""
    f = EventFactory(seed)
    seq = 0
    lines: list[str] = []
    start = int((now - 60) * 1_000_000)

    def put(events: list[dict[str, Any]]) -> None:
        nonlocal seq
        for ev in events:
            seq += 1
            lines.append(encode(seq, ev))

    for i in range(120):
        ts = start + i * 400_000
        put(f.due(ts) + f.one(ts))
        if i == 107:
            seq += GAP
        if i == 104:
            put([f.screenshot(ts + 1000, BIG_BYTES)])
        if i == 108:
            put([f.event(ts + 1000, "system", "system_oom_kill",
                         {"process_name": "chrome", "pid": 4242, "rss_kb": 2_343_750},
                         kind="local_process"),
                 f.event(ts + 2000, "media", "media_playback_started",
                         {"src": "https://cdn.example.net/intro.mp4", "muted": True})])
        if i == 112:
            seq = 0
            put([f.event(ts + 2000, "monitor", "monitor_reconnected",
                         {"reconnect_duration_ms": 1800}, kind="local_process"),
                 f.event(ts + 3000, "connection", "cdp_connect", {"connection_id": "c2"},
                         kind="kernel_api")])
    put(f.due(start + 120 * 400_000))
    return lines
