"""``docmarks``: a rewritten document passes on only the events its last read did not
give, whether it was parsed here or in a worker process (``shards``). Real Amp thread
documents (``fixtures/amp``: ccusage's Amp adapter test shapes, sources in its README)
in a real store."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from tokentop.store.usage import docmarks
from tokentop.store.usage.agents.amp import AMP
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import EventType, IngestRequest, SourceChannel

FIXTURES = Path(__file__).parent / "fixtures" / "amp"
COPY = "T-5d1c2b3a-7e8f-4a9b-8c0d-1e2f3a4b5c6d"


def request(mid: str, tokens: int) -> IngestRequest:
    return IngestRequest(
        source_system="amp", source_channel=SourceChannel.JSONL, agent_name="amp",
        event_type=EventType.MESSAGE_USAGE, occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        session_id="t", message_id=mid, model_raw="m", input_tokens=tokens)


def test_only_requests_not_given_last_time_are_fresh() -> None:
    a, b, c = request("a", 1), request("b", 2), request("c", 3)
    new, mark = docmarks.fresh([a, b, b], None)
    assert new == [a, b, b]  # the first read passes everything on, copies too
    assert len(mark) == 2 * 16  # one digest per distinct event
    assert docmarks.fresh([b, a], mark) == ([], mark)  # order is not content
    new, later = docmarks.fresh([a, b, c, request("a", 5)], mark)
    assert new == [c, request("a", 5)]  # a new event, and one whose values changed
    assert docmarks.fresh([a, b, c, request("a", 5)], later)[0] == []
    # any field counts: the same ids and tokens at another time is another event
    moved = msgspec.structs.replace(a, occurred_at=datetime(2026, 5, 2, tzinfo=UTC))
    assert docmarks.fresh([moved], mark)[0] == [moved]


def test_a_thread_parsed_in_a_worker_leaves_its_mark_for_the_next_read(tmp_path) -> None:
    """The cold path (``parallel=True``: worker processes) stores the document's mark
    as the in-process path does; a rewrite read afterwards passes on one event."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", data)
    agent = dataclasses.replace(AMP, roots=lambda: [data / "threads"])
    thread = data / "threads" / f"{COPY}.json"

    def collect(store: UsageStore, parallel: bool):  # type: ignore[no-untyped-def]
        return collect_once(store, claude_roots=[], codex_dir=tmp_path / "none",
                            hook_spool=tmp_path / "none", agents=[agent], parallel=parallel)

    with UsageStore.open(tmp_path / "usage.db") as store:
        first = collect(store, parallel=True)
        assert first.agents["amp"].requests == 12
        marks = store.load_row_marks("agent:amp", str(thread))
        assert set(marks) == {docmarks.DOC_KEY}
        doc = json.loads(thread.read_text())
        doc["messages"].append({"role": "assistant", "messageId": 8, "usage": {
            "model": "gpt-5", "inputTokens": 70, "outputTokens": 30,
            "timestamp": "2026-05-30T08:00:00.000Z"}})
        thread.write_text(json.dumps(doc))
        second = collect(store, parallel=False)
        assert second.agents["amp"].requests == 1 and second.ingest.inserted == 1
        assert store.load_row_marks("agent:amp", str(thread))[docmarks.DOC_KEY] != (
            marks[docmarks.DOC_KEY])


def test_a_document_of_one_event_keeps_no_mark(tmp_path) -> None:
    """A mark would cost more than the one duplicate it saves (Droid's settings and
    OpenCode's message files hold one event each: thousands of files)."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", data)
    agent = dataclasses.replace(AMP, roots=lambda: [data / "threads"])
    thread = data / "threads" / f"{COPY}.json"
    doc = json.loads(thread.read_text())
    usage = [m for m in doc["messages"] if isinstance(m.get("usage"), dict)]
    doc["messages"] = usage[:1]
    thread.write_text(json.dumps(doc))
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect_once(store, claude_roots=[], codex_dir=tmp_path / "none",
                     hook_spool=tmp_path / "none", agents=[agent])
        assert store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE session_id = ?",
                                  (COPY,)).fetchone()[0] == 1
        assert store.load_row_marks("agent:amp", str(thread)) == {}
        marked = store.conn.execute("SELECT COUNT(*) FROM tokentop_row_marks").fetchone()[0]
        assert marked > 0  # the fixture's threads of several events have theirs
