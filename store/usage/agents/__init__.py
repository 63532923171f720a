"""Every agent tokentop reads besides Claude Code and Codex (``collectors/``), in the
order users ask for them. One module per agent; add it here to have it collected,
reported (``--source <name>``), watched and listed in the help.
"""

from __future__ import annotations

from tokentop.store.usage.agents import gemini, kilo, opencode, qwen
from tokentop.store.usage.agents.base import Agent
from tokentop.store.usage.agents.kimi import KIMI
from tokentop.store.usage.agents.pi import PI

AGENTS: tuple[Agent, ...] = (
    *gemini.AGENTS,
    *opencode.AGENTS,
    qwen.QWEN,
    PI,
    KIMI,
    kilo.AGENT,
)


def by_name(name: str) -> Agent | None:
    return next((a for a in AGENTS if a.name == name), None)
