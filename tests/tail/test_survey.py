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


def test_a_forked_survey_answers_as_the_serial_one(tmp_path: Path) -> None:
    from tokentop.store.tail.survey import ForkedSurvey

    logs = tmp_path / "logs"
    for i in range(300):
        (logs / f"d{i % 7}").mkdir(parents=True, exist_ok=True)
        (logs / f"d{i % 7}" / f"s{i}.jsonl").write_bytes(b"x\n" * i)
    db = tmp_path / "agent.db"
    db.write_bytes(b"x" * 10)
    (tmp_path / "agent.db-wal").write_bytes(b"y" * 3)
    sources = {
        "logs": (lambda: find_files([logs], "*.jsonl"), False),
        7: (lambda: [str(db)], True),
        "gone": (lambda: [str(tmp_path / "never.jsonl")], False),
    }
    serial, forked = Survey(sources), ForkedSurvey(sources)
    assert forked._pid  # really made by a child
    for key in sources:
        assert forked.files(key) == serial.files(key)
    assert forked._pid == 0  # reaped
    assert set(forked.stats) == set(serial.stats)
    for name, st in serial.stats.items():
        got = forked.stats[name]
        assert (got is None) == (st is None)
        if st is not None:
            assert (got.st_ino, got.st_size, got.st_mtime_ns) == (
                st.st_ino, st.st_size, st.st_mtime_ns)
    assert plan(forked.files("logs"), {}, forked.stats) == plan(serial.files("logs"), {},
                                                                serial.stats)


def test_a_child_that_fails_leaves_the_walk_to_the_parent(tmp_path: Path) -> None:
    """A lister that fails in the child (its reply never comes) costs time, not files:
    the parent walks that source itself. Closing unread reaps the child too."""
    from tokentop.store.tail.survey import ForkedSurvey

    (tmp_path / "a.jsonl").write_bytes(b"a\n")
    parent = os.getpid()

    def only_here() -> list[str]:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return [str(tmp_path / "a.jsonl")]

    survey = ForkedSurvey({"x": (only_here, False)})
    assert survey.files("x") == [str(tmp_path / "a.jsonl")]
    assert survey.stats[str(tmp_path / "a.jsonl")].st_size == 2
    unread = ForkedSurvey({"x": (lambda: [str(tmp_path / "a.jsonl")], False)})
    pid = unread._pid
    unread.close()
    assert unread._pid == 0
    try:
        os.waitpid(pid, os.WNOHANG)
        reaped = False
    except ChildProcessError:
        reaped = True
    assert reaped


def test_a_database_lister_may_name_what_is_not_a_file(tmp_path: Path) -> None:
    """Database sources are listed unchecked (one ``stat`` each saved): the survey's own
    ``stat`` leaves out a path that is missing or a directory, with no ``-wal`` stat."""
    db = tmp_path / "a.db"
    db.write_bytes(b"x")
    (tmp_path / "conversations").mkdir()
    names = [str(db), str(tmp_path / "conversations"), str(tmp_path / "gone.db")]
    survey = Survey({"db": (lambda: names, True)})
    assert survey.files("db") == [str(db)]
    assert set(survey.stats) == {str(db), f"{db}-wal"} and survey.stats[f"{db}-wal"] is None
