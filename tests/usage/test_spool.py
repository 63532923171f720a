"""The spool: file format, oldest-first reads, ack, mark_failed, cleanup, drain, and
a real SIGKILL of a draining child process at every step, which loses nothing and
counts nothing twice."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.spool import Spool, SpoolRecord, drain

CHILD = Path(__file__).with_name("spool_child.py")
ROOT = Path(__file__).resolve().parents[2]


def test_write_format_and_permissions(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "telemetry-spool")
    path = spool.write("claude_code", "hook", {"a": [1, 2]})
    head, _, rest = path.name.partition("_")
    assert len(head) == 19 and head.isdigit() and rest.endswith(".jsonl")
    doc = json.loads(path.read_text())
    assert set(doc) == {"spool_id", "created_at", "source_system", "source_channel",
                        "payload", "attempt"}
    assert doc["payload"] == {"a": [1, 2]} and doc["attempt"] == 0
    assert rest.removesuffix(".jsonl") == doc["spool_id"]
    assert path.read_text().count("\n") == 1
    assert stat.S_IMODE(spool.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(spool.dir.glob("*.tmp"))


def test_read_oldest_ack_and_mark_failed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    paths = [spool.write("codex", "jsonl", {"n": i}) for i in range(5)]
    (tmp_path / "junk.jsonl.tmp").write_text("{half")  # a writer that died: ignored
    (tmp_path / "0000000000000000001_bad.jsonl").write_text("not json\n")
    got = spool.read_oldest(3)
    assert [p.record.payload for p in got] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert (tmp_path / "0000000000000000001_bad.jsonl.bad").exists()  # set aside
    spool.ack(got[0].path)
    spool.ack(got[0].path)  # twice is fine
    spool.mark_failed(got[1].path, "boom\nsecond line")
    rec = SpoolRecord.from_json(got[1].path.read_bytes())
    assert rec.attempt == 1 and rec.last_error == "boom"
    spool.mark_failed(got[1].path, "again")
    assert SpoolRecord.from_json(got[1].path.read_bytes()).attempt == 2
    assert [p.path for p in spool.read_oldest(10)] == paths[1:]


def test_cleanup_by_age_count_and_bytes(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    paths = [spool.write("codex", "jsonl", {"n": i, "pad": "x" * 100}) for i in range(10)]
    created = [int(p.name[:19]) / 1e9 for p in paths]
    res = spool.cleanup(max_age=100.0, now=created[3] + 100.0 + 1e-3)
    assert res.removed_files >= 3 and spool.paths() == paths[res.removed_files:]
    left = len(spool.paths())
    res = spool.cleanup(max_files=4)
    assert res.removed_files == left - 4 and spool.paths() == paths[-4:]
    size = paths[-1].stat().st_size
    res = spool.cleanup(max_bytes=2 * size)
    assert res.remaining_files == 2 and spool.paths() == paths[-2:]
    assert res.remaining_bytes <= 2 * size


def parse(record: SpoolRecord) -> list[IngestRequest]:
    if record.payload == "poison":
        raise ValueError("cannot parse")
    return [IngestRequest(source_system="codex", source_channel="jsonl", session_id="s",
                          turn_id=str(record.payload), input_tokens=1,
                          occurred_at=datetime(2026, 1, 1, tzinfo=UTC))]


def test_drain_ingests_acks_and_marks_failures(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(7):
        spool.write("codex", "jsonl", i)
    poison = spool.write("codex", "jsonl", "poison")
    with UsageStore.open(tmp_path / "usage.db") as store:
        res = drain(spool, store, parse, batch=3)
        assert (res.acked, res.failed, res.ingest.inserted) == (7, 1, 7)
        assert spool.paths() == [poison]
        assert SpoolRecord.from_json(poison.read_bytes()).attempt == 1
        # re-queue the same records: dedup makes the second ingest a no-op
        for i in range(7):
            spool.write("codex", "jsonl", i)
        res = drain(spool, store, parse, batch=3)
        assert res.ingest.duplicates == 7 and res.ingest.inserted == 0


# -- SIGKILL ---------------------------------------------------------------------

RECORDS = 40
BATCH = 6


def fill(spool_dir: Path) -> dict[str, int]:
    """40 records of 3 events each; messages recur across records (replays with other
    token counts). Returns the expected store: message -> max tokens."""
    spool = Spool(spool_dir)
    expected: dict[str, int] = {}
    for r in range(RECORDS):
        events = []
        for k in range(3):
            msg = f"msg_{(r * 3 + k) % 70:03d}"  # ids 0..69: 50 repeat
            tokens = (r * 7 + k * 13) % 97 + 1
            events.append({"msg": msg, "tokens": tokens, "session": f"s{r % 4}",
                           "t": 1_790_000_000 + r})
            expected[msg] = max(expected.get(msg, 0), tokens)
        spool.write("claude_code", "jsonl", {"events": events})
    return expected


def run_child(db: Path, spool_dir: Path, kill: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SPOOL_KILL", None)
    if kill:
        env["SPOOL_KILL"] = kill
    return subprocess.run([sys.executable, str(CHILD), str(db), str(spool_dir), str(BATCH)],
                          env=env, capture_output=True, text=True, timeout=60)


def stored(db: Path) -> dict[str, int]:
    with UsageStore.open(db, read_only=True) as store:
        return dict(store.conn.execute("SELECT message_id, output_tokens FROM usage_events"))


@pytest.mark.parametrize("kills", [
    ["parse:1"], ["parse:17"], ["ingest:1"], ["ingest:3"], ["after_ingest:1"],
    ["after_ingest:4"], ["ack:1"], ["ack:6"], ["ack:9"], ["ack:40"],
    ["after_ingest:2", "ack:3", "ingest:2", "parse:5", "after_ingest:1"],
])
def test_sigkill_while_draining_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, kills: list[str]
) -> None:
    db, spool_dir = tmp_path / "usage.db", tmp_path / "spool"
    expected = fill(spool_dir)
    for kill in kills:
        res = run_child(db, spool_dir, kill)
        assert res.returncode == -signal.SIGKILL, (kill, res.stdout, res.stderr)
    res = run_child(db, spool_dir, None)
    assert res.returncode == 0, res.stderr
    assert Spool(spool_dir).paths() == []
    assert not list(spool_dir.glob("*.tmp"))
    assert stored(db) == expected  # every message once, with its largest copy
    with UsageStore.open(db, read_only=True) as store:
        ok = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert ok == "ok"
