"""The demo's usage store: a few days of Claude Code and Codex messages, still coming in.

Like the gridctl tree, nothing is faked past the store: the messages go through
``UsageStore.ingest`` (dedup keys, fixed-width times) into a real ``usage.db`` in a
temporary directory, and the dashboard reads it like any other store. It holds:

- about three days of messages across three projects and four priced models, busier
  in the working hours of "now", with recent activity so the burn rate and the current
  5-hour block are not empty;
- tool calls (``tool_usage``), so the tool breakdown has rows;
- messages of a model the price table does not know (the unpriced warning);
- two ``limit_snapshot`` events of one provider, an hour apart (the quota gauge and its
  projected time to 100%).

``start()`` adds a message every few seconds; ``stop()`` deletes the directory (also at
exit, on SIGHUP/SIGTERM, or by the next demo's sweep if the process was killed).
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.model import EventType, IngestRequest
from tokentop.tui.demo.cleanup import PREFIX, DemoDir, write_marker

PROJECTS = ("/home/dev/webapp", "/home/dev/api", "/home/dev/infra")
# (agent, provider, model, weight, typical input, typical output)
MODELS = (
    ("claude_code", "anthropic", "claude-sonnet-4-5-20250929", 10, 1800, 600),
    ("claude_code", "anthropic", "claude-opus-4-6", 2, 2500, 900),  # fast mode, at times
    ("claude_code", "anthropic", "claude-haiku-4-5-20251001", 4, 900, 250),
    ("codex", "openai", "gpt-5-codex", 5, 3000, 700),
    ("gemini_cli", "google", "gemini-2.5-pro", 3, 2500, 500),
    ("opencode", "anthropic", "claude-sonnet-4-5", 2, 1500, 400),
    ("qwen_code", None, "qwen3-coder-plus", 1, 2000, 300),
    ("kimi_cli", "moonshot", "kimi-k2.6", 1, 1800, 350),
    ("codex", "openai", "acme-coder-2", 1, 1500, 400),  # not in the price table
)
TOOLS = ("Bash", "Read", "Edit", "Grep", "Write")
# Seconds between live messages: the pace of the history's last, busy half hour
# (``history``). A message every 3 s, twenty times that, made the Usage and Overview
# charts spike at "now" (issue 17).
LIVE_GAP_S = 60.0


class DemoUsage(DemoDir):
    """A temporary usage store with history and a writer that keeps adding to it."""

    THREAD = "demo-usage"

    def __init__(self, root: Path, *, seed: int = 7, interval: float = LIVE_GAP_S) -> None:
        super().__init__(root)
        self.path = root / "usage.db"
        self.rng = random.Random(f"{seed}:usage")
        self.interval = interval
        self.serial = 0

    # -- content -------------------------------------------------------------------
    def message(self, at: datetime) -> list[IngestRequest]:
        """One assistant message at ``at`` (and sometimes a tool call with it)."""
        rng = self.rng
        agent, provider, model, _, inp, out = rng.choices(
            MODELS, weights=[m[3] for m in MODELS])[0]
        project = rng.choices(PROJECTS, weights=(5, 3, 1))[0]
        self.serial += 1
        session = f"{agent}-{project.rsplit('/', 1)[1]}-{at:%m%d}-{at.hour // 4}"
        claude = agent == "claude_code"
        reqs = [IngestRequest(
            source_system=agent, source_channel="jsonl", occurred_at=at,
            workspace_id=project, session_id=session, message_id=f"msg_demo_{self.serial:06d}",
            provider_id=provider, agent_name=agent, model_raw=model, model_canonical=model,
            input_tokens=int(inp * rng.uniform(0.3, 1.7)),
            output_tokens=int(out * rng.uniform(0.3, 1.7)),
            cache_read_tokens=int(inp * rng.uniform(4, 14)) if claude else int(inp * 2),
            cache_write_tokens=int(inp * rng.uniform(0.2, 1.2)) if claude else 0,
        )]
        if claude:  # Claude Code 2.1: 1-hour cache writes, and fast mode on Opus 4.6
            first = reqs[0]
            if self.serial % 3 == 0:
                first.cache_write_1h_tokens = (first.cache_write_tokens or 0) * 2 // 3
            if model == "claude-opus-4-6" and self.serial % 4 == 0:
                first.speed = "fast"
        if rng.random() < 0.6:
            reqs.append(IngestRequest(
                source_system=agent, source_channel="jsonl", occurred_at=at,
                workspace_id=project, session_id=session, provider_id=provider,
                agent_name=agent, event_type=EventType.TOOL_USAGE,
                tool_call_id=f"toolu_demo_{self.serial:06d}", tool_name=rng.choice(TOOLS),
                requests=1,
            ))
        return reqs

    def history(self, now: datetime, days: int = 3) -> list[IngestRequest]:
        """``days`` of messages up to ``now``: busy in daytime hours, quiet at night."""
        reqs: list[IngestRequest] = []
        t = now - timedelta(days=days)
        while t < now:
            hour = t.hour
            busy = 9 <= hour < 19
            reqs.extend(self.message(t))
            gap = self.rng.expovariate(1 / (90 if busy else 1500))
            t += timedelta(seconds=max(5.0, gap))
        # The last half hour is busy in any case: a burn rate and an active block.
        t = now - timedelta(minutes=30)
        while t < now:
            reqs.extend(self.message(t))
            t += timedelta(seconds=max(5.0, self.rng.expovariate(1 / LIVE_GAP_S)))
        return [r for r in reqs if r.occurred_at <= now]

    @staticmethod
    def snapshot(at: datetime, used: int, resets: datetime) -> IngestRequest:
        payload = {"snapshot": {
            "provider_id": "anthropic", "account_id": "demo", "status": "ok",
            "metrics": {"weekly_tokens": {"limit": 50_000_000, "remaining": 50_000_000 - used,
                                          "used": used, "unit": "tokens", "window": "7d"}},
            "resets": {"weekly_tokens": resets.strftime("%Y-%m-%dT%H:%M:%SZ")},
        }}
        return IngestRequest(
            source_system="provider_poller", source_channel="api", occurred_at=at,
            provider_id="anthropic", account_id="demo", agent_name="provider_poller",
            event_type=EventType.LIMIT_SNAPSHOT, payload=payload,
        )

    def fill(self, now: datetime) -> None:
        """Write the history ending at ``now`` (deterministic for a seed and ``now``)."""
        with UsageStore.open(self.path) as store:
            store.ingest(self.history(now))
            resets = now + timedelta(days=2, hours=5)
            # One snapshot per batch: a batch keeps the first event's payload only.
            store.ingest([self.snapshot(now - timedelta(hours=1, minutes=2), 30_400_000,
                                        resets)])
            store.ingest([self.snapshot(now - timedelta(minutes=2), 31_600_000, resets)])

    # -- live ----------------------------------------------------------------------
    def start(self) -> None:
        self._start_thread(self._run)

    def _run(self) -> None:
        try:
            with UsageStore.open(self.path) as store:
                while not self._stop.wait(self.rng.expovariate(1 / self.interval)):
                    store.ingest(self.message(datetime.now(UTC)))
        except UsageStoreError as exc:
            self.error = str(exc)



def build_demo_usage(now: datetime | None = None, *, seed: int = 7,
                     root: Path | None = None) -> DemoUsage:
    """A demo usage store with history ending at ``now`` (default: the wall clock)."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix=PREFIX + "usage-"))
        write_marker(root)
    else:
        root.mkdir(parents=True, exist_ok=True)
    demo = DemoUsage(root, seed=seed)
    try:
        demo.fill(now or datetime.now(UTC))
    except BaseException:
        demo.stop()
        raise
    return demo
