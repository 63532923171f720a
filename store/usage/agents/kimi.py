"""Kimi CLI (MoonshotAI/kimi-cli) wire logs -> ``message_usage`` requests.

Where: ``<share dir>/sessions/<md5 of the work dir>/<session id>/wire.jsonl``; the share
dir is ``~/.kimi``, moved by kimi's own ``KIMI_SHARE_DIR`` (``src/kimi_cli/share.py``).
``KIMI_DATA_DIR`` (ccusage's variable, one share dir or a comma-separated list) wins over
both, as ccusage reads it (``rust/crates/ccusage/src/adapter/kimi/paths.rs``). A sub-agent
writes its own ``<session>/subagents/<id>/wire.jsonl`` (``subagents/runner.py``), read
like a session's and counted in its session's conversation, as ccusage 20.0.24 counts
it (checked on the pinned binary; the 20.0.11 source read only three levels deep); the
copy forwarded into the parent's wire as a ``SubagentEvent`` is not counted (the usage
is nested in ``payload.event``, which neither tool reads). The group directory is
``<kaos>_<md5>`` off the local machine; ``<share dir>/kimi.json`` (``work_dirs[].path``)
names the work directory of each md5, which becomes ``workspace_id`` (else the group
directory's name).

Format (``src/kimi_cli/wire/file.py``, ``wire/types.py``, ``soul/kimisoul.py``): appended
JSON lines; the first is ``{"type":"metadata","protocol_version":...}``, then
``{"timestamp": <unix seconds, float>, "message": {"type": ..., "payload": {...}}}``. After
each LLM step kimi writes a ``StatusUpdate`` whose ``payload.token_usage`` is that step's
usage (kosong ``TokenUsage``: ``input_other`` = input without cache,
``input_cache_read``, ``input_cache_creation``, ``output``) and ``payload.message_id`` the
provider's response id; a StatusUpdate without ``token_usage`` (plan mode, MCP status)
is no usage. The model is not in the log: like ccusage, tokentop takes ``model`` from
``<share dir>/config.json``, else ``kimi-for-coding`` (kimi's current ``config.toml`` is
not read by ccusage, so neither is it here); ``provider_id`` is ccusage's ``moonshot``.
ccusage prices ``kimi-for-coding`` as ``moonshot/kimi-k2.5`` before 2026-04-20T15:28:10Z
and ``kimi-k2.6`` after; so does tokentop, per message at ingest (``pricenames.kimi``).

Counted as ccusage counts (``parser.rs``): token counts that are non-negative integers
(else 0); a ``total`` above the parts fills a zero output, else is extra total tokens;
an all-zero step is no event; a missing timestamp is the file's mtime.

Kimi Code (the standalone successor kimi-cli points users to, share dir ``~/.kimi-code``,
read by default beside ``~/.kimi`` as ccusage 20.0.24 does) may also write
``{"type":"usage.record","time":<unix ms>,"model":...,"usage":{"inputOther","output",
"inputCacheRead","inputCacheCreation"},"usageScope":"turn"}`` lines. Its writer is not
public; these rules were learned by probing the pinned ccusage 20.0.24 binary (strings
and fixtures it accepts): only ``usageScope == "turn"`` counts, ``time`` is integer ms
(else the mtime), camelCase fields only, no ``total`` fallback, the line's own model
(else the config's).

Copies: ``/fork`` and ``/undo`` (``src/kimi_cli/session_fork.py``) create a new session
directory whose ``wire.jsonl`` is the source's lines up to a turn, verbatim (timestamps,
message ids), then the fork's own. The log names no parent. tokentop counts each step
once: ``message_id`` is (response id, timestamp, tokens) without the session, and since
the store's dedup key includes the session, ``session_id`` is the conversation's: the
timestamp of the wire's first record, which a fork copies from its source (so a fork is
reported in one session with what it was forked from). ccusage keys on the session
directory too, so it counts a fork's copied steps once more per fork.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from tokentop.store.tail.regular import open_binary, read_regular
from tokentop.store.usage.agents.base import LineParser, LinesAgent
from tokentop.store.usage.agents.paths import (
    kimi_roots as roots,
)
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import EventStatus, EventType, IngestRequest, SourceChannel

SYSTEM = "kimi_cli"
DEFAULT_MODEL = "kimi-for-coding"
PROVIDER = "moonshot"
WIRE = "wire.jsonl"


class _Record(msgspec.Struct, rename="camel"):
    type: Any = None
    timestamp: Any = None
    message: Any = None  # {"type", "payload"}: a dict, checked by hand
    # Kimi Code's ``usage.record`` lines (see the module docstring)
    time: Any = None
    model: Any = None
    usage: Any = None
    usage_scope: Any = None


_decoder = msgspec.json.Decoder(_Record)


def _u64(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _seconds(value: Any) -> float | None:
    """serde's ``as_f64``: an int or a float (not a bool), finite."""
    if type(value) in (int, float) and value == value and abs(value) != float("inf"):
        return float(value)
    return None


def _read_json(path: Path) -> Any:
    try:
        return msgspec.json.decode(read_regular(path))
    except (OSError, msgspec.MsgspecError):
        return None


def model_of(share: Path) -> str:
    doc = _read_json(share / "config.json")
    model = doc.get("model") if isinstance(doc, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else DEFAULT_MODEL


def workspace_of(share: Path, group: str) -> str:
    """The work directory whose md5 names ``group`` (``kimi.json``), else ``group``."""
    doc = _read_json(share / "kimi.json")
    dirs = doc.get("work_dirs") if isinstance(doc, dict) else None
    for wd in dirs if isinstance(dirs, list) else ():
        path = wd.get("path") if isinstance(wd, dict) else None
        if not isinstance(path, str):
            continue
        md5 = hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()
        kaos = wd.get("kaos", "local")
        if group in (md5, f"{kaos}_{md5}"):
            return path
    return group


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class KimiParser(LineParser):
    """One session's ``wire.jsonl``."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        parts = path.parts
        at = max((i for i, p in enumerate(parts[:-3]) if p == "sessions"), default=-1)
        # sessions/<group>/<session>/wire.jsonl, or deeper: a sub-agent's
        # <session>/subagents/<id>/wire.jsonl (ccusage 20.0.24 reads those too)
        self.is_session = path.name == WIRE and at >= 0
        share = Path(*parts[:at]) if at > 0 else path.parent
        group = parts[at + 1] if at >= 0 else path.parent.name
        self.model = model_of(share)
        self.workspace = workspace_of(share, group)
        self.conversation: str | None = None  # the first record's time (see docstring)
        self.warned = False
        try:
            self.fallback_ms = path.stat().st_mtime_ns // 1_000_000
        except OSError:
            self.fallback_ms = 0
        if at >= 0 and len(parts) - at > 4:  # a sub-agent: its session's conversation
            self._prime_from(Path(*parts[:at + 3]) / WIRE, None)

    def prime(self, offset: int) -> None:
        if self.conversation is None:
            self._prime_from(self.path, offset)

    def _prime_from(self, path: Path, offset: int | None) -> None:
        try:
            with open_binary(path) as fh:
                for _ in range(8):  # the metadata line, then the first record
                    line = fh.readline(1 << 20)
                    if not line or (offset is not None and fh.tell() > offset):
                        break
                    self._first(line)
                    if self.conversation is not None:
                        break
        except OSError:
            return

    def _first(self, line: bytes) -> _Record | None:
        try:
            rec = _decoder.decode(line)
        except msgspec.MsgspecError:
            return None
        if self.conversation is None and rec.type == "usage.record":
            ms = rec.time if type(rec.time) is int and rec.time >= 0 else self.fallback_ms
            self.conversation = _iso_ms(ms)
        elif self.conversation is None and rec.type != "metadata" and rec.message is not None:
            secs = _seconds(rec.timestamp)
            ms = int(secs * 1000) if secs is not None else self.fallback_ms
            self.conversation = _iso_ms(ms)
        return rec

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        if not self.is_session:
            if not self.warned:
                self.warned = True
                self.counts.skip("wire.jsonl outside sessions/<group>/<session>/")
            return ()
        if self.conversation is None and line.strip():
            self._first(line)
        if b'"usage.record"' in line:
            return self._record(line)
        if b'"StatusUpdate"' not in line or b'"token_usage"' not in line:
            return ()
        try:
            rec = _decoder.decode(line)
        except msgspec.ValidationError:
            self.counts.skip("invalid")
            return ()
        except msgspec.DecodeError:
            self.counts.malformed += 1
            return ()
        msg = rec.message
        if rec.type == "metadata" or not isinstance(msg, dict):
            return ()
        payload = msg.get("payload")
        if msg.get("type") != "StatusUpdate" or not isinstance(payload, dict):
            return ()
        if "token_usage" not in payload:
            return ()
        usage = payload["token_usage"]
        usage = usage if isinstance(usage, dict) else {}
        inp, out = _u64(usage.get("input_other")), _u64(usage.get("output"))
        cr, cw = _u64(usage.get("input_cache_read")), _u64(usage.get("input_cache_creation"))
        extra = 0
        missing = _u64(usage.get("total")) - (inp + out + cr + cw)
        if missing > 0:
            if out == 0:
                out = missing
            else:
                extra = missing
        if inp + out + cr + cw + extra == 0:
            self.counts.skip("no tokens")
            return ()
        secs = _seconds(rec.timestamp)
        ms = int(secs * 1000) if secs is not None else self.fallback_ms  # truncated
        mid = payload.get("message_id")
        mid = mid.strip() if isinstance(mid, str) else ""
        key = f"{mid}|{ms}|{inp}|{out}|{cw}|{cr}|{extra}"
        self.counts.usage_lines += 1
        return (self._request(ms, key, self.model, inp, out, cr, cw, extra),)

    def _record(self, line: bytes) -> Iterable[IngestRequest]:
        """Kimi Code's ``{"type":"usage.record","time":<ms>,"model","usage":{inputOther,
        output, inputCacheRead, inputCacheCreation},"usageScope":"turn"}``."""
        try:
            rec = _decoder.decode(line)
        except msgspec.MsgspecError:
            self.counts.malformed += 1
            return ()
        if rec.type != "usage.record" or rec.usage_scope != "turn":
            return ()
        usage = rec.usage if isinstance(rec.usage, dict) else {}
        inp, out = _u64(usage.get("inputOther")), _u64(usage.get("output"))
        cr, cw = _u64(usage.get("inputCacheRead")), _u64(usage.get("inputCacheCreation"))
        if inp + out + cr + cw == 0:
            self.counts.skip("no tokens")
            return ()
        ms = rec.time if type(rec.time) is int and rec.time >= 0 else self.fallback_ms
        model = rec.model.strip() if isinstance(rec.model, str) and rec.model.strip() else ""
        model = model or self.model
        if self.conversation is None:
            self.conversation = _iso_ms(ms)
        key = f"record|{model}|{ms}|{inp}|{out}|{cw}|{cr}"
        self.counts.usage_lines += 1
        return (self._request(ms, key, model, inp, out, cr, cw, 0),)

    def _request(self, ms: int, key: str, model: str, inp: int, out: int, cr: int, cw: int,
                 extra: int) -> IngestRequest:
        return IngestRequest(
            source_system=SYSTEM, source_channel=SourceChannel.JSONL,
            agent_name=SYSTEM, event_type=EventType.MESSAGE_USAGE,
            occurred_at=datetime.fromtimestamp(ms / 1000, UTC),
            session_id=self.conversation or _iso_ms(ms), workspace_id=self.workspace,
            message_id="kimi:" + hashlib.sha1(key.encode(), usedforsecurity=False
                                              ).hexdigest()[:24],
            provider_id=PROVIDER, model_raw=model, model_canonical=model,
            input_tokens=inp, output_tokens=out, cache_read_tokens=cr, cache_write_tokens=cw,
            total_tokens=inp + out + cr + cw + extra, status=EventStatus.OK,
        )


KIMI = LinesAgent(
    name="kimi", system=SYSTEM, label="Kimi CLI", env=("KIMI_DATA_DIR", "KIMI_SHARE_DIR"),
    roots=roots, patterns=(WIRE,), parser=KimiParser,
)
