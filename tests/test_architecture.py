"""Promises about the shape of the code: the data layer stays free of the UI, and the
command line starts fast because it does not load the UI stack."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contract_holds() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 kept, 0 broken" in res.stdout


def test_only_gridctl_code_imports_store_metrics() -> None:
    """``store/metrics`` is gridctl's; the generic file reading lives in ``store/tail``."""
    importer = re.compile(
        r"^\s*(from\s+tokentop\.store\.metrics\b|from\s+tokentop\.store\s+import\s+.*\bmetrics\b"
        r"|import\s+tokentop\.store\.metrics\b)",
        re.MULTILINE,
    )
    offenders = []
    for path in sorted((ROOT / "store").rglob("*.py")):
        rel = path.relative_to(ROOT / "store")
        if rel.parts[0] in ("metrics", "gridctl"):
            continue
        if importer.search(path.read_text(encoding="utf-8")):
            offenders.append(str(rel))
    assert offenders == []


def test_store_and_cli_do_not_load_textual() -> None:
    code = (
        "import sys, tokentop.store.metrics, tokentop.store.ring, tokentop.tui.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'textual_plotext', 'plotext', 'watchfiles')))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


def test_help_answers_fast() -> None:
    """``--help`` imports no UI and no store: measured as the child's CPU time, which
    other work on the machine (the suite runs on every core) does not inflate the way it
    inflates wall time."""
    import resource

    best = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "--help"],
                             capture_output=True, text=True, cwd=ROOT)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, cpu)
        assert res.returncode == 0
        assert "--demo" in res.stdout and "metrics" in res.stdout
    assert best < 0.3, f"tokentop --help took {best:.3f}s of CPU"
