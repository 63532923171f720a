"""``tokentop ingest`` every few minutes, run by the user's own scheduler.

Claude Code deletes its logs after 30 days; the store keeps what was ingested, but only
while something ingests. tokentop has no daemon of its own: it writes a user-level
systemd timer (``~/.config/systemd/user``), a launchd agent on macOS
(``~/Library/LaunchAgents``) or one crontab line, and takes away exactly that again.

Every file and line carries :data:`MARK`, so uninstalling never removes what tokentop
did not write (another crontab line, a unit of the same name the user wrote). The
scheduler's own tools (``systemctl``, ``launchctl``, ``crontab``) are run through
:func:`run_tool`, found on ``PATH`` like any command the user types.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

MARK = "tokentop-collect"  # in every file and crontab line tokentop writes
UNIT = "tokentop-collect"
LABEL = "tokentop.collect"  # launchd
METHODS = ("systemd", "launchd", "cron")
# What moves the data tokentop reads or writes: kept in the scheduled job's environment,
# since a timer or cron does not inherit the shell's.
STATE_VARS = ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


class ScheduleError(Exception):
    """A scheduler tokentop cannot use here, in one line."""


@dataclass
class Plan:
    """What an install writes and runs (``--dry-run`` prints it)."""

    method: str
    files: dict[Path, str] = field(default_factory=dict)
    crontab_line: str | None = None
    commands: list[list[str]] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)  # made first (launchd's log directory)


def run_tool(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``systemctl``/``launchctl``/``crontab`` (the one seam tests replace with
    executables of their own on ``PATH``). A missing tool is a failed run, not a
    traceback."""
    exe = shutil.which(args[0])
    if exe is None:
        return subprocess.CompletedProcess(list(args), 127, "", f"{args[0]}: not found")
    return subprocess.run([exe, *args[1:]], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def has_tool(name: str) -> bool:
    return shutil.which(name) is not None


def systemd_user_works() -> bool:
    """A user manager answers (not so over plain SSH without lingering, in most
    containers, or under sudo)."""
    return has_tool("systemctl") and run_tool(
        ["systemctl", "--user", "show-environment"]).returncode == 0


def pick_method(asked: str) -> str:
    """``auto``: launchd on macOS, the systemd user manager where it answers, else cron."""
    if asked != "auto":
        return asked
    if sys.platform == "darwin":
        return "launchd"
    if systemd_user_works():
        return "systemd"
    if has_tool("crontab"):
        return "cron"
    raise ScheduleError("no systemd user manager and no crontab here: run "
                        f"'{shlex.join(ingest_argv(None))}' every 5 minutes from your scheduler")


def ingest_argv(store: str | None) -> list[str]:
    """The command the scheduler runs: this very interpreter, so the job does not
    depend on ``PATH`` (a timer's and cron's are minimal)."""
    argv = [sys.executable, "-m", "tokentop.tui.cli", "ingest"]
    if store and store.strip().lower().startswith(("postgresql://", "postgres://")):
        argv += ["--store", store]  # a team store (put its password in ~/.pgpass)
    elif store:
        argv += ["--store", str(Path(store).expanduser().resolve())]
    return argv


def job_env() -> dict[str, str]:
    """The variables set now that change where tokentop reads or writes."""
    from tokentop.store.usage.agents import locations

    names = [*STATE_VARS, *(v for loc in locations() for v in loc.env)]
    return {n: os.environ[n] for n in dict.fromkeys(names) if os.environ.get(n)}


def systemd_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def launchd_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def _systemd_quote(word: str, exec_line: bool = False) -> str:
    """One ExecStart/Environment word, quoted as systemd.syntax(7) reads it: ``%`` is
    a specifier (``%%``), and on an ExecStart line ``$`` a variable (``$$``)."""
    word = word.replace("%", "%%")
    if exec_line:
        word = word.replace("$", "$$")
    if word and all(c.isalnum() or c in "/._-+=:@,%$" for c in word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def systemd_plan(argv: list[str], env: dict[str, str], minutes: int) -> Plan:
    d = systemd_dir()
    environment = "".join(f"Environment={_systemd_quote(f'{k}={v}')}\n"
                          for k, v in sorted(env.items()))
    service = (
        f"# Written by tokentop collect --install ({MARK}); tokentop collect --uninstall"
        " removes it.\n"
        "[Unit]\nDescription=tokentop: collect AI agent usage into the usage store\n\n"
        "[Service]\nType=oneshot\n"
        f"ExecStart={' '.join(_systemd_quote(w, exec_line=True) for w in argv)}\n"
        f"{environment}"
        "Nice=10\nIOSchedulingClass=idle\n")
    timer = (
        f"# Written by tokentop collect --install ({MARK}); tokentop collect --uninstall"
        " removes it.\n"
        f"[Unit]\nDescription=tokentop: ingest every {minutes} minutes\n\n"
        f"[Timer]\nOnCalendar=*:0/{minutes}\nPersistent=true\nUnit={UNIT}.service\n\n"
        "[Install]\nWantedBy=timers.target\n")
    return Plan("systemd", {d / f"{UNIT}.service": service, d / f"{UNIT}.timer": timer},
                commands=[["systemctl", "--user", "daemon-reload"],
                          ["systemctl", "--user", "enable", "--now", f"{UNIT}.timer"]])


def launchd_plan(argv: list[str], env: dict[str, str], minutes: int) -> Plan:
    from tokentop.store.state import state_dir

    log = state_dir("tokentop") / "collect.log"
    doc: dict[str, object] = {
        "Label": LABEL, "Comment": f"Written by tokentop collect --install ({MARK})",
        "ProgramArguments": argv, "StartInterval": minutes * 60, "RunAtLoad": True,
        "ProcessType": "Background", "LowPriorityIO": True,
        "StandardOutPath": str(log), "StandardErrorPath": str(log),
    }
    if env:
        doc["EnvironmentVariables"] = dict(sorted(env.items()))
    path = launchd_path()
    return Plan("launchd", {path: plistlib.dumps(doc).decode()},
                commands=[["launchctl", "load", "-w", str(path)]], dirs=[log.parent])


def cron_line(argv: list[str], env: dict[str, str], minutes: int) -> str:
    assigns = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
    command = shlex.join(argv)
    if assigns:
        command = f"env {assigns} {command}"
    command = command.replace("%", "\\%")  # crontab(5): an unescaped % ends the command
    return f"*/{minutes} * * * * {command} >/dev/null 2>&1 # {MARK}"


def plan(method: str, store: str | None, minutes: int) -> Plan:
    argv, env = ingest_argv(store), job_env()
    if method == "systemd":
        return systemd_plan(argv, env, minutes)
    if method == "launchd":
        return launchd_plan(argv, env, minutes)
    return Plan("cron", crontab_line=cron_line(argv, env, minutes))


# -- crontab ----------------------------------------------------------------------------


def read_crontab() -> list[str] | None:
    """The user's crontab lines; [] when they have none; None without ``crontab``."""
    if not has_tool("crontab"):
        return None
    done = run_tool(["crontab", "-l"])
    if done.returncode != 0:
        if "no crontab" in (done.stderr or "").lower():
            return []
        raise ScheduleError(f"crontab -l failed: {(done.stderr or '').strip()}")
    return done.stdout.splitlines()


def write_crontab(lines: list[str]) -> None:
    done = run_tool(["crontab", "-"], stdin="".join(f"{line}\n" for line in lines))
    if done.returncode != 0:
        raise ScheduleError(f"crontab - failed: {(done.stderr or '').strip()}")


def ours(line: str) -> bool:
    return line.rstrip().endswith(f"# {MARK}")


# -- install / uninstall / status -------------------------------------------------------


def install(p: Plan) -> list[str]:
    """Carry out ``p``; what was done (or what to run by hand), one line each. Running
    it twice changes nothing the second time."""
    done: list[str] = []
    for d in p.dirs:
        d.mkdir(parents=True, exist_ok=True)
    for path, text in p.files.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            done.append(f"unchanged {path}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        done.append(f"wrote {path}")
    if p.crontab_line is not None:
        lines = read_crontab()
        if lines is None:
            raise ScheduleError("crontab not found: add this line with crontab -e: "
                                + p.crontab_line)
        kept = [line for line in lines if not ours(line)]
        if [*kept, p.crontab_line] == lines:
            done.append("crontab line unchanged")
        else:
            write_crontab([*kept, p.crontab_line])
            done.append(f"crontab: {p.crontab_line}")
    if p.method == "systemd" and not systemd_user_works():
        done.append("no systemd user manager answers here; run: "
                    + " && ".join(shlex.join(c) for c in p.commands))
        return done
    for command in p.commands:
        if p.method == "launchd":
            run_tool(["launchctl", "unload", str(launchd_path())])  # reload a changed plist
        result = run_tool(command)
        if result.returncode != 0:
            raise ScheduleError(f"{shlex.join(command)} failed: "
                                f"{(result.stderr or result.stdout or '').strip()}")
        done.append(f"ran {shlex.join(command)}")
    return done


def _marked(path: Path) -> bool:
    try:
        return MARK in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def installed() -> dict[str, list[str]]:
    """What of tokentop's is in place, per method (empty lists left out)."""
    out: dict[str, list[str]] = {}
    units = [systemd_dir() / f"{UNIT}.{kind}" for kind in ("service", "timer")]
    found = [str(u) for u in units if u.exists() and _marked(u)]
    if found:
        out["systemd"] = found
    if launchd_path().exists() and _marked(launchd_path()):
        out["launchd"] = [str(launchd_path())]
    try:
        lines = read_crontab()
    except ScheduleError:
        lines = None
    cron = [line for line in lines or () if ours(line)]
    if cron:
        out["cron"] = cron
    return out


def uninstall(dry_run: bool = False) -> list[str]:
    """Remove what :func:`install` put in place, of every method, and nothing else."""
    found = installed()
    done: list[str] = []
    verb = "would " if dry_run else ""
    if "systemd" in found:
        if not dry_run and systemd_user_works():
            run_tool(["systemctl", "--user", "disable", "--now", f"{UNIT}.timer"])
        for name in found["systemd"]:
            if not dry_run:
                Path(name).unlink(missing_ok=True)
            done.append(f"{verb}remove {name}")
        if not dry_run and systemd_user_works():
            run_tool(["systemctl", "--user", "daemon-reload"])
    if "launchd" in found:
        path = launchd_path()
        if not dry_run:
            run_tool(["launchctl", "unload", "-w", str(path)])
            path.unlink(missing_ok=True)
        done.append(f"{verb}remove {path}")
    if "cron" in found:
        if not dry_run:
            lines = read_crontab() or []
            write_crontab([line for line in lines if not ours(line)])
        done.extend(f"{verb}remove crontab line: {line}" for line in found["cron"])
    return done or ["nothing of tokentop collect is installed"]


def timer_state() -> str | None:
    """``active``/``inactive``/... of the systemd timer, when a user manager answers."""
    if not systemd_user_works():
        return None
    done = run_tool(["systemctl", "--user", "is-active", f"{UNIT}.timer"])
    return (done.stdout or "").strip() or None
