"""A deterministic Claude Code ``projects/`` tree with every duplicate pattern of DESIGN 2.3.

Used by the collector tests, by the ccusage parity test and by the scan benchmark. The
generator computes what a correct reader must count (``CorpusTruth``) from the messages it
writes, not from any code under test: per UTC day and per model, each message once, as
its copy with the most tokens.

What it writes, per session (one ``<sessionId>.jsonl`` under ``projects/<-home-u-proj>/``):
- user lines and assistant lines of 1-20 KB (text and tool_use content blocks);
- streamed copies: the same (message.id, requestId) 2-4 times, output tokens growing, a
  few ms apart (never across midnight), only the last copy counts;
- resumed sessions: a new session file that first replays the end of an earlier
  session (same message.id and requestId, original timestamps, new sessionId);
- sidechains (``<sessionId>/subagents/agent-*.jsonl``, ``isSidechain: true``): parent
  messages replayed under a new requestId (not new messages), then the agent's own;
- ``costUSD`` on some messages (on every copy), ``<synthetic>`` messages (counted, no
  model), ``isApiErrorMessage`` lines (zero usage), ``"stop_reason":null`` everywhere,
  lines with a null ``costUSD``/``model``/``requestId`` (skipped, as ccusage does),
  malformed lines (a cut usage line, a non-JSON line), four models one of which is unknown.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

MODELS = (
    ("claude-sonnet-4-5-20250929", 0.5),
    ("claude-opus-4-1-20250805", 0.2),
    ("claude-haiku-4-5-20251001", 0.2),
    ("claude-quasar-1-20260601", 0.1),  # unknown to every price table
)
SYNTHETIC = "<synthetic>"
PROJECTS = ("app", "api", "infra", "docs", "site")
START = datetime(2026, 11, 16, tzinfo=UTC)
_TEXT = (
    "the store reads each line once and counts every message exactly once while the "
    "dashboard shows tokens cost and burn rate for agents running in a terminal over ssh "
    "refactor parser cache window offset inode head stream replay sidechain session"
)
_WORDS = _TEXT.split()


@dataclass
class Tokens:
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    cost_usd: float = 0.0  # the sum of costUSD where a message has one
    messages: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def add(self, u: dict, cost: float | None) -> None:
        self.input += u["input_tokens"]
        self.output += u["output_tokens"]
        self.cache_creation += u["cache_creation_input_tokens"]
        self.cache_read += u["cache_read_input_tokens"]
        self.cost_usd += cost or 0.0
        self.messages += 1


@dataclass
class CorpusTruth:
    """What a correct reader counts (UTC days ``YYYY-MM-DD``)."""

    daily: dict[str, Tokens] = field(default_factory=dict)
    models: dict[str, dict[str, Tokens]] = field(default_factory=dict)  # day -> model -> tokens
    messages: int = 0  # distinct messages counted
    usage_lines: int = 0  # lines a reader turns into usage records (copies included)
    duplicate_lines: int = 0  # of which copies of a message already written
    malformed: int = 0
    null_skipped: int = 0  # usage lines skipped for a null costUSD/model/requestId
    api_errors: int = 0
    synthetic: int = 0
    files: int = 0
    lines: int = 0
    bytes: int = 0
    message_ids: set[str] = field(default_factory=set)

    def totals(self) -> Tokens:
        t = Tokens()
        for d in self.daily.values():
            t.input += d.input
            t.output += d.output
            t.cache_creation += d.cache_creation
            t.cache_read += d.cache_read
            t.cost_usd += d.cost_usd
            t.messages += d.messages
        return t


class _Writer:
    def __init__(self, rng: random.Random, truth: CorpusTruth, line_kb: tuple[int, int]) -> None:
        self.rng = rng
        self.truth = truth
        self.line_kb = line_kb
        pool = " ".join(rng.choice(_WORDS) for _ in range(12000))
        self.pool = (pool + " ") * 4  # >= 40 KB of text to slice from

    def text(self) -> str:
        lo, hi = self.line_kb
        n = self.rng.randint(lo * 1024, hi * 1024) - 700
        n = max(n, 16)
        at = self.rng.randrange(0, len(self.pool) // 2)
        return self.pool[at : at + n]

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def msg_id(self) -> str:
        return "msg_01" + self.hex(22)

    def req_id(self) -> str:
        return "req_011C" + self.hex(20)

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _cost(u: dict, model: str) -> float:
    return round(
        (u["input_tokens"] * 3 + u["output_tokens"] * 15 + u["cache_creation_input_tokens"] * 3.75)
        / 1e6
        + u["cache_read_input_tokens"] * 0.3 / 1e6,
        6,
    )


def _dump(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _assistant(
    w: _Writer,
    *,
    session: str,
    cwd: str,
    t: datetime,
    mid: str,
    req: str | None,
    model: str | None,
    usage: dict,
    cost: float | None,
    sidechain: bool,
    content: list,
    api_error: bool = False,
    extra: dict | None = None,
) -> dict:
    line = {
        "parentUuid": w.uuid(),
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "2.0.14",
        "gitBranch": "main",
        "message": {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "service_tier": "standard"},
        },
        "requestId": req,
        "type": "assistant",
        "uuid": w.uuid(),
        "timestamp": _ts(t),
    }
    if cost is not None:
        line["costUSD"] = cost
    if api_error:
        line["isApiErrorMessage"] = True
    if extra:
        line.update(extra)
    return line


def _user(w: _Writer, *, session: str, cwd: str, t: datetime, sidechain: bool) -> dict:
    return {
        "parentUuid": w.uuid(),
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "2.0.14",
        "gitBranch": "main",
        "type": "user",
        "message": {"role": "user", "content": [{"type": "text", "text": w.text()}]},
        "uuid": w.uuid(),
        "timestamp": _ts(t),
    }


@dataclass
class _Msg:
    """A counted message: its final (max-token) line, replayable elsewhere."""

    line: dict
    user: dict


class _Session:
    def __init__(self, w: _Writer, truth: CorpusTruth, project: str, day: int) -> None:
        self.w = w
        self.truth = truth
        self.project = project
        self.cwd = f"/home/u/{project}"
        self.id = w.uuid()
        rng = w.rng
        self.t = START + timedelta(days=day, hours=rng.randint(0, 19), minutes=rng.randint(0, 59))
        self.day_end = START + timedelta(days=day + 1) - timedelta(minutes=3)
        self.lines: list[str] = []
        self.messages: list[_Msg] = []

    def advance(self) -> datetime:
        self.t += timedelta(
            seconds=self.w.rng.randint(2, 90), milliseconds=self.w.rng.randint(0, 999)
        )
        if self.t > self.day_end:
            self.t = self.day_end
        return self.t

    def emit(self, obj: dict | str) -> None:
        self.lines.append(obj if isinstance(obj, str) else _dump(obj))

    def count(self, line: dict) -> None:
        m = line["message"]
        usage = m["usage"]
        day = line["timestamp"][:10]
        self.truth.daily.setdefault(day, Tokens()).add(usage, line.get("costUSD"))
        if m["model"] != SYNTHETIC:
            self.truth.models.setdefault(day, {}).setdefault(m["model"], Tokens()).add(
                usage, line.get("costUSD")
            )
        self.truth.messages += 1
        self.truth.message_ids.add(m["id"])

    def turn(self, *, sidechain: bool = False) -> None:
        w, rng = self.w, self.w.rng
        user = _user(w, session=self.id, cwd=self.cwd, t=self.advance(), sidechain=sidechain)
        self.emit(user)
        r = rng.random()
        if r < 0.03:  # a null field ccusage rejects: the line is skipped whole
            field_ = rng.choice(("costUSD", "model", "requestId"))
            u = self.usage(rng)
            line = _assistant(
                w,
                session=self.id,
                cwd=self.cwd,
                t=self.advance(),
                mid=w.msg_id(),
                req=w.req_id(),
                model="claude-sonnet-4-5-20250929",
                usage=u,
                cost=None,
                sidechain=sidechain,
                content=[{"type": "text", "text": w.text()}],
            )
            if field_ == "costUSD":
                line["costUSD"] = None
            elif field_ == "model":
                line["message"]["model"] = None
            else:
                line["requestId"] = None
            self.emit(line)
            self.truth.null_skipped += 1
            return
        if r < 0.05:  # API error: synthetic, zero usage, counted (as ccusage does)
            zero = {k: 0 for k in self.usage(rng)}
            line = _assistant(
                w,
                session=self.id,
                cwd=self.cwd,
                t=self.advance(),
                mid=w.uuid(),
                req=None,
                model=SYNTHETIC,
                usage=zero,
                cost=None,
                sidechain=sidechain,
                api_error=True,
                content=[{"type": "text", "text": "API Error: 529 Overloaded"}],
            )
            del line["requestId"]
            self.emit(line)
            self.count(line)
            self.truth.usage_lines += 1
            self.truth.api_errors += 1
            return
        if r < 0.07:  # a <synthetic> message with tokens: counted, no model
            u = {
                "input_tokens": rng.randint(1, 9),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": rng.randint(0, 500),
                "output_tokens": rng.randint(1, 40),
            }
            line = _assistant(
                w,
                session=self.id,
                cwd=self.cwd,
                t=self.advance(),
                mid=w.msg_id(),
                req=w.req_id(),
                model=SYNTHETIC,
                usage=u,
                cost=None,
                sidechain=sidechain,
                content=[{"type": "text", "text": "No response requested."}],
            )
            self.emit(line)
            self.count(line)
            self.truth.usage_lines += 1
            self.truth.synthetic += 1
            return
        if r < 0.09:  # malformed: a usage line cut short, or not JSON at all
            if rng.random() < 0.5:
                whole = _dump(
                    _assistant(
                        w,
                        session=self.id,
                        cwd=self.cwd,
                        t=self.advance(),
                        mid=w.msg_id(),
                        req=w.req_id(),
                        model="claude-sonnet-4-5-20250929",
                        usage=self.usage(rng),
                        cost=None,
                        sidechain=sidechain,
                        content=[{"type": "text", "text": "x"}],
                    )
                )
                self.emit(whole[: whole.index('"usage":{') + 30])
            else:
                self.emit("<<<<<<< conflict marker: not json at all")
            self.truth.malformed += 1
            return
        self.message(sidechain=sidechain, user=user)

    @staticmethod
    def usage(rng: random.Random) -> dict:
        return {
            "input_tokens": rng.randint(1, 60),
            "cache_creation_input_tokens": rng.choice((0, rng.randint(100, 8000))),
            "cache_read_input_tokens": rng.randint(0, 120000),
            "output_tokens": rng.randint(20, 4000),
        }

    def message(self, *, sidechain: bool, user: dict) -> None:
        w, rng = self.w, self.w.rng
        models, weights = zip(*MODELS, strict=True)
        model = rng.choices(models, weights)[0]
        mid, req = w.msg_id(), w.req_id()
        final = self.usage(rng)
        with_cost = rng.random() < 0.25
        copies = rng.choices((1, 2, 3, 4), (0.8, 0.13, 0.05, 0.02))[0]  # ~30% copies in all
        t = self.advance()
        line: dict = {}
        for k in range(copies):
            u = dict(final)
            if k < copies - 1:  # an earlier streamed copy: fewer output tokens
                u["output_tokens"] = max(1, final["output_tokens"] * (k + 1) // (copies + 1))
            block = (
                {"type": "text", "text": w.text()}
                if k % 2 == 0
                else {
                    "type": "tool_use",
                    "id": "toolu_01" + w.hex(22),
                    "name": "Bash",
                    "input": {"command": w.text()[:2000]},
                }
            )
            line = _assistant(
                w,
                session=self.id,
                cwd=self.cwd,
                t=t + timedelta(milliseconds=150 * k),
                mid=mid,
                req=req,
                model=model,
                usage=u,
                cost=_cost(u, model) if with_cost else None,
                sidechain=sidechain,
                content=[block],
            )
            self.emit(line)
            self.truth.usage_lines += 1
            self.truth.duplicate_lines += k > 0
        self.t = t + timedelta(milliseconds=150 * copies)
        self.count(line)
        self.messages.append(_Msg(line, user))

    def replay(self, msgs: list[_Msg], *, sidechain: bool, new_request: bool) -> None:
        """Copies of earlier messages: not new messages (no change to the daily truth)."""
        for m in msgs:
            user = dict(m.user, sessionId=self.id, isSidechain=sidechain)
            line = json.loads(_dump(m.line))
            line.update(sessionId=self.id, isSidechain=sidechain)
            if new_request:
                line["requestId"] = self.w.req_id()
            self.emit(user)
            self.emit(line)
            self.truth.usage_lines += 1
            self.truth.duplicate_lines += 1


def _write(path: Path, lines: list[str], truth: CorpusTruth) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    truth.files += 1
    truth.lines += len(lines)
    truth.bytes += len(data)


def write_corpus(
    root: Path,
    *,
    seed: int = 1,
    days: int = 5,
    sessions: int = 12,
    turns: tuple[int, int] = (6, 20),
    size_bytes: int | None = None,
    line_kb: tuple[int, int] = (1, 20),
) -> CorpusTruth:
    """Write ``root/projects/...`` and return what must be counted.

    ``sessions`` sessions at least; with ``size_bytes``, more until the tree is that big.
    """
    rng = random.Random(seed)
    truth = CorpusTruth()
    w = _Writer(rng, truth, line_kb)
    projects = root / "projects"
    last: dict[str, _Session] = {}
    i = 0
    while i < sessions or (size_bytes is not None and truth.bytes < size_bytes):
        project = PROJECTS[i % len(PROJECTS)]
        day = (i * days) // max(sessions, 1) % days if size_bytes is None else i % days
        s = _Session(w, truth, project, day)
        prev = last.get(project)
        if prev is not None and prev.messages and rng.random() < 0.35:
            # a resumed session: replays the end of the previous one into a new file
            s.replay(
                prev.messages[-rng.randint(1, min(6, len(prev.messages))) :],
                sidechain=False,
                new_request=False,
            )
        for _ in range(rng.randint(*turns)):
            s.turn()
        pdir = projects / ("-home-u-" + project)
        _write(pdir / f"{s.id}.jsonl", s.lines, truth)
        if s.messages and rng.random() < 0.5:
            agent = _Session(w, truth, project, day)
            agent.id, agent.t, agent.day_end = s.id, s.t, s.day_end
            agent.replay(
                s.messages[: rng.randint(1, min(4, len(s.messages)))],
                sidechain=True,
                new_request=True,
            )
            for _ in range(rng.randint(1, 5)):
                agent.turn(sidechain=True)
            _write(pdir / s.id / "subagents" / f"agent-{w.hex(8)}.jsonl", agent.lines, truth)
            s.messages.extend(agent.messages)
        last[project] = s
        i += 1
    return truth


if __name__ == "__main__":  # python -m tests.usage.claude_corpus DIR [MB]
    import sys

    out = Path(sys.argv[1])
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else None
    t = write_corpus(out, size_bytes=mb << 20 if mb else None)
    print(json.dumps({d: vars(v) for d, v in sorted(t.daily.items())}, indent=1))
