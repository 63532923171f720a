"""Wipe: the right files go, nothing else does, names never leave the root, errors per file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from files_tree import NOW, Backup, family, gz_bytes, put, screen_tree

from tokentop.store.gridctl.inventory import inventory
from tokentop.store.gridctl.wipe import WipeError, execute, plan, wipe


def all_files(base: Path) -> set[Path]:
    return {p.relative_to(base) for p in base.rglob("*") if not p.is_dir()}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The screen tree under ``root``, and a victim outside it that must survive."""
    root = tmp_path / "telemetry"
    screen_tree(root)
    put(tmp_path / "outside" / "metrics.jsonl", b"precious\n", NOW)
    put(tmp_path / "etc" / "logs.jsonl", b"precious\n", NOW)
    return root


@pytest.mark.parametrize("server", [
    "..", "../outside", "prod/../../outside", "prod/github/..", "../etc", "./prod",
    "prod/.", "/etc", "/tmp/x/y", "\\\\server\\share", "prod\\github", "C:/x",
    "prod/github/extra", "prod/", "/", "/prod", "prod//github", "prod/git\x00hub",
])
def test_names_that_could_leave_the_root_are_refused(tree: Path, server: str) -> None:
    before = all_files(tree.parent)
    with pytest.raises(WipeError, match="refusing server name"):
        wipe(tree, server, "")
    with pytest.raises(WipeError, match="refusing server name"):
        plan(tree, server, "metrics")
    assert all_files(tree.parent) == before


@pytest.mark.parametrize("signal", ["../logs", "/logs", "metric", "logs.jsonl", "*", "LOGS"])
def test_unknown_signals_are_refused(tree: Path, signal: str) -> None:
    before = all_files(tree.parent)
    with pytest.raises(WipeError, match=r"unknown signal .*logs, metrics, traces"):
        wipe(tree, "prod/github", signal)
    assert all_files(tree.parent) == before


def test_error_messages_say_why(tree: Path) -> None:
    with pytest.raises(WipeError) as exc:
        wipe(tree, "../outside")
    assert str(exc.value) == ("refusing server name '../outside': '..' or '.' would leave "
                              "the telemetry root")
    with pytest.raises(WipeError) as exc:
        wipe(tree, "/etc")
    assert "absolute path" in str(exc.value)
    with pytest.raises(WipeError) as exc:
        wipe(tree, "prod/github/extra")
    assert "expected STACK/SERVER or SERVER" in str(exc.value)


def test_one_signal_of_one_server(tree: Path) -> None:
    before = all_files(tree)
    gh = Path("prod/github")
    report = wipe(tree, "prod/github", "logs")
    gone = {gh / "logs.jsonl", gh / "logs-2026-05-01T08-00-00.000.jsonl.gz",
            gh / "logs-2026-05-03T08-00-00.000.jsonl"}
    assert report.ok
    assert {p.relative_to(tree) for p in report.deleted} == gone
    assert report.freed_bytes == 48_000 + len(gz_bytes(b"x" * 9_500)) + 100_000
    assert all_files(tree) == before - gone
    assert (tree / gh / "notes.txt").read_bytes() == b"keep me\n"
    assert [(r.server, r.signal) for r in inventory(tree, "prod/github")] == [
        ("prod/github", "metrics"), ("prod/github", "traces")]


def test_all_signals_of_one_server(tree: Path) -> None:
    before = all_files(tree)
    report = wipe(tree, "prod/github")
    assert report.ok and len(report.deleted) == 3 + 3 + 1
    assert all_files(tree) == {p for p in before if not str(p).startswith("prod/github/")} | {
        Path("prod/github/notes.txt")}
    assert (tree / "prod" / "github").is_dir()  # directories stay: gridctl writes into them


def test_one_signal_everywhere_takes_skills_too(tree: Path) -> None:
    """gridctl's ``Wipe(stack, "", "metrics")`` (pkg/telemetry/wipe.go) walks every
    directory of the stack: the ``__skills__`` prompt-usage file goes as well."""
    report = wipe(tree, "", "metrics")
    assert {str(p.relative_to(tree)) for p in report.deleted} == {
        "prod/github/metrics.jsonl", "prod/github/metrics-2026-05-04T12-00-00.000.jsonl",
        "prod/github/metrics-2026-05-04T12-00-00.000.jsonl.gz", "prod/slack/metrics.jsonl",
        "dev/__skills__/metrics.jsonl"}
    assert not (tree / "dev" / "__skills__" / "metrics.jsonl").exists()
    assert (tree / "dev" / "__skills__").is_dir()  # directories stay, as in gridctl
    assert [r.signal for r in inventory(tree)] == ["traces", "logs", "traces", "logs"]


def test_skills_alone(tree: Path) -> None:
    before = all_files(tree)
    report = wipe(tree, "dev/__skills__")
    assert report.ok and report.deleted == [tree / "dev" / "__skills__" / "metrics.jsonl"]
    assert all_files(tree) == before - {Path("dev/__skills__/metrics.jsonl")}


def test_bare_server_name_is_that_server_in_every_stack(tree: Path) -> None:
    """``gridctl telemetry wipe --server github``: a bare name, across the stacks."""
    family(tree / "dev" / "github", "logs", active=(10, NOW))
    before = all_files(tree)
    report = wipe(tree, "github", "logs")
    gone = {Path("dev/github/logs.jsonl"), Path("prod/github/logs.jsonl"),
            Path("prod/github/logs-2026-05-01T08-00-00.000.jsonl.gz"),
            Path("prod/github/logs-2026-05-03T08-00-00.000.jsonl")}
    assert {p.relative_to(tree) for p in report.deleted} == gone
    assert all_files(tree) == before - gone
    assert plan(tree, "prod").records == []  # a stack's name is not a server's


def test_everything_leaves_unrelated_files_and_outside(tree: Path) -> None:
    outside = all_files(tree.parent) - {Path("telemetry") / p for p in all_files(tree)}
    report = wipe(tree)
    assert report.ok and len(report.deleted) == 2 + 3 + 3 + 1 + 2 + 1
    assert inventory(tree) == []
    assert all_files(tree) == {Path("prod/github/notes.txt")}
    assert outside <= all_files(tree.parent)
    assert (tree.parent / "outside" / "metrics.jsonl").read_bytes() == b"precious\n"


def test_stack_directory_as_root(tree: Path) -> None:
    report = wipe(tree / "prod", "prod/slack")
    assert {p.name for p in report.deleted} == {"logs.jsonl", "metrics.jsonl"}
    assert inventory(tree, "prod/github")  # the other server of the stack is untouched


def test_unknown_server_is_an_empty_plan(tree: Path) -> None:
    before = all_files(tree)
    assert plan(tree, "prod/nope").records == []
    assert wipe(tree, "prod/nope").deleted == []
    assert all_files(tree) == before


def test_plan_lists_what_execute_deletes(tree: Path) -> None:
    p = plan(tree, "prod/github", "metrics")
    assert p.servers == ["prod/github"] and p.signals == ["metrics"]
    assert p.totals.files == 3
    listed = set(p.paths)
    report = execute(p)
    assert set(report.deleted) == listed
    assert report.freed_bytes == p.totals.size_bytes


def test_one_failing_file_does_not_stop_the_rest(tree: Path) -> None:
    """Between the preview and the confirmation a listed file became a directory."""
    p = plan(tree, "prod/github")
    blocker = tree / "prod" / "github" / "logs-2026-05-03T08-00-00.000.jsonl"
    blocker.unlink()
    blocker.mkdir()
    (blocker / "inside").write_text("x")
    report = execute(p)
    assert [(e.path, e.message) for e in report.errors] == [
        (blocker, "is a directory, not a telemetry file")]
    assert len(report.deleted) == 6
    assert not report.ok
    assert (blocker / "inside").exists()
    assert [f.name for f in (tree / "prod" / "github").iterdir() if f.is_file()] == [
        "notes.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may delete from a read-only directory")
def test_permission_denied_is_reported_per_file(tmp_path: Path) -> None:
    family(tmp_path / "s" / "a", "logs", active=(10, NOW))
    family(tmp_path / "s" / "b", "logs", active=(10, NOW))
    (tmp_path / "s" / "a").chmod(0o500)
    try:
        report = wipe(tmp_path, "", "logs")
    finally:
        (tmp_path / "s" / "a").chmod(0o700)
    assert [e.path for e in report.errors] == [tmp_path / "s" / "a" / "logs.jsonl"]
    assert "ermission denied" in report.errors[0].message
    assert report.deleted == [tmp_path / "s" / "b" / "logs.jsonl"]


def test_files_already_gone_are_not_errors(tree: Path) -> None:
    p = plan(tree, "prod/slack")
    (tree / "prod" / "slack" / "logs.jsonl").unlink()
    report = execute(p)
    assert report.ok
    assert [x.name for x in report.deleted] == ["metrics.jsonl"]


def test_backup_compressed_after_planning_is_deleted_as_gz(tmp_path: Path) -> None:
    """lumberjack compressed a plain backup between plan and execute: the .gz goes."""
    d = tmp_path / "s" / "a"
    family(d, "metrics", active=(10, NOW),
           backups=(Backup("2026-05-01T00-00-00.000", NOW - 100, 300),))
    p = plan(tmp_path)
    plain = d / "metrics-2026-05-01T00-00-00.000.jsonl"
    gz = plain.with_name(plain.name + ".gz")
    gz.write_bytes(gz_bytes(plain.read_bytes()))
    plain.unlink()
    report = execute(p)
    assert report.ok
    assert set(report.deleted) == {gz, d / "metrics.jsonl"}
    assert report.freed_bytes == 10 + len(gz_bytes(b"x" * 300))
    assert list(d.iterdir()) == []
