"""Every agent besides Claude Code and Codex: a cold ``tokentop report daily --json`` over a
generated multi-agent home, beside ``ccusage daily --json --offline`` on the same home, then
the warm report after one new message per agent.

Run it as a script (it is not a pytest test):

    python tests/bench/bench_agents.py                 # ~1 GB of files, 200,000 rows
    python tests/bench/bench_agents.py --quick         # 20 MB, 5,000 rows: a smoke run
    python tests/bench/bench_agents.py --file-mb 200 --db-rows 50000 --keep

The home (a temporary directory) holds every agent ``GENERATORS`` has an entry for, in the
agent's real format: each generator replicates the records of the agent's fixtures
(``tests/usage/fixtures/<agent>/``, sources cited in their README.md) with fresh ids,
sessions and timestamps spread over the last ``--days`` days, so the collectors and
ccusage parse them as real ones. The FILE agents share ``--file-mb`` (the line agents'
session files grow by lines of 0.2-8 KB: prompts and tool output, as real sessions do),
the DATABASE agents share ``--db-rows`` (opencode and kilo one message a row, goose and
hermes one session a row, antigravity one generation a row in a database a conversation).
An agent in ``tokentop.store.usage.agents.AGENTS`` without a
generator is skipped and named; a new agent is one entry in ``GENERATORS`` (a function
writing its data under the home and returning what it wrote, and an ``append`` that
adds one message) plus its variables in ``Gen.env``.

What it measures, each a fresh process as a user runs it (bytecode cached under the
temporary directory, as an installed tokentop has it, even when the calling shell sets
``PYTHONDONTWRITEBYTECODE``):

- floor: ``tokentop report daily --json`` over an empty home (interpreter, imports, an
  empty store), median of 3: what any report costs before there is data;
- cold: ``tokentop report daily --json`` into a fresh store (``--store``; the report
  collects everything first), wall time and peak RSS (``ru_maxrss`` of the child from
  ``os.wait4``: its largest process, parsing workers included); with ``--cold-runs N``,
  N-1 more pairs (tokentop cold, then ``ccusage daily --json --offline`` right after it)
  before the reported one, and the median of the per-pair ratios;
- ccusage: the pinned ccusage 20.0.24 (``tests/support/install_ccusage.sh``),
  ``ccusage daily --json --offline --timezone UTC --by-agent`` (every agent it detects;
  ``--by-agent`` only adds a per-agent grouping of what it loaded) with the same
  variables and an empty ``HOME``, right after tokentop's cold run (same warm page
  cache); wall, peak RSS (the Node wrapper or the native binary, whichever is larger),
  the ratio of the walls, and per agent: the records generated, tokentop's events and
  tokens (read from its store) and ccusage's tokens (reported, not asserted: the parity
  tests own the numbers, and ccusage counts some copies twice by design, e.g. Qwen's
  cached tokens); an agent with no event in tokentop's store fails the run;
- with ``--floor``, the single writer's floor (``writer_floor.py``): every SQL statement
  of a cold collect of this home, replayed into a fresh store with no Python work
  between them, beside ccusage's wall;
- nothing new: the report again with nothing appended, median of 3;
- warm: ``--appends`` times, one new message appended to every agent (a line to a
  session file, a row to each database), then ``tokentop report daily --json`` (it
  collects the new messages incrementally), checked to have grown. Target (issue 14):
  median <= 300 ms.

Exit status 1 if the warm target is missed, an agent yields no event, or a tool fails.
Timings on the shared 2-core machine are noisy: compare runs of the same build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "usage" / "fixtures"
CCUSAGE = (ROOT / "tests" / "support" / "ccusage" / "node_modules" / "@ccusage"
           / "ccusage-linux-x64" / "bin" / "ccusage")
INSTALL = "tests/support/install_ccusage.sh"
TARGET_MS = 300.0
NOW = datetime.now(UTC).replace(microsecond=0)

# Text that real sessions carry around the usage lines (prompts, tool output, file
# contents): sliced at random offsets so lines differ and do not compress to nothing.
_WORDS = ("def parse(line): return json.loads(line)  # collector reads the offset "
          "Traceback (most recent call last): File store/usage/collect.py line 412 "
          "README.md tests pass 17 passed in 0.41s import sqlite3 SELECT * FROM message ")
_TEXT = "".join(random.Random(3).choice(_WORDS.split()) + " " for _ in range(40_000))


def filler(rng: random.Random, lo: int = 200, hi: int = 8000) -> str:
    n = rng.randint(lo, hi)
    start = rng.randrange(0, len(_TEXT) - n)
    return _TEXT[start:start + n]


def iso_ms(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def session_start(rng: random.Random, days: int) -> datetime:
    """A session start in the last ``days`` days (ending an hour ago: room for turns)."""
    span = days * 86400 - 3600
    return NOW - timedelta(seconds=3600 + rng.randrange(span))


@dataclass
class Wrote:
    """What a generator wrote: for the printout and the appends."""

    files: int = 0
    bytes: int = 0
    messages: int = 0  # usage records (a file line or a database row)
    state: dict = field(default_factory=dict)  # what ``append`` needs


@dataclass(frozen=True)
class Gen:
    """One agent's generator. ``kind`` "file" (JSONL appended) shares the byte budget,
    "whole" (a JSON document per session, rewritten) makes ``--whole-sessions`` sessions,
    "db" shares the rows."""

    kind: str
    env: Callable[[Path], dict[str, str]]  # the variables pointing the agent at ``base``
    build: Callable[[Path, int, random.Random, int], Wrote]  # (base, budget, rng, days)
    append: Callable[[Path, Wrote, int], None]  # (base, wrote, n): one new message


# --- line agents: sessions of turns until the byte budget is spent -----------------------

def _lines_agent(write_session: Callable[[random.Random, datetime, int], tuple[str, str, int]],
                 ) -> Callable[[Path, int, random.Random, int], Wrote]:
    """A builder from ``write_session(rng, start, turns) -> (relative path, text,
    usage records)``."""

    def build(base: Path, budget: int, rng: random.Random, days: int) -> Wrote:
        w = Wrote()
        while w.bytes < budget:
            rel, text, n = write_session(rng, session_start(rng, days), rng.randint(10, 60))
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode()
            path.write_bytes(data)
            w.files += 1
            w.bytes += len(data)
            w.messages += n
            w.state["last"] = path
        return w

    return build


def _append_line(line: Callable[[int, datetime], str]) -> Callable[[Path, Wrote, int], None]:
    def append(base: Path, wrote: Wrote, n: int) -> None:
        with Path(wrote.state["last"]).open("a") as f:
            f.write(line(n, datetime.now(UTC) - timedelta(seconds=5)))

    return append


# gemini: tests/usage/fixtures/gemini/tmp/tokentop/chats/session-2026-05-18T09-30-3f2a9c1e.jsonl
# (metadata line, user record, the gemini record first without then with tokens, $set).
GEMINI_MODELS = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview")


def _gemini_record(mid: str, t: datetime, model: str, n: int, tokens: bool) -> dict:
    rec: dict = {"id": mid, "timestamp": iso_ms(t), "type": "gemini",
                 "content": [{"text": "Let me look at the collector."}],
                 "thoughts": [{"subject": "Reading the collector",
                               "description": "Checking which directories are scanned.",
                               "timestamp": iso_ms(t)}],
                 "tokens": None, "model": model}
    if tokens:
        inp, cached, out, th = 18000 + n % 9000, 12288, 96 + n % 900, 412
        rec["tokens"] = {"input": inp, "output": out, "cached": cached, "thoughts": th,
                         "tool": 0, "total": inp + out + th}
    return rec


def gemini_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    project = hashlib.sha256(f"/home/dev/p{rng.randrange(12)}".encode()).hexdigest()
    model = rng.choice(GEMINI_MODELS)
    out = [dumps({"sessionId": sid, "projectHash": project, "startTime": iso_ms(start),
                  "lastUpdated": iso_ms(start)})]
    t = start
    for i in range(turns):
        t += timedelta(seconds=rng.randint(5, 90))
        out.append(dumps({"id": f"{sid[:8]}-u{i}", "timestamp": iso_ms(t), "type": "user",
                          "content": [{"text": filler(rng)}]}))
        mid = f"{sid[:8]}-g{i}"
        out.append(dumps(_gemini_record(mid, t, model, i, False)))
        out.append(dumps({"$set": {"lastUpdated": iso_ms(t)}}))
        out.append(dumps(_gemini_record(mid, t, model, i, True)))
    name = f"session-{start:%Y-%m-%dT%H-%M}-{sid[:8]}.jsonl"
    return f"tmp/{project}/chats/{name}", "".join(out), turns


def gemini_line(n: int, t: datetime) -> str:
    return dumps(_gemini_record(f"bench-new-{n}-{uuid.uuid4().hex[:8]}", t, "gemini-2.5-pro",
                                n, True))


# qwen: tests/usage/fixtures/qwen/qwen/projects/-home-dev-tokentop/chats/*.jsonl
QWEN_MODELS = ("qwen3-coder-plus", "qwen3-coder-flash")


def _qwen_assistant(u: str, parent: str, sid: str, t: datetime, model: str, n: int) -> dict:
    prompt, cached, cand, th = 21034 + n % 7000, 18432, 512 + n % 400, 188
    return {"uuid": u, "parentUuid": parent, "sessionId": sid, "timestamp": iso_ms(t),
            "type": "assistant", "cwd": "/home/dev/tokentop", "version": "0.18.2",
            "gitBranch": "main", "model": model,
            "message": {"role": "model", "parts": [{"text": "Here is the plan."}]},
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": cand,
                              "totalTokenCount": prompt + cand, "cachedContentTokenCount": cached,
                              "thoughtsTokenCount": th},
            "contextWindowSize": 1000000}


def qwen_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    model = rng.choice(QWEN_MODELS)
    common = {"sessionId": sid, "cwd": "/home/dev/tokentop", "version": "0.18.2",
              "gitBranch": "main"}
    out, parent, t = [], None, start
    for i in range(turns):
        t += timedelta(seconds=rng.randint(5, 90))
        u = f"{sid[:8]}-u{i}"
        out.append(dumps({"uuid": u, "parentUuid": parent, **common, "timestamp": iso_ms(t),
                          "type": "user",
                          "message": {"role": "user", "parts": [{"text": filler(rng, 100, 800)}]}}))
        a = f"{sid[:8]}-a{i}"
        out.append(dumps(_qwen_assistant(a, u, sid, t + timedelta(seconds=3), model, i)))
        r = f"{sid[:8]}-r{i}"
        out.append(dumps({"uuid": r, "parentUuid": a, **common, "timestamp": iso_ms(t),
                          "type": "tool_result",
                          "message": {"role": "user", "parts": [{"functionResponse": {
                              "id": f"call_{i}", "name": "read_file",
                              "response": {"output": filler(rng)}}}]},
                          "toolCallResult": {"callId": f"call_{i}", "status": "success",
                                             "resultDisplay": "Read 412 lines"}}))
        parent = r
    return f"projects/-home-dev-p{rng.randrange(12)}/chats/{sid}.jsonl", "".join(out), turns


def qwen_line(n: int, t: datetime) -> str:
    sid = "bench-appended-session"
    return dumps(_qwen_assistant(f"bench-new-{n}-{uuid.uuid4().hex[:8]}", None, sid, t,
                                 "qwen3-coder-plus", n))


# pi and openclaw (pi's session format): tests/usage/fixtures/pi/generated/--work-demo--/*.jsonl
# and tests/usage/fixtures/openclaw/openclaw/agents/main/sessions/*.jsonl
PI_MODELS = (("anthropic", "claude-sonnet-4-5", "anthropic-messages"),
             ("openai", "gpt-5.1-codex", "openai-responses"))


def _pi_assistant(eid: str, parent: str, t: datetime, n: int, model: tuple[str, str, str],
                  ) -> dict:
    provider, name, api = model
    inp, out, cr, cw = 1200 + n % 3000, 85 + n % 700, 9000, 3400 if n % 5 == 0 else 0
    cost = {"input": inp * 3e-6, "output": out * 15e-6, "cacheRead": cr * 3e-7,
            "cacheWrite": cw * 3.75e-6}
    cost["total"] = sum(cost.values())
    ms = int(t.timestamp() * 1000)
    return {"type": "message", "id": eid, "parentId": parent, "timestamp": iso_ms(t),
            "message": {"role": "assistant",
                        "content": [{"type": "text", "text": "Here they are."}],
                        "api": api, "provider": provider, "model": name,
                        "usage": {"input": inp, "output": out, "cacheRead": cr, "cacheWrite": cw,
                                  "totalTokens": inp + out + cr + cw, "cost": cost},
                        "stopReason": "stop", "timestamp": ms}}


def _pi_session_lines(rng: random.Random, start: datetime, turns: int, sid: str, cwd: str,
                      ) -> str:
    model = rng.choice(PI_MODELS)
    out = [dumps({"type": "session", "version": 3, "id": sid, "timestamp": iso_ms(start),
                  "cwd": cwd}),
           dumps({"type": "model_change", "id": f"{sid[:6]}m0", "parentId": None,
                  "timestamp": iso_ms(start), "provider": model[0], "modelId": model[1]})]
    parent, t = f"{sid[:6]}m0", start
    for i in range(turns):
        t += timedelta(seconds=rng.randint(5, 90))
        u = f"{sid[:6]}u{i:04d}"
        out.append(dumps({"type": "message", "id": u, "parentId": parent, "timestamp": iso_ms(t),
                          "message": {"role": "user",
                                      "content": [{"type": "text", "text": filler(rng)}],
                                      "timestamp": int(t.timestamp() * 1000)}}))
        a = f"{sid[:6]}a{i:04d}"
        out.append(dumps(_pi_assistant(a, u, t + timedelta(seconds=4), i, model)))
        parent = a
    return "".join(out)


def pi_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    p = rng.randrange(12)
    name = f"{start:%Y-%m-%dT%H-%M-%S-000Z}_{sid}.jsonl"
    return (f"--work-p{p}--/{name}", _pi_session_lines(rng, start, turns, sid, f"/work/p{p}"),
            turns)


def openclaw_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    agent = rng.choice(("main", "coder"))
    return (f"agents/{agent}/sessions/{sid}.jsonl",
            _pi_session_lines(rng, start, turns, sid, "/home/u/.openclaw/workspace"), turns)


def pi_line(n: int, t: datetime) -> str:
    return dumps(_pi_assistant(f"bench{n:04d}{uuid.uuid4().hex[:6]}", None, t, n, PI_MODELS[0]))


# kimi: tests/usage/fixtures/kimi/share/sessions/<md5>/<session>/wire.jsonl
def _kimi_status(t: datetime, mid: str, n: int) -> dict:
    return {"timestamp": t.timestamp(), "message": {"type": "StatusUpdate", "payload": {
        "context_usage": 0.044655, "context_tokens": 11706, "max_context_tokens": 262144,
        "token_usage": {"input_other": 2490 + n % 2000, "output": 106 + n % 600,
                        "input_cache_read": 9216, "input_cache_creation": 0},
        "message_id": mid, "plan_mode": False, "mcp_status": None}}}


def kimi_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    group = hashlib.md5(f"/home/u/p{rng.randrange(12)}".encode()).hexdigest()
    out = [dumps({"type": "metadata", "protocol_version": "1.9"})]
    t = start
    for i in range(turns):
        t += timedelta(seconds=rng.randint(5, 90))
        ts = t.timestamp()
        out.append(dumps({"timestamp": ts, "message": {"type": "TurnBegin", "payload": {
            "user_input": [{"type": "text", "text": filler(rng, 100, 800)}]}}}))
        out.append(dumps({"timestamp": ts + 0.01, "message": {"type": "StepBegin",
                                                              "payload": {"n": 1}}}))
        out.append(dumps({"timestamp": ts + 0.1, "message": {"type": "ToolCall", "payload": {
            "type": "function", "id": "ReadFile:0", "function": {
                "name": "ReadFile", "arguments": "{\"path\": \"parser.py\"}"}, "extras": None}}}))
        out.append(dumps(_kimi_status(t + timedelta(seconds=2), f"chatcmpl-{sid[:8]}{i}", i)))
        out.append(dumps({"timestamp": ts + 2.2, "message": {"type": "ToolResult", "payload": {
            "tool_call_id": "ReadFile:0", "return_value": {
                "is_error": False, "output": filler(rng), "message": "Read 1 line",
                "display": [], "extras": None}}}}))
        out.append(dumps({"timestamp": ts + 2.3, "message": {"type": "TurnEnd", "payload": {}}}))
    return f"sessions/{group}/{sid}/wire.jsonl", "".join(out), turns


def kimi_line(n: int, t: datetime) -> str:
    return dumps(_kimi_status(t, f"chatcmpl-bench-{n}-{uuid.uuid4().hex[:8]}", n))


# copilot: tests/usage/fixtures/copilot/home/session-state/<id>/events.jsonl (on main with
# the Copilot collector): session.start, user messages and tool runs, and per process a
# session.shutdown whose modelMetrics are running totals per model (a resume appends another)
def _copilot_event(kind: str, data: dict, t: datetime, eid: str, parent: str | None) -> str:
    return dumps({"type": kind, "data": data, "id": eid, "timestamp": iso_ms(t),
                  "parentId": parent})


def _copilot_metrics(k: int) -> dict:
    """Running totals after ``k`` requests of one process history."""
    return {"claude-sonnet-4.5": {"requests": {"count": k, "cost": 1}, "usage": {
        "inputTokens": 41250 * k, "outputTokens": 1830 * k, "cacheReadTokens": 30720 * k,
        "cacheWriteTokens": 6144 * k, "reasoningTokens": 412 * k}}}


def copilot_session(rng: random.Random, start: datetime, turns: int) -> tuple[str, str, int]:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    cwd = f"/home/u/work/p{rng.randrange(12)}"
    out = [_copilot_event("session.start", {
        "sessionId": sid, "version": 1, "producer": "copilot-agent", "copilotVersion": "1.0.54",
        "startTime": iso_ms(start), "context": {"cwd": cwd, "gitRoot": cwd, "branch": "main"},
        "alreadyInUse": False}, start, f"{sid[:8]}-e0", None)]
    t, parent, done, shutdowns = start, f"{sid[:8]}-e0", 0, 0
    for i in range(turns):
        t += timedelta(seconds=rng.randint(5, 90))
        out.append(_copilot_event("user.message", {"messageId": f"u{i}",
                                                   "content": filler(rng, 100, 800)},
                                  t, f"{sid[:8]}-u{i}", parent))
        out.append(_copilot_event("tool.execution_start", {
            "toolCallId": f"call-{i}", "toolName": "bash",
            "arguments": {"command": filler(rng)}}, t, f"{sid[:8]}-x{i}", f"{sid[:8]}-u{i}"))
        parent, done = f"{sid[:8]}-x{i}", done + 1
        if i % 8 == 7 or i == turns - 1:  # a process ends: its totals so far
            out.append(_copilot_event("session.shutdown", {
                "shutdownType": "routine", "totalPremiumRequests": done,
                "modelMetrics": _copilot_metrics(done), "currentModel": "claude-sonnet-4.5"},
                t, f"{sid[:8]}-s{i}", parent))
            shutdowns += 1
            if i != turns - 1:
                t += timedelta(minutes=rng.randint(1, 120))
                out.append(_copilot_event("session.resume", {"resumeTime": iso_ms(t)},
                                          t, f"{sid[:8]}-r{i}", f"{sid[:8]}-s{i}"))
    return f"session-state/{sid}/events.jsonl", "".join(out), shutdowns


def copilot_append(base: Path, wrote: Wrote, n: int) -> None:
    """One more process (one more request) in the last session: a shutdown whose totals
    grew by one request."""
    path = Path(wrote.state["last"])
    done = 0
    for line in path.read_text().splitlines():
        if '"session.shutdown"' in line:
            done = json.loads(line)["data"]["totalPremiumRequests"]
    t = datetime.now(UTC) - timedelta(seconds=5)
    with path.open("a") as f:
        f.write(_copilot_event("session.shutdown", {
            "shutdownType": "routine", "totalPremiumRequests": done + 1,
            "modelMetrics": _copilot_metrics(done + 1), "currentModel": "claude-sonnet-4.5"},
            t, f"bench-shutdown-{n}-{uuid.uuid4().hex[:8]}", None))


# --- whole-file agents: one JSON document per session, rewritten in place ---------------

Docs = tuple[list[tuple[str, str]], int]


def _whole_agent(write_session: Callable[[random.Random, datetime, int], Docs],
                 ) -> Callable[[Path, int, random.Random, int], Wrote]:
    """A builder of ``budget`` sessions from ``write_session(rng, start, n) -> ([(relative
    path, text)], usage records)`` (the first file is the usage document)."""

    def build(base: Path, budget: int, rng: random.Random, days: int) -> Wrote:
        w = Wrote()
        for n in range(budget):
            docs, records = write_session(rng, session_start(rng, days), n)
            for rel, text in docs:
                path = base / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                data = text.encode()
                path.write_bytes(data)
                w.files += 1
                w.bytes += len(data)
            w.messages += records
            w.state["last"] = base / docs[0][0]
            w.state["start"] = n
        return w

    return build


# droid: tests/usage/fixtures/droid/sessions/-home-u-work-api/0f6f1f7e-....settings.json and
# its .jsonl (one cumulative total per session, rewritten as the session goes on)
def _droid_settings(t: datetime, n: int, grow: int = 0) -> str:
    return json.dumps({
        "assistantActiveTimeMs": 1725575, "model": "custom:Claude-Opus-4.5-Thinking-[Anthropic]-0",
        "reasoningEffort": "high", "interactionMode": "auto", "autonomyLevel": "medium",
        "autonomyMode": "auto-medium", "tags": [{"name": "exec"}], "providerLock": "anthropic",
        "providerLockTimestamp": iso_ms(t), "apiProviderLock": "anthropic",
        "tokenUsage": {"inputTokens": 286905 + n % 5000 + grow * 1000,
                       "outputTokens": 32652 + grow * 100, "cacheCreationTokens": 120400,
                       "cacheReadTokens": 10505600 + grow * 5000, "thinkingTokens": 10176}},
        separators=(",", ":"))


def droid_session(rng: random.Random, start: datetime, n: int) -> Docs:
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    p = rng.randrange(12)
    return [(f"-home-u-work-p{p}/{sid}.settings.json", _droid_settings(start, n)),
            (f"-home-u-work-p{p}/{sid}.jsonl",
             dumps({"type": "session_start", "id": sid, "title": "fix the flaky test",
                    "owner": "u", "version": 2, "cwd": f"/home/u/work/p{p}"}))], 1


def droid_append(base: Path, wrote: Wrote, n: int) -> None:
    """One more message in the last session: its cumulative total grows (rewritten)."""
    path = Path(wrote.state["last"])
    start = datetime.fromisoformat(json.loads(path.read_bytes())["providerLockTimestamp"])
    path.write_text(_droid_settings(start, wrote.state["start"], grow=n + 1))


# codebuff: tests/usage/fixtures/codebuff/manicode/projects/web-app/chats/<time>/chat-messages.json
def _codebuff_ai(mid: str, t: datetime, n: int) -> dict:
    return {"id": mid, "variant": "ai", "content": "Sure.", "timestamp": iso_ms(t),
            "blocks": [], "credits": 3.5,
            "metadata": {"model": "claude-sonnet-4-5-20250929",
                         "usage": {"inputTokens": 2400 + n % 900, "outputTokens": 800,
                                   "cacheCreationInputTokens": 12000,
                                   "cacheReadInputTokens": 30000}}}


def codebuff_session(rng: random.Random, start: datetime, n: int) -> Docs:
    msgs, t = [], start
    for i in range(rng.randint(5, 30)):
        t += timedelta(seconds=rng.randint(5, 90))
        msgs.append({"id": f"u-{n}-{i}", "variant": "user", "content": filler(rng, 100, 1500),
                     "timestamp": iso_ms(t), "blocks": []})
        msgs.append(_codebuff_ai(f"m-{n}-{i}-{rng.getrandbits(32):08x}", t, i))
    chat = f"{start:%Y-%m-%dT%H-%M-%S}.{n % 1000:03d}Z"
    return [(f"projects/p{rng.randrange(12)}/chats/{chat}/chat-messages.json",
             json.dumps(msgs, indent=1))], len(msgs) // 2


def codebuff_append(base: Path, wrote: Wrote, n: int) -> None:
    path = Path(wrote.state["last"])
    msgs = json.loads(path.read_bytes())
    msgs.append(_codebuff_ai(f"m-bench-{n}-{uuid.uuid4().hex[:8]}",
                             datetime.now(UTC) - timedelta(seconds=5), n))
    path.write_text(json.dumps(msgs, indent=1))


# amp: tests/usage/fixtures/amp/data/threads/T-9a8b7c6d-....json (on main with the Amp
# collector): a thread's messages with usage and its usageLedger (what counts when present)
def _amp_pair(i: int, t: datetime, ledger_id: str) -> tuple[dict, dict]:
    usage = {"model": "claude-sonnet-4-20250514", "inputTokens": 12 + i,
             "outputTokens": 300 + i % 500, "cacheCreationInputTokens": 1500,
             "cacheReadInputTokens": 9000}
    msg = {"role": "assistant", "messageId": 2 * i + 1, "usage": usage}
    event = {"id": ledger_id, "timestamp": iso_ms(t), "model": usage["model"], "credits": 3.5,
             "tokens": {"input": usage["inputTokens"], "output": usage["outputTokens"]},
             "operationType": "inference", "fromMessageId": 2 * i, "toMessageId": 2 * i + 1}
    return msg, event


def _amp_thread(tid: str, created: datetime, msgs: list, events: list) -> str:
    return json.dumps({"v": 57, "id": tid, "created": int(created.timestamp() * 1000),
                       "messages": msgs, "usageLedger": {"events": events}})


def amp_session(rng: random.Random, start: datetime, n: int) -> Docs:
    tid = f"T-{uuid.UUID(int=rng.getrandbits(128))}"
    msgs: list = []
    events: list = []
    t = start
    for i in range(rng.randint(5, 30)):
        t += timedelta(seconds=rng.randint(5, 90))
        msgs.append({"role": "user", "messageId": 2 * i,
                     "content": [{"type": "text", "text": filler(rng, 100, 1500)}]})
        msg, event = _amp_pair(i, t, f"{tid[2:10]}-led-{i}")
        msgs.append(msg)
        events.append(event)
    return [(f"threads/{tid}.json", _amp_thread(tid, start, msgs, events))], len(events)


def amp_append(base: Path, wrote: Wrote, n: int) -> None:
    path = Path(wrote.state["last"])
    doc = json.loads(path.read_bytes())
    i = len(doc["usageLedger"]["events"]) + n
    msg, event = _amp_pair(i, datetime.now(UTC) - timedelta(seconds=5),
                           f"bench-led-{n}-{uuid.uuid4().hex[:8]}")
    doc["messages"].append(msg)
    doc["usageLedger"]["events"].append(event)
    path.write_text(json.dumps(doc))


# --- database agents ----------------------------------------------------------------------

def _sql(agent: str, name: str) -> str:
    return (FIXTURES / agent / name).read_text()


def _opencode_row(rid: str, sid: str, t: datetime, n: int, model: tuple[str, str]) -> tuple:
    provider, name = model
    ms = int(t.timestamp() * 1000)
    data = {"role": "assistant", "time": {"created": ms, "completed": ms + 4000},
            "parentID": f"{rid}u", "modelID": name, "providerID": provider, "mode": "build",
            "agent": "build", "path": {"cwd": "/home/u/app", "root": "/home/u/app"},
            "cost": round(0.0123 + (n % 50) * 1e-4, 6),
            "tokens": {"input": 1200 + n % 3000, "output": 250 + n % 500, "reasoning": 0,
                       "cache": {"read": 9000, "write": 300}}, "finish": "stop"}
    return (rid, sid, ms, ms + 4000, json.dumps(data, separators=(",", ":")))


OPENCODE_MODELS = (("anthropic", "claude-sonnet-4-20250514"), ("openai", "gpt-5"))


def _opencode_like(agent: str, rel: str) -> Callable[[Path, int, random.Random, int], Wrote]:
    """opencode.db / kilo.db: tests/usage/fixtures/<agent>/schema.sql and the assistant
    rows of messages.sql (``msg_02``'s shape), one message a row."""

    def build(base: Path, rows: int, rng: random.Random, days: int) -> Wrote:
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_sql(agent, "schema.sql"))
        batch, n = [], 0
        while n < rows:
            sid, t = f"ses_{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}", session_start(rng, days)
            model = rng.choice(OPENCODE_MODELS)
            for _ in range(min(rng.randint(10, 60), rows - n)):
                t += timedelta(seconds=rng.randint(5, 90))
                batch.append(_opencode_row(f"msg_{n:09d}{rng.getrandbits(32):08x}", sid, t, n,
                                           model))
                n += 1
        conn.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", batch)
        conn.commit()
        conn.close()
        return Wrote(files=1, bytes=path.stat().st_size, messages=rows, state={"db": path})

    return build


def _opencode_append(base: Path, wrote: Wrote, n: int) -> None:
    conn = sqlite3.connect(wrote.state["db"])
    conn.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)",
                 _opencode_row(f"msg_bench_{n}_{uuid.uuid4().hex[:8]}", "ses_bench",
                               datetime.now(UTC) - timedelta(seconds=5), n,
                               OPENCODE_MODELS[0]))
    conn.commit()
    conn.close()


GOOSE_SQL = ("INSERT INTO sessions (id, name, session_type, working_dir, created_at, updated_at,"
             " total_tokens, input_tokens, output_tokens, accumulated_total_tokens,"
             " accumulated_input_tokens, accumulated_output_tokens, provider_name,"
             " model_config_json) VALUES (?, ?, 'user', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _goose_row(sid: str, t: datetime, n: int) -> tuple:
    inp, out = 45210 + n % 9000, 3120 + n % 700
    cfg = '{"model_name":"claude-sonnet-4-5-20250929","context_limit":null,"temperature":null,' \
          '"max_tokens":null,"toolshim":false,"toolshim_model":null}'
    stamp = t.strftime("%Y-%m-%d %H:%M:%S")
    end = (t + timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S")
    return (sid, "fix login", "/home/u/app", stamp, end, 12000, 11500, 500, inp + out, inp, out,
            "anthropic", cfg)


def goose_build(base: Path, rows: int, rng: random.Random, days: int) -> Wrote:
    """sessions.db: tests/usage/fixtures/goose/schema_v13.sql, rows in sessions.sql's
    first shape (accumulated totals), one session a row."""
    path = base / "goose" / "data" / "sessions" / "sessions.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_sql("goose", "schema_v13.sql"))
    rows_ = []
    for n in range(rows):
        t = session_start(rng, days)
        rows_.append(_goose_row(f"{t:%Y%m%d}_{n + 1}", t, n))
    conn.executemany(GOOSE_SQL, rows_)
    conn.commit()
    conn.close()
    return Wrote(files=1, bytes=path.stat().st_size, messages=rows, state={"db": path})


def goose_append(base: Path, wrote: Wrote, n: int) -> None:
    conn = sqlite3.connect(wrote.state["db"])
    now = datetime.now(UTC) - timedelta(minutes=21)
    conn.execute(GOOSE_SQL, _goose_row(f"{now:%Y%m%d}_bench{n}_{uuid.uuid4().hex[:6]}", now, n))
    conn.commit()
    conn.close()


HERMES_SQL = ("INSERT INTO sessions (id, source, model, started_at, message_count, input_tokens,"
              " output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,"
              " billing_provider, estimated_cost_usd, actual_cost_usd)"
              " VALUES (?, 'cli', 'claude-sonnet-4-5-20250929', ?, 12, ?, ?, 120000, 6000, 0,"
              " 'anthropic', ?, NULL)")


def _hermes_row(sid: str, t: datetime, n: int) -> tuple:
    return (sid, t.timestamp(), 8000 + n % 4000, 900 + n % 300, 0.1234)


def hermes_build(base: Path, rows: int, rng: random.Random, days: int) -> Wrote:
    """state.db: tests/usage/fixtures/hermes/ccusage_schema.sql, rows in sessions.sql's
    "estimate only" shape, one session a row."""
    path = base / "hermes" / "state.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_sql("hermes", "ccusage_schema.sql"))
    rows_ = []
    for n in range(rows):
        t = session_start(rng, days)
        rows_.append(_hermes_row(f"{t:%Y%m%d_%H%M%S}_{n:06x}", t, n))
    conn.executemany(HERMES_SQL, rows_)
    conn.commit()
    conn.close()
    return Wrote(files=1, bytes=path.stat().st_size, messages=rows, state={"db": path})


def hermes_append(base: Path, wrote: Wrote, n: int) -> None:
    conn = sqlite3.connect(wrote.state["db"])
    now = datetime.now(UTC) - timedelta(seconds=5)
    conn.execute(HERMES_SQL, _hermes_row(f"bench_{n}_{uuid.uuid4().hex[:6]}", now, n))
    conn.commit()
    conn.close()


def _ags() -> Any:  # tests/usage/antigravity_support.py, from its directory
    sys.path.insert(0, str(ROOT / "tests" / "usage"))
    import antigravity_support

    return antigravity_support


def _antigravity_row(n: int, t: datetime, model: str | None) -> bytes:
    """One ``gen_metadata`` blob in the shape of ``write_corpus``'s (built by the port of
    ccusage's test helpers, tests/usage/antigravity_support.py)."""
    ags = _ags()
    usage = ags.UsageFixture(input_tokens=1200 + n % 3000, total_output_tokens=300 + n % 400,
                             visible_output_tokens=250 + n % 400, reasoning_tokens=50,
                             cache_read_tokens=9000, message_id=f"m-{n}-{uuid.uuid4().hex[:8]}",
                             response_id=f"r-{n}-{uuid.uuid4().hex[:8]}")
    return ags.metadata_blob(model, usage, (int(t.timestamp()), t.microsecond * 1000))


def antigravity_build(base: Path, rows: int, rng: random.Random, days: int) -> Wrote:
    """One database a conversation (tests/usage/fixtures/antigravity/schema.sql) under
    ``<base>/antigravity/conversations``, 10-60 generations each, the first naming the
    model (the later ones carry it forward, as the real ones do)."""
    ags = _ags()
    conv = base / "antigravity" / "conversations"
    n, size, files, last = 0, 0, 0, None
    while n < rows:
        t = session_start(rng, days)
        gens = []
        for i in range(min(rng.randint(10, 60), rows - n)):
            t += timedelta(seconds=rng.randint(5, 90))
            gens.append((i + 1, _antigravity_row(n, t, "Gemini 2.5 Pro" if i == 0 else None)))
            n += 1
        last = ags.create_database(conv / f"{uuid.UUID(int=rng.getrandbits(128))}.db", gens,
                                   trajectories=[ags.trajectory_metadata_blob(
                                       int(t.timestamp()), 0, "file:///home/u/app")])
        size += last.stat().st_size
        files += 1
    return Wrote(files=files, bytes=size, messages=rows, state={"db": last})


def antigravity_append(base: Path, wrote: Wrote, n: int) -> None:
    conn = sqlite3.connect(wrote.state["db"])
    blob = _antigravity_row(n, datetime.now(UTC) - timedelta(seconds=5), None)
    conn.execute("INSERT INTO gen_metadata (data, size) VALUES (?, ?)", (blob, len(blob)))
    conn.commit()
    conn.close()


# --- the table: one entry per agent (``--source`` name) ---------------------------------
# A DB agent's share of --db-rows is its weight over the DB agents' weights; FILE agents
# share --file-mb equally.
GENERATORS: dict[str, tuple[Gen, float]] = {
    "gemini": (Gen("file", lambda b: {"GEMINI_DATA_DIR": str(b / "gemini" / "tmp")},
                   lambda b, n, r, d: _lines_agent(gemini_session)(b / "gemini", n, r, d),
                   _append_line(gemini_line)), 1.0),
    "qwen": (Gen("file", lambda b: {"QWEN_DATA_DIR": str(b / "qwen")},
                 lambda b, n, r, d: _lines_agent(qwen_session)(b / "qwen", n, r, d),
                 _append_line(qwen_line)), 1.0),
    "pi": (Gen("file", lambda b: {"PI_AGENT_DIR": str(b / "pi" / "sessions")},
               lambda b, n, r, d: _lines_agent(pi_session)(b / "pi" / "sessions", n, r, d),
               _append_line(pi_line)), 1.0),
    "kimi": (Gen("file", lambda b: {"KIMI_DATA_DIR": str(b / "kimi")},
                 lambda b, n, r, d: _lines_agent(kimi_session)(b / "kimi", n, r, d),
                 _append_line(kimi_line)), 1.0),
    "openclaw": (Gen("file", lambda b: {"OPENCLAW_DIR": str(b / "openclaw")},
                     lambda b, n, r, d: _lines_agent(openclaw_session)(b / "openclaw", n, r, d),
                     _append_line(pi_line)), 1.0),
    "droid": (Gen("whole", lambda b: {"DROID_SESSIONS_DIR": str(b / "droid" / "sessions")},
                  lambda b, n, r, d: _whole_agent(droid_session)(b / "droid" / "sessions",
                                                                 n, r, d),
                  droid_append), 1.0),
    "codebuff": (Gen("whole", lambda b: {"CODEBUFF_DATA_DIR": str(b / "codebuff" / "manicode")},
                     lambda b, n, r, d: _whole_agent(codebuff_session)(
                         b / "codebuff" / "manicode", n, r, d),
                     codebuff_append), 1.0),
    "copilot": (Gen("file", lambda b: {"COPILOT_HOME": str(b / "copilot")},
                    lambda b, n, r, d: _lines_agent(copilot_session)(b / "copilot", n, r, d),
                    copilot_append), 1.0),
    "amp": (Gen("whole", lambda b: {"AMP_DATA_DIR": str(b / "amp")},
                lambda b, n, r, d: _whole_agent(amp_session)(b / "amp", n, r, d),
                amp_append), 1.0),
    "opencode": (Gen("db", lambda b: {"OPENCODE_DATA_DIR": str(b / "opencode")},
                     lambda b, n, r, d: _opencode_like("opencode", "opencode.db")(
                         b / "opencode", n, r, d),
                     _opencode_append), 0.4),
    "kilo": (Gen("db", lambda b: {"KILO_DATA_DIR": str(b / "kilo")},
                 lambda b, n, r, d: _opencode_like("kilo", "kilo.db")(b / "kilo", n, r, d),
                 _opencode_append), 0.4),
    "goose": (Gen("db", lambda b: {"GOOSE_PATH_ROOT": str(b / "goose")},
                  goose_build, goose_append), 0.1),
    "hermes": (Gen("db", lambda b: {"HERMES_HOME": str(b / "hermes")},
                   hermes_build, hermes_append), 0.1),
    "antigravity": (Gen("db", lambda b: {"ANTIGRAVITY_DATA_DIR": str(b / "antigravity")},
                        antigravity_build, antigravity_append), 0.1),
}


def agent_names() -> list[str]:
    """tokentop's agents (``--source`` names), in its order, once each."""
    from tokentop.store.usage.agents import AGENTS

    return list(dict.fromkeys(a.name for a in AGENTS))


def every_variable() -> set[str]:
    from tokentop.store.usage.agents import AGENTS

    return {v for a in AGENTS for v in a.env}


def environment(tmp: Path, home: Path, names: list[str], pycache: Path) -> dict[str, str]:
    """Both tools see only the generated home: an empty HOME, no user variables, each
    generated agent's variables pointing into ``home``."""
    tmp.mkdir(parents=True, exist_ok=True)
    drop = every_variable() | {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                               "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("CLAUDE_", "CODEX_", "CCUSAGE"))}
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "no-claude" / "projects").mkdir(parents=True, exist_ok=True)  # ccusage wants one
    (tmp / "no-codex").mkdir(exist_ok=True)
    env.update(HOME=str(tmp / "home"), CLAUDE_CONFIG_DIR=str(tmp / "no-claude"),
               CODEX_HOME=str(tmp / "no-codex"), XDG_STATE_HOME=str(tmp / "state"),
               XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "xdg-data"),
               TZ="UTC", NO_COLOR="1",
               # bytecode cached as an installed tokentop has it (a session that sets
               # PYTHONDONTWRITEBYTECODE would otherwise compile ~70 modules per run,
               # ~100 ms), kept beside the data, not in the tree
               PYTHONPYCACHEPREFIX=str(pycache))
    for name in names:
        env.update(GENERATORS[name][0].env(home))
    return env


def tokentop_cmd(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("tokentop")
    if exe.exists():
        return [str(exe), "report", *args]
    code = ("import sys; from tokentop.tui.commands.report import report; "
            "report(sys.argv[1:], prog_name='tokentop report')")
    return [sys.executable, "-c", code, *args]


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, dict]:
    """(wall ms, peak RSS bytes, JSON out) of one child; exits on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        ms = (time.perf_counter() - t0) * 1000
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if code != 0:
        sys.exit(f"bench_agents: {' '.join(cmd[:3])} failed (exit {code}): {stderr[-1500:]}")
    return ms, usage.ru_maxrss * 1024, json.loads(stdout)


def store_by_agent(store: Path) -> dict[str, tuple[int, int]]:
    """(events, tokens) per ``--source`` name in tokentop's store, read directly."""
    from tokentop.store.usage.agents import AGENTS

    name = {a.system: a.name for a in AGENTS}
    conn = sqlite3.connect(store)
    rows = conn.execute(
        "SELECT agent_name, COUNT(*), SUM(input_tokens + output_tokens + cache_read_tokens"
        " + cache_write_tokens) FROM usage_events GROUP BY agent_name").fetchall()
    conn.close()
    return {name.get(a, a): (int(n), int(t or 0)) for a, n, t in rows}


def ccusage_by_agent(doc: dict) -> dict[str, int]:
    """ccusage's ``totalTokens`` per agent (``--by-agent``), over every day."""
    out: dict[str, int] = {}
    for day in doc.get("daily", []):
        for a in day.get("agents", []):
            out[a["agent"]] = out.get(a["agent"], 0) + int(a.get("totalTokens") or 0)
    return out


def total_tokens(doc: dict) -> int:
    totals = doc.get("totals") or {}
    return int(totals.get("totalTokens") or 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file-mb", type=float, default=1024.0,
                    help="MB across the file agents (default 1024)")
    ap.add_argument("--db-rows", type=int, default=200_000,
                    help="rows across the SQLite agents (default 200,000)")
    ap.add_argument("--whole-sessions", type=int, default=2000,
                    help="sessions per whole-file agent (droid, codebuff; default 2,000)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--appends", type=int, default=5, help="warm runs (default 5)")
    ap.add_argument("--cold-runs", type=int, default=1,
                    help="cold tokentop + ccusage pairs, each into a fresh store; medians "
                         "and the per-run ratio printed (default 1)")
    ap.add_argument("--quick", action="store_true", help="20 MB, 5,000 rows, 3 appends")
    ap.add_argument("--no-ccusage", action="store_true")
    ap.add_argument("--only", help="comma-separated agents (default: every one with a generator)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--floor", action="store_true",
                    help="also the writer's floor: the cold collect's SQL replayed alone")
    ap.add_argument("--reuse", metavar="DIR", type=Path,
                    help="a directory --keep kept: skip writing the home and the cold runs, "
                         "measure nothing-new and warm on it (for profiling between builds)")
    args = ap.parse_args()
    if args.quick:
        args.file_mb, args.db_rows, args.whole_sessions, args.appends = 20.0, 5000, 100, 3

    known = agent_names()
    names = [n for n in known if n in GENERATORS]
    if args.only:
        wanted = {s.strip() for s in args.only.split(",")}
        names = [n for n in names if n in wanted]
    missing = [n for n in known if n not in GENERATORS]
    print(f"agents: {', '.join(names)}")
    if missing:
        print(f"skipped (no generator in bench_agents.GENERATORS): {', '.join(missing)}")
    stale = [n for n in GENERATORS if n not in known]
    if stale:
        print(f"generators for agents tokentop does not read (ignored): {', '.join(stale)}")

    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="bench-agents-"))
    home = tmp / "agents"
    results: list[tuple[str, float, bool | None, str]] = []
    if args.reuse:
        wrote_again = pickle.loads((tmp / "wrote.pickle").read_bytes())
        names = [n for n in names if n in wrote_again]
        return measure_warm(args, tmp, home, names, wrote_again, results, reused=True)
    try:
        files = [n for n in names if GENERATORS[n][0].kind == "file"]
        dbs = [n for n in names if GENERATORS[n][0].kind == "db"]
        weight = sum(GENERATORS[n][1] for n in dbs) or 1.0
        wrote: dict[str, Wrote] = {}
        t0 = time.perf_counter()
        for i, name in enumerate(names):
            gen, w = GENERATORS[name]
            budget = (int(args.file_mb * 1e6 / len(files)) if gen.kind == "file"
                      else args.whole_sessions if gen.kind == "whole"
                      else max(1, round(args.db_rows * w / weight)))
            wrote[name] = gen.build(home, budget, random.Random(100 + i), args.days)
            x = wrote[name]
            print(f"  {name:<9} {gen.kind:<4} {x.files:>6} files {x.bytes / 1e6:>8.1f} MB "
                  f"{x.messages:>9,} usage records")
        wholes = [n for n in names if GENERATORS[n][0].kind == "whole"]
        fbytes = sum(wrote[n].bytes for n in files + wholes)
        drows = sum(wrote[n].messages for n in dbs)
        print(f"home: {fbytes / 1e6:.0f} MB across {len(files) + len(wholes)} file agents "
              f"({len(wholes)} of them whole JSON documents), {drows:,} rows "
              f"across {len(dbs)} SQLite agents ({time.perf_counter() - t0:.1f} s to write)")

        env = environment(tmp, home, names, tmp / "pycache")
        empty_env = environment(tmp / "empty", tmp / "empty" / "agents", names, tmp / "pycache")
        empty_cmd = tokentop_cmd("daily", "--json", "--timezone", "UTC", "--store",
                                 str(tmp / "empty" / "usage.db"))
        run(empty_cmd, empty_env, ROOT)  # writes the bytecode cache, as an install has it
        floor_ms = [run(empty_cmd, empty_env, ROOT)[0] for _ in range(3)]
        print(f"tokentop report over an empty home (the floor: interpreter, imports, store): "
              f"median {statistics.median(floor_ms):.0f} ms")
        results.append(("report daily --json over an empty home (median of 3)",
                        statistics.median(floor_ms), None, "ms"))
        store = tmp / "usage.db"
        cmd = tokentop_cmd("daily", "--json", "--timezone", "UTC", "--store", str(store))
        print(f"load average before the cold runs: "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        colds: list[tuple[float, float]] = []
        for _ in range(max(args.cold_runs, 1) - 1):  # the last pair is the one reported
            for f in tmp.glob("usage.db*"):
                f.unlink()
            ms = run(cmd, env, ROOT)[0]
            cc_run = (run([str(CCUSAGE), "daily", "--json", "--offline", "--timezone", "UTC"],
                          env, tmp)[0] if CCUSAGE.exists() and not args.no_ccusage else 0.0)
            colds.append((ms, cc_run))
        for f in tmp.glob("usage.db*"):
            f.unlink()
        cold_ms, cold_rss, doc = run(cmd, env, ROOT)
        ours = total_tokens(doc)
        ours_by = store_by_agent(store)
        empty = [n for n in names if ours_by.get(n, (0, 0))[0] == 0]
        if empty:
            print(f"NO EVENTS in tokentop's store for: {', '.join(empty)}")
            results.append((f"events collected for {', '.join(empty)}", 0, False, ""))
        print(f"\ntokentop cold (collect + report): {cold_ms / 1000:.2f} s, "
              f"{fbytes / 1e6 / (cold_ms / 1000):.0f} MB/s of files, peak RSS "
              f"{cold_rss >> 20} MiB, {ours:,} tokens over {len(doc.get('daily', []))} days, "
              f"store {store.stat().st_size >> 20} MiB")
        results.append(("tokentop cold report daily --json", cold_ms, None, "ms"))

        if args.no_ccusage:
            pass
        elif not CCUSAGE.exists():
            print(f"ccusage is not installed: run {INSTALL} (skipped)")
        else:
            cc_ms, cc_rss, cc = run([str(CCUSAGE), "daily", "--json", "--offline",
                                     "--timezone", "UTC", "--by-agent"], env, tmp)
            theirs = total_tokens(cc)
            print(f"ccusage daily --json --offline: {cc_ms / 1000:.2f} s, peak RSS "
                  f"{cc_rss >> 20} MiB, {theirs:,} tokens over {len(cc.get('daily', []))} days")
            print(f"ratio ccusage wall / tokentop cold wall: {cc_ms / cold_ms:.2f} "
                  f"(tokentop RSS / ccusage RSS: {cold_rss / max(cc_rss, 1):.2f}); "
                  f"tokens tokentop - ccusage: {ours - theirs:+,} (reported: see the parity "
                  f"tests and the README's counting differences)")
            results.append(("ccusage daily --json --offline", cc_ms, None, "ms"))
            theirs_by = ccusage_by_agent(cc)
            print(f"  {'agent':<9} {'records':>9} {'tokentop events':>15} "
                  f"{'tokentop tokens':>16} {'ccusage tokens':>16}")
            for name in names:
                n, t = ours_by.get(name, (0, 0))
                print(f"  {name:<9} {wrote[name].messages:>9,} {n:>15,} {t:>16,} "
                      f"{theirs_by.get(name, 0):>16,}")
            results.append(("ratio ccusage / tokentop (cold wall)", cc_ms / cold_ms, None, "x"))
            colds.append((cold_ms, cc_ms))
            if len(colds) > 1:
                ratios = [t / c for t, c in colds if c]
                print(f"cold pairs ({len(colds)}): tokentop median "
                      f"{statistics.median(t for t, _ in colds) / 1000:.2f} s, ccusage median "
                      f"{statistics.median(c for _, c in colds) / 1000:.2f} s, tokentop / ccusage "
                      f"median {statistics.median(ratios):.2f}x "
                      f"(runs {', '.join(f'{r:.2f}' for r in ratios)})")
                results.append(("tokentop / ccusage cold wall, median of the pairs",
                                statistics.median(ratios), None, "x"))
        if args.floor:
            cmd = [sys.executable, str(Path(__file__).with_name("writer_floor.py")), str(tmp)]
            out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                 check=True)
            floor = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"writer's floor (writer_floor.py: the cold collect's "
                  f"{floor['statements']:,} SQL statements in {floor['batches']} "
                  f"batches and {floor['commits']} commits, replayed into a fresh store with "
                  f"no Python work between them): {floor['wall']:.2f} s; by kind: "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in list(floor["kinds"].items())[:5]))
            results.append(("writer's floor (the cold collect's SQL alone)",
                            floor["wall"] * 1000, None, "ms"))

        measure_warm(args, tmp, home, names, wrote, results, ours=ours)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    return summarize(results)


def measure_warm(args: argparse.Namespace, tmp: Path, home: Path, names: list[str],
                 wrote: dict[str, Wrote], results: list, ours: int | None = None,
                 reused: bool = False) -> int:
    """Nothing new, then ``--appends`` warm runs; with --keep, what a later --reuse needs."""
    env = environment(tmp, home, names, tmp / "pycache")
    cmd = tokentop_cmd("daily", "--json", "--timezone", "UTC", "--store", str(tmp / "usage.db"))
    if ours is None:
        ours = total_tokens(run(cmd, env, ROOT)[2])
    first = wrote.pop("__next_append__", 0) if reused else 0
    quiet_ms = [run(cmd, env, ROOT)[0] for _ in range(3)]
    print(f"tokentop report, nothing new: median {statistics.median(quiet_ms):.0f} ms")
    results.append(("report daily --json, nothing new (median of 3)",
                    statistics.median(quiet_ms), None, "ms"))
    times = []
    for n in range(first, first + args.appends):
        for name in names:
            GENERATORS[name][0].append(home, wrote[name], n)
        ms, _, doc = run(cmd, env, ROOT)
        times.append(ms)
        grown = total_tokens(doc)
        if grown <= ours:
            print(f"  append {n}: the report did not grow ({grown:,} <= {ours:,})")
            results.append((f"append {n} visible in the report", 0, False, ""))
        ours = grown
    med = statistics.median(times)
    print(f"one new message per agent ({len(names)}) -> report daily --json: median "
          f"{med:.0f} ms, runs {', '.join(f'{t:.0f}' for t in times)} ms")
    results.append((f"warm report after one message per agent (median of {args.appends})",
                    med, med <= TARGET_MS, "ms"))
    if args.keep or reused:
        (tmp / "wrote.pickle").write_bytes(
            pickle.dumps({**wrote, "__next_append__": first + args.appends}))
    return summarize(results) if reused else 0


def summarize(results: list) -> int:
    """The summary lines; exit status 1 when a target is missed."""
    print("\nsummary")
    for name, value, ok, unit in results:
        shown = f"{value:.2f}x" if unit == "x" else f"{value:.0f} ms"
        if ok is None:
            print(f"  info  {name}: {shown}")
        else:
            print(f"  {'PASS' if ok else 'FAIL'}  {name}: {shown} (target <= {TARGET_MS:.0f} ms)")
    return 0 if all(ok is not False for _, _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
