"""``tokentop --demo``'s LLM gateway: an ongoingai SQLite trace store that keeps growing.

The database is what the gateway itself would leave behind: its two SQLite
migrations (``sqlite/001_create_traces.sql``, ``sqlite/002_add_gateway_key_id.sql``,
in :mod:`gateway_schema`) applied in order and recorded in ``schema_migrations``,
every index included, WAL journal, and times written the way its Go driver writes them
(Go's ``time.Time.String()``: ``2026-05-05 12:00:00.123456 +0000 UTC``). The Traces
screen opens it read-only like any gateway's store; nothing is faked past the file.

The rows are a few days of a small team's traffic: Anthropic, OpenAI and Google
models on their real routes, four gateway keys, a day/night rhythm, latency with a
long tail (and the odd NULL, which the gateway writes when a stream is cut), 4xx
(bad request, auth, rate limit) and 5xx (overloaded, bad gateway), request and
response headers as ``http.Header`` JSON *with* credentials in them (Authorization,
x-api-key, api-key, Cookie, Set-Cookie: the screen must redact them) and JSON
bodies. ``start()`` inserts one trace about every second and rewrites the
pipeline-diagnostics document (``trace-pipeline-diagnostics.v1``) at
``diagnostics_path`` with the queue's state; ``stop()`` deletes it all.

Everything is drawn from a seeded RNG and a given ``now``: the same seed and ``now``
give the same database, row for row (snapshots, screenshots, benches).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokentop.store.traces.timefmt import go_string
from tokentop.tui.demo.activity import poisson
from tokentop.tui.demo.cleanup import PREFIX, DemoDir, write_marker
from tokentop.tui.demo.gateway_schema import apply_sqlite

DB_NAME = "traces.db"
DIAGNOSTICS_NAME = "trace-pipeline-diagnostics.json"
STEP = 1.0  # seconds between live inserts
DAYS = 3
COUNT = 3000

COLUMNS = ("id", "trace_group_id", "org_id", "workspace_id", "timestamp", "provider", "model",
           "request_method", "request_path", "request_headers", "request_body",
           "response_status", "response_headers", "response_body", "input_tokens",
           "output_tokens", "total_tokens", "latency_ms", "time_to_first_token_ms",
           "time_to_first_token_us", "api_key_hash", "gateway_key_id", "estimated_cost_usd",
           "metadata", "created_at")
INSERT = (f"INSERT INTO traces ({', '.join(COLUMNS)}) "
          f"VALUES ({', '.join('?' for _ in COLUMNS)})")


@dataclass(frozen=True)
class Model:
    provider: str
    name: str
    path: str
    usd_in: float  # per million input tokens
    usd_out: float
    latency: float  # median latency, ms
    weight: float


MODELS = (
    Model("anthropic", "claude-sonnet-4-5-20250929", "/v1/messages", 3.0, 15.0, 4200, 34),
    Model("anthropic", "claude-haiku-4-5-20251001", "/v1/messages", 1.0, 5.0, 1300, 14),
    Model("anthropic", "claude-opus-4-1-20250805", "/v1/messages", 15.0, 75.0, 9500, 4),
    Model("openai", "gpt-5", "/v1/responses", 1.25, 10.0, 6100, 16),
    Model("openai", "gpt-5-mini", "/v1/chat/completions", 0.25, 2.0, 1900, 12),
    Model("openai", "gpt-4.1", "/v1/chat/completions", 2.0, 8.0, 2600, 5),
    Model("google", "gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent",
          1.25, 10.0, 5200, 9),
    Model("google", "gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent",
          0.3, 2.5, 1500, 6),
)
KEYS = (("gk_platform", 40), ("gk_search", 25), ("gk_ci", 20), ("gk_alice", 15))
USER_AGENTS = {"anthropic": ("claude-cli/2.0.14 (external, cli)", "anthropic-sdk-go/1.13.0"),
               "openai": ("openai-python/1.109.1", "codex_cli_rs/0.44.0"),
               "google": ("google-genai-sdk/1.38.0", "gemini-cli/0.8.2")}
PROMPTS = ("Summarise the failing test output and propose a fix.",
           "Refactor this function to stream rows instead of loading them all.",
           "Write a migration that adds an index on (created_at, id).",
           "Explain why the p99 latency doubled after the deploy.",
           "Translate the release notes to German.",
           "Review this diff for SQL injection.")
ERRORS = {
    400: ("invalid_request_error", "messages: text content blocks must be non-empty"),
    401: ("authentication_error", "invalid x-api-key"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    502: ("bad_gateway", "upstream connect error or disconnect/reset before headers"),
    529: ("overloaded_error", "Overloaded"),
}


def gateway_time(dt: datetime) -> str:
    """How the gateway writes a time: modernc.org/sqlite's default, Go's
    ``time.Time.String()`` of ``time.Now().UTC()``: ``2026-05-05 12:00:00.123456 +0000 UTC``
    (ongoingai/gateway internal/trace/sqlite.go, cmd/ongoingai/trace_capture.go)."""
    return go_string(dt)


class TraceFactory:
    """Plausible gateway traces from a seeded RNG."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(f"{seed}:traces")
        self.n = 0
        self.secrets = {key: self._secret(key) for key, _ in KEYS}
        self.group = f"grp-{self.rng.randrange(16**8):08x}"

    def _secret(self, key: str) -> dict[str, str]:
        r = self.rng
        return {"anthropic": f"sk-ant-api03-{r.randbytes(18).hex()}",
                "openai": f"sk-proj-{r.randbytes(18).hex()}",
                "google": f"AIza{r.randbytes(16).hex()}",
                "session": r.randbytes(12).hex(),
                "hash": hashlib.sha256(f"{key}:secret".encode()).hexdigest()}

    def row(self, at: datetime) -> tuple[Any, ...]:
        rng = self.rng
        self.n += 1
        model = rng.choices(MODELS, weights=[m.weight for m in MODELS])[0]
        key = rng.choices([k for k, _ in KEYS], weights=[w for _, w in KEYS])[0]
        secret = self.secrets[key]
        if rng.random() < 0.3:
            self.group = f"grp-{rng.randrange(16**8):08x}"
        status = rng.choices((200, 400, 401, 429, 500, 502, 529),
                             weights=(900, 12, 4, 40, 8, 10, 14 if model.provider ==
                                      "anthropic" else 0))[0]
        stream = rng.random() < 0.6
        ok = status == 200
        inp = int(rng.lognormvariate(7.6, 1.0))
        out = int(rng.lognormvariate(5.8, 0.9)) if ok else 0
        latency: int | None = int(rng.lognormvariate(0, 0.55) * model.latency) if ok else \
            rng.randint(40, 900)
        ttft_us: int | None = int(latency * rng.uniform(0.08, 0.3) * 1000) if ok and stream \
            else None
        if ok and rng.random() < 0.01:
            latency, ttft_us = None, None  # a stream cut before the gateway timed it
        cost = round((inp * model.usd_in + out * model.usd_out) / 1_000_000, 8) if ok else 0.0
        created = at + timedelta(milliseconds=latency or 0)
        trace_id = f"tr_{self.n:06d}_{rng.randrange(16**6):06x}"
        return (
            trace_id, self.group, "default", "default", gateway_time(at),
            model.provider, model.name, "POST", model.path,
            json.dumps(self._request_headers(model, secret, key, stream)),
            json.dumps(self._request_body(model, stream)),
            status,
            json.dumps(self._response_headers(model, status, secret)),
            json.dumps(self._response_body(model, status, inp, out)),
            inp if ok else None, out if ok else None, inp + out if ok else None,
            latency, None if ttft_us is None else ttft_us // 1000, ttft_us,
            secret["hash"], key, cost if ok else None,
            json.dumps({"gateway_key_id": key, "stream": stream, "client_ip": "10.0.4.17"}),
            gateway_time(created),
        )

    def _request_headers(self, model: Model, secret: dict[str, str], key: str,
                         stream: bool) -> dict[str, list[str]]:
        agent = self.rng.choice(USER_AGENTS[model.provider])
        h: dict[str, list[str]] = {"Content-Type": ["application/json"],
                                   "User-Agent": [agent],
                                   "X-Gateway-Key": [key],
                                   "Cookie": [f"gw_session={secret['session']}; theme=dark"]}
        if model.provider == "anthropic":
            h["X-Api-Key"] = [secret["anthropic"]]
            h["Anthropic-Version"] = ["2023-06-01"]
        elif model.provider == "openai":
            h["Authorization"] = [f"Bearer {secret['openai']}"]
            if self.rng.random() < 0.3:
                h["Api-Key"] = [secret["openai"]]  # the Azure-style header, too
        else:
            h["Authorization"] = [f"Bearer {secret['google']}"]
        if stream:
            h["Accept"] = ["text/event-stream"]
        return h

    def _request_body(self, model: Model, stream: bool) -> dict[str, Any]:
        prompt = self.rng.choice(PROMPTS)
        if model.provider == "google":
            return {"contents": [{"role": "user", "parts": [{"text": prompt}]}],
                    "generationConfig": {"maxOutputTokens": 2048}}
        return {"model": model.name, "max_tokens": 2048, "stream": stream,
                "messages": [{"role": "user", "content": prompt}]}

    def _response_headers(self, model: Model, status: int,
                          secret: dict[str, str]) -> dict[str, list[str]]:
        rng = self.rng
        h = {"Content-Type": ["application/json"],
             "Request-Id": [f"req_{rng.randbytes(12).hex()}"],
             "Set-Cookie": [f"__cf_bm={rng.randbytes(16).hex()}; path=/; HttpOnly; Secure"],
             "X-Ratelimit-Remaining-Requests": [str(rng.randint(0, 4000))]}
        if status == 429:
            h["Retry-After"] = [str(rng.randint(1, 30))]
        return h

    def _response_body(self, model: Model, status: int, inp: int, out: int) -> dict[str, Any]:
        if status != 200:
            kind, message = ERRORS[status]
            return {"type": "error", "error": {"type": kind, "message": message}}
        text = "Here is the fix: stream the rows with a server-side cursor."
        if model.provider == "anthropic":
            return {"id": f"msg_{self.rng.randbytes(8).hex()}", "type": "message",
                    "role": "assistant", "model": model.name,
                    "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": inp, "output_tokens": out}}
        if model.provider == "openai":
            return {"id": f"chatcmpl-{self.rng.randbytes(8).hex()}", "object": "chat.completion",
                    "model": model.name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": inp, "completion_tokens": out,
                              "total_tokens": inp + out}}
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": inp, "candidatesTokenCount": out,
                                  "totalTokenCount": inp + out}}


def busy(t: datetime) -> float:
    """How busy the gateway is at ``t`` (UTC), as a share of its working-hours rate."""
    hour = t.hour + t.minute / 60
    weight = 1.0 if 8 <= hour < 19 else 0.25
    if t.weekday() >= 5:
        weight *= 0.4
    return weight


def history_times(rng: random.Random, now: datetime, days: int, count: int) -> list[datetime]:
    """``count`` request times over ``days`` before ``now``, busier in working hours."""
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    out: list[datetime] = []
    while len(out) < count:
        t = start + timedelta(seconds=rng.random() * span)
        if rng.random() < busy(t):
            out.append(t)
    out.sort()
    return out


def live_rate(now: datetime, days: int = DAYS, count: int = COUNT) -> float:
    """Requests per minute at ``now`` at the history's own pace: ``count`` spread over
    ``days`` by :func:`busy`. A live writer at one request a second, fifty times the
    history's, made every Traces chart spike at "now" (issue 17)."""
    hours = days * 24
    mean = sum(busy(now - timedelta(hours=h + 0.5)) for h in range(hours)) / hours
    return count / (days * 1440 * mean) * busy(now)


def diagnostics_document(rng: random.Random, now: datetime, accepted: int) -> dict[str, Any]:
    """A ``/api/diagnostics/trace-pipeline`` answer with a queue that breathes."""
    capacity = 1000
    depth = int(capacity * min(1.0, abs(rng.gauss(0.55, 0.25))))
    high = max(depth, 910)
    util = depth * 100 // capacity
    high_util = high * 100 // capacity

    def pressure(pct: int) -> str:
        return ("saturated" if pct >= 100 else "high" if pct >= 80
                else "elevated" if pct >= 50 else "ok")

    return {
        "schema_version": "trace-pipeline-diagnostics.v1",
        "generated_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "diagnostics": {
            "queue_capacity": capacity, "queue_depth": depth,
            "queue_depth_high_watermark": high, "queue_utilization_pct": util,
            "queue_high_watermark_utilization_pct": high_util,
            "queue_pressure_state": pressure(util),
            "queue_high_watermark_pressure_state": pressure(high_util),
            "enqueue_accepted_total": accepted, "enqueue_dropped_total": 12,
            "write_dropped_total": 3, "total_dropped_total": 15,
            "last_enqueue_drop_at": (now - timedelta(hours=5)).astimezone(UTC).isoformat()
            .replace("+00:00", "Z"),
            "last_write_drop_operation": "write_batch",
            "write_failures_by_class": {"contention": 2, "timeout": 1},
            "store_driver": "sqlite",
        },
    }


class DemoTraces(DemoDir):
    """The demo gateway's SQLite store, its diagnostics file, and the live writer."""

    THREAD = "demo-traces"

    def __init__(self, root: Path, *, seed: int = 7) -> None:
        super().__init__(root)
        self.path = root / DB_NAME
        self.diagnostics_path = root / DIAGNOSTICS_NAME
        self.factory = TraceFactory(seed)
        self.diag_rng = random.Random(f"{seed}:diagnostics")
        self.live_rng = random.Random(f"{seed}:live")
        self.rows = 0
        self.days, self.count = DAYS, COUNT  # the history's shape, which live keeps to

    def build(self, now: datetime, *, days: int = DAYS, count: int = COUNT) -> None:
        """The schema and ``count`` traces over the ``days`` before ``now``."""
        conn = sqlite3.connect(self.path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            apply_sqlite(conn, now - timedelta(days=days, hours=1))
            times = history_times(self.factory.rng, now, days, count)
            with conn:
                conn.executemany(INSERT, (self.factory.row(t) for t in times))
            self.rows = count
            self.days, self.count = days, count
        finally:
            conn.close()
        self.write_diagnostics(now)

    def write_diagnostics(self, now: datetime) -> None:
        doc = diagnostics_document(self.diag_rng, now, self.rows + 15)
        tmp = self.diagnostics_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        os.replace(tmp, self.diagnostics_path)  # readers never see half a document

    def insert(self, now: datetime, conn: sqlite3.Connection) -> None:
        with conn:
            conn.execute(INSERT, self.factory.row(now))
        self.rows += 1

    def step(self, now: datetime, conn: sqlite3.Connection) -> int:
        """One live second: as many requests as the history's rate draws (mostly none)."""
        rate = live_rate(now, self.days, self.count) * STEP / 60.0
        n = poisson(self.live_rng, rate)
        for _ in range(n):
            self.insert(now, conn)
        return n

    def start(self, now: datetime | None = None) -> None:
        if not self.path.exists():
            self.build(now or datetime.now(UTC))
        self._start_thread(self._run)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path)
            try:
                while not self._stop.wait(STEP):
                    now = datetime.now(UTC)
                    self.step(now, conn)
                    self.write_diagnostics(now)
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as exc:  # removed under us: stop quietly
            self.error = str(exc)



def build_demo_traces(seed: int = 7, *, now: datetime | float | None = None,
                      root: Path | None = None, days: int = DAYS,
                      count: int = COUNT) -> DemoTraces:
    """A demo gateway store with its history written (in a fresh temporary directory,
    or ``root``); ``start()`` keeps inserting. Same seed and ``now``: same rows."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix=PREFIX + "traces-"))
        write_marker(root)
    else:
        root.mkdir(parents=True, exist_ok=True)
    if now is None:
        at = datetime.now(UTC)
    elif isinstance(now, datetime):
        at = now.astimezone(UTC)
    else:
        at = datetime.fromtimestamp(now, UTC)
    demo = DemoTraces(root, seed=seed)
    demo.build(at, days=days, count=count)
    return demo


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m tokentop.tui.demo.traces
    d = build_demo_traces(now=time.time())
    print(d.path, d.diagnostics_path)
