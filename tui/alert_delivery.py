"""How an alert reaches a user who is not looking at the dashboard: a desktop
notification (``notify-send``, when it is on PATH) and the user's own ``command``.

Both are plain processes started with an argument list, never through a shell: the
alert's subject is the store's text (a provider or account name) and must not become
shell syntax. The command reads the alert as one JSON line on stdin and in
``TOKENTOP_ALERT_*`` variables. notify-send's body may hold markup on some desktops
(freedesktop's notification spec allows ``<b>``, ``<a href>``), so the message is
escaped for it.

Blocking (a process start, a slow command): called in a thread worker, never on the
event loop. A failure is one line returned to the caller, which says it on screen.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from tokentop.store.alerts.rules import RULE_BY_KEY, Alert

TIMEOUT_SECONDS = 30.0  # a command still running then is stopped: the next alert must run
NOTIFY_SEND = "notify-send"


def alert_env(alert: Alert, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus the alert's ``TOKENTOP_ALERT_*`` variables (no NUL: an environment
    cannot hold one)."""
    doc = alert.to_json()
    env = dict(base)
    for key in ("alert", "subject", "value", "threshold", "unit", "message"):
        name = "RULE" if key == "alert" else key.upper()
        env[f"TOKENTOP_ALERT_{name}"] = str(doc[key]).replace("\0", "")
    return env


def notify_desktop(alert: Alert) -> str | None:
    """A desktop notification through notify-send; None when sent or when there is no
    notify-send, else why it failed."""
    program = shutil.which(NOTIFY_SEND)
    if program is None:
        return None
    title = f"tokentop: {RULE_BY_KEY[alert.rule].label}"
    body = html.escape(alert.message, quote=False)
    return _run([program, "--app-name=tokentop", "--urgency=critical", title, body],
                None, dict(os.environ))


def run_command(alert: Alert, command: Sequence[str]) -> str | None:
    """The user's command with the alert on stdin (one JSON line) and in its
    environment; None when it exited 0, else one line saying what went wrong."""
    line = json.dumps(alert.to_json()) + "\n"
    return _run(list(command), line, alert_env(alert, os.environ))


def _run(argv: list[str], stdin: str | None, env: dict[str, str]) -> str | None:
    name = argv[0]
    try:
        done = subprocess.run(argv, input=stdin, env=env, text=True, timeout=TIMEOUT_SECONDS,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False)
    except FileNotFoundError:
        return f"alert command not found: {name}"
    except PermissionError:
        return f"alert command not executable: {name}"
    except subprocess.TimeoutExpired:
        return f"alert command {name} still running after {TIMEOUT_SECONDS:g} s; stopped"
    except OSError as exc:
        return f"alert command {name} failed: {exc.strerror or exc}"
    if done.returncode != 0:
        last = (done.stderr or "").strip().splitlines()
        why = f": {last[-1][:200]}" if last else ""
        return f"alert command {name} exited {done.returncode}{why}"
    return None


def deliver(alerts: Sequence[Alert], desktop: bool, command: Sequence[str]) -> list[str]:
    """Every alert to the desktop and the command, in order; the failures, one line
    each."""
    problems: list[str] = []
    for alert in alerts:
        for problem in (notify_desktop(alert) if desktop else None,
                        run_command(alert, command) if command else None):
            if problem is not None:
                problems.append(problem)
    return problems
