"""Dedup keys: each rule of DESIGN 2.2, computed independently here, and the claude
global-message rule."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from tokentop.store.usage.dedup import dedup_key
from tokentop.store.usage.model import IngestRequest

T = datetime(2026, 11, 20, 9, 14, 3, 512000, tzinfo=UTC)


def req(**kw) -> IngestRequest:
    base = {"source_system": "codex", "source_channel": "jsonl", "occurred_at": T}
    base.update(kw)
    return IngestRequest(**base)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_stable_key_is_sha256_of_the_five_parts() -> None:
    r = req(session_id="S1", workspace_id="/Home/App", turn_id="T9")
    assert dedup_key(r) == sha("codex|message_usage|s1|/home/app|turn:t9")


def test_tool_beats_message_beats_turn() -> None:
    r = req(session_id="s", tool_call_id="call_1", message_id="m", turn_id="t")
    assert dedup_key(r) == sha("codex|message_usage|s||tool:call_1")
    r = req(session_id="s", message_id="m", turn_id="t")
    assert dedup_key(r) == sha("codex|message_usage|s||message:m")


def test_parts_are_trimmed_and_lowercased() -> None:
    a = req(source_system=" Codex ", session_id=" S ", message_id=" M1 ")
    b = req(source_system="codex", session_id="s", message_id="m1")
    assert dedup_key(a) == dedup_key(b)


def test_stable_key_ignores_tokens_time_and_channel() -> None:
    a = req(message_id="m", session_id="s", input_tokens=1, source_channel="hook")
    b = req(message_id="m", session_id="s", input_tokens=9,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert dedup_key(a) == dedup_key(b)


def test_event_type_and_session_separate_stable_keys() -> None:
    base = dedup_key(req(message_id="m", session_id="s"))
    assert dedup_key(req(message_id="m", session_id="s2")) != base
    assert dedup_key(req(message_id="m", session_id="s", event_type="tool_usage")) != base
    assert dedup_key(req(message_id="m", session_id="s", workspace_id="w")) != base


def test_claude_message_key_is_global() -> None:
    """A resumed session or a sidechain replays msg_... under another session/file."""
    a = req(source_system="claude_code", message_id="msg_01AB", session_id="s1",
            workspace_id="/a")
    b = req(source_system="claude_code", message_id="msg_01AB", session_id="s2",
            workspace_id="/b")
    assert dedup_key(a) == dedup_key(b) == sha("claude_code|message_usage|||message:msg_01ab")
    # the rule is for message keys of claude_code only
    c = req(source_system="claude_code", turn_id="t", session_id="s1")
    d = req(source_system="claude_code", turn_id="t", session_id="s2")
    assert dedup_key(c) != dedup_key(d)
    e = req(source_system="codex", message_id="msg_01AB", session_id="s1")
    f = req(source_system="codex", message_id="msg_01AB", session_id="s2")
    assert dedup_key(e) != dedup_key(f)


def test_fingerprint_without_stable_id() -> None:
    a = req(provider_id="OpenAI", input_tokens=5, output_tokens=2, cost_usd=0.1,
            model_raw="gpt-5", tool_name="Bash")
    key = dedup_key(a)
    assert key.startswith("fp:") and len(key) == 3 + 64
    # provider and tool are case-insensitive; agent defaults to source_system
    assert dedup_key(req(provider_id="openai", input_tokens=5, output_tokens=2,
                         cost_usd=0.1, model_raw="gpt-5", tool_name="bash",
                         agent_name="codex")) == key
    # same millisecond: same key; another millisecond or other tokens: another key
    assert dedup_key(req(provider_id="openai", input_tokens=5, output_tokens=2,
                         cost_usd=0.1, model_raw="gpt-5", tool_name="bash",
                         occurred_at=T.replace(microsecond=512999))) == key
    for change in ({"occurred_at": T.replace(microsecond=513000)}, {"input_tokens": 6},
                   {"cost_usd": 0.2}, {"model_raw": "gpt-4"}, {"account_id": "x"},
                   {"session_id": "s"}, {"workspace_id": "w"}, {"requests": 1},
                   {"agent_name": "other"}, {"event_type": "tool_usage"}):
        fields = {"provider_id": "openai", "input_tokens": 5, "output_tokens": 2,
                  "cost_usd": 0.1, "model_raw": "gpt-5", "tool_name": "bash"}
        fields.update(change)
        assert dedup_key(req(**fields)) != key, change


def test_fingerprint_equals_for_equal_instants_in_other_offsets() -> None:
    from datetime import timedelta, timezone

    other = T.astimezone(timezone(timedelta(hours=2)))
    assert dedup_key(req(input_tokens=1)) == dedup_key(req(input_tokens=1, occurred_at=other))
