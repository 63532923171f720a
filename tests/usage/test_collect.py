"""collect_once over all collectors (batches, progress), watch (a new Claude message
reaches the store within 2 s) and the ``tokentop ingest`` command."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from claude_corpus import write_corpus
from click.testing import CliRunner
from test_claude import line, proj, write

from tokentop.store.usage import collect, sources
from tokentop.store.usage.collect import CollectReport, collect_once, watch
from tokentop.store.usage.db import UsageStore


def count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    finally:
        conn.close()


def test_batches_commit_offsets_with_their_events(store, tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "BATCH", 7)
    truth = write_corpus(tmp_path / "c", seed=2, days=2, sessions=6, line_kb=(1, 2))
    seen: list[tuple[int, int]] = []
    r = collect_once(store, claude_roots=[tmp_path / "c"], codex_dir=tmp_path / "x",
                     hook_spool=tmp_path / "y", progress=lambda d, t: seen.append((d, t)))
    assert r.batches > 3
    assert count(tmp_path / "usage.db") == truth.messages
    assert seen[-1] == (truth.bytes, truth.bytes)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    offs = store.load_offsets("claude_code")
    assert len(offs) == truth.files
    assert all(o.offset == Path(p).stat().st_size for p, o in offs.items())
    assert collect_once(store, claude_roots=[tmp_path / "c"], codex_dir=tmp_path / "x",
                        hook_spool=tmp_path / "y").bytes_read == 0


def test_report_as_dict_is_json(store, tmp_path):
    write(proj(tmp_path) / "s1.jsonl", line("m1"), "not json")
    r = collect_once(store, claude_roots=[tmp_path], codex_dir=tmp_path / "x",
                     hook_spool=tmp_path / "y")
    d = json.loads(json.dumps(r.as_dict()))
    assert d["claude"]["malformed"] == 1 and d["inserted"] == 1 and d["bytes_read"] > 0


def test_watch_brings_a_new_message_within_two_seconds(tmp_path):
    root = tmp_path / "claude"
    f = write(proj(root) / "s1.jsonl", line("m1"))
    stop = threading.Event()
    reports: list[CollectReport] = []
    cond = threading.Condition()

    def on_change(rep: CollectReport) -> None:
        with cond:
            reports.append(rep)
            cond.notify_all()

    s = UsageStore.open(tmp_path / "usage.db")
    t = threading.Thread(target=watch, args=(s, stop, on_change), daemon=True,
                         kwargs={"claude_roots": [root], "codex_dir": tmp_path / "x",
                                 "hook_spool": tmp_path / "y"})
    t.start()
    try:
        with cond:
            assert cond.wait_for(lambda: len(reports) >= 1, timeout=10)  # the initial pass
        t0 = time.monotonic()
        with f.open("a") as fh:
            fh.write(line("m2") + "\n")
        with cond:
            assert cond.wait_for(lambda: len(reports) >= 2, timeout=2.0)
        latency = time.monotonic() - t0
        assert latency < 2.0
        assert reports[-1].ingest.inserted == 1
        assert count(tmp_path / "usage.db") == 2
        # a new project directory and file appear: picked up as well
        write(proj(root, "-home-u-api") / "s2.jsonl", line("m3"))
        with cond:
            assert cond.wait_for(lambda: len(reports) >= 3, timeout=3.0)
    finally:
        stop.set()
        t.join(timeout=5)
        s.close()
    assert not t.is_alive()


# -- tokentop ingest -----------------------------------------------------------------

def test_ingest_command_json(tmp_path):
    from tokentop.tui.commands.ingest import ingest

    truth = write_corpus(tmp_path / "c", seed=4, days=2, sessions=4, line_kb=(1, 2))
    store = tmp_path / "u.db"
    args = ["--store", str(store), "--claude-dir", str(tmp_path / "c"),
            "--codex-dir", str(tmp_path / "c"), "--json"]
    res = CliRunner().invoke(ingest, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout.strip().splitlines()[-1])
    assert d["inserted"] == truth.messages and d["claude"]["files"] == truth.files
    res = CliRunner().invoke(ingest, args[:-1])
    assert res.exit_code == 0 and "claude" in res.stdout and "0 inserted" in res.stdout


def test_ingest_command_user_errors(tmp_path):
    from tokentop.tui.commands.ingest import ingest

    res = CliRunner().invoke(ingest, ["--store", str(tmp_path / "u.db"),
                                      "--claude-dir", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "not found" in res.output
    assert len(res.output.strip().splitlines()) == 1
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    (tmp_path / "c").mkdir()
    res = CliRunner().invoke(ingest, ["--store", str(bad), "--claude-dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_ingest_command_does_not_import_textual(tmp_path):
    import subprocess
    import sys

    code = ("import sys, tokentop.tui.commands.ingest, tokentop.store.usage.collect; "
            "sys.exit(1 if 'textual' in sys.modules else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    assert proc.returncode == 0


def test_the_walk_starts_before_the_heavy_imports() -> None:
    """``tokentop report`` forks its walk first thing: finding the locations and their
    listers (``sources``) imports neither the collect module nor msgspec, platformdirs
    or dataclasses, and the prefetch forks the child without them."""
    import subprocess
    import sys

    code = ("import sys; from tokentop.store.usage import sources; sources.prefetch(); "
            "heavy = {'tokentop.store.usage.collect', 'msgspec', 'platformdirs',"
            " 'dataclasses', 'tokentop.store.usage.agents.base'} & set(sys.modules); "
            "sources._PREFETCHED[0][1].close(); print(sorted(heavy)); sys.exit(bool(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_prefetched_survey_is_taken_once_and_only_where_it_looked(tmp_path, monkeypatch):
    """``sources.prefetch`` (started by ``tokentop report`` before its imports) walks the
    default locations; the first pass over them takes it and reads what a pass of its
    own would, and a pass over other locations never takes it."""
    root = tmp_path / "claude"
    write(proj(root) / "s1.jsonl", line("m1"), line("m2"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    sources.prefetch()
    assert len(sources._PREFETCHED) == 1
    with UsageStore.open(tmp_path / "other.db") as other:
        elsewhere = collect_once(other, claude_roots=[tmp_path / "none"],
                                 codex_dir=tmp_path / "x", hook_spool=tmp_path / "y")
    assert elsewhere.claude.files == 0
    assert sources._PREFETCHED == []  # looked at and dropped: not where it walked
    sources.prefetch()
    taken = []
    real = sources.take
    monkeypatch.setattr(sources, "take", lambda at: taken.append(1) or real(at))
    with UsageStore.open(tmp_path / "usage.db") as s:
        first = collect_once(s)
        again = collect_once(s)
    assert first.claude.files == 1 and first.ingest.inserted == 2
    assert again.bytes_read == 0 and sources._PREFETCHED == []
    assert len(taken) == 2  # asked twice, found once: the second pass walked itself


def test_report_through_the_executable_collects_with_its_prefetched_walk(tmp_path):
    """``tokentop report`` as a user runs it (``tokentop.tui.entry``, which starts the walk
    before its imports) collects the new line and reports it; ``--no-ingest`` reads only."""
    import os
    import subprocess
    import sys

    root = tmp_path / "claude"
    write(proj(root) / "s1.jsonl", line("m1"))
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(root), "CODEX_HOME": str(tmp_path / "x"),
           "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    entry = [sys.executable, "-c", "from tokentop.tui.entry import main; main()"]
    store = str(tmp_path / "usage.db")

    def daily(*extra: str) -> dict:
        done = subprocess.run([*entry, "report", "daily", "--json", "--store", store, *extra],
                              capture_output=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    first = daily()
    assert first["totals"]["totalTokens"] > 0
    write(proj(root) / "s2.jsonl", line("m2"))
    assert daily("--no-ingest")["totals"] == first["totals"]
    assert daily()["totals"]["totalTokens"] == 2 * first["totals"]["totalTokens"]
