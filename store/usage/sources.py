"""Where a collecting pass looks, and the walk of those places started before anything
else is imported.

A warm ``tokentop report`` over a home of many agents is bounded by its walk of the log
directories (~80 ms of ``scandir`` and ``stat``, mostly in the kernel), which runs in a
forked child (``tokentop.store.tail.survey.ForkedSurvey``) beside the parent's imports
and database reads. The sooner it is forked the sooner it is done, so this module knows
the locations and their listers with nothing heavier than ``os`` and ``pathlib``: the
collect module (msgspec models, every collector's base, ~40 ms to import) is not needed
to start it. ``Collector`` takes its locations and listers from here, so the child walks
exactly what a pass of its own would (``Where``: equal locations, the same files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from tokentop.store.tail.survey import ForkedSurvey, Survey
from tokentop.store.tail.walk import find_files
from tokentop.store.usage import agents as agent_registry
from tokentop.store.usage import paths as default_paths
from tokentop.store.usage.agents import AgentRef, kind_of

if TYPE_CHECKING := False:
    from tokentop.store.usage.agents.base import Agent


class Where(NamedTuple):
    """What a pass looks at: two passes with equal ``Where`` find the same files."""

    claude_dirs: tuple[Path, ...]
    codex_dir: Path
    hook_spool: Path
    agents: tuple[Agent | AgentRef, ...]


def claude_project_dirs(roots: Iterable[Path]) -> list[Path]:
    """``<root>/projects`` for each root (a root named ``projects`` is taken as is)."""
    out = []
    for r in roots:
        r = Path(r).expanduser()
        out.append(r if r.name == "projects" else r / "projects")
    return out


def where(claude_roots: Sequence[Path] | None = None, codex_dir: Path | None = None,
          hook_spool: Path | None = None,
          agents: Sequence[Agent | AgentRef] | None = None) -> Where:
    """The locations of a pass: the defaults (the variables applied) where not given."""
    roots = default_paths.claude_roots() if claude_roots is None else list(claude_roots)
    return Where(
        tuple(d.absolute() for d in claude_project_dirs(roots)),
        (Path(codex_dir) if codex_dir is not None
         else default_paths.codex_sessions_dir()).absolute(),
        (Path(hook_spool) if hook_spool is not None
         else default_paths.openusage_hook_spool_dir()).absolute(),
        tuple(agent_registry.AGENTS if agents is None else agents),
    )


def agent_files(agent: Agent | AgentRef, checked: bool = True) -> list[str]:
    """Every file of one agent: its databases that exist, or the files under its roots
    matching its patterns. A root that is a file is read as it is, whatever its name
    (a path the user named, e.g. COPILOT_OTEL_FILE_EXPORTER_PATH). ``checked`` False:
    databases unchecked, for a survey, whose ``stat`` of each drops what is not a file
    (Antigravity keeps a database a conversation: 500 of them, a ``stat`` each saved)."""
    roots = agent.roots()
    if kind_of(agent) == "database":
        return [str(r) for r in roots if not checked or r.is_file()]
    files = {r for r in roots if r.is_file()}
    found: set[str] = {str(r) for r in files}
    for pattern in agent.patterns:  # type: ignore[union-attr]
        found.update(find_files([r for r in roots if r not in files], pattern))
    return sorted(found)


def survey(at: Where, forked: bool = False) -> Survey:
    """Every source's lister, keyed as ``Collector`` asks for them: an agent by its
    index in ``at.agents``; ``claude``, ``codex`` and ``spool``."""
    spool = str(at.hook_spool)
    sources: dict[Any, tuple[Callable[[], list[str]], bool]] = {}
    # the databases first: a handful of files, and their reads (worker threads) can
    # start before the log directories are walked
    for database in (True, False):
        for i, agent in enumerate(at.agents):
            if (kind_of(agent) == "database") == database:
                sources[i] = (lambda agent=agent: agent_files(agent, checked=False),  # type: ignore[misc]
                              database)
    sources.update({
        "claude": (lambda: find_files(at.claude_dirs, "*.jsonl"), False),
        "codex": (lambda: find_files([at.codex_dir], "rollout-*.jsonl"), False),
        "spool": (lambda: [p for p in find_files([at.hook_spool], "*.json")
                           if os.path.dirname(p) == spool], False),
    })
    return ForkedSurvey(sources) if forked else Survey(sources)


_PREFETCHED: list[tuple[Where, Survey]] = []


def prefetch() -> None:
    """Start walking and stat'ing the default locations now, in a forked child, for the
    first pass of this process to take (:func:`take`). Call it only while this process
    runs one thread.

    ``tokentop report`` calls it first thing, before click, the collect module and the
    report code are imported (~120 ms of Python), which the walk then runs beside on
    the other core. A pass over other locations drops it; a process that never collects
    (the command fails first) leaves the child to end on a broken pipe.
    """
    at = where()
    _PREFETCHED.append((at, survey(at, forked=True)))


def take(at: Where) -> Survey | None:
    """The prefetched survey, once, if it looked where ``at`` says."""
    while _PREFETCHED:
        looked, found = _PREFETCHED.pop()
        if looked == at:
            return found
        found.close()
    return None
