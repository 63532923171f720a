"""A real full disk for a child process: a small tmpfs mounted over a directory in a
private mount namespace (``unshare --mount --map-root-user``), so nothing is mounted in
the test's own namespace and nothing is left mounted if it dies.

Needs root or unprivileged user namespaces; where neither is allowed the caller's test
is skipped, naming why. SQLite's ``max_page_count`` (tests/hostile/test_hostile_disk.py)
is the path that always runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NO_MOUNT = 97  # the shell's exit status when the tmpfs could not be mounted

SHELL = 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 97; shift 2; exec "$@"'


def run_on_tmpfs(mount_point: Path, size: str, script: Path, *args: str,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python script args`` with a ``size`` tmpfs at ``mount_point``; skip the
    calling test when no tmpfs can be mounted here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("a small tmpfs needs unshare(1) (util-linux): not installed")
    mount_point.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([unshare, "--mount", "--map-root-user", "sh", "-c", SHELL, "sh",
                           size, str(mount_point), sys.executable, str(script), *args],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode == NO_MOUNT or (proc.returncode != 0 and "unshare:" in proc.stderr):
        pytest.skip("cannot mount a small tmpfs (needs root or unprivileged user "
                    f"namespaces): {proc.stderr.strip()[:200]}")
    return proc
