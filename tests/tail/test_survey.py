"""``Survey``: each source's files listed and stat'ed in worker threads, on real files."""

from __future__ import annotations

import os
from pathlib import Path

from tokentop.store.tail.offsets import plan
from tokentop.store.tail.survey import Survey
from tokentop.store.tail.walk import find_files


def test_files_and_stats_of_each_source_and_a_database_wal(tmp_path: Path) -> None:
    logs = tmp_path / "logs" / "a"
    logs.mkdir(parents=True)
    (logs / "one.jsonl").write_bytes(b'{"x": 1}\n')
    (logs / "two.jsonl").write_bytes(b"")
    db = tmp_path / "agent.db"
    db.write_bytes(b"x" * 10)
    (tmp_path / "agent.db-wal").write_bytes(b"y" * 3)
    survey = Survey({
        "logs": (lambda: find_files([tmp_path / "logs"], "*.jsonl"), False),
        "db": (lambda: [str(db)], True),
        "gone": (lambda: [str(tmp_path / "never.jsonl")], False),
    })
    files = survey.files("logs")
    assert files == [str(logs / "one.jsonl"), str(logs / "two.jsonl")]
    assert survey.stats[files[0]].st_size == 9
    assert survey.files("db") == [str(db)]
    assert survey.stats[f"{db}-wal"].st_size == 3
    assert survey.files("gone") == [str(tmp_path / "never.jsonl")]
    assert survey.stats[str(tmp_path / "never.jsonl")] is None
    survey.close()


def test_plan_uses_the_surveyed_stats_not_a_new_stat(tmp_path: Path) -> None:
    """The stats are the pass's: a file that grew after the survey is read up to what
    the survey saw (the rest next pass), and one that vanished is skipped."""
    log = tmp_path / "s.jsonl"
    log.write_bytes(b"a\n")
    gone = tmp_path / "gone.jsonl"
    gone.write_bytes(b"b\n")
    survey = Survey({"x": (lambda: [str(log), str(gone)], False)})
    names = survey.files("x")
    with log.open("ab") as fh:
        fh.write(b"more\n")
    tasks = plan(names, {}, {**survey.stats, str(gone): None})
    assert [(t.path, t.size) for t in tasks] == [(log, 2)]
    assert os.path.getsize(log) == 7
