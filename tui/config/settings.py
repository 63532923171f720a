"""Preferences read at start: ``$XDG_CONFIG_HOME/tokentop/config.toml``.

Why a file at all: a dashboard left open all day is started many times, each time with
the same sources and the same screen; the file saves typing them. It is read, never
written back (``tokentop config --init`` writes a commented template once).

Every option of the dashboard command is a key, named as its long option without the
dashes (``--metrics-dir`` is ``metrics-dir``; a repeatable one in the plural, a list:
``--host`` is ``hosts = ["user@box"]``): the keys are read off the click command
itself, so a new option is settable here the day it is added. Beside them, preferences
that have no option: the start screen, the theme, the refresh rate, and each screen's
start range or window (``overview-range``, ``usage-window``, ``access-range``). All keys
are top-level (``access`` is the --access source, so an ``[access]`` table would clash)
but one table, ``[alerts]`` (tui/config/alerts.py): no option is called ``alerts``.

Precedence, per setting: the command line, then an environment variable that setting
already reads (a click ``envvar``, or ``GRIDCTL_HOME`` for ``metrics-dir``), then this
file, then the built-in default. ``resolve`` records where each value came from, which
``tokentop config`` prints.

Errors: a file that is not TOML (or cannot be read) is one line naming the file, the line
and column, and tokentop exits 2: guessing what a broken file meant could point the
dashboard at the wrong store. An unknown key or a value of the wrong type is one warning
line naming the file, the key and what was expected, and only that key is ignored: one
typo should not keep the dashboard from starting.

Kept free of Textual (``tokentop config`` answers fast); the theme names are checked
with Textual's list only when a theme is set.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click
from click.core import ParameterSource

from tokentop.store.chartranges import RANGES as OVERVIEW_RANGES
from tokentop.store.tail.regular import read_regular
from tokentop.tui.config import alerts as alert_table
from tokentop.tui.config import location
from tokentop.tui.config.values import Wrong, shown

FILE_NAME = location.FILE_NAME
# The screens by mode, in tab order (tui/screens/__init__.py ``screen_specs``; a test
# keeps the two equal). Spelt out so reading the file needs no Textual.
SCREENS = ("overview", "usage", "events", "traces", "access", "files", "logs", "spans")
USAGE_WINDOWS = ("1d", "3d", "7d", "30d", "month", "all")  # store/usage/read.py WINDOWS
ACCESS_RANGES = ("1h", "6h", "24h", "all")  # tui/screens/access.py RANGES
REFRESH_RANGE = (0.1, 10.0)
# Environment variables an option's default reads, which beat the file (click ``envvar``s
# are found by click itself).
OPTION_ENV = {"metrics_dir": "GRIDCTL_HOME"}


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/tokentop/config.toml`` (``tokentop.tui.config.location``)."""
    return location.config_path()


@dataclass(frozen=True)
class Pref:
    """A preference with no command-line option: its key, default, choices and meaning."""

    key: str  # "screen", or "table.key" for a screen's own ("overview-range")
    default: str | float
    help: str
    choices: tuple[str, ...] = ()
    # Where a screen's start value goes: (mode, the screen's reactive attribute).
    target: tuple[str, str] | None = None


PREFS: tuple[Pref, ...] = (
    Pref("screen", "overview", "Screen shown at start.", SCREENS),
    Pref("theme", "textual-dark", "Textual theme (ctrl+p, then 'theme', lists them)."),
    Pref("refresh", 0.25, "Seconds between looks at the gridctl telemetry, so the "
         f"Overview redraws at most this often ({REFRESH_RANGE[0]:g} to "
         f"{REFRESH_RANGE[1]:g})."),
    Pref("overview-range", "30m", "Overview range at start (30m is Live).",
         tuple(OVERVIEW_RANGES), ("overview", "range_name")),
    Pref("usage-window", "1d", "Usage window at start.", USAGE_WINDOWS, ("usage", "window")),
    Pref("access-range", "1h", "Access chart range at start.", ACCESS_RANGES,
         ("access", "range_name")),
)
PREF_BY_KEY = {pref.key: pref for pref in PREFS}


class ConfigError(Exception):
    """The file cannot be used at all (not TOML, not readable): one line, exit 2."""


@dataclass
class Settings:
    """What the dashboard runs with, and where each value came from."""

    path: Path
    options: dict[str, object]  # click parameter name -> value
    prefs: dict[str, object]  # Pref.key -> value
    origins: dict[str, str] = field(default_factory=dict)  # config key -> origin
    warnings: list[str] = field(default_factory=list)
    found: bool = False  # the file exists
    # The ``[alerts]`` table (tui/config/alerts.py): thresholds and delivery.
    alerts: alert_table.AlertSettings = field(default_factory=alert_table.AlertSettings)
    alert_warnings: list[str] = field(default_factory=list)  # also in ``warnings``

    def app_prefs(self) -> dict[str, object]:
        """The app's constructor arguments for the preferences (``TokentopApp``); the
        theme only when set, so Textual's own default stays Textual's."""
        theme = self.prefs["theme"] if self.origins.get("theme") == "config file" else None
        return {"start_screen": self.prefs["screen"], "start_values": self.start_values(),
                "theme": theme, "refresh_seconds": self.prefs["refresh"],
                "notices": list(self.warnings), "alerts": self.alerts}

    def start_values(self) -> dict[str, dict[str, object]]:
        """Each screen's start values, by mode (for ``TokentopApp(start_values=...)``)."""
        values: dict[str, dict[str, object]] = {}
        for pref in PREFS:
            if pref.target is not None:
                mode, attr = pref.target
                values.setdefault(mode, {})[attr] = self.prefs[pref.key]
        return values


# -- the options of the click command ----------------------------------------------------
def option_params(command: click.Command) -> dict[str, click.Option]:
    """The command's options by config key (its long name without dashes)."""
    found: dict[str, click.Option] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or not param.expose_value:
            continue  # --version, --help: nothing to prefer
        long = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        # a repeatable option is a list in the file, named in the plural (``--host``:
        # ``hosts = ["user@box", ...]``)
        found[long.lstrip("-") + ("s" if param.multiple else "")] = param
    return found


def _check_option(param: click.Option, value: object) -> object:
    """``value`` from the file as the option's own parser would give it, or ``Wrong``."""
    kind = param.type
    if param.multiple and kind is click.STRING:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
            raise Wrong("a list of non-empty strings")
        return tuple(items)
    if param.is_flag:
        if not isinstance(value, bool):
            raise Wrong("true or false")
        return value
    if isinstance(kind, click.Choice):
        if not isinstance(value, str) or value not in kind.choices:
            raise Wrong("one of " + ", ".join(json.dumps(c) for c in kind.choices))
        return value
    if isinstance(kind, click.types.IntParamType):
        low, high = getattr(kind, "min", None), getattr(kind, "max", None)
        words = "an integer" + (f" from {low} to {high}" if low is not None else "")
        if not isinstance(value, int) or isinstance(value, bool):
            raise Wrong(words)
        try:
            return kind.convert(value, param, None)
        except click.BadParameter:
            raise Wrong(words) from None
    if kind is click.STRING:
        if not isinstance(value, str) or not value:
            raise Wrong("a non-empty string")
        return _expand_home(value)
    raise TypeError(f"--{param.name}: no config rule for {kind!r}")  # a test catches it


def _expand_home(value: str) -> str:
    """A leading ``~`` is the home directory, as the shell would have made it."""
    return str(Path(value).expanduser()) if value == "~" or value.startswith("~/") else value


def _check_pref(pref: Pref, value: object) -> object:
    if isinstance(pref.default, float):
        low, high = REFRESH_RANGE
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not low <= value <= high):
            raise Wrong(f"a number of seconds from {low:g} to {high:g}")
        return float(value)
    choices = pref.choices or (_themes() if pref.key == "theme" else ())
    if not isinstance(value, str) or (choices and value not in choices):
        raise Wrong("one of " + ", ".join(json.dumps(c) for c in choices) if choices
                     else "a string")
    return value


def _themes() -> tuple[str, ...]:
    """Textual's built-in themes (imported only when a theme is set)."""
    from textual.theme import BUILTIN_THEMES

    return tuple(sorted(BUILTIN_THEMES))


# -- reading the file --------------------------------------------------------------------
def read_file(path: Path) -> dict[str, object] | None:
    """The file's keys (a table's as ``table.key``: only ``alerts.*`` is known); None
    when there is no file."""
    try:
        data = read_regular(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:  # says "(at line L, column C)"
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    flat: dict[str, object] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    return flat


# The options naming a data source: the demo replaces them all.
DEMO_SOURCES = frozenset({"metrics-dir", "store", "events", "events-replay", "traces", "org",
                          "workspace", "diagnostics", "access", "hosts"})


def resolve(ctx: click.Context, path: Path | None = None,
            environ: Mapping[str, str] | None = None) -> Settings:
    """The dashboard's settings: ``ctx`` (the parsed dashboard command) over the file
    over the defaults. Raises ``ConfigError`` for a file that cannot be used."""
    path = config_path() if path is None else path
    environ = os.environ if environ is None else environ
    params = option_params(ctx.command)
    flat = read_file(path)
    given = dict(ctx.params)
    settings = Settings(path=path, options=dict(ctx.params),
                        prefs={pref.key: pref.default for pref in PREFS},
                        found=flat is not None)
    from_file: dict[str, object] = {}
    alerts: dict[str, object] = {}
    for key, value in (flat or {}).items():
        if key.startswith(alert_table.TABLE + "."):
            alerts[key.removeprefix(alert_table.TABLE + ".")] = value
            continue
        if key == alert_table.TABLE:
            settings.alert_warnings.append(f"{path}: {key}: expected a table ([alerts]), "
                                           f"got {shown(value)}; ignored")
            settings.warnings.append(settings.alert_warnings[-1])
            continue
        param, pref = params.get(key), PREF_BY_KEY.get(key)
        if param is None and pref is None:
            known = [*params, *PREF_BY_KEY]
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            settings.warnings.append(f"{path}: unknown key {key!r} ignored{hint}")
            continue
        try:
            checked = _check_option(param, value) if param else _check_pref(pref, value)
        except Wrong as exc:
            settings.warnings.append(
                f"{path}: {key}: expected {exc}, got {shown(value)}; ignored")
            continue
        from_file[key] = checked
    settings.alerts, table_warnings = alert_table.parse(alerts, path)
    settings.alert_warnings += table_warnings
    settings.warnings += table_warnings
    for key, param in params.items():
        name = param.name or key
        source = ctx.get_parameter_source(name)
        env = param.envvar if isinstance(param.envvar, str) else OPTION_ENV.get(name)
        if source is ParameterSource.COMMANDLINE:
            settings.origins[key] = "command line"
        elif source is ParameterSource.ENVIRONMENT or (env and environ.get(env)):
            settings.origins[key] = f"environment ({env})"
        elif key in from_file:
            settings.options[name] = from_file[key]
            settings.origins[key] = "config file"
        else:
            settings.origins[key] = "default"
    if settings.options.get("demo"):
        # The demo brings every source of its own: a trace store or usage store named in
        # the file must not mix real data into it (the command line still may).
        for key in DEMO_SOURCES & from_file.keys():
            param = params.get(key)
            if param is not None and settings.origins.get(key) == "config file":
                name = param.name or key
                settings.options[name] = given.get(name)
                settings.origins[key] = "default (the file's value is not used with --demo)"
    for pref in PREFS:
        if pref.key in from_file:
            settings.prefs[pref.key] = from_file[pref.key]
        settings.origins[pref.key] = "config file" if pref.key in from_file else "default"
    return settings


def configured_hosts(path: Path | None = None) -> list[str]:
    """The file's ``hosts`` for the headless commands (``ingest``, ``report``): the boxes
    the dashboard reads over ssh. A file that cannot be used gives none here (the
    dashboard says why)."""
    try:
        flat = read_file(config_path() if path is None else path) or {}
    except ConfigError:
        return []
    value = flat.get("hosts")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v.strip()]


def dashboard_settings(ctx: click.Context) -> Settings:
    """``resolve`` for starting the dashboard: a file that cannot be used ends the run
    (one line, exit 2); each ignored key is one warning line on stderr."""
    from tokentop.tui.commands.common import fail

    try:
        settings = resolve(ctx)
    except ConfigError as exc:
        fail(str(exc))
    for line in settings.warnings:
        click.echo(f"tokentop: warning: {line}", err=True)
    return settings
