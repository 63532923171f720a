"""What ``pip install tokentop`` puts into site-packages: the one name ``tokentop``.

The repository keeps ``store/`` and ``tui/`` at the top, but both names belong to
unrelated PyPI projects; installed bare, either would overwrite the other's files and
``import store`` in a user's script would pick whichever came last. The wheel built
here from a copy of the sources is what a user gets.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("tokentop", "store", "tui", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    (built,) = out.glob("tokentop-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_installs_only_tokentop(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"tokentop"}
    assert len([t for t in tops if t.endswith(".dist-info")]) == 1
    assert "tokentop/__init__.py" in wheel.namelist()


def test_wheel_holds_every_package_and_data_file(wheel: zipfile.ZipFile) -> None:
    """A package folder missing from pyproject's explicit list would vanish from the
    wheel silently (setuptools' find() cannot be used with the mapping)."""
    names = set(wheel.namelist())
    expected = set()
    for top in ("store", "tui"):
        for path in (ROOT / top).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix in (".py", ".tcss", ".json"):
                expected.add("tokentop/" + path.relative_to(ROOT).as_posix())
    assert expected, "no sources found"
    assert expected <= names, sorted(expected - names)


def test_listed_packages_match_the_folders() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    folders = {"tokentop"} | {
        "tokentop." + ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("store", "tui") for p in (ROOT / top).rglob("__init__.py")}
    assert listed == folders


def test_version_is_the_distributions() -> None:
    from importlib.metadata import version

    import tokentop

    res = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert tokentop.__version__ == version("tokentop")
    assert res.stdout.split()[-1] == tokentop.__version__


def test_bare_names_are_not_importable_from_the_install() -> None:
    """Nothing answers to ``store`` or ``tui`` outside the source tree."""
    code = ("import importlib.util, sys; sys.path = [p for p in sys.path if p not in "
            f"('', '.', {str(ROOT)!r})]; print(importlib.util.find_spec('store'), "
            "importlib.util.find_spec('tui'))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd="/", timeout=60)
    assert res.stdout.split() == ["None", "None"], res.stdout + res.stderr


def test_installed_wheel_runs_from_its_own_files(wheel: zipfile.ZipFile,
                                                 tmp_path: Path) -> None:
    """Installed from the wheel (not the source tree): the bundled price table and the
    stylesheet are found, and the command line answers."""
    target = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                          "-q", "--target", str(target), wheel.filename],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "import tokentop.store.pricing as p, tokentop.tui.app as a;"
            "assert p.__file__.startswith(sys.argv[1]), p.__file__;"
            "t = p.PriceTable.load(); assert t.tier_threshold > 0;"
            "from pathlib import Path; assert (Path(a.__file__).parent / a.TokentopApp.CSS_PATH)"
            ".is_file();"
            "from tokentop.tui.cli import main; sys.argv = ['tokentop', '--version']; main()")
    res = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                         text=True, cwd="/", timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("tokentop, version"), res.stdout
