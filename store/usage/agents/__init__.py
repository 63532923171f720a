"""Every agent tokentop reads besides Claude Code and Codex (``collectors/``), in the
order users ask for them. One module per agent; add it here to have it collected,
reported (``--source <name>``), watched and listed in the help.
"""

from __future__ import annotations

from tokentop.store.usage.agents.base import Agent
from tokentop.store.usage.agents.codebuff import CODEBUFF
from tokentop.store.usage.agents.droid import DROID
from tokentop.store.usage.agents.goose import GOOSE
from tokentop.store.usage.agents.hermes import HERMES
from tokentop.store.usage.agents.openclaw import OPENCLAW

AGENTS: tuple[Agent, ...] = (
    DROID,
    GOOSE,
    HERMES,
    CODEBUFF,
    OPENCLAW,
)


def by_name(name: str) -> Agent | None:
    return next((a for a in AGENTS if a.name == name), None)
