"""Dedup keys: the identity of a usage event, so that seeing it twice counts it once.

DESIGN 2.2: every part is trimmed; provider and tool are lowercased. The stable id is
``tool:<tool_call_id>``, else ``message:<message_id>``, else ``turn:<turn_id>``; with
one, the key is the sha256 (hex) of ``source_system|event_type|session_id|workspace_id|
stable_id`` with every part lowercased and trimmed. Without one, the key is ``fp:`` and
the sha256 of a fingerprint over provider, account, agent, session, workspace,
occurred_at (to the millisecond), the token counts, cost, requests, models and tool;
``source_system`` and ``event_type`` lead the fingerprint as they lead the stable key,
so a tool event can never take the identity of a message event.

One deliberate rule on top: for ``source_system == "claude_code"`` a message key omits
session_id and workspace_id. Claude Code's message id is Anthropic's ``msg_...`` id,
unique across all sessions and machines, and the same message is written again into
other files and sessions: a resumed session replays history into a new file under a
new sessionId, and a sidechain (subagent) file replays parent messages. It is ONE
message, so its key must not depend on where it was seen (ccusage and tokscale
double-count exactly these copies).

The key is also what makes ingest idempotent: re-ingesting the same records after a
crash (a spool record ingested but not yet acknowledged, a log re-read from an old
offset) finds the same keys and enriches or skips instead of counting twice.
"""

from __future__ import annotations

import hashlib

from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.timefmt import epoch_ms

CLAUDE_CODE = "claude_code"


def copy_rank(priority: int, sidechain: object, tokens: int, speed: object,
              revision: int | None = None) -> tuple[int, int, int, int, int]:
    """Which of two copies of one event wins: the higher rank; the stored one on a tie.

    ccusage's order (``should_replace_deduped_entry`` in
    ``rust/crates/ccusage/src/adapter/claude/mod.rs``) under tokentop's channel priority:
    a main-session copy beats a sidechain replay whatever their tokens, then more tokens,
    then a copy that states its ``speed``. It depends only on the copies, never on which
    was ingested first, so a sidechain file read before the main one cannot move a
    message into the sidechain's session.

    A ``revision`` (a source that rewrites one record in place and says when: OpenCode's
    ``time_updated``) goes before the tokens: the later revision is the record as it
    stands, even when its latest step carries fewer tokens than an earlier one (OpenCode
    REPLACES a message's tokens at every step). A copy without one ranks below any copy
    with one: a row re-read from the database replaces what was stored before.
    """
    return (priority, 0 if sidechain else 1, -1 if revision is None else revision,
            tokens, 0 if speed is None else 1)


def copy_tiebreak(occurred: object, session: object, workspace: object) -> tuple:
    """At equal :func:`copy_rank`, the copy with the LOWER key wins: the earliest time,
    then the smaller session and workspace. Without it the copy stored first stayed, so
    which session a message copied into a resumed session counted under depended on
    which file was read first (issue 16). ccusage keeps the copy of the file it lists
    first; tokentop's choice depends only on the copies."""
    return (occurred, _s(session), _s(workspace))


def _s(value: object) -> str:
    return "" if value is None else str(value).strip()


def _n(value: object) -> str:
    return "" if value is None else str(value)


def _cost(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def stable_id(req: IngestRequest) -> str | None:
    """``tool:...`` > ``message:...`` > ``turn:...``, or None when the event has none."""
    if tool := _s(req.tool_call_id):
        return "tool:" + tool
    if message := _s(req.message_id):
        return "message:" + message
    if turn := _s(req.turn_id):
        return "turn:" + turn
    return None


def stable_key(
    system: str, event_type: str, session: str | None, workspace: str | None, sid: str
) -> str:
    """The key of an event with a stable id; every part already trimmed (ingest calls
    this directly with its normalized values, so the two paths cannot drift)."""
    system = system.lower()
    if system == CLAUDE_CODE and sid.startswith("message:"):
        session = workspace = ""
    text = (
        f"{system}|{event_type.lower()}|{(session or '').lower()}|"
        f"{(workspace or '').lower()}|{sid.lower()}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def dedup_key(req: IngestRequest) -> str:
    """The event's dedup key (see the module docstring for the rules)."""
    system = _s(req.source_system).lower()
    event_type = _s(req.event_type).lower()
    sid = stable_id(req)
    if sid is not None:
        return stable_key(system, event_type, _s(req.session_id), _s(req.workspace_id), sid)
    occurred = "" if req.occurred_at is None else str(epoch_ms(req.occurred_at))
    parts = (
        system,
        event_type,
        _s(req.provider_id).lower(),
        _s(req.account_id),
        _s(req.agent_name) or system,  # ingest defaults agent_name to source_system
        _s(req.session_id),
        _s(req.workspace_id),
        occurred,
        _n(req.input_tokens),
        _n(req.output_tokens),
        _n(req.reasoning_tokens),
        _n(req.cache_read_tokens),
        _n(req.cache_write_tokens),
        _n(req.total_tokens),
        _cost(req.cost_usd),
        _n(req.requests),
        _s(req.model_raw),
        _s(req.model_canonical),
        _s(req.tool_name).lower(),
    )
    return "fp:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
