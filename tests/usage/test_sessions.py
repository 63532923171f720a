"""The Usage screen's sessions and their drill-down (store/usage/sessions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.sessions import session_detail, session_list

NOW = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)


def msg(minutes: int, model: str, i: int, cost: float | None, session: str,
        project: str = "/home/u/app") -> IngestRequest:
    ts = NOW - timedelta(minutes=minutes)
    return IngestRequest(source_system="claude_code", source_channel="jsonl", occurred_at=ts,
                         message_id=f"m{minutes}{session}", session_id=session,
                         workspace_id=project, provider_id="anthropic",
                         agent_name="claude_code", model_raw=model, input_tokens=i,
                         output_tokens=0, cost_usd=cost)


def test_sessions_and_their_messages(tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "u.db") as store:
        store.ingest([msg(10, "claude-opus-4-6", 1000, 0.5, "a"),
                      msg(20, "claude-haiku-4-5", 300, 0.1, "a"),
                      msg(30, "claude-opus-4-6", 2000, 1.0, "a"),
                      msg(5, "mystery-x", 50, None, "b", "/home/u/api"),
                      msg(3 * 24 * 60, "claude-opus-4-6", 9, 0.01, "old")])
        rows = session_list(store.conn, "1d", NOW)
        assert [r.session_id for r in rows] == ["b", "a"]  # newest activity first
        a = rows[1]
        assert a.sums.tokens == 3300 and round(a.sums.cost, 6) == 1.6
        assert a.sums.messages == 3 and a.models == ("claude-opus-4-6", "claude-haiku-4-5")
        assert a.project == "/home/u/app" and a.agent == "claude_code"
        assert a.first == NOW - timedelta(minutes=30) and a.last == NOW - timedelta(minutes=10)
        d = session_detail(store.conn, "a", "1d", NOW)
        assert [m.at for m in d.messages] == [NOW - timedelta(minutes=m) for m in (10, 20, 30)]
        assert [(r.key, r.sums.tokens, r.sums.messages) for r in d.models] == [
            ("claude-opus-4-6", 3000, 2), ("claude-haiku-4-5", 300, 1)]
        b = session_detail(store.conn, "b", "1d", NOW)
        assert b.unpriced == ["mystery-x"] and b.messages[0].sums.cost == 0.0
        assert [r.session_id for r in session_list(store.conn, "7d", NOW)] == ["b", "a", "old"]
