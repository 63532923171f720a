"""``tokentop inventory`` and ``tokentop wipe``, run as a user runs them (subprocesses).

The interactive prompt is answered through a real pseudo-terminal; a pipe or
/dev/null on stdin without ``-y`` must refuse and delete nothing.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from gridctl.files_tree import gz_bytes, screen_tree

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: int | None = subprocess.DEVNULL,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args], capture_output=True,
                          text=True, timeout=60, stdin=stdin, cwd=ROOT,
                          env={**os.environ, "TZ": "UTC", **(env or {})})


def files(base: Path) -> set[str]:
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return screen_tree(tmp_path / "telemetry")


def test_inventory_json_is_gridctl_status_json(root: Path) -> None:
    """Byte for byte what ``gridctl telemetry status --json`` prints for this tree
    (cmd/gridctl/telemetry.go, gridctl/gridctl@7cec407: ``statusRow`` through a
    ``json.Encoder`` with ``SetIndent("", "  ")``; times by ``formatInventoryTime``, here
    in UTC as TZ is set so), ``__skills__`` included as gridctl's ``Inventory`` lists it."""
    res = run("inventory", str(root), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [(r["stack"], r["server"], r["signal"]) for r in doc] == [
        ("dev", "__skills__", "metrics"), ("dev", "search", "traces"),
        ("prod", "github", "logs"), ("prod", "github", "metrics"),
        ("prod", "github", "traces"), ("prod", "slack", "logs"), ("prod", "slack", "metrics")]
    size = 48_000 + len(gz_bytes(b"x" * 9_500)) + 100_000
    gh_logs = root / "prod" / "github" / "logs.jsonl"
    expected = (
        '  {\n'
        '    "stack": "prod",\n'
        '    "server": "github",\n'
        '    "signal": "logs",\n'
        f'    "path": "{gh_logs}",\n'
        f'    "sizeBytes": {size},\n'
        '    "fileCount": 3,\n'
        '    "oldest": "2026-05-01 12:30",\n'
        '    "newest": "2026-05-05 12:29"\n'
        '  },\n')
    assert expected in res.stdout
    assert res.stdout.startswith("[\n  {\n") and res.stdout.endswith("  }\n]\n")
    assert doc[0]["path"] == str(root / "dev" / "__skills__" / "metrics.jsonl")
    assert doc[5]["sizeBytes"] == 0 and doc[5]["fileCount"] == 1


def test_inventory_json_escapes_as_go_does(tmp_path: Path) -> None:
    """Go's encoder escapes ``<>&`` (HTML-safe by default) and writes each byte that is
    not UTF-8 as ``\\ufffd``; non-ASCII text stays UTF-8. An empty inventory is ``[]``."""
    root = tmp_path / "telemetry"
    root.mkdir()
    res = run("inventory", str(root), "--json")
    assert (res.returncode, res.stdout) == (0, "[]\n")
    odd = os.fsencode(root) + b"/st\xc3\xa4ck/a<b>&\xff"
    os.makedirs(odd)
    with open(odd + b"/logs.jsonl", "wb") as fh:
        fh.write(b"{}\n")
    res = run("inventory", str(root), "--json")
    assert res.returncode == 0, res.stderr
    assert '"stack": "st\u00e4ck",' in res.stdout
    assert '"server": "a\\u003cb\\u003e\\u0026\\ufffd",' in res.stdout


def test_inventory_table_and_server_filter(root: Path) -> None:
    res = run("inventory", str(root), "--server", "prod/slack")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "STACK  SERVER  SIGNAL        SIZE  FILES  OLDEST            NEWEST",
        "prod   slack   logs           0 B      1  2026-05-05 09:30  2026-05-05 09:30",
        "prod   slack   metrics     4.5 kB      1  2026-05-05 12:28  2026-05-05 12:28",
        "total: 1 server, 2 signals, 2 files, 4.5 kB"]
    res = run("inventory", str(root), "--server", "__skills__")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].split()[:3] == ["dev", "__skills__", "metrics"]


def test_inventory_default_root_and_errors(root: Path, tmp_path: Path) -> None:
    (tmp_path / "home" / ".gridctl").mkdir(parents=True)  # GRIDCTL_HOME replaces $HOME
    (tmp_path / "home" / ".gridctl" / "telemetry").symlink_to(root)
    res = run("inventory", "--json", env={"GRIDCTL_HOME": str(tmp_path / "home")})
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)) == 7
    res = run("inventory", str(tmp_path / "missing"))
    assert res.returncode == 2
    assert res.stderr == f"tokentop: telemetry directory not found: {tmp_path / 'missing'}\n"
    res = run("inventory", "--json", env={"GRIDCTL_HOME": str(tmp_path / "none")})
    assert res.returncode == 2 and "(pass DIR or set GRIDCTL_HOME)" in res.stderr
    res = run("inventory", str(root), "--server", "prod/nope")
    assert res.returncode == 2
    assert res.stderr.startswith("tokentop: no server 'prod/nope' (known: dev/__skills__, "
                                 "dev/idle, ")


def test_wipe_with_yes_deletes_the_scope_only(root: Path) -> None:
    before = files(root)
    res = run("wipe", str(root), "--server", "prod/github", "--signal", "metrics", "-y")
    assert res.returncode == 0, res.stderr
    gone = {"prod/github/metrics.jsonl", "prod/github/metrics-2026-05-04T12-00-00.000.jsonl",
            "prod/github/metrics-2026-05-04T12-00-00.000.jsonl.gz"}
    assert files(root) == before - gone
    out = res.stdout.splitlines()
    assert out[0].startswith("3 files, 270.0 kB, of 1 server (prod/github); signals: metrics;")
    assert {line.split()[-1] for line in out[1:4]} == {str(root / p) for p in gone}
    assert out[-1] == "deleted 3 files, 270.0 kB"


def test_wipe_without_a_terminal_refuses(root: Path) -> None:
    before = files(root)
    for stdin in (subprocess.DEVNULL, None):
        res = run("wipe", str(root), stdin=stdin) if stdin is not None else subprocess.run(
            [sys.executable, "-m", "tokentop.tui.cli", "wipe", str(root)], input="y\n",
            capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert res.returncode == 2
        assert res.stderr == ("tokentop: not deleting: stdin is not a terminal; pass -y to "
                              "wipe without asking\n")
        assert "12 files" in res.stdout  # it still says what it would have deleted
        assert str(root / "dev" / "__skills__" / "metrics.jsonl") in res.stdout
    assert files(root) == before


@pytest.mark.parametrize("server", ["../outside", "/etc", "prod/../..", "prod\\github"])
def test_wipe_refuses_names_that_leave_the_root(root: Path, server: str) -> None:
    before = files(root.parent)
    res = run("wipe", str(root), "--server", server, "-y")
    assert res.returncode == 2
    assert res.stderr.startswith(f"tokentop: refusing server name {server!r}: ")
    assert res.stderr.count("\n") == 1
    assert files(root.parent) == before


def test_wipe_bad_signal_unknown_server_and_nothing_to_wipe(root: Path) -> None:
    res = run("wipe", str(root), "--signal", "../logs", "-y")
    assert (res.returncode, res.stderr) == (
        2, "tokentop: unknown signal '../logs': expected one of logs, metrics, traces\n")
    res = run("wipe", str(root), "--server", "prod/nope", "-y")
    assert res.returncode == 2 and "no server 'prod/nope'" in res.stderr
    res = run("wipe", str(root), "--server", "dev/idle", "-y")
    assert (res.returncode, res.stdout) == (0, "nothing to wipe\n")


def _interactive(root: Path, answer: bytes) -> tuple[int, str]:
    """Run ``tokentop wipe ROOT`` with a pty on stdin and type ``answer`` at the prompt."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tokentop.tui.cli", "wipe", str(root),
                                 "--server", "prod/slack"], stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "TZ": "UTC"})
        os.write(master, answer)
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out.decode()


def test_wipe_asks_on_the_terminal(root: Path) -> None:
    before = files(root)
    code, out = _interactive(root, b"n\n")
    assert code == 1
    assert "Delete these 2 files? [y/N]" in out and "nothing deleted" in out
    assert files(root) == before
    code, out = _interactive(root, b"y\n")
    assert code == 0, out
    assert "deleted 2 files, 4.5 kB" in out
    assert files(root) == before - {"prod/slack/logs.jsonl", "prod/slack/metrics.jsonl"}


def test_wipe_never_deletes_a_directory(root: Path) -> None:
    """A directory with a signal file's name is not a telemetry file: it stays."""
    blocker = root / "prod" / "github" / "traces.jsonl"
    blocker.unlink()
    blocker.mkdir()
    (blocker / "x").write_text("x")
    res = run("wipe", str(root), "--server", "prod/github", "-y")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "deleted 6 files, 427.6 kB"
    assert files(root / "prod" / "github") == {"notes.txt", "traces.jsonl/x"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root may delete from a read-only directory")
def test_wipe_reports_files_it_could_not_delete(root: Path) -> None:
    (root / "prod" / "slack").chmod(0o500)
    try:
        res = run("wipe", str(root), "--signal", "metrics", "-y")
    finally:
        (root / "prod" / "slack").chmod(0o700)
    assert res.returncode == 1
    assert res.stderr == (f"tokentop: could not delete {root / 'prod/slack/metrics.jsonl'}: "
                          "Permission denied\n")
    assert res.stdout.splitlines()[-1] == "deleted 3 files, 270.0 kB"
