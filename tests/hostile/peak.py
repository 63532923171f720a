"""Run a command in a child Python and report that child's own peak RSS.

``ru_maxrss`` (``getrusage``, ``os.wait4``) survives ``exec``: a child forked from a
pytest process that had grown to 300 MB reports 300 MB whatever it did itself. The
kernel's ``VmHWM`` belongs to the address space, which ``exec`` replaces, so the child
reads its own at exit (``atexit`` runs on ``sys.exit`` too) and writes it to a file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import atexit, runpy, sys
out = sys.argv.pop(1)

def peak() -> None:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(out, "w").write(line.split()[1])

atexit.register(peak)
sys.argv = sys.argv[1:]
if sys.argv[0] == "-m":
    sys.argv.pop(0)
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_peak(args: list[str], timeout: float = 300, **kw: object
             ) -> tuple[subprocess.CompletedProcess[str], int]:
    """(the finished child, its peak RSS in KiB). ``args`` as after ``python``."""
    with tempfile.NamedTemporaryFile(suffix=".kib", delete=False) as f:
        out = Path(f.name)
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(out), *args],
                              capture_output=True, text=True, timeout=timeout, **kw)
        text = out.read_text().strip()
        return proc, int(text) if text else 0
    finally:
        out.unlink(missing_ok=True)
