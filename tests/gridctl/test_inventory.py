"""Inventory: one record per (server, signal) with files, over real files with fixed mtimes.

Expected sizes are literals (or the length of the gzip bytes written), expected times
the mtimes set with ``os.utime``: nothing is computed by the code under test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from files_tree import DAY, HOUR, NOW, Backup, family, gz_bytes, put, screen_tree

from tokentop.store.gridctl.inventory import Rescanner, inventory, totals
from tokentop.store.metrics.layout import Layout


def test_sizes_times_and_counts_over_active_plain_and_gz(tmp_path: Path) -> None:
    d = tmp_path / "prod" / "github"
    family(d, "metrics", active=(300, NOW - 10), backups=(
        Backup("2026-05-03T00-00-00.000", NOW - 3 * DAY, 400, gz=True, plain=False),
        Backup("2026-05-04T00-00-00.000", NOW - 2 * DAY, 500),
        # Being compressed: plain and .gz both on disk, both count (both take space).
        Backup("2026-05-04T12-00-00.000", NOW - DAY, 200, gz=True),
    ))
    gz400 = len(gz_bytes(b"x" * 400))  # stored blocks: the size depends only on length
    gz200 = len(gz_bytes(b"x" * 200))
    [rec] = inventory(tmp_path)
    assert (rec.server, rec.signal) == ("prod/github", "metrics")
    assert rec.path == d / "metrics.jsonl"
    assert rec.file_count == 5
    assert rec.size_bytes == 300 + gz400 + 500 + 200 + gz200
    assert rec.oldest == NOW - 3 * DAY
    assert rec.newest == NOW - 10
    assert sorted(f.path.name for f in rec.files) == [
        "metrics-2026-05-03T00-00-00.000.jsonl.gz", "metrics-2026-05-04T00-00-00.000.jsonl",
        "metrics-2026-05-04T12-00-00.000.jsonl", "metrics-2026-05-04T12-00-00.000.jsonl.gz",
        "metrics.jsonl"]


def test_only_backups_left_still_make_a_record(tmp_path: Path) -> None:
    d = tmp_path / "s" / "a"
    family(d, "logs", active=None, backups=(Backup("2026-05-01T00-00-00.000", NOW, 50),))
    [rec] = inventory(tmp_path)
    assert rec.path == d / "logs.jsonl"  # the active file's path, as gridctl reports it
    assert (rec.file_count, rec.size_bytes) == (1, 50)


def test_ordering_server_then_logs_metrics_traces(tmp_path: Path) -> None:
    for server in ("b/x", "a/z", "a/y"):
        for signal in ("traces", "metrics", "logs"):
            family(tmp_path / server, signal, active=(10, NOW))
    got = [(r.server, r.signal) for r in inventory(tmp_path)]
    assert got == [(s, sig) for s in ("a/y", "a/z", "b/x")
                   for sig in ("logs", "metrics", "traces")]


def test_zero_byte_files_count_as_files(tmp_path: Path) -> None:
    family(tmp_path / "s" / "idle", "metrics", active=(0, NOW - HOUR))
    [rec] = inventory(tmp_path)
    assert (rec.file_count, rec.size_bytes, rec.newest) == (1, 0, NOW - HOUR)


def test_skills_is_listed_empty_servers_and_unrelated_files_are_left_out(
        tmp_path: Path) -> None:
    """gridctl's ``Inventory`` (pkg/telemetry/inventory.go, gridctl/gridctl@7cec407) walks
    every directory of the stack: the ``__skills__`` prompt-usage file is listed."""
    screen_tree(tmp_path)
    d = tmp_path / "prod" / "github"
    put(d / "metrics.jsonl.bak", b"x" * 999, NOW)
    put(d / "metrics-2026-05-05.jsonl", b"x" * 999, NOW)  # not lumberjack's stamp
    put(d / "other.jsonl", b"x" * 999, NOW)
    (d / "logs-2026-05-02T00-00-00.000.jsonl").mkdir()  # a directory is not a file
    records = inventory(tmp_path)
    assert [(r.server, r.signal) for r in records] == [
        ("dev/__skills__", "metrics"), ("dev/search", "traces"), ("prod/github", "logs"),
        ("prod/github", "metrics"), ("prod/github", "traces"), ("prod/slack", "logs"),
        ("prod/slack", "metrics")]
    skills = records[0]
    assert skills.is_skills and not records[1].is_skills
    assert (skills.stack, skills.bare_server) == ("dev", "__skills__")
    assert skills.path == tmp_path / "dev" / "__skills__" / "metrics.jsonl"
    assert (skills.file_count, skills.newest) == (1, NOW - 600)
    github_logs = records[2]
    assert github_logs.file_count == 3
    assert all(f.path.name.startswith("logs") for f in github_logs.files)
    assert list(Rescanner().scan(tmp_path)) == records  # the Files screen's scan too


def test_stacks_sort_before_servers_as_gridctl_sorts(tmp_path: Path) -> None:
    """gridctl sorts stack names (``sort.Strings``), then servers in each: ``a`` before
    ``a-b`` although ``a-b/x`` < ``a/x`` as whole strings ('-' < '/')."""
    for server in ("a-b/x", "a/z", "a/Z"):
        family(tmp_path / server, "logs", active=(10, NOW))
    assert [r.server for r in inventory(tmp_path)] == ["a/Z", "a/z", "a-b/x"]


def test_bare_server_name_matches_every_stack(tmp_path: Path) -> None:
    """``gridctl telemetry wipe --server github`` takes a bare name, in every stack."""
    for server in ("prod/github", "dev/github", "dev/slack"):
        family(tmp_path / server, "logs", active=(10, NOW))
    assert [r.server for r in inventory(tmp_path, "github")] == ["dev/github",
                                                                  "prod/github"]
    assert [r.server for r in inventory(tmp_path, "__skills__")] == []


def test_server_filter_and_stack_directory(tmp_path: Path) -> None:
    screen_tree(tmp_path)
    assert [r.signal for r in inventory(tmp_path, "prod/slack")] == ["logs", "metrics"]
    assert inventory(tmp_path, "prod/nope") == []
    # One stack directory given as DIR: servers keep their stack/server names.
    stack = Layout.resolve(tmp_path / "prod")
    assert stack.stack == "prod"
    assert sorted({r.server for r in inventory(stack)}) == ["prod/github", "prod/slack"]
    assert [r.server for r in inventory(tmp_path / "dev")] == ["dev/__skills__", "dev/search"]


def test_missing_root_is_empty(tmp_path: Path) -> None:
    assert inventory(tmp_path / "nope") == []


def test_json_is_gridctls_status_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``statusRow`` of ``gridctl telemetry status --json`` (cmd/gridctl/telemetry.go):
    stack, bare server, signal, path, sizeBytes, fileCount, then oldest/newest as
    ``formatInventoryTime`` writes them: local time, ``2006-01-02 15:04``, truncated."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        family(tmp_path / "s" / "a", "logs", active=(10, NOW + 59.9),
               backups=(Backup("2026-05-01T00-00-00.000", NOW - DAY, 20),))
        family(tmp_path / "s" / "b", "traces", active=(5, NOW - 2 * DAY))
        records = inventory(tmp_path)
        doc = [r.to_json() for r in records]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert list(doc[0]) == ["stack", "server", "signal", "path", "sizeBytes", "fileCount",
                            "oldest", "newest"]  # Go writes struct fields in order
    assert doc[0] == {
        "stack": "s", "server": "a", "signal": "logs",
        "path": str(tmp_path / "s" / "a" / "logs.jsonl"), "sizeBytes": 30,
        "fileCount": 2, "oldest": "2026-05-04 08:30", "newest": "2026-05-05 08:30"}
    assert doc[1]["oldest"] == doc[1]["newest"] == "2026-05-03 08:30"
    t = totals(records)
    assert (t.servers, t.records, t.files, t.size_bytes) == (2, 2, 3, 35)
    assert (t.oldest, t.newest) == (NOW - 2 * DAY, NOW + 59.9)
    empty = totals([])
    assert (empty.files, empty.oldest, empty.newest) == (0, None, None)


def test_rescanner_matches_inventory_and_reuses_unchanged_records(tmp_path: Path) -> None:
    screen_tree(tmp_path)
    scanner = Rescanner()
    first = list(scanner.scan(tmp_path))
    assert first == inventory(tmp_path)
    second = list(scanner.scan(tmp_path))
    assert all(a is b for a, b in zip(first, second, strict=True))  # a quiet tree: no new
    slack_metrics = tmp_path / "prod" / "slack" / "metrics.jsonl"
    with open(slack_metrics, "ab") as fh:
        fh.write(b"x" * 100)
    (tmp_path / "dev" / "search" / "traces.jsonl").unlink()
    third = list(scanner.scan(tmp_path))
    assert third == inventory(tmp_path)
    changed = {(r.server, r.signal) for r, old in zip(third, second, strict=True)
               if r is not old}
    assert changed == {("dev/search", "traces"), ("prod/slack", "metrics")}
    assert third[-1].size_bytes == 4_600
    assert third[0].file_count == 1
