"""Directories and stores this user may not touch (issue 16), run as a real other user:
the suite runs as root (CI too), which no permission stops, so each command runs under
``setpriv`` as ``nobody``. A server directory not searchable by the user is named and
the rest listed (``inventory``, ``wipe`` and ``metrics`` raised PermissionError); a WAL
store in a directory the user cannot write is reported (``report --no-ingest`` said
"attempt to write a readonly database")."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _nobody_can_run_tokentop() -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import tokentop.tui.cli"],
                           capture_output=True, timeout=60, cwd="/")
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _nobody_can_run_tokentop(),
                                reason="needs root, setpriv and an interpreter nobody can run")


def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_STATE_HOME")}
    env["HOME"] = "/nonexistent"
    return subprocess.run([*NOBODY, sys.executable, "-m", "tokentop.tui.cli", *args],
                          capture_output=True, text=True, timeout=120, cwd="/", env=env)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory every user can read (pytest's own tmp dirs are root's, 0700)."""
    top = Path(tempfile.mkdtemp(prefix="tokentop-perm-", dir="/tmp"))
    top.chmod(0o755)
    yield top
    for d in top.rglob("*"):
        if d.is_dir():
            d.chmod(0o755)
    shutil.rmtree(top, ignore_errors=True)


def tree(top: Path) -> Path:
    root = top / "telemetry"
    for server in ("open", "closed"):
        d = root / "prod" / server
        d.mkdir(parents=True)
        (d / "metrics.jsonl").write_text(json.dumps(
            {"ts": "2026-05-05T12:00:05Z", "server": server, "diff": {"input_tokens": 5},
             "total": {"input_tokens": 5}}) + "\n")
        (d / "logs.jsonl").write_text('{"time":"2026-05-05T12:00:00Z","msg":"x"}\n')
    for d in root.rglob("*"):
        d.chmod(0o755 if d.is_dir() else 0o644)
    root.chmod(0o755)
    (root / "prod" / "closed").chmod(0o700)  # root's own: nobody cannot search it
    return root


@pytest.mark.parametrize("command", [["inventory"], ["wipe", "-y"], ["metrics", "--json"]])
def test_an_unreadable_server_is_named_and_the_rest_shown(shared: Path,
                                                          command: list[str]) -> None:
    root = tree(shared)
    out = as_nobody(command[0], str(root), *command[1:])
    assert "Traceback" not in out.stderr, out.stderr
    assert "prod/closed" in out.stderr and "permission denied" in out.stderr
    if command[0] == "inventory":
        assert "open" in out.stdout and out.returncode == 1
    if command[0] == "metrics":
        assert '"unreadable_servers":["prod/closed"]' in out.stdout
    assert (root / "prod" / "closed" / "metrics.jsonl").exists()  # nothing of it touched


def test_a_wal_store_in_a_directory_the_user_cannot_write(shared: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from datetime import UTC, datetime

    from tokentop.store.usage.db import UsageStore
    from tokentop.store.usage.model import IngestRequest

    store = shared / "store"
    store.mkdir()
    with UsageStore.open(store / "usage.db") as s:
        s.ingest([IngestRequest(source_system="codex", source_channel="jsonl",
                                occurred_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
                                turn_id="t1", session_id="s", model_raw="gpt-5",
                                input_tokens=120, output_tokens=3)])
    store.chmod(0o755)
    for f in store.iterdir():
        f.chmod(0o644)
    assert not (store / "usage.db-wal").exists()
    out = as_nobody("report", "daily", "--json", "--no-ingest", "--store",
                    str(store / "usage.db"))
    assert out.returncode == 0, out.stderr
    assert '"inputTokens": 120' in out.stdout
    assert sorted(p.name for p in store.iterdir()) == ["usage.db"]  # nothing written


def test_an_unreadable_agent_log_is_named_and_the_rest_ingested(shared: Path) -> None:
    """One Claude Code log another user owns (0600) used to end the whole ingest
    ("ingest failed: Permission denied"); now it is named and the others land."""
    import json as _json

    project = shared / "claude" / "projects" / "p"
    project.mkdir(parents=True)
    line = {"type": "assistant", "timestamp": "2026-11-20T10:00:00.000Z", "sessionId": "s",
            "requestId": "r1", "message": {"id": "m1", "model": "claude-sonnet-4-5-20250929",
                                           "usage": {"input_tokens": 100, "output_tokens": 5}}}
    (project / "ok.jsonl").write_text(_json.dumps(line, separators=(",", ":")) + "\n")
    line["message"]["id"], line["requestId"] = "m2", "r2"
    (project / "secret.jsonl").write_text(_json.dumps(line, separators=(",", ":")) + "\n")
    for d in shared.rglob("*"):
        d.chmod(0o755 if d.is_dir() else 0o644)
    (project / "secret.jsonl").chmod(0o600)
    state = shared / "state"
    state.mkdir()
    state.chmod(0o777)
    env_claude = {"CLAUDE_CONFIG_DIR": str(shared / "claude")}
    os.environ.update(env_claude)
    try:
        out = as_nobody("ingest", "--store", str(state / "u.db"), "--codex-dir", str(shared),
                        "--json")
    finally:
        os.environ.pop("CLAUDE_CONFIG_DIR")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert f"cannot read {project / 'secret.jsonl'}: permission denied" in out.stderr
    doc = _json.loads(out.stdout)
    assert doc["inserted"] == 1 and doc["claude"]["unreadable"]


@pytest.mark.parametrize("command", ["metrics", "logs"])
def test_an_unreadable_signal_file_is_named(shared: Path, command: str) -> None:
    """A signal file another user owns (0600) in a server directory this user may list:
    named, not skipped in silence; the other server still read."""
    root = tree(shared)
    (root / "prod" / "closed").chmod(0o755)
    (root / "prod" / "closed" / f"{command}.jsonl").chmod(0o600)
    out = as_nobody(command, str(root), "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert f"cannot read {root / 'prod' / 'closed' / (command + '.jsonl')}" in out.stderr
    if command == "metrics":
        assert '"prod/open":[{' in out.stdout  # the readable server's point is there
