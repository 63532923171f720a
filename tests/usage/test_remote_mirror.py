"""``--metrics-dir user@box:PATH``: a gridctl telemetry tree on a real sshd copied into
tokentop's cache by appended bytes only, rotation renamed not copied again, and the
metrics source reading the copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokentop.store.remote.mirror import Mirror, split_target
from tokentop.store.remote.session import RemoteError


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_split_target():
    assert split_target("alice@gpu1:~/.gridctl/telemetry") == ("alice@gpu1", "~/.gridctl/telemetry")
    assert split_target("box:/srv/t") == ("box", "/srv/t")
    assert split_target("/srv/a:b") is None and split_target("./x:y") is None
    assert split_target("telemetry") is None and split_target("box:") is None


def test_the_copy_follows_appends_rotation_and_deletion(box, tmp_path):
    remote = box.home / ".gridctl" / "telemetry" / "stack"
    remote.mkdir(parents=True)
    active = remote / "server.jsonl"
    active.write_bytes(b'{"a":1}\n{"a":2}\n')
    (remote / "old.jsonl.gz").write_bytes(b"\x1f\x8b binary")
    copy = tmp_path / "copy"
    m = Mirror("box", "~/.gridctl/telemetry", copy)
    assert m.sync() == len(b'{"a":1}\n{"a":2}\n') + len(b"\x1f\x8b binary")
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    assert m.sync() == 0  # warm: nothing travels
    with active.open("ab") as fh:
        fh.write(b'{"a":3}\n{"a":')  # a partial line is copied as it is
    assert m.sync() == len(b'{"a":3}\n{"a":')
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    inode = (copy / "stack" / "server.jsonl").stat().st_ino
    active.rename(remote / "server.jsonl.1")  # gridctl's rotation
    active.write_bytes(b'{"b":1}\n')
    assert m.sync() == len(b'{"b":1}\n')  # the rotated file is renamed, not copied again
    assert (copy / "stack" / "server.jsonl.1").stat().st_ino == inode
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    active.write_bytes(b'{"c":1}\n{"c":2}\n{"c":3}\n')  # replaced in place, longer
    m.sync()
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    (remote / "old.jsonl.gz").unlink()
    m.sync()
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    m.close()
    fresh = Mirror("box", "~/.gridctl/telemetry", copy)  # a new process: the copy resumes
    with active.open("ab") as fh:
        fh.write(b'{"c":4}\n')
    assert fresh.sync() == len(b'{"c":4}\n') + 0
    assert tree(copy) == tree(box.home / ".gridctl" / "telemetry")
    fresh.close()


def test_an_unreachable_box_is_one_line(box, tmp_path):
    box.kill()
    m = Mirror("box", "/srv/telemetry", tmp_path / "copy")
    with pytest.raises(RemoteError) as err:
        m.sync()
    assert "\n" not in str(err.value) and str(err.value).startswith("box: ")


def test_metrics_command_reads_a_box_as_it_reads_a_directory(box, tmp_path, monkeypatch):
    """``tokentop metrics box:PATH`` gives the document ``tokentop metrics DIR`` gives for
    the same tree (gridctl's bytes, ``metrics_files.current_gridctl_tree``)."""
    import json
    import subprocess
    import sys

    from metrics_files import current_gridctl_tree

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = box.home / "telemetry"
    current_gridctl_tree(root)

    def metrics(target: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "metrics", target,
                               "--until", "2026-05-05T12:30:00Z", "--range", "all"],
                              capture_output=True, text=True, timeout=120)

    here, there = metrics(str(root)), metrics("box:~/telemetry")
    assert there.returncode == 0, there.stderr
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert json.loads(here.stdout)["data_points"]  # not two empty documents
    box.kill()
    gone = metrics("box:~/telemetry")
    assert gone.returncode == 2 and len(gone.stderr.strip().splitlines()) == 1
    assert "Traceback" not in gone.stderr


def test_the_dashboard_follows_a_box_tree(box, tmp_path, monkeypatch):
    from tokentop.tui.run import remote_metrics

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    remote = box.home / "t" / "stack" / "srv"
    remote.mkdir(parents=True)
    (remote / "metrics.jsonl").write_bytes(b'{"x":1}\n')
    follower = remote_metrics("box:t")
    try:
        assert follower is not None and follower.error is None
        copy = follower.mirror.local
        assert str(copy).startswith(str(tmp_path / "state" / "tokentop" / "remote-metrics"))
        assert tree(copy) == tree(box.home / "t")
        with (remote / "metrics.jsonl").open("ab") as fh:
            fh.write(b'{"x":2}\n')
        import time
        deadline = time.monotonic() + 20
        while tree(copy) != tree(box.home / "t") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tree(copy) == tree(box.home / "t")
    finally:
        if follower is not None:
            follower.stop()
    assert remote_metrics(str(tmp_path)) is None  # a local directory is itself
