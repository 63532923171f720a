"""The commented default file ``tokentop config --init`` writes.

Built from the dashboard command's own options and ``PREFS``, so the template names every
key there is, with its meaning and default, and cannot fall behind a new option. Every
key is commented out: the file changes nothing until the user uncomments a line.
"""

from __future__ import annotations

import json
import textwrap

import click

from tokentop.tui.config.settings import PREFS, option_params

WIDTH = 88
HEADER = """\
# tokentop preferences, read at every start (tokentop never writes this file again).
#
# Uncomment a line to set it. Which value wins: the command line, then an environment
# variable the option reads (GRIDCTL_HOME for metrics-dir), then this file, then the
# built-in default. `tokentop config` prints the settings in effect and where each
# came from. A leading ~ in a path is your home directory.
"""


def _comment(text: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), WIDTH - 2, initial_indent="# ",
                         subsequent_indent="# ")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # a TOML basic string, integer or float


def _option_lines(key: str, param: click.Option) -> list[str]:
    long = next((o for o in param.opts if o.startswith("--")), f"--{key}")
    lines = _comment(f"{long}: {param.help or ''}")
    if isinstance(param.type, click.Choice):
        lines += _comment("One of: " + ", ".join(param.type.choices) + ".")
    value = param.get_default(click.Context(click.Command("tokentop")), call=True)
    if param.multiple:  # a list in the file (``hosts``)
        return [*lines, f"# {key} = [{_toml(param.metavar or key.upper())}]", ""]
    if not isinstance(value, bool | int | float | str):  # no default: a value's shape
        value = param.metavar or key.upper()
    return [*lines, f"# {key} = {_toml(value)}", ""]


def _alert_lines() -> list[str]:
    """The ``[alerts]`` table, last: in TOML every key after a table's header belongs to
    that table."""
    from tokentop.store.alerts.rules import RULES
    from tokentop.tui.config.alerts import DELIVERY

    lines = ["# -- alerts: a threshold per figure (none set: no alerts). Each crossing is",
             "# said once (a banner, the bell, notify-send, your command), and again only",
             "# after the figure came back 5% under its threshold. `tokentop watch` runs",
             "# the same checks headless. Keep this table at the end of the file: in TOML",
             "# every key after [alerts] belongs to it (an empty table sets nothing).", "",
             "[alerts]"]
    examples = {"cost-per-day": 20.0, "cost-per-block": 10.0, "burn-rate": 5.0,
                "quota-percent": 90.0, "quota-hours-to-full": 2.0, "drop-rate": 1.0,
                "error-rate": 5.0, "p95-latency": 5000.0}
    for rule in RULES:
        lines += [*_comment(f"{rule.help} Unit: {rule.unit}."),
                  f"# {rule.key} = {_toml(examples.get(rule.key, 1.0))}", ""]
    for item in DELIVERY:
        lines += [*_comment(item.help), f"# {item.key} = {_toml(item.default)}", ""]
    return lines


def template(command: click.Command) -> str:
    """The whole file: the preferences, then the command-line options (all top-level
    keys: no tables)."""
    lines = [*HEADER.splitlines(), ""]
    for pref in PREFS:
        words = pref.help + (f" One of: {', '.join(pref.choices)}." if pref.choices else "")
        lines += [*_comment(words), f"# {pref.key} = {_toml(pref.default)}", ""]
    lines += ["# -- the dashboard's command-line options, one key each", ""]
    for key, param in option_params(command).items():
        lines += _option_lines(key, param)
    lines += _alert_lines()
    return "\n".join(lines).rstrip("\n") + "\n"
