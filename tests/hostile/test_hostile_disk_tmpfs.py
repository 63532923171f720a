"""A really full disk during ingest (issue 16): a 16 MB tmpfs filled up (``fulldisk``).
SQLite keeps a batch's pages in its cache, so the write that meets ENOSPC is the
COMMIT; SQLite then rolls back by itself and the ROLLBACK tokentop used to send after it
raised ("no transaction is active"): a traceback instead of one line. Now: one line
that says the store is intact, exit 2, the store as it was, and everything stored once
there is room. Opening the store on a disk with no room at all is one line too (SQLite
calls that a "disk I/O error"). Skipped, naming why, where no tmpfs can be mounted; the
``max_page_count`` tests in test_hostile_disk.py always run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fulldisk import run_on_tmpfs

CHILD = r'''
import json, os, sqlite3, subprocess, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.model import IngestRequest

mnt, tmp = Path(sys.argv[1]), Path(sys.argv[2])
db = mnt / "u.db"
env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp / "claude"), "CODEX_HOME": str(tmp / "x"),
       "HOME": str(tmp / "home"), "XDG_STATE_HOME": str(tmp / "state"),
       "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config")}


def line(n, ts):
    # the shape of ccusage's Claude fixtures (tests/usage/fixtures)
    return json.dumps({"type": "assistant", "timestamp": ts, "sessionId": "s1",
                       "requestId": f"req{n}", "cwd": "/w",
                       "message": {"id": f"msg{n}", "model": "claude-sonnet-4-5-20250929",
                                   "usage": {"input_tokens": 100, "output_tokens": 50,
                                             "cache_creation_input_tokens": 0,
                                             "cache_read_input_tokens": 0}}},
                      separators=(",", ":")) + "\n"


def ingest():
    p = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "ingest", "--store", str(db)],
                       capture_output=True, text=True, env=env, timeout=120)
    return {"rc": p.returncode, "stderr": p.stderr}


def fill(free):
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    os.close(fd)
    os.truncate(mnt / "filler", max(0, os.path.getsize(mnt / "filler") - free))


def count():
    c = sqlite3.connect(db)
    try:
        return (c.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0],
                c.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        c.close()


project = tmp / "claude" / "projects" / "p1"
project.mkdir(parents=True)
log = project / "s.jsonl"
log.write_text("".join(line(i, f"2026-11-20T10:00:{i:02d}.000Z") for i in range(50)))
out = {"first": ingest()}
with log.open("a") as fh:
    for i in range(50, 3000):
        fh.write(line(i, f"2026-11-21T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z"))

fill(64 << 10)  # room to open the store, not to store the batch
statements = []
store = UsageStore.open(db)
store.conn.set_trace_callback(statements.append)
t0 = datetime(2026, 11, 1, tzinfo=UTC)
try:
    store.ingest([IngestRequest(source_system="codex", source_channel="jsonl",
                                occurred_at=t0 + timedelta(seconds=i), turn_id=f"t{i}",
                                session_id="s", model_raw="gpt-5", input_tokens=10,
                                output_tokens=1) for i in range(300)])
    out["api"] = None
except UsageStoreError as exc:
    out["api"] = str(exc)
out["api_statements"] = statements[-2:]
out["api_in_transaction"] = store.conn.in_transaction
store.close()
out["nearly_full"] = ingest()
fill(0)
out["full"] = ingest()
os.unlink(mnt / "filler")
out["after_full"] = count()
out["room"] = ingest()
out["after_room"] = count()
print(json.dumps(out))
'''


def test_a_full_tmpfs_fails_the_commit_in_one_line_and_keeps_the_store(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    mnt = tmp_path / "mnt"
    proc = run_on_tmpfs(mnt, "16m", script, str(mnt), str(tmp_path / "t"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    db = mnt / "u.db"
    assert out["first"]["rc"] == 0, out["first"]
    # The store API: the COMMIT is what met the full disk; one line, nothing left open.
    assert out["api"] == (f"disk full: {db} (nothing of the last write was stored; "
                          "the rest is intact)")
    assert out["api_statements"][-1] == "COMMIT"
    assert out["api_in_transaction"] is False
    # The CLI: one line, exit 2, never a traceback; the same with no room to open at all.
    for case, prefix in (("nearly_full", "tokentop: ingest failed: disk full: "),
                         ("full", "tokentop: cannot open usage store: disk full: ")):
        result = out[case]
        assert result["rc"] == 2, (case, result)
        lines = result["stderr"].splitlines()
        assert len(lines) == 1, (case, result["stderr"])
        assert lines[0].startswith(prefix), (case, lines)
        assert lines[0].endswith("the rest is intact)"), (case, lines)
    # Nothing stored was lost, and everything lands once there is room.
    assert out["after_full"] == [50, "ok"]
    assert out["room"]["rc"] == 0, out["room"]
    assert out["after_room"] == [3000, "ok"]
