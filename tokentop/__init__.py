"""tokentop: ``top`` for AI agent usage.

The repository keeps the data layer in ``store/`` and the UI in ``tui/``; they are
installed as ``tokentop.store`` and ``tokentop.tui`` (pyproject's ``package-dir``) so
that nothing tokentop installs can collide with the unrelated ``store`` and ``tui``
distributions on PyPI.
"""



def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata only when asked: importing
    ``importlib.metadata`` costs every command 30 ms at start-up."""
    if name != "__version__":
        raise AttributeError(f"module 'tokentop' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tokentop")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
