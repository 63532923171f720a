"""Where gridctl keeps its telemetry files.

Layout: ``<root>/<stack>/<server>/<signal>.jsonl`` plus lumberjack's rotated
siblings ``<signal>-YYYY-MM-DDTHH-MM-SS.mmm.jsonl`` and their ``.gz`` (one file family
per signal, ``tokentop.store.tail.family``). A server is called ``<stack>/<server>``
everywhere because two stacks may both have a ``github``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.tail.family import rotated_family

SIGNALS = ("logs", "metrics", "traces")
SKILLS_DIR = "__skills__"  # holds prompt_usage lines only: not a server


HOME_ENV = "GRIDCTL_HOME"


class GridctlHomeError(ValueError):
    """``GRIDCTL_HOME`` is set to something gridctl itself refuses (a relative path)."""


def gridctl_home() -> Path:
    """The directory gridctl treats as the user's home (gridctl ``pkg/state/home.go``).

    ``GRIDCTL_HOME`` replaces ``$HOME`` for every gridctl path; it is not a data
    directory. gridctl refuses a relative value rather than resolve it against the
    working directory, so tokentop refuses it too (``GridctlHomeError``): reading some
    other tree than the one gridctl writes would show a wrong, silent picture.
    """
    home = os.environ.get(HOME_ENV)
    if home:
        if not os.path.isabs(home):
            raise GridctlHomeError(f"{HOME_ENV} must be an absolute path, got {home!r}")
        return Path(os.path.normpath(home))
    return Path.home()


def default_root() -> Path:
    """``<home>/.gridctl/telemetry``: gridctl's ``state.TelemetryDir`` (``pkg/state/state.go``).

    ``<home>`` is ``$GRIDCTL_HOME`` when set, else the user's home, so
    ``GRIDCTL_HOME=/tmp/demo`` reads ``/tmp/demo/.gridctl/telemetry``.
    """
    return gridctl_home() / ".gridctl" / "telemetry"


def _is_signal_file(name: str) -> bool:
    return name in {f"{s}.jsonl" for s in SIGNALS} or rotated_family(name) in SIGNALS


def _holds_signal_files(path: Path) -> bool:
    try:
        return any(_is_signal_file(e.name) for e in os.scandir(path) if e.is_file())
    except OSError:
        return False


@dataclass(frozen=True)
class Layout:
    """A telemetry root, or a single stack directory given in its place."""

    path: Path
    stack: str | None = None  # set when ``path`` is one stack directory

    @classmethod
    def resolve(cls, arg: str | os.PathLike[str] | None) -> Layout:
        """Interpret the user's DIR: the root (all stacks) or one stack directory.

        A stack directory is one whose subdirectories hold signal files directly.
        """
        path = Path(arg).expanduser() if arg else default_root()
        if path.is_dir():
            try:
                subdirs = [Path(e.path) for e in os.scandir(path) if e.is_dir()]
            except OSError:
                subdirs = []
            if any(_holds_signal_files(d) for d in subdirs):
                return cls(path, stack=path.name)
        return cls(path)

    def server_dirs(self) -> dict[str, Path]:
        """Every server directory, keyed ``stack/server``; missing dirs are just absent."""
        stacks = [(self.stack, self.path)] if self.stack else _subdirs(self.path)
        out: dict[str, Path] = {}
        for stack, stack_dir in stacks:
            for server, server_dir in _subdirs(stack_dir):
                if server != SKILLS_DIR:
                    out[f"{stack}/{server}"] = server_dir
        return out

    def skills_dirs(self) -> dict[str, Path]:
        """Every stack's ``__skills__`` directory (skill usage, not a server), by stack."""
        stacks = [(self.stack, self.path)] if self.stack else _subdirs(self.path)
        out: dict[str, Path] = {}
        for stack, stack_dir in stacks:
            skills = stack_dir / SKILLS_DIR
            if skills.is_dir():
                out[stack] = skills
        return out

    def skills_of(self, path: Path) -> str | None:
        """The stack whose ``__skills__`` directory holds ``path``, else None."""
        try:
            rel = path.relative_to(self.path).parts
        except ValueError:
            return None
        if self.stack:
            return self.stack if rel and rel[0] == SKILLS_DIR else None
        return rel[0] if len(rel) >= 2 and rel[1] == SKILLS_DIR else None

    def server_of(self, path: Path) -> tuple[str, Path] | None:
        """Map a file or directory path under the root to (server name, server dir)."""
        try:
            rel = path.relative_to(self.path).parts
        except ValueError:
            return None
        if self.stack:
            if not rel or rel[0] == SKILLS_DIR:
                return None
            return f"{self.stack}/{rel[0]}", self.path / rel[0]
        if len(rel) < 2 or rel[1] == SKILLS_DIR:
            return None
        return f"{rel[0]}/{rel[1]}", self.path / rel[0] / rel[1]


def _subdirs(path: Path) -> list[tuple[str, Path]]:
    try:
        return sorted((e.name, Path(e.path)) for e in os.scandir(path) if e.is_dir())
    except OSError:
        return []
