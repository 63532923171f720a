"""pi (badlogic/pi-mono's coding agent) session logs -> ``message_usage`` requests.

Where: ``~/.pi/agent/sessions/<--encoded-cwd-->/<ISO time>_<session uuid>.jsonl``, any
depth under the sessions directory (ccusage walks it recursively), except the
``subagent-artifacts/<run>_<agent>_transcript.jsonl`` the pi-subagents extension keeps
there: ccusage 20.0.24 skips that directory (checked on the pinned binary), so does
tokentop. ``PI_AGENT_DIR`` (one sessions directory or a comma-separated list, as ccusage
reads it) replaces the default;
pi's own ``PI_CODING_AGENT_DIR`` (its agent directory, sessions under ``sessions/``;
``packages/coding-agent/src/config.ts``) is honoured when ``PI_AGENT_DIR`` is not set.

Format (pi-mono ``packages/coding-agent/src/core/session-manager.ts``, ``ai/src/types.ts``):
one JSON object per line, appended (``appendFileSync``). The first line is the header
``{"type":"session","version":3,"id":<uuid>,"timestamp","cwd","parentSession"?}``; then
entries ``{"type":"message","id","parentId","timestamp":<ISO>,"message":{...}}`` (v1
files, before the tree, have no ``id``/``parentId``). An assistant message carries
``provider``, ``model`` and ``usage = {input, output, cacheRead, cacheWrite, totalTokens,
cost: {input, output, cacheRead, cacheWrite, total}}``: ``input`` excludes the cached
input (pi prices the parts apart), ``cost.total`` is pi's own price in USD, used as
``cost_usd`` (ccusage's default ``auto`` mode does the same; without it tokentop prices).

Which lines count is ccusage's (``rust/crates/ccusage/src/adapter/pi/parser.rs``): a line
whose ``type`` is absent or ``message``, with ``message.role == "assistant"`` and a
``usage``; a parsable ``timestamp``; a token count that is a non-negative integer (else 0);
when ``totalTokens`` exceeds the parts, the rest is output if output is 0, else extra
total tokens (``total_tokens``); an all-zero line (aborted requests) is no event.

Copies: a branch (``createBranchedSession``: ``/branch``, ``/tree``) and ``forkFrom``
(``--fork``) write a NEW file whose header names its parent (``parentSession``, the
parent file's path; v1 files: ``branchedFrom``) and whose entries start with the
parent's, verbatim (same timestamps, usage, ids); a v1 file is rewritten in place when
pi migrates it (ids added, nothing else changed). tokentop counts each message once and
in the session that made it: ``message_id`` is a digest of (entry timestamp, model,
tokens, cost), and an entry older than its file's header (written before the branch
existed) is attributed to the nearest ancestor whose header is not newer than it (the
oldest ancestor still on disk when none is), followed through the ``parentSession``
links. The store's dedup key includes the session and workspace, so both must be the
origin's for a copy to collapse into it. ccusage 20.0.24 (checked on the pinned binary;
the 20.0.11 source keyed on project and file session too, counting every copy) counts a
v3 branch's copies once when ``parentSession`` names a file that exists; it counts them
again when that path is stale (a sessions directory moved or synced from another
machine: tokentop finds the parent beside the branch) and for a v1 ``branchedFrom``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary
from tokentop.store.usage.agents.base import LineParser, LinesAgent
from tokentop.store.usage.agents.paths import (
    pi_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventStatus, EventType, IngestRequest, SourceChannel
from tokentop.store.usage.timefmt import parse_ts

SYSTEM = "pi"
ARTIFACTS = "subagent-artifacts"


class _Cost(msgspec.Struct):
    total: Any = None


class _Usage(msgspec.Struct, rename="camel"):
    # Any, not int: a float or string count is 0 (ccusage's ``as_u64``), not a bad line
    input: Any = None
    output: Any = None
    cache_read: Any = None
    cache_write: Any = None
    total_tokens: Any = None
    cost: Any = None


class _Message(msgspec.Struct):
    role: Any = None
    usage: _Usage | None = None
    model: Any = None
    provider: Any = None


class _Entry(msgspec.Struct, rename="camel"):
    type: Any = None
    id: Any = None
    timestamp: Any = None
    cwd: Any = None  # header only, as are the two below
    parent_session: Any = None
    branched_from: Any = None  # v1 headers
    message: _Message | None = None


_decoder = msgspec.json.Decoder(_Entry)


def _u64(value: Any) -> int:
    """serde_json's ``as_u64``: a non-negative integer, else 0."""
    return value if type(value) is int and value >= 0 else 0


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def session_of(path: Path) -> str:
    """ccusage's session id: the file name after the first ``_`` (pi names files
    ``<time>_<uuid>.jsonl``, the uuid being the header's ``id``)."""
    stem = path.stem
    return stem.split("_", 1)[1] if "_" in stem else stem


def project_of(path: Path) -> str | None:
    """The directory right under ``sessions`` (pi's encoded cwd)."""
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part == "sessions":
            return parts[i + 1]
    return None


def message_key(ts: str, model: str | None, parts: tuple[int, ...], cost: float | None) -> str:
    """The same message in any file (a branch's copy, a migrated file): one key."""
    text = f"{ts}|{model or ''}|{'|'.join(map(str, parts))}|{cost!r}"
    return "pi:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24]


@dataclass(frozen=True)
class _Origin:
    """A session file's identity, from its header: who owns the entries it wrote."""

    created: datetime | None  # the header's timestamp: entries older were copied in
    session: str
    workspace: str | None
    parent: str | None  # the parent session file as the header names it


def _read_header(path: Path) -> _Entry | None:
    try:
        with open_binary(path) as fh:
            first = fh.readline(1 << 20)
    except OSError:
        return None
    if b'"session"' not in first:
        return None
    try:
        e = _decoder.decode(first)
    except msgspec.MsgspecError:
        return None
    return e if e.type == "session" else None


def _origin(path: Path, header: _Entry | None) -> _Origin:
    session, workspace, created, parent = session_of(path), project_of(path), None, None
    if header is not None:
        session = _text(header.id) or session
        workspace = _text(header.cwd) or workspace
        ts = _text(header.timestamp)
        try:
            created = parse_ts(ts) if ts else None
        except ValueError:
            created = None
        parent = _text(header.parent_session) or _text(header.branched_from)
    return _Origin(created, session, workspace, parent)


def _parent_file(parent: str, child: Path) -> Path | None:
    """The parent as named (an absolute path on the machine that wrote it), else a file
    of that name beside the child (a sessions directory copied or moved whole)."""
    named = Path(parent)
    for candidate in (named, child.parent / named.name):
        if candidate.is_file():
            return candidate
    return None


def ancestry(path: Path, header: _Entry | None, limit: int = 32) -> list[_Origin]:
    """This file's origin, then its parent's, grandparent's... while they are on disk."""
    chain = [_origin(path, header)]
    seen = {str(path)}
    current = path
    while chain[-1].parent and len(chain) < limit:
        found = _parent_file(chain[-1].parent, current)
        if found is None or str(found) in seen:
            break
        seen.add(str(found))
        chain.append(_origin(found, _read_header(found)))
        current = found
    return chain


def owner(chain: list[_Origin], when: datetime) -> _Origin:
    """Whose entry this is: the nearest file created no later than it, else the oldest
    known (an entry older than every header: a v1 file's header was written late)."""
    for origin in chain:
        if origin.created is None or origin.created <= when:
            return origin
    return chain[-1]


class PiParser(LineParser):
    """One session file. The header (first line) names the session, its cwd, its parent."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.chain = [_origin(path, None)]
        # the pi-subagents extension's transcripts: ccusage 20.0.24 does not count them
        self.ignored = ARTIFACTS in path.parts
        self.warned = False
        self.first = True  # the next line fed is the file's first: pi's header

    def prime(self, offset: int) -> None:
        self.first = False
        self.chain = ancestry(self.path, _read_header(self.path))

    def _header(self, line: bytes) -> bool:
        try:
            e = _decoder.decode(line)
        except msgspec.MsgspecError:
            return False
        if e.type == "session":
            self.chain = ancestry(self.path, e)
            return True
        return False

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if self.ignored:
            if not self.warned:
                self.warned = True
                self.counts.skip(f"{ARTIFACTS}/ transcript (ccusage does not count it)")
            return ()
        if self.first:
            self.first = False
            if b'"session"' in line and self._header(line):
                return ()
        if b'"usage"' not in line or b'"message"' not in line:
            if line.strip() and not line.lstrip().startswith(b"{"):
                self.counts.malformed += 1
            return ()
        try:
            e = _decoder.decode(line)
        except msgspec.ValidationError:
            self.counts.skip("invalid")
            return ()
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return ()
        if e.type is not None and e.type != "message":
            return ()
        msg = e.message
        if msg is None or msg.role != "assistant" or msg.usage is None:
            return ()
        ts_text = _text(e.timestamp)
        try:
            occurred: datetime | None = parse_ts(ts_text) if ts_text else None
        except ValueError:
            occurred = None
        if occurred is None or ts_text is None:
            self.counts.skip("bad timestamp")
            return ()
        u = msg.usage
        inp, out, cr, cw = _u64(u.input), _u64(u.output), _u64(u.cache_read), _u64(u.cache_write)
        extra = 0
        missing = _u64(u.total_tokens) - (inp + out + cr + cw)
        if missing > 0:
            if out == 0:
                out = missing
            else:
                extra = missing
        if inp + out + cr + cw + extra == 0:
            self.counts.skip("no tokens")
            return ()
        cost_total = u.cost.get("total") if isinstance(u.cost, dict) else None
        cost = float(cost_total) if type(cost_total) in (int, float) else None
        model = _text(msg.model)
        provider = _text(msg.provider)
        origin = owner(self.chain, occurred)
        self.counts.usage_lines += 1
        return (IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL,
            agent_name=SYSTEM, event_type=EventType.MESSAGE_USAGE,
            occurred_at=occurred, session_id=origin.session, workspace_id=origin.workspace,
            message_id=message_key(ts_text, model, (inp, out, cw, cr, extra), cost),
            provider_id="openai" if provider == "codex" else provider,
            model_raw=model, model_canonical=model,
            input_tokens=inp, output_tokens=out, cache_read_tokens=cr, cache_write_tokens=cw,
            total_tokens=inp + out + cr + cw + extra, cost_usd=cost,
            status=EventStatus.OK,  # an error or abort with tokens is counted, as ccusage does
        ),)


PI = LinesAgent(
    name="pi", system=SYSTEM, label="pi", env=("PI_AGENT_DIR", "PI_CODING_AGENT_DIR"),
    roots=roots, patterns=("*.jsonl",), parser=PiParser,
)
