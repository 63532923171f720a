"""Every agent tokentop reads besides Claude Code and Codex (``collectors/``), in the
order users ask for them. One module per agent; add it here to have it collected,
reported (``--source <name>``), watched and listed in the help.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokentop.store.usage.agents import gemini, kilo, opencode, qwen
from tokentop.store.usage.agents.base import Agent
from tokentop.store.usage.agents.codebuff import CODEBUFF
from tokentop.store.usage.agents.droid import DROID
from tokentop.store.usage.agents.goose import GOOSE
from tokentop.store.usage.agents.grok import GROK
from tokentop.store.usage.agents.hermes import HERMES
from tokentop.store.usage.agents.kimi import KIMI
from tokentop.store.usage.agents.openclaw import OPENCLAW
from tokentop.store.usage.agents.pi import PI
from tokentop.store.usage.agents.zcode import ZCODE

AGENTS: tuple[Agent, ...] = (
    *gemini.AGENTS,
    *opencode.AGENTS,
    qwen.QWEN,
    PI,
    KIMI,
    DROID,
    GOOSE,
    kilo.AGENT,
    CODEBUFF,
    HERMES,
    OPENCLAW,
    GROK,
    ZCODE,
)


def by_name(name: str) -> Agent | None:
    return next((a for a in AGENTS if a.name == name), None)


@dataclass(frozen=True)
class Location:
    """Where one agent's usage is read from, for the help, the README and the empty
    Usage screen: every path, and the variables that move them."""

    name: str  # ccusage's subcommand, tokentop's --source
    label: str
    env: tuple[str, ...]
    paths: tuple[Path, ...]


def locations() -> list[Location]:
    """Every agent tokentop reads, Claude Code and Codex first, with today's paths (the
    variables applied). An agent read in two shapes (opencode's database and files)
    is one entry."""
    from tokentop.store.usage import paths as default_paths

    out: dict[str, Location] = {
        "claude": Location("claude", "Claude Code", ("CLAUDE_CONFIG_DIR",),
                           tuple(r / "projects" for r in default_paths.claude_roots())),
        "codex": Location("codex", "Codex", ("CODEX_HOME",),
                          (default_paths.codex_sessions_dir(),)),
    }
    for agent in AGENTS:
        roots = tuple(agent.roots())
        have = out.get(agent.name)
        if have is None:
            out[agent.name] = Location(agent.name, agent.label, agent.env, roots)
        else:
            out[agent.name] = Location(
                have.name, have.label, tuple(dict.fromkeys((*have.env, *agent.env))),
                tuple(dict.fromkeys((*have.paths, *roots))))
    return list(out.values())
