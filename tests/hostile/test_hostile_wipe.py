"""``wipe`` through symlinks (issue 16): a server directory, a stack or a signal file
inside the telemetry root that is a symlink to somewhere else. Before, ``wipe -y``
deleted the files it led to, while its prompt listed them as paths under the root. Now
each is named as kept, and nothing outside the root is touched (CLI and the store API)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokentop.store.gridctl.wipe import execute, plan


def put(path: Path, data: bytes = b'{"ts":"2026-05-05T12:00:00Z"}\n') -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A root with one real server, and three ways out of it through symlinks."""
    root = tmp_path / "telemetry"
    put(root / "prod" / "github" / "metrics.jsonl")
    put(root / "prod" / "github" / "logs.jsonl")
    precious = [
        put(tmp_path / "elsewhere" / "server" / "metrics.jsonl"),  # via a server symlink
        put(tmp_path / "elsewhere" / "server" / "logs.jsonl"),
        put(tmp_path / "otherstack" / "db" / "traces.jsonl"),      # via a stack symlink
        put(tmp_path / "secrets" / "logs.jsonl"),                   # via a file symlink
    ]
    os.symlink(tmp_path / "elsewhere" / "server", root / "prod" / "linked")
    os.symlink(tmp_path / "otherstack", root / "evil")
    put(root / "prod" / "files" / "metrics.jsonl")
    os.symlink(tmp_path / "secrets" / "logs.jsonl", root / "prod" / "files" / "logs.jsonl")
    return root, precious


def test_the_store_api_keeps_everything_outside(world: tuple[Path, list[Path]]) -> None:
    root, precious = world
    planned = plan(root)
    listed = [str(p) for p in planned.paths]
    assert str(root / "prod" / "github" / "metrics.jsonl") in listed
    assert not any("linked" in p or "evil" in p for p in listed)
    assert str(root / "prod" / "files" / "logs.jsonl") not in listed
    # a symlinked signal file is not a telemetry file to the inventory (never listed);
    # files reached through a symlinked directory are listed as kept
    assert {r.path for r in planned.refused} == {
        root / "prod" / "linked" / "metrics.jsonl", root / "prod" / "linked" / "logs.jsonl",
        root / "evil" / "db" / "traces.jsonl"}
    assert all("symlink leads outside" in r.message for r in planned.refused)
    report = execute(planned)
    assert report.ok
    assert all(p.read_bytes() for p in precious)  # every file outside survives
    assert not (root / "prod" / "github" / "metrics.jsonl").exists()


def test_a_directory_swapped_for_a_symlink_after_planning_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "telemetry"
    put(root / "prod" / "github" / "metrics.jsonl")
    victim = put(tmp_path / "victim" / "metrics.jsonl")
    planned = plan(root)
    os.rename(root / "prod" / "github", tmp_path / "moved")
    os.symlink(tmp_path / "victim", root / "prod" / "github")
    report = execute(planned)
    assert victim.exists()
    assert [e.path for e in report.errors] == [root / "prod" / "github" / "metrics.jsonl"]


def test_the_cli_names_what_it_keeps(world: tuple[Path, list[Path]]) -> None:
    root, precious = world
    out = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "wipe", str(root), "-y"],
                         capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr
    assert out.returncode == 1  # something in scope was not deleted: said, not silent
    assert out.stderr.count("not deleting") == 3
    assert "linked" not in out.stdout  # the listing of what goes
    assert all(p.read_bytes() for p in precious)
