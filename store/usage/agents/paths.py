"""Where each agent keeps its usage: the ``roots`` of every collector, apart from the
collectors themselves.

Finding an agent's directories must not cost importing its parser (msgspec structs,
regexes: 2-25 ms an agent, 60 ms for all): a report on a machine with only Claude Code
would pay for every agent it does not have. The registry (``agents/__init__.py``)
looks here first and imports a collector only when its agent has something to read.
The rules (variables, defaults) are each agent's and ccusage's; each collector's
docstring says where they come from.
"""

from __future__ import annotations

import os
from pathlib import Path


def env_dir(variable: str, default: Path) -> Path:
    """``$variable`` (``~`` expanded) when set and not blank, else ``default``."""
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share`` (on every platform, as the agents
    that use it resolve it: opencode, Kilo, Goose, Amp)."""
    return env_dir("XDG_DATA_HOME", Path.home() / ".local" / "share")


def codebuff_roots() -> list[Path]:
    """The ``projects`` directories to scan (missing ones are simply not scanned)."""
    raw = os.environ.get("CODEBUFF_DATA_DIR")
    if raw is not None:
        bases = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    else:
        channels = ("manicode", "manicode-dev", "manicode-staging")
        bases = [Path.home() / ".config" / c for c in channels]
    out: list[Path] = []
    for base in bases:
        root = base if base.name == "projects" else base / "projects"
        if root not in out:
            out.append(root)
    return out


def droid_roots() -> list[Path]:
    """``$DROID_SESSIONS_DIR`` split on commas (blank parts dropped), else
    ``~/.factory/sessions``. A missing directory is simply not scanned."""
    raw = os.environ.get("DROID_SESSIONS_DIR")
    if raw is not None:
        out: list[Path] = []
        for part in raw.split(","):
            part = part.strip()
            if part and Path(part).expanduser() not in out:
                out.append(Path(part).expanduser())
        return out
    return [Path.home() / ".factory" / "sessions"]


def gemini_roots() -> list[Path]:
    """``$GEMINI_DATA_DIR`` (comma-separated, blanks ignored) when set, else
    ``~/.gemini/tmp`` (ccusage's ``paths.rs``; set but blank: no directory, as there)."""
    raw = os.environ.get("GEMINI_DATA_DIR")
    if raw is not None:
        return list(dict.fromkeys(Path(p.strip()).expanduser()
                                  for p in raw.split(",") if p.strip()))
    return [Path.home() / ".gemini" / "tmp"]


def goose_roots() -> list[Path]:
    """The candidate databases (the runner reads those that exist), each once."""
    root = os.environ.get("GOOSE_PATH_ROOT", "").strip()
    if root:
        candidates = [Path(root).expanduser() / "data" / "sessions" / "sessions.db"]
    else:
        home = Path.home()
        candidates = [home / ".local/share/goose/sessions" / "sessions.db",
                      home / "Library/Application Support/goose/sessions" / "sessions.db",
                      home / ".local/share/Block/goose/sessions" / "sessions.db"]
    out: list[Path] = []
    seen: set[Path] = set()
    for path in candidates:
        try:
            real = path.resolve()
        except OSError:
            real = path
        if real not in seen:
            seen.add(real)
            out.append(path)
    return out


def hermes_roots() -> list[Path]:
    raw = os.environ.get("HERMES_HOME")
    if raw is not None:
        homes = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    else:
        homes = [Path.home() / ".hermes"]
    out: list[Path] = []
    for home in homes:
        if home / "state.db" not in out:
            out.append(home / "state.db")
    return out


def kimi_share_dirs() -> list[Path]:
    """``$KIMI_DATA_DIR`` (comma-separated), else ``$KIMI_SHARE_DIR`` or ``~/.kimi``, and
    Kimi Code's ``~/.kimi-code``."""
    raw = os.environ.get("KIMI_DATA_DIR", "")
    if raw.strip():
        dirs = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
        return list(dict.fromkeys(dirs))
    share = os.environ.get("KIMI_SHARE_DIR", "").strip()
    kimi = Path(share).expanduser() if share else Path.home() / ".kimi"
    return list(dict.fromkeys([kimi, Path.home() / ".kimi-code"]))


def kimi_roots() -> list[Path]:
    return [d / "sessions" for d in kimi_share_dirs()]


def openclaw_base_roots() -> list[Path]:
    """The OpenClaw roots, as ccusage finds them."""
    raw = os.environ.get("OPENCLAW_DIR", "")
    if raw.strip():
        out: list[Path] = []
        for part in raw.split(","):
            if part.strip() and Path(part.strip()).expanduser() not in out:
                out.append(Path(part.strip()).expanduser())
        return out
    return [Path.home() / h for h in (".openclaw", ".clawdbot", ".moltbot", ".moldbot")]


def openclaw_roots() -> list[Path]:
    """Each root's ``agents/<id>/sessions`` directories that exist."""
    out: list[Path] = []
    for root in openclaw_base_roots():
        try:
            agents = sorted(p for p in (root / "agents").iterdir() if p.is_dir())
        except OSError:
            continue
        out.extend(a / "sessions" for a in agents if (a / "sessions").is_dir())
    return out


def opencode_data_dirs(variable: str, default: Path) -> list[Path]:
    """ccusage's rule: ``$variable`` split on commas (each ``~``-expanded) when set, else
    ``default``. Directories that do not exist are kept: the runner finds nothing there
    and the empty Usage screen can name them."""
    raw = os.environ.get(variable)
    if raw is not None and raw.strip():
        dirs: list[Path] = []
        for part in raw.split(","):
            part = part.strip()
            if part and Path(part).expanduser() not in dirs:
                dirs.append(Path(part).expanduser())
        return dirs
    return [default]


def opencode_dirs() -> list[Path]:
    return opencode_data_dirs("OPENCODE_DATA_DIR", xdg_data_home() / "opencode")


def _opencode_is_channel_db(name: str) -> bool:
    if not (name.startswith("opencode-") and name.endswith(".db")):
        return False
    middle = name[len("opencode-"):-len(".db")]
    return all(c.isascii() and (c.isalnum() or c in "_-") for c in middle)


def opencode_db(directory: Path) -> Path:
    """``opencode.db``, else the first ``opencode-<channel>.db`` (ccusage's ``db_path``);
    ``opencode.db`` when there is neither (the runner skips a missing file)."""
    default = directory / "opencode.db"
    if default.is_file():
        return default
    try:
        channels = sorted(e.path for e in os.scandir(directory)
                          if _opencode_is_channel_db(e.name) and e.is_file())
    except OSError:
        return default
    return Path(channels[0]) if channels else default


def pi_roots() -> list[Path]:
    """``$PI_AGENT_DIR`` (comma-separated sessions dirs), else
    ``$PI_CODING_AGENT_DIR/sessions``, else ``~/.pi/agent/sessions``."""
    raw = os.environ.get("PI_AGENT_DIR", "")
    if raw.strip():
        dirs = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
        return list(dict.fromkeys(dirs))
    agent_dir = os.environ.get("PI_CODING_AGENT_DIR", "").strip()
    if agent_dir:
        return [Path(agent_dir).expanduser() / "sessions"]
    return [Path.home() / ".pi" / "agent" / "sessions"]


def qwen_data_dirs() -> list[Path]:
    """``$QWEN_DATA_DIR`` (comma-separated, blanks ignored) when set, else ``~/.qwen``
    (ccusage's ``paths.rs``; set but blank: no directory, as there)."""
    raw = os.environ.get("QWEN_DATA_DIR")
    if raw is not None:
        return list(dict.fromkeys(Path(p.strip()).expanduser()
                                  for p in raw.split(",") if p.strip()))
    return [Path.home() / ".qwen"]


def qwen_roots() -> list[Path]:
    """The ``projects`` directory of each data directory: all ccusage reads."""
    return [d / "projects" for d in qwen_data_dirs()]


def kilo_dirs() -> list[Path]:
    return opencode_data_dirs("KILO_DATA_DIR", xdg_data_home() / "kilo")


def opencode_db_roots() -> list[Path]:
    return [opencode_db(d) for d in opencode_dirs()]


def opencode_file_roots() -> list[Path]:
    return [d / "storage" / "message" for d in opencode_dirs()]


def kilo_db_roots() -> list[Path]:
    return [d / "kilo.db" for d in kilo_dirs()]


def amp_roots() -> list[Path]:
    """``<dir>/threads`` for each directory of ``$AMP_DATA_DIR`` (comma-separated,
    blanks dropped, each once), else ``~/.local/share/amp/threads`` (the home, not
    ``XDG_DATA_HOME``: ccusage's rule)."""
    raw = os.environ.get("AMP_DATA_DIR")
    if raw is not None:
        bases = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    else:
        bases = [Path.home() / ".local" / "share" / "amp"]
    return list(dict.fromkeys(b / "threads" for b in bases))


def copilot_home() -> Path:
    raw = os.environ.get("COPILOT_HOME", "").strip()
    return Path(raw).expanduser() if raw else Path.home() / ".copilot"


def copilot_session_roots() -> list[Path]:
    return [copilot_home() / "session-state"]


def copilot_exporter_path() -> Path | None:
    raw = os.environ.get("COPILOT_OTEL_FILE_EXPORTER_PATH", "").strip()
    return Path(raw).expanduser() if raw else None


def copilot_otel_roots() -> list[Path]:
    """``<home>/otel``, and the exporter file itself (a file root is read as it is)."""
    out = [copilot_home() / "otel"]
    exporter = copilot_exporter_path()
    if exporter is not None and exporter not in out:
        out.append(exporter)
    return out


def grok_home() -> Path:
    """``$GROK_HOME`` (one directory: ccusage 20.0.24 ignores a list), else ``~/.grok``."""
    raw = os.environ.get("GROK_HOME", "").strip()
    return Path(raw).expanduser() if raw else Path.home() / ".grok"


def grok_roots() -> list[Path]:
    return [grok_home() / "sessions"]


ANTIGRAVITY_DEFAULTS = (".gemini/antigravity", ".gemini/antigravity-cli",
                        ".gemini/antigravity-ide", ".gemini/antigravity-backup",
                        ".config/antigravity")


def antigravity_data_roots() -> list[Path]:
    """``$ANTIGRAVITY_DATA_DIR`` split on commas (parts trimmed, blanks dropped, each
    once, no ``~`` expansion: ccusage 20.0.24 reads it so; set but blank: nothing), else
    the five defaults under the home (``ANTIGRAVITY_DEFAULTS``)."""
    raw = os.environ.get("ANTIGRAVITY_DATA_DIR")
    if raw is not None:
        return list(dict.fromkeys(Path(p.strip()) for p in raw.split(",") if p.strip()))
    home = Path.home()
    return [home / d for d in ANTIGRAVITY_DEFAULTS]


def _antigravity_dbs(base: Path) -> list[Path]:
    out: list[Path] = []
    for top, dirs, files in os.walk(base):
        dirs.sort()
        out.extend(Path(top) / f for f in sorted(files) if f.endswith(".db"))
    return out


def antigravity_dirs() -> list[Path]:
    """The directory searched under each data root (its ``conversations``, or the root
    itself when it has none): what the help should name, one line a root, where
    ``antigravity_roots`` names every database."""
    return [root / "conversations" if (root / "conversations").is_dir() or not root.is_dir()
            else root for root in antigravity_data_roots()]


def antigravity_roots() -> list[Path]:
    """Every conversation database (``*.db``, searched recursively) under each data
    root's ``conversations`` directory, or under the root itself when it has none (a
    variable naming ``conversations`` directly): ccusage 20.0.24's search, probed on
    the binary. A data root with no database yields its ``conversations`` path instead
    (not a file, so nothing is read there): the help and the empty Usage screen name
    it, and its parent is watched so the first conversation is seen."""
    out: list[Path] = []
    for root in antigravity_data_roots():
        base = root / "conversations"
        dbs = _antigravity_dbs(base if base.is_dir() else root) if root.is_dir() else []
        out.extend(dbs or [base])
    return list(dict.fromkeys(out))


def zcode_homes() -> list[Path]:
    raw = os.environ.get("ZCODE_HOME")
    if raw is not None and raw.strip():
        return list(dict.fromkeys(Path(p.strip()).expanduser()
                                  for p in raw.split(",") if p.strip()))
    return [Path.home() / ".zcode"]


def zcode_roots() -> list[Path]:
    return [h / "cli" / "db" / "db.sqlite" for h in zcode_homes()]
