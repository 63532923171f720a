"""Where every other agent keeps its files on a box: its defaults under the box's home.

Why defaults only: the variables that move an agent's data (``GEMINI_DATA_DIR``,
``XDG_DATA_HOME``, ...) are those of the user's interactive shell on the box, and the
non-interactive shell ``ssh`` runs does not read the files that set them (``.bashrc``
returns early, ``.profile`` is not read), so the value seen over ssh may not be the
agent's. The defaults are each agent's own (``agents/paths.py``, with ``~`` the box's
home); ``tests/usage/test_remote_agents.py`` checks them against the local rules with the
variables unset, so the two cannot drift. A database agent's files are watched here too,
only to know when to ask the box's tokentop for its new rows (``remote_export``), or to
say that it needs one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from tokentop.store.usage.agents import AGENTS, AgentRef


@dataclass(frozen=True)
class RemoteRoot:
    """One agent shape's files on a box: ``pattern`` under each of ``roots`` (``~/...``,
    or a file itself), and ``keep`` for what ``find`` cannot say (OpenClaw reads only
    ``agents/<id>/sessions``)."""

    ref: AgentRef
    roots: tuple[str, ...]
    pattern: str
    keep: Callable[[str], bool] | None = None

    def wanted(self, path: str) -> bool:
        return self.keep is None or self.keep(path)


def _openclaw_session(path: str) -> bool:
    """Under ``agents/<agent id>/sessions/`` (the roots are the homes' ``agents``)."""
    parts = PurePosixPath(path).parts
    return any(part == "agents" and i + 3 < len(parts) and parts[i + 2] == "sessions"
               for i, part in enumerate(parts))


_OPENCLAW = tuple(f"~/{h}/agents" for h in (".openclaw", ".clawdbot", ".moltbot", ".moldbot"))
# (roots, keep) by the registry's target; the pattern is the registry's own
_FILES: dict[str, tuple[tuple[str, ...], Callable[[str], bool] | None]] = {
    "gemini:GEMINI_LINES": (("~/.gemini/tmp",), None),
    "gemini:GEMINI_JSON": (("~/.gemini/tmp",), None),
    "opencode:OPENCODE_FILES": (("~/.local/share/opencode/storage/message",), None),
    "qwen:QWEN": (("~/.qwen/projects",), None),
    "pi:PI": (("~/.pi/agent/sessions",), None),
    "kimi:KIMI": (("~/.kimi/sessions", "~/.kimi-code/sessions"), None),
    "droid:DROID": (("~/.factory/sessions",), None),
    "codebuff:CODEBUFF": (tuple(f"~/.config/{c}/projects" for c in
                                ("manicode", "manicode-dev", "manicode-staging")), None),
    "openclaw:OPENCLAW": (_OPENCLAW, _openclaw_session),
    "amp:AMP": (("~/.local/share/amp/threads",), None),
    "copilot:COPILOT_SESSIONS": (("~/.copilot/session-state",), None),
    "copilot:COPILOT_OTEL": (("~/.copilot/otel",), None),
    "grok:GROK": (("~/.grok/sessions",), None),
}
# the databases' defaults (a file each, or ``*.db`` under a directory: Antigravity's
# conversations, OpenCode's channel databases ``opencode-<channel>.db``)
_DATABASES: dict[str, tuple[tuple[str, str], ...]] = {
    "opencode:OPENCODE_DB": (("~/.local/share/opencode", "opencode*.db*"),),
    "goose:GOOSE": tuple((f"~/{d}/sessions.db", "*") for d in (
        ".local/share/goose/sessions", "Library/Application Support/goose/sessions",
        ".local/share/Block/goose/sessions")),
    "kilo:AGENT": (("~/.local/share/kilo/kilo.db", "*"),),
    "hermes:HERMES": (("~/.hermes/state.db", "*"),),
    "zcode:ZCODE": (("~/.zcode/cli/db/db.sqlite", "*"),),
    "antigravity:ANTIGRAVITY": tuple((f"~/{d}", "*.db") for d in (
        ".gemini/antigravity", ".gemini/antigravity-cli", ".gemini/antigravity-ide",
        ".gemini/antigravity-backup", ".config/antigravity")),
}


def file_roots() -> list[RemoteRoot]:
    """Every file-based agent shape of the registry, in its order."""
    out = []
    for ref in AGENTS:
        if ref.kind == "database":
            continue
        roots, keep = _FILES[ref.target]
        for pattern in ref.patterns:
            out.append(RemoteRoot(ref, roots, pattern, keep))
    return out


def database_roots() -> list[RemoteRoot]:
    """Each database agent's default files (and a ``-wal`` beside one: the ``*`` after
    a file root is not used, a file root is listed as it is; the ``-wal`` is its own
    root)."""
    out = []
    for ref in AGENTS:
        if ref.kind != "database":
            continue
        for root, pattern in _DATABASES[ref.target]:
            out.append(RemoteRoot(ref, (root,), pattern))
            if pattern == "*":
                out.append(RemoteRoot(ref, (root + "-wal",), pattern))
    return out


def database_ref(name: str) -> AgentRef | None:
    """The registry's database shape of the agent ``name`` (OpenCode has two shapes)."""
    return next((r for r in AGENTS if r.name == name and r.kind == "database"), None)


def database_agents() -> list[str]:
    """The names of the agents read from SQLite, each once, in the registry's order."""
    return list(dict.fromkeys(ref.name for ref in AGENTS if ref.kind == "database"))
