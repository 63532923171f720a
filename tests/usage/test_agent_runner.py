"""The runner every agent collector plugs into (``store/usage/agents/base.py``): JSONL
read on from the stored offset, whole files read again only when they changed, a live
SQLite database read from its watermark, read-only. Each agent's own format is tested
in its own file; these agents are the smallest that exercise each shape."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokentop.store.usage.agents.base import (
    DatabaseAgent,
    LineParser,
    LinesAgent,
    WholeFileAgent,
)
from tokentop.store.usage.collect import collect_once, watch
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.rowmarks import RowMarks


def request(system: str, mid: str, tokens: int, session: str = "s") -> IngestRequest:
    return IngestRequest(source_system=system, source_channel="jsonl",
                         occurred_at=datetime(2026, 3, 1, tzinfo=UTC), session_id=session,
                         message_id=mid, model_raw="gpt-5", provider_id="openai",
                         input_tokens=tokens, output_tokens=1)


class Lines(LineParser):
    """``{"id": ..., "n": ...}`` per line; the session is the first line's."""

    def __init__(self, path: Path, counts: Counts) -> None:
        super().__init__(path, counts)
        self.session: str | None = None
        self.primed_at: int | None = None

    def prime(self, offset: int) -> None:
        self.primed_at = offset
        with open(self.path, "rb") as fh:
            self.session = json.loads(fh.readline()).get("session")

    def feed(self, line: bytes) -> Iterable[IngestRequest]:
        try:
            doc = json.loads(line)
        except ValueError:
            self.counts.malformed += 1
            return ()
        if "session" in doc:
            self.session = doc["session"]
            return ()
        self.counts.usage_lines += 1
        return (request("toy_lines", doc["id"], doc["n"], self.session or "?"),)


def whole(path: Path, data: bytes, counts: Counts) -> Iterable[IngestRequest]:
    doc = json.loads(data)
    return [request("toy_whole", m["id"], m["n"]) for m in doc["messages"]]


def read_db(conn: sqlite3.Connection, path: Path, watermark: int, counts: Counts,
            marks: RowMarks) -> tuple[Sequence[IngestRequest], int]:
    rows = conn.execute("SELECT rowid, id, n FROM message WHERE rowid > ? ORDER BY rowid",
                        (watermark,)).fetchall()
    return ([request("toy_db", mid, n) for _, mid, n in rows],
            rows[-1][0] if rows else watermark)


def agents(root: Path) -> tuple:
    return (
        LinesAgent("toylines", "toy_lines", "Toy lines", ("TOY_DIR",),
                   lambda: [root / "lines"], ("*.jsonl",), Lines),
        WholeFileAgent("toywhole", "toy_whole", "Toy whole", ("TOY_DIR",),
                       lambda: [root / "whole"], ("session-*.json",), whole),
        DatabaseAgent("toydb", "toy_db", "Toy db", ("TOY_DIR",),
                      lambda: [root / "db" / "toy.db"], read_db),
    )


def events(store: UsageStore, system: str) -> dict[str, int]:
    return dict(store.conn.execute(
        "SELECT message_id, input_tokens FROM usage_events WHERE agent_name = ?", (system,)))


def test_each_shape_is_read_once_then_only_what_is_new(tmp_path: Path) -> None:
    (tmp_path / "lines").mkdir()
    (tmp_path / "whole").mkdir()
    (tmp_path / "db").mkdir()
    log = tmp_path / "lines" / "a.jsonl"
    log.write_text('{"session": "s1"}\n{"id": "l1", "n": 5}\nnot json\n')
    doc = tmp_path / "whole" / "session-1.json"
    doc.write_text(json.dumps({"messages": [{"id": "w1", "n": 7}]}))
    (tmp_path / "whole" / "other.json").write_text("{}")  # not the pattern: never read
    db = sqlite3.connect(tmp_path / "db" / "toy.db")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE message (id TEXT, n INTEGER)")
    db.execute("INSERT INTO message VALUES ('d1', 3)")
    db.commit()
    toys = agents(tmp_path)
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=toys)
        assert r.ingest.inserted == 3
        assert r.agents["toylines"].malformed == 1 and r.agents["toywhole"].files == 1
        assert events(store, "toy_lines") == {"l1": 5}

        again = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                             hook_spool=tmp_path / "y", agents=toys)
        assert again.bytes_read == 0 and again.ingest.inserted == 0  # nothing changed

        with log.open("a") as fh:
            fh.write('{"id": "l2", "n": 6}\n')
        doc.write_text(json.dumps({"messages": [{"id": "w1", "n": 9}, {"id": "w2", "n": 1}]}))
        db.execute("INSERT INTO message VALUES ('d2', 4)")
        db.commit()
        third = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                             hook_spool=tmp_path / "y", agents=toys)
        assert third.ingest.inserted == 3 and third.ingest.enriched == 1
        assert events(store, "toy_lines") == {"l1": 5, "l2": 6}
        assert events(store, "toy_lines") and store.conn.execute(
            "SELECT DISTINCT session_id FROM usage_events WHERE agent_name = 'toy_lines'"
        ).fetchall() == [("s1",)]  # the resumed file's session came from prime()
        assert events(store, "toy_whole") == {"w1": 9, "w2": 1}  # the rewritten copy won
        assert events(store, "toy_db") == {"d1": 3, "d2": 4}
    db.close()


def test_a_locked_or_corrupt_database_is_one_skip_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "toy.db").write_bytes(b"this is not a database" * 100)
    (tmp_path / "lines").mkdir()
    (tmp_path / "lines" / "a.jsonl").write_text('{"id": "l1", "n": 5}\n')
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=agents(tmp_path))
        assert r.agents["toydb"].skipped == {"database unreadable (DatabaseError)": 1}
        assert events(store, "toy_lines") == {"l1": 5}
    # never written: a foreign database stays byte for byte what it was
    assert (tmp_path / "db" / "toy.db").read_bytes() == b"this is not a database" * 100
    assert not (tmp_path / "db" / "toy.db-wal").exists()


def test_watch_sees_a_new_line_of_an_agent(tmp_path: Path) -> None:
    (tmp_path / "lines").mkdir()
    log = tmp_path / "lines" / "a.jsonl"
    log.write_text('{"id": "l1", "n": 5}\n')
    stop = threading.Event()
    seen: list[int] = []
    got = threading.Condition()

    def on_change(report) -> None:  # type: ignore[no-untyped-def]
        with got:
            seen.append(report.ingest.inserted)
            got.notify_all()

    store = UsageStore.open(tmp_path / "usage.db")
    t = threading.Thread(target=watch, args=(lambda: store, stop, on_change), kwargs=dict(
        claude_roots=[], codex_dir=tmp_path / "x", hook_spool=tmp_path / "y",
        agents=agents(tmp_path)[:1], debounce_ms=50))
    t.start()
    try:
        with got:
            assert got.wait_for(lambda: sum(seen) >= 1, timeout=10)
        with log.open("a") as fh:
            fh.write('{"id": "l2", "n": 6}\n')
        with got:
            assert got.wait_for(lambda: sum(seen) >= 2, timeout=10)
    finally:
        stop.set()
        t.join(timeout=10)
        store.close()
    assert not t.is_alive()


def test_a_parser_that_fails_on_a_line_skips_that_line_only(tmp_path: Path) -> None:
    class Fussy(Lines):
        def feed(self, line: bytes) -> Iterable[IngestRequest]:
            if b"boom" in line:
                raise KeyError("boom")
            return super().feed(line)

    (tmp_path / "lines").mkdir()
    (tmp_path / "lines" / "a.jsonl").write_text(
        '{"id": "l1", "n": 5}\n{"boom": 1}\n{"id": "l2", "n": 6}\n')
    agent = LinesAgent("toylines", "toy_lines", "Toy lines", ("TOY_DIR",),
                       lambda: [tmp_path / "lines"], ("*.jsonl",), Fussy)
    with UsageStore.open(tmp_path / "usage.db") as store:
        r = collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                         hook_spool=tmp_path / "y", agents=[agent])
        assert r.agents["toylines"].skipped == {"unreadable line (KeyError)": 1}
        assert events(store, "toy_lines") == {"l1": 5, "l2": 6}


def test_a_quiet_wal_database_is_read_without_side_files(tmp_path: Path) -> None:
    """No agent running: its WAL database has no -wal/-shm, and reading it must not
    leave any behind (mode=ro alone would)."""
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "toy.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE message (id TEXT, n INTEGER)")
    db.execute("INSERT INTO message VALUES ('d1', 3)")
    db.commit()
    db.close()
    assert not (tmp_path / "db" / "toy.db-wal").exists()
    before = path.read_bytes()
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect_once(store, claude_roots=[], codex_dir=tmp_path / "x",
                     hook_spool=tmp_path / "y", agents=agents(tmp_path)[2:])
        assert events(store, "toy_db") == {"d1": 3}
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == ["toy.db"]
    assert path.read_bytes() == before


def test_agents_command_lists_every_agent_with_its_paths(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tokentop.store.usage.agents import AGENTS
    from tokentop.tui.commands.agents import agents as agents_cmd

    monkeypatch.setenv("QWEN_DATA_DIR", str(tmp_path))
    out = CliRunner().invoke(agents_cmd, ["--json"])
    assert out.exit_code == 0
    doc = json.loads(out.output)["agents"]
    names = [a["source"] for a in doc]
    assert names[:2] == ["claude", "codex"]
    assert set(names) == {"claude", "codex", *(a.name for a in AGENTS)}
    assert len(names) == len(set(names))  # an agent read in two shapes is one entry
    qwen = next(a for a in doc if a["source"] == "qwen")
    assert "QWEN_DATA_DIR" in qwen["variables"]
    assert any(p["path"].startswith(str(tmp_path)) for p in qwen["paths"])


def test_every_registered_agent_is_what_its_collector_says() -> None:
    """The registry names each agent without importing its collector (a report pays for
    no parser it does not need); what it says must be the collector's own spec."""
    import subprocess
    import sys

    from tokentop.store.usage.agents import AGENTS, kind_of

    for ref in AGENTS:
        agent = ref.load()
        assert (agent.name, agent.system, agent.label, agent.env) == (
            ref.name, ref.system, ref.label, ref.env), ref.target
        assert agent.roots is ref.roots, ref.target
        assert kind_of(agent) == ref.kind, ref.target
        assert getattr(agent, "patterns", ()) == ref.patterns, ref.target
    code = ("import sys; import tokentop.store.usage.collect, tokentop.store.usage.reports;"
            "from tokentop.store.usage.agents import locations; locations();"
            "print(sorted(m for m in sys.modules if m.startswith('tokentop.store.usage.agents.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == str(["tokentop.store.usage.agents.base",
                               "tokentop.store.usage.agents.paths"])


def test_watch_sees_a_new_row_of_an_agent_database(tmp_path: Path) -> None:
    """A database agent is watched through its directory: a committed row arrives
    without waiting for anything but the change event."""
    (tmp_path / "db").mkdir()
    db = sqlite3.connect(tmp_path / "db" / "toy.db")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE message (id TEXT, n INTEGER)")
    db.execute("INSERT INTO message VALUES ('d1', 3)")
    db.commit()
    stop = threading.Event()
    seen: list[int] = []
    got = threading.Condition()

    def on_change(report) -> None:  # type: ignore[no-untyped-def]
        with got:
            seen.append(report.ingest.inserted)
            got.notify_all()

    store = UsageStore.open(tmp_path / "usage.db")
    t = threading.Thread(target=watch, args=(lambda: store, stop, on_change), kwargs=dict(
        claude_roots=[], codex_dir=tmp_path / "x", hook_spool=tmp_path / "y",
        agents=agents(tmp_path)[2:], debounce_ms=50))
    t.start()
    try:
        with got:
            assert got.wait_for(lambda: sum(seen) >= 1, timeout=10)
        db.execute("INSERT INTO message VALUES ('d2', 4)")
        db.commit()
        with got:
            assert got.wait_for(lambda: sum(seen) >= 2, timeout=10)
    finally:
        stop.set()
        t.join(timeout=10)
        store.close()
        db.close()
    assert not t.is_alive()
