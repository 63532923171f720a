"""``tokentop --demo``'s airstore: an access-event JSONL file that keeps growing.

A thread appends ``AccessEvent`` lines (DESIGN 2.6) to ``<root>/access.jsonl`` about
every half second and the dashboard follows the file with the ordinary
``tokentop.store.access.AccessLog``: nothing is faked past the file. The mix is what an agent
filesystem sees: reads of GitHub, Gmail, Slack, Notion, Linear and Drive content,
most compressed (a third to a tenth of the tokens), repeated reads answered by the
result cache or a local copy, small files passed through, the odd timeout or error,
an occasional malformed line (a writer crashing mid-line), a quarter of the reads made
through the gateway rather than the mount, and one event sent twice (same ``event_id``).

Everything is drawn from a seeded RNG: ``sample_lines(now, seed)`` is the same on
every machine (snapshots, screenshots). ``stop()`` deletes the directory (also at
exit and on SIGHUP/SIGTERM).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from tokentop.tui.demo.activity import poisson
from tokentop.tui.demo.cleanup import PREFIX, DemoDir, write_marker

FILE_NAME = "access.jsonl"
STEP = 0.5  # seconds between appends
HISTORY_MINUTES = 90  # written at start, so the chart has a shape at once
HISTORY_RATE = 12  # events per minute in the fixed sample (snapshots, screenshots)
# Events per minute in the running demo, in its primed history and its live appends
# alike: a live rate above the history's made the chart spike at "now" (issue 17).
LIVE_RATE = 30

# integration -> (source scheme, paths under its mount, mean tokens of a file)
INTEGRATIONS: dict[str, tuple[str, tuple[str, ...], int]] = {
    "github": ("github", ("/github/acme/api/src/server.go", "/github/acme/api/README.md",
                          "/github/acme/web/src/App.tsx", "/github/acme/api/go.mod",
                          "/github/acme/infra/main.tf", "/github/acme/web/package.json"), 3200),
    "gmail": ("gmail", ("/gmail/inbox/2026-05-05 invoice from Stripe.eml",
                        "/gmail/inbox/Re: Q2 planning.eml", "/gmail/sent/offsite.eml"), 1800),
    "slack": ("slack", ("/slack/#eng/2026-05-05.md", "/slack/#incidents/2026-05-04.md",
                        "/slack/@dana/thread-1714.md"), 2400),
    "notion": ("notion", ("/notion/Engineering/Onboarding.md", "/notion/Roadmap 2026.md"), 5200),
    "linear": ("linear", ("/linear/ENG-1422.md", "/linear/ENG-1437.md",
                          "/linear/cycles/current.md"), 900),
    "gdrive": ("gdrive", ("/gdrive/Finance/budget.xlsx.csv", "/gdrive/Specs/search-v2.md"),
               7400),
}
WEIGHTS = {"github": 40, "gmail": 12, "slack": 18, "notion": 10, "linear": 12, "gdrive": 8}
BURSTS = (1, 1, 1, 2, 3, 5)  # reads in one burst
BURST_MEAN = sum(BURSTS) / len(BURSTS)
STRATEGIES = ("auto", "summarize", "outline", "extract")
ERRORS = {"timeout": "compression timed out after 2000ms",
          "error": "upstream returned 502 Bad Gateway"}


class AccessFactory:
    """Plausible access events from a seeded RNG; remembers what was read (cache hits)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(f"{seed}:access")
        self.n = 0
        self.seen: set[str] = set()
        self.sessions = [f"sess-{self.rng.randrange(16**6):06x}" for _ in range(3)]

    def event(self, ts_ms: int) -> dict[str, Any]:
        rng = self.rng
        self.n += 1
        integ = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        scheme, paths, mean = INTEGRATIONS[integ]
        path = rng.choice(paths)
        original = max(40, int(rng.lognormvariate(0, 0.6) * mean))
        repeat = path in self.seen
        self.seen.add(path)
        r = rng.random()
        if repeat and r < 0.35:
            outcome = "cache_hit"
        elif original < 500:
            outcome = "passthrough"
        elif r < 0.93:
            outcome = "compressed"
        elif r < 0.96:
            outcome = "skipped"
        elif r < 0.985:
            outcome = "timeout"
        else:
            outcome = "error"
        if outcome in ("compressed", "cache_hit"):
            compressed = max(10, int(original * rng.uniform(0.08, 0.4)))
        elif outcome == "passthrough" or outcome == "skipped":
            compressed = original
        else:
            compressed = 0
        if outcome == "cache_hit":
            cache_source = rng.choice(("content_cache", "content_cache", "prefetch"))
        elif repeat and rng.random() < 0.3:
            cache_source = rng.choice(("open_content", "dirty_buffer", "prefetch"))
        else:
            cache_source = "backend_rpc"
        nbytes = original * 4 + rng.randrange(4)
        ev: dict[str, Any] = {
            "event_id": f"ev-{self.n:07d}",
            "ts": ts_ms,
            "workspace_id": "ws-acme",
            "session_id": rng.choice(self.sessions),
            "path": path,
            "cache_source": cache_source,
            "offset": 0,
            "requested_bytes": 131072,
            "read_bytes": min(nbytes, 131072),
            "latency_ms": rng.randint(1, 6) if cache_source != "backend_rpc"
            else rng.randint(18, 420),
            "mount_id": "mnt-1",
            "access_origin": "fuse",  # the mount collector's (AccessService sets it)
            "integration": integ,
            "source_uri": f"{scheme}://{rng.randrange(16**8):08x}",
            "query_path": path.rsplit("/", 1)[0],
            "result_id": f"res-{rng.randrange(16**6):06x}",
            "original_bytes": nbytes,
            "compressed_bytes": compressed * 4,
            "original_tokens": original,
            "compressed_tokens": compressed,
            "strategy": rng.choice(STRATEGIES),
            "outcome": outcome,
            "compression_ms": 0 if outcome in ("passthrough", "skipped", "cache_hit")
            else rng.randint(40, 900),
        }
        if cache_source == "backend_rpc":
            ev["fetch_ms"] = rng.randint(30, 700)
        if rng.random() < 0.25:  # read through the gateway (an API client, not the mount)
            del ev["mount_id"], ev["access_origin"]
        if outcome in ERRORS:
            ev["error_msg"] = ERRORS[outcome]
        return ev


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def history_lines(factory: AccessFactory, now: float, minutes: int,
                  per_minute: int) -> list[str]:
    """``minutes`` of reads ending at ``now``, with a busy stretch and one bad line."""
    rng = factory.rng
    lines: list[str] = []
    start = int(now) // 60 * 60 - minutes * 60
    for m in range(minutes):
        busy = 3 if minutes * 0.55 < m < minutes * 0.7 else 1
        n = max(0, int(rng.gauss(per_minute * busy, per_minute * 0.3)))
        offsets = sorted(rng.randrange(60_000) for _ in range(n))
        for off in offsets:
            lines.append(encode(factory.event((start + m * 60) * 1000 + off)))
        if m == minutes // 3:
            lines.append('{"ts": 17, "path": "/github/acme/api/src/ser')  # a torn write
        if m == minutes // 2 and lines:
            lines.append(lines[-1])  # a collector re-sent a batch: deduplicated on event_id
    return lines


class DemoAccess(DemoDir):
    """The demo airstore's access log and the thread that keeps appending to it."""

    THREAD = "demo-access"

    def __init__(self, root: Path, *, seed: int = 7) -> None:
        super().__init__(root)
        self.path = root / FILE_NAME
        self.factory = AccessFactory(seed)

    def _append(self, lines: list[str]) -> None:
        if lines:
            with self.path.open("a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")

    def prime(self, now: float) -> None:
        """An hour and a half of history, so the screen is not empty when first shown."""
        self._append(history_lines(self.factory, now, HISTORY_MINUTES, LIVE_RATE))

    def step(self, now: float) -> None:
        """One half-second's reads at the history's rate: mostly none, now and then a
        few at once (agents read in bursts)."""
        rng = self.factory.rng
        n = poisson(rng, LIVE_RATE * STEP / 60.0 / BURST_MEAN)
        n = sum(rng.choice(BURSTS) for _ in range(n))
        ts = int(now * 1000)
        self._append([encode(self.factory.event(ts + i)) for i in range(n)])

    def start(self) -> None:
        self.prime(time.time())
        self._start_thread(self._run)

    def _run(self) -> None:
        try:
            while not self._stop.wait(STEP):
                self.step(time.time())
        except OSError as exc:  # the directory was removed under us: stop quietly
            self.error = str(exc)



def build_demo_access(seed: int = 7, *, root: Path | None = None) -> DemoAccess:
    """A demo access log in a fresh temporary directory (or ``root``); call ``start()``."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix=PREFIX + "access-"))
        write_marker(root)
    else:
        root.mkdir(parents=True, exist_ok=True)
    return DemoAccess(root, seed=seed)


def sample_lines(now: float, seed: int = 7, minutes: int = 60) -> list[str]:
    """A fixed log (for snapshots and screenshots): ``minutes`` of reads up to ``now``."""
    return history_lines(AccessFactory(seed), now, minutes, HISTORY_RATE)
