"""``tokentop.tui.entry._leave``: a report or a status line ends without the
interpreter's teardown, yet as ``sys.exit`` would end it: the same status, its output
whole, its ``atexit`` handlers run. Real processes; the pipe a reader closed is a real
pipe."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def leave(body: str, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    code = "from tokentop.tui.entry import _leave\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, **kw)


def test_output_whole_atexit_run_status_kept(tmp_path: Path) -> None:
    marker = tmp_path / "atexit"
    done = leave(f"""
        import atexit, sys
        def run():
            atexit.register(lambda: open({str(marker)!r}, "w").write("ran"))
            sys.stdout.write("x" * 200_000 + "\\nend\\n")  # more than one buffer
        _leave(run)
    """)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.endswith("x\nend\n") and len(done.stdout) == 200_005
    assert marker.read_text() == "ran"
    cases = (("3", 3, ""), ("None", 0, ""), ("'bad input'", 1, "bad input\n"),
             ("256 + 2", 2, ""))
    for exit_with, status, said in cases:
        done = leave(f"import sys\n_leave(lambda: sys.exit({exit_with}))\n")
        assert (done.returncode, done.stderr) == (status, said), exit_with


def test_an_error_takes_pythons_way_out() -> None:
    """An exception is not swallowed: the traceback and status 1, as before."""
    done = leave("_leave(lambda: 1 / 0)\n")
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr


def test_a_reader_gone_is_not_complained_about() -> None:
    """``tokentop report ... | head -1``: the output fit a buffer, the reader left before
    it was flushed. Python's own exit says "Exception ignored ... BrokenPipeError" and
    ends 120; leaving says nothing and keeps the command's status."""
    code = ("from tokentop.tui.entry import _leave\nimport sys\n"
            "sys.stdin.read()\n_leave(lambda: print('a line of a report'))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as installed
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    proc.stdin.close()  # now the command runs
    err = proc.stderr.read()
    assert proc.wait() == 0 and err == b""
