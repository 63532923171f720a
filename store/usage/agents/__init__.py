"""Every agent tokentop reads besides Claude Code and Codex (``collectors/``), in the
order users ask for them. One module per agent; add it here to have it collected,
reported (``--source <name>``), watched and listed in the help.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from tokentop.store.usage.agents import paths

if TYPE_CHECKING := False:
    from tokentop.store.usage.agents.base import Agent

Kind = str  # "lines", "whole" or "database": the runner's three shapes (base.py)


class AgentRef(NamedTuple):
    """An agent as the registry knows it before its collector is imported: enough to
    find its files (``roots``, ``patterns``) and to name it; ``load`` imports the
    collector when there is something to read (``paths``' docstring says why).
    ``tests/usage/test_agent_runner.py`` checks every ref against its collector. A named
    tuple, not a dataclass: ``tokentop report`` imports this before anything else
    (``sources.prefetch``), and dataclasses with inspect cost it ~5 ms."""

    name: str
    system: str
    label: str
    env: tuple[str, ...]
    roots: Callable[[], list[Path]]
    kind: Kind
    patterns: tuple[str, ...]
    target: str  # "module:ATTRIBUTE" under tokentop.store.usage.agents

    @property
    def collector(self) -> str:
        return "agent:" + self.name

    def load(self) -> Agent:
        module, attr = self.target.split(":")
        found = getattr(importlib.import_module(f"tokentop.store.usage.agents.{module}"), attr)
        from tokentop.store.usage.agents.base import Agent

        assert isinstance(found, Agent)
        return found


def kind_of(agent: Agent | AgentRef) -> Kind:
    if isinstance(agent, AgentRef):
        return agent.kind
    # the collectors' base (msgspec models) only once a collector is at hand: finding
    # files (``sources``) needs none of it
    from tokentop.store.usage.agents.base import DatabaseAgent, LinesAgent

    if isinstance(agent, DatabaseAgent):
        return "database"
    return "lines" if isinstance(agent, LinesAgent) else "whole"


def loaded(agent: Agent | AgentRef) -> Agent:
    return agent.load() if isinstance(agent, AgentRef) else agent



_OPENCODE_ENV = ("OPENCODE_DATA_DIR", "XDG_DATA_HOME")
AGENTS: tuple[AgentRef, ...] = (
    AgentRef("gemini", "gemini_cli", "Gemini CLI", ("GEMINI_DATA_DIR",), paths.gemini_roots,
         "lines", ("*.jsonl",), "gemini:GEMINI_LINES"),
    AgentRef("gemini", "gemini_cli", "Gemini CLI", ("GEMINI_DATA_DIR",), paths.gemini_roots,
         "whole", ("*.json",), "gemini:GEMINI_JSON"),
    AgentRef("opencode", "opencode", "OpenCode", _OPENCODE_ENV, paths.opencode_db_roots,
         "database", (), "opencode:OPENCODE_DB"),
    AgentRef("opencode", "opencode", "OpenCode", _OPENCODE_ENV, paths.opencode_file_roots,
         "whole", ("*.json",), "opencode:OPENCODE_FILES"),
    AgentRef("qwen", "qwen_code", "Qwen Code", ("QWEN_DATA_DIR",), paths.qwen_roots,
         "lines", ("*.jsonl",), "qwen:QWEN"),
    AgentRef("pi", "pi", "pi", ("PI_AGENT_DIR", "PI_CODING_AGENT_DIR"), paths.pi_roots,
         "lines", ("*.jsonl",), "pi:PI"),
    AgentRef("kimi", "kimi_cli", "Kimi CLI", ("KIMI_DATA_DIR", "KIMI_SHARE_DIR"),
         paths.kimi_roots, "lines", ("wire.jsonl",), "kimi:KIMI"),
    AgentRef("droid", "droid", "Factory Droid", ("DROID_SESSIONS_DIR",), paths.droid_roots,
         "whole", ("*.settings.json",), "droid:DROID"),
    AgentRef("goose", "goose", "Goose", ("GOOSE_PATH_ROOT",), paths.goose_roots,
         "database", (), "goose:GOOSE"),
    AgentRef("kilo", "kilo", "Kilo", ("KILO_DATA_DIR", "XDG_DATA_HOME"), paths.kilo_db_roots,
         "database", (), "kilo:AGENT"),
    AgentRef("codebuff", "codebuff", "Codebuff", ("CODEBUFF_DATA_DIR",), paths.codebuff_roots,
         "whole", ("chat-messages.json",), "codebuff:CODEBUFF"),
    AgentRef("hermes", "hermes", "Hermes Agent", ("HERMES_HOME",), paths.hermes_roots,
         "database", (), "hermes:HERMES"),
    AgentRef("openclaw", "openclaw", "OpenClaw", ("OPENCLAW_DIR",), paths.openclaw_roots,
         "lines", ("*",), "openclaw:OPENCLAW"),
    AgentRef("amp", "amp", "Amp", ("AMP_DATA_DIR",), paths.amp_roots, "whole", ("*.json",),
         "amp:AMP"),
    AgentRef("copilot", "copilot_cli", "GitHub Copilot CLI", ("COPILOT_HOME",),
         paths.copilot_session_roots, "lines", ("events.jsonl",), "copilot:COPILOT_SESSIONS"),
    AgentRef("copilot", "copilot_cli", "GitHub Copilot CLI",
         ("COPILOT_HOME", "COPILOT_OTEL_FILE_EXPORTER_PATH"), paths.copilot_otel_roots,
         "whole", ("*.jsonl",), "copilot:COPILOT_OTEL"),
    AgentRef("grok", "grok", "Grok Build CLI", ("GROK_HOME",), paths.grok_roots, "lines",
         ("updates.jsonl",), "grok:GROK"),
    AgentRef("zcode", "zcode", "ZCode", ("ZCODE_HOME",), paths.zcode_roots, "database", (),
         "zcode:ZCODE"),
    AgentRef("antigravity", "antigravity", "Antigravity", ("ANTIGRAVITY_DATA_DIR",),
         paths.antigravity_roots, "database", (), "antigravity:ANTIGRAVITY"),
)


def by_name(name: str) -> AgentRef | None:
    return next((a for a in AGENTS if a.name == name), None)


class Location(NamedTuple):
    """Where one agent's usage is read from, for the help, the README and the empty
    Usage screen: every path, and the variables that move them."""

    name: str  # ccusage's subcommand, tokentop's --source
    label: str
    env: tuple[str, ...]
    paths: tuple[Path, ...]


MANY_ROOTS = 6  # more roots than this are shown as the directories holding them


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
        if len(roots) > MANY_ROOTS:  # one database per conversation (Antigravity): where
            roots = tuple(dict.fromkeys(r.parent for r in roots))  # they are, not each
        have = out.get(agent.name)
        if have is None:
            out[agent.name] = Location(agent.name, agent.label, agent.env, roots)
        else:
            out[agent.name] = Location(
                have.name, have.label, tuple(dict.fromkeys((*have.env, *agent.env))),
                tuple(dict.fromkeys((*have.paths, *roots))))
    return list(out.values())
