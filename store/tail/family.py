"""A lumberjack file family: the active ``<name>.jsonl`` and its rotated siblings.

lumberjack renames the active file to ``<name>-YYYY-MM-DDTHH-MM-SS.mmm.jsonl`` and then
compresses it to ``.gz``, removing the plain file when done. A family is listed from one
directory, rotations sorted by the time in their name (oldest first).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_ROTATED = re.compile(
    r"^(?P<name>.+)-(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})"
    r"\.jsonl(?P<gz>\.gz)?$"
)


@dataclass
class Rotation:
    """One rotated backup: the plain file, its gzip copy, or both while compressing."""

    stamp: str
    plain: Path | None = None
    gz: Path | None = None

    @property
    def preferred(self) -> Path:
        # While lumberjack compresses, the .gz is incomplete: the plain file is the truth.
        return self.plain if self.plain is not None else self.gz  # type: ignore[return-value]


@dataclass
class Family:
    """The active file of one family and its rotated siblings, oldest first."""

    active: Path
    rotations: list[Rotation] = field(default_factory=list)

    def all_paths(self) -> list[Path]:
        paths = [p for r in self.rotations for p in (r.plain, r.gz) if p is not None]
        if self.active.exists():
            paths.append(self.active)
        return paths


def rotated_family(filename: str) -> str | None:
    """The family name of a rotated sibling's file name, None if it is not one."""
    m = _ROTATED.match(filename)
    return m["name"] if m is not None else None


def list_family(directory: Path, name: str) -> Family:
    """List the family ``name`` in ``directory``; missing or unreadable lists nothing."""
    rotations: dict[str, Rotation] = {}
    try:
        names = [e.name for e in os.scandir(directory)]
    except OSError:
        names = []
    for filename in names:
        m = _ROTATED.match(filename)
        if m is None or m["name"] != name:
            continue
        rot = rotations.setdefault(m["stamp"], Rotation(m["stamp"]))
        if m["gz"]:
            rot.gz = directory / filename
        else:
            rot.plain = directory / filename
    return Family(
        active=directory / f"{name}.jsonl",
        rotations=[rotations[k] for k in sorted(rotations)],
    )
