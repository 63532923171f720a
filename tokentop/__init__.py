"""tokentop: ``top`` for AI agent usage.

The repository keeps the data layer in ``store/`` and the UI in ``tui/``; they are
installed as ``tokentop.store`` and ``tokentop.tui`` (pyproject's ``package-dir``) so
that nothing tokentop installs can collide with the unrelated ``store`` and ``tui``
distributions on PyPI.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tokentop")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
