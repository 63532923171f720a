"""``tokentop config``: where the preferences file is, and the settings in effect.

Only click is imported up front (``tokentop --help`` imports every command to list
it). The settings are resolved exactly as the dashboard resolves them (``settings.resolve``
over the parsed dashboard options), so ``tokentop --store X config`` shows ``store`` from
the command line. Values are printed through ``redact_text``: a postgresql:// URL with a
password in the file is shown with ``***``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from tokentop.tui.commands.common import fail

if TYPE_CHECKING:
    from tokentop.tui.config.settings import Settings


@click.command("config", context_settings={"help_option_names": ["-h", "--help"],
                                           "max_content_width": 100})
@click.option("--path", "path_only", is_flag=True,
              help="Print only the file's path (e.g. $EDITOR \"$(tokentop config --path)\").")
@click.option("--init", "init", is_flag=True,
              help="Write a commented default file there, only if there is none.")
@click.pass_context
def config(ctx: click.Context, path_only: bool, init: bool) -> None:
    """Show where the preferences file is and every setting in effect, with where each
    came from (command line, environment, config file, default)."""
    from tokentop.tui.config.settings import ConfigError, config_path, resolve

    root = ctx.find_root()
    path = config_path()
    if path_only:
        click.echo(str(path))
        return
    if init:
        write_template(path, root.command)
        click.echo(f"wrote {path}")
        return
    try:
        settings = resolve(root, path)
    except ConfigError as exc:
        fail(str(exc))
    for line in settings.warnings:
        click.echo(f"tokentop: warning: {line}", err=True)
    click.echo("\n".join(report(settings, root.command)))


def report(settings: Settings, command: click.Command) -> list[str]:
    """The file's place, then one line per key: its value and where it came from."""
    from tokentop.tui.config.settings import PREFS, option_params

    state = "" if settings.found else "  (none yet: tokentop config --init writes one)"
    rows: list[tuple[str, str, str]] = []
    for pref in PREFS:
        rows.append((pref.key, _shown(settings.prefs[pref.key]),
                     settings.origins[pref.key]))
    for key, param in option_params(command).items():
        rows.append((key, _shown(settings.options[param.name or key]),
                     settings.origins[key]))
    rows += alert_rows(settings)
    width = max(len(key) for key, _, _ in rows)
    value_width = min(48, max(len(value) for _, value, _ in rows))
    lines = [f"config file: {settings.path}{state}", ""]
    lines += [f"{key:<{width}}  {value:<{value_width}}  {origin}" for key, value, origin in rows]
    return lines


def alert_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """The ``[alerts]`` keys: the thresholds set, then the delivery keys."""
    from tokentop.tui.config.alerts import DELIVERY, TABLE

    found = settings.alerts
    rows = [(f"{TABLE}.{key}", _shown(value), "config file")
            for key, value in found.thresholds.items()]
    if not found.thresholds:
        rows.append((f"{TABLE}.*", "-", "default (no threshold: no alerts)"))
    for item in DELIVERY:
        value = getattr(found, item.key.replace("-", "_"))
        shown = " ".join(value) if isinstance(value, tuple) else _shown(value)
        origin = "config file" if item.key in found.given else "default"
        rows.append((f"{TABLE}.{item.key}", shown or "-", origin))
    return rows


def _shown(value: object) -> str:
    from tokentop.store.redact import redact_text

    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return redact_text(str(value))


def write_template(path: os.PathLike[str] | str, command: click.Command) -> None:
    """The commented default file, created only where none is (``O_EXCL``: never
    overwritten, even by a race), readable by its owner only: it may come to hold a
    database URL with a password."""
    from pathlib import Path

    from tokentop.tui.config.template import template

    target = Path(path)
    text = template(command)  # before the file exists: no half-written file on an error
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{target} exists; left as it is (tokentop config shows what it sets)")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
