"""The preferences file, ``$XDG_CONFIG_HOME/tokentop/config.toml`` (issue 17).

Real files under a temporary XDG_CONFIG_HOME; the dashboard command parsed by its real
click parser; the app started by a pilot with what the file says.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import fixed_clock

from tokentop.store.alerts.rules import RULE_BY_KEY
from tokentop.store.metrics import MetricsSource
from tokentop.tui.cli import main
from tokentop.tui.config.alerts import KEYS as ALERT_KEYS
from tokentop.tui.config.alerts import AlertSettings
from tokentop.tui.config.settings import (
    ACCESS_RANGES,
    PREFS,
    SCREENS,
    USAGE_WINDOWS,
    ConfigError,
    config_path,
    option_params,
    resolve,
)
from tokentop.tui.config.template import template


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tokentop looks, under this test's own XDG_CONFIG_HOME (not yet written)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GRIDCTL_HOME", raising=False)
    path = tmp_path / "xdg" / "tokentop" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def parsed(*args: str) -> click.Context:
    """The dashboard command line, parsed as ``tokentop ARGS`` would be."""
    return main.make_context("tokentop", list(args))


def sample(param: click.Option) -> object:
    """A valid value that is not the option's default, from its type alone: a new option
    of a type this does not know fails the walk below (and needs a config rule)."""
    kind = param.type
    if param.is_flag:
        return True
    if isinstance(kind, click.Choice):
        return [c for c in kind.choices if c != param.default][-1]
    if isinstance(kind, click.types.IntParamType):
        return (getattr(kind, "min", None) or 0) + 1
    if kind is click.STRING and param.multiple:
        return (f"user@{param.name}-1", f"{param.name}-2")  # a TOML list
    if kind is click.STRING:
        return f"/srv/{param.name}"
    raise AssertionError(f"{param.opts}: no sample for type {kind!r}")


def test_the_file_is_under_xdg_config_home(config_file: Path) -> None:
    assert config_path() == config_file


def test_no_file_means_the_defaults(config_file: Path) -> None:
    settings = resolve(parsed())
    assert not settings.found and settings.warnings == []
    assert settings.options["ring_days"] == 7 and settings.options["store"] is None
    assert settings.prefs["screen"] == "overview"
    assert set(settings.origins.values()) == {"default"}


def test_every_cli_option_is_settable_in_the_file(config_file: Path) -> None:
    """Walk the dashboard command's options: each has a key, and a value written there
    reaches the dashboard's arguments, marked as from the file."""
    params = option_params(main)
    wanted = {p.name for p in main.params if isinstance(p, click.Option) and p.expose_value}
    assert {p.name for p in params.values()} == wanted  # not one option without a key
    values = {key: sample(param) for key, param in params.items()}
    # (``demo`` on its own: with it on, the file's sources give way to the demo's)
    demo = values.pop("demo")
    config_file.write_text("".join(f"{key} = {_toml(v)}\n" for key, v in values.items()))
    settings = resolve(parsed())
    assert settings.warnings == []
    for key, value in values.items():
        assert settings.options[params[key].name] == value, key
        assert settings.origins[key] == "config file", key
    config_file.write_text(f"demo = {_toml(demo)}\n")
    settings = resolve(parsed())
    assert (settings.options["demo"], settings.origins["demo"]) == (demo, "config file")


def test_every_preference_is_settable_in_the_file(config_file: Path) -> None:
    config_file.write_text('screen = "traces"\ntheme = "nord"\nrefresh = 2\n'
                           'overview-range = "7d"\nusage-window = "month"\n'
                           'access-range = "all"\n')
    settings = resolve(parsed())
    assert settings.warnings == []
    assert settings.prefs == {"screen": "traces", "theme": "nord", "refresh": 2.0,
                              "overview-range": "7d", "usage-window": "month",
                              "access-range": "all"}
    assert settings.app_prefs() == {
        "start_screen": "traces", "theme": "nord", "refresh_seconds": 2.0,
        "start_values": {"overview": {"range_name": "7d"}, "usage": {"window": "month"},
                         "access": {"range_name": "all"}}, "notices": [],
        "alerts": AlertSettings()}


def test_command_line_beats_environment_beats_file_beats_default(
        config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config_file.write_text('ring-days = 3\npoll = true\nmetrics-dir = "/srv/file"\n'
                           'store = "~/usage.db"\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = resolve(parsed("--ring-days", "5"))
    assert (settings.options["ring_days"], settings.origins["ring-days"]) == (5, "command line")
    assert (settings.options["poll"], settings.origins["poll"]) == (True, "config file")
    assert settings.options["store"] == str(tmp_path / "usage.db")  # ~ is home
    assert settings.origins["latency-cache"] == "default"
    assert settings.options["metrics_dir"] == "/srv/file"
    # GRIDCTL_HOME, which --metrics-dir's default reads, beats the file's metrics-dir.
    monkeypatch.setenv("GRIDCTL_HOME", str(tmp_path))
    settings = resolve(parsed())
    assert settings.options["metrics_dir"] is None
    assert settings.origins["metrics-dir"] == "environment (GRIDCTL_HOME)"
    assert resolve(parsed("--metrics-dir", "/cli")).options["metrics_dir"] == "/cli"


def test_the_demo_never_mixes_in_the_files_sources(config_file: Path) -> None:
    """``tokentop --demo`` shows the demo's own sources: a real trace store named in the
    file would put real traces beside demo data. The command line still may name one."""
    config_file.write_text('traces = "/srv/real.db"\nstore = "/srv/usage.db"\n'
                           'ring-days = 3\n')
    settings = resolve(parsed("--demo"))
    assert settings.options["traces"] is None and settings.options["store"] is None
    assert settings.origins["traces"].startswith("default")
    assert settings.options["ring_days"] == 3  # not a source: the file still applies
    assert resolve(parsed("--demo", "--traces", "/cli.db")).options["traces"] == "/cli.db"
    assert resolve(parsed()).options["traces"] == "/srv/real.db"


def test_the_dashboard_runs_with_the_file(config_file: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``tokentop`` itself: the file's sources and preferences reach run_dashboard."""
    import tokentop.tui.run as run

    config_file.write_text('screen = "usage"\nstore = "/srv/usage.db"\nring-days = 2\n'
                           'metrics-dir = "/srv/telemetry"\n')
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(run, "run_dashboard", lambda **kw: calls.append(kw) or 0)
    result = CliRunner().invoke(main, ["--store", "/cli.db"])
    assert result.exit_code == 0, result.output
    (kw,) = calls
    assert kw["store"] == "/cli.db" and kw["capacity_minutes"] == 2 * 24 * 60
    assert kw["metrics_dir"] == "/srv/telemetry"
    assert kw["prefs"]["start_screen"] == "usage"


# -- a file that is wrong ------------------------------------------------------------------
def test_a_syntax_error_is_one_line_with_the_line_and_exit_2(config_file: Path) -> None:
    config_file.write_text('screen = "usage"\nrange = 24h\n')
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert str(config_file) in line and "line 2" in line and "not valid TOML" in line
    with pytest.raises(ConfigError):
        resolve(parsed())
    assert CliRunner().invoke(main, ["config"]).exit_code == 2


@pytest.mark.parametrize("content, words", [
    ("ring-days = 0\n", "ring-days: expected an integer from 1 to 90, got 0; ignored"),
    ('poll = "yes"\n', 'poll: expected true or false, got "yes"; ignored'),
    ('latency-cache = "disk"\n', 'latency-cache: expected one of "auto", "file"'),
    ("store = 3\n", "store: expected a non-empty string, got 3; ignored"),
    ('screen = "home"\n', 'screen: expected one of "overview", "usage"'),
    ('theme = "neon"\n', 'theme: expected one of "ansi-dark"'),
    ("refresh = 0\n", "refresh: expected a number of seconds from 0.1 to 10, got 0"),
    ('usage-window = "2d"\n', 'usage-window: expected one of "1d"'),
    ('latency-cach = "off"\n', "unknown key 'latency-cach' ignored "
                              "(did you mean 'latency-cache'?)"),
    ('[overview]\nrange = "1h"\n', "unknown key 'overview.range' ignored "
                                    "(did you mean 'overview-range'?)"),
])
def test_a_wrong_key_is_a_warning_and_only_it_is_ignored(
        config_file: Path, content: str, words: str) -> None:
    config_file.write_text("events-replay = true\n" + content)
    settings = resolve(parsed())
    (warning,) = settings.warnings
    assert warning.startswith(f"{config_file}: ") and words in warning
    assert settings.options["events_replay"] is True  # the rest of the file still counts
    assert settings.options["ring_days"] == 7 and settings.prefs["refresh"] == 0.25


def test_warnings_go_to_stderr_and_the_dashboard_still_starts(
        config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tokentop.tui.run as run

    config_file.write_text("ring-days = 0\n")
    monkeypatch.setattr(run, "run_dashboard", lambda **kw: 0)
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0
    assert result.stderr.startswith("tokentop: warning: ") and "Traceback" not in result.output


def test_an_unreadable_file_is_one_line(config_file: Path) -> None:
    config_file.write_bytes(b'store = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        resolve(parsed())
    config_file.unlink()
    config_file.mkdir()
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2 and "cannot read" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# -- tokentop config -----------------------------------------------------------------------
def test_config_shows_each_setting_and_where_it_came_from(config_file: Path) -> None:
    config_file.write_text('traces = "postgresql://me:hunter2@db/gw"\n'
                           'usage-window = "7d"\n')
    result = CliRunner().invoke(main, ["--ring-days", "4", "config"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"config file: {config_file}"
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["usage-window"] == ["7d", "config", "file"]
    assert rows["ring-days"] == ["4", "command", "line"]
    assert rows["screen"] == ["overview", "default"]
    assert rows["traces"][0] == "postgresql://me:***@db/gw"  # never the password
    assert "hunter2" not in result.output
    assert {k for k in rows if not k.startswith("alerts.")} == \
        {p.key for p in PREFS} | set(option_params(main))
    assert rows["alerts.*"] == ["-", "default", "(no", "threshold:", "no", "alerts)"]
    assert rows["alerts.bell"] == ["true", "default"]


def test_config_path_and_init(config_file: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["config", "--path"]).stdout == f"{config_file}\n"
    assert "none yet" in runner.invoke(main, ["config"]).stdout
    result = runner.invoke(main, ["config", "--init"])
    assert result.exit_code == 0 and str(config_file) in result.stdout
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    written = config_file.read_text()
    # every line a comment but the (empty) [alerts] header: it changes nothing
    assert tomllib.loads(written) == {"alerts": {}}
    config_file.write_text(written + "# mine\n")
    again = runner.invoke(main, ["config", "--init"])
    assert again.exit_code == 2 and "exists" in again.stderr
    assert config_file.read_text().endswith("# mine\n")  # never overwritten


def test_the_template_names_every_key_and_each_line_is_valid(config_file: Path) -> None:
    """Uncomment every ``# key = value`` line of the template: the file sets every key
    there is, with no warning (the defaults and the shape of each value are right)."""
    text = template(main)
    uncommented = re.sub(r"^# ([a-z0-9-]+ = .*)$", r"\1", text, flags=re.MULTILINE)
    config_file.write_text(uncommented)
    settings = resolve(parsed())
    assert settings.warnings == []
    assert {k for k, o in settings.origins.items() if o == "config file"} == \
        {p.key for p in PREFS} | set(option_params(main))
    assert set(settings.alerts.thresholds) == set(RULE_BY_KEY)
    assert settings.alerts.given == set(ALERT_KEYS)


def test_the_spelt_out_choices_match_the_screens() -> None:
    """The file is read without Textual, so the choices are spelt out: kept equal here."""
    from tokentop.store.usage.read import WINDOWS
    from tokentop.tui.screens import screen_specs
    from tokentop.tui.screens.access import RANGES
    from tokentop.tui.widgets.range_bar import RANGE_CHOICES

    assert tuple(spec.mode for spec in screen_specs()) == SCREENS
    assert USAGE_WINDOWS == WINDOWS and ACCESS_RANGES == RANGES
    overview = next(p for p in PREFS if p.key == "overview-range")
    assert overview.choices == tuple(name for name, _ in RANGE_CHOICES)


# -- the app starts where the file says ----------------------------------------------------
async def test_the_app_starts_at_the_configured_screen_range_and_theme(
        config_file: Path, tree: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentop.tui.app import TokentopApp
    from tokentop.tui.widgets.range_bar import RangeBar
    from tokentop.tui.widgets.window_bar import WindowBar

    config_file.write_text('screen = "usage"\ntheme = "nord"\nrefresh = 1.5\n'
                           'usage-window = "7d"\noverview-range = "24h"\n'
                           'access-range = "6h"\nring-days = 0\n')
    prefs = resolve(parsed()).app_prefs()
    monkeypatch.chdir(tree.root.parent)
    app = TokentopApp(MetricsSource(tree.root.name, clock=fixed_clock), clock=fixed_clock,
                      follow=False, **prefs)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.current_mode == "usage" and app.theme == "nord"
        assert app.refresh_seconds == 1.5
        (note,) = app._notifications  # the ignored key, said on screen too (not markup)
        assert "ring-days: expected an integer from 1 to 90, got 0; ignored" in note.message
        assert app.screen.window == "7d"
        assert app.screen.query_one(WindowBar).value == "7d"
        await pilot.press("1")
        await pilot.pause()
        assert app.current_mode == "overview" and app.screen.range_name == "24h"
        assert app.screen.query_one(RangeBar).value == "24h"
        await pilot.press("r")  # still the user's to change
        await pilot.pause()
        assert app.screen.range_name == "7d"
        await pilot.press("5")
        await pilot.pause()
        assert app.current_mode == "access" and app.screen.range_name == "6h"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def test_fixture_isolates_the_real_home() -> None:
    """conftest points XDG_CONFIG_HOME away from the developer's own file."""
    assert not str(config_path()).startswith(os.path.expanduser("~/.config"))


# -- the [alerts] table ------------------------------------------------------------------
def test_the_alerts_table_sets_thresholds_and_delivery(config_file: Path) -> None:
    config_file.write_text('ring-days = 3\n[alerts]\ncost-per-day = 20\nburn-rate = 4.5\n'
                           'quota-percent = 90\nbell = false\n'
                           'command = "notify-me --to \'ops team\'"\ncheck-seconds = 10\n')
    settings = resolve(parsed())
    assert settings.warnings == []
    assert settings.options["ring_days"] == 3  # top-level keys before the table still count
    alerts = settings.alerts
    assert alerts.thresholds == {"cost-per-day": 20.0, "burn-rate": 4.5, "quota-percent": 90.0}
    assert (alerts.bell, alerts.desktop, alerts.check_seconds) == (False, True, 10.0)
    assert alerts.command == ("notify-me", "--to", "ops team")  # split, never a shell
    assert settings.app_prefs()["alerts"] is alerts


@pytest.mark.parametrize(("line", "warning"), [
    ("cost-per-day = -1", "alerts.cost-per-day: expected a number above 0, got -1; ignored"),
    ('burn-rate = "5"', 'alerts.burn-rate: expected a number above 0, got "5"; ignored'),
    ("quota-percent = 150",
     "alerts.quota-percent: expected a number above 0 and at most 100, got 150; ignored"),
    ("error-rate = true",
     "alerts.error-rate: expected a number above 0 and at most 100, got true; ignored"),
    ("bell = 1", "alerts.bell: expected true or false, got 1; ignored"),
    ("command = []", "alerts.command: expected a program to run, not an empty command"),
    ("command = [1, 2]", "alerts.command: expected a list of strings"),
    ("check-seconds = 1", "alerts.check-seconds: expected a number of seconds from 5 to 3600"),
    ("cost-per-dya = 3", "unknown key 'alerts.cost-per-dya' ignored (did you mean "
                         "'alerts.cost-per-day'?)"),
])
def test_a_bad_alert_value_is_one_warning_and_only_that_key_is_ignored(
        config_file: Path, line: str, warning: str) -> None:
    config_file.write_text(f"[alerts]\n{line}\np95-latency = 800\n")
    settings = resolve(parsed())
    (found,) = settings.warnings
    assert found.startswith(f"{config_file}: ") and warning in found
    assert "\n" not in found
    assert settings.alerts.thresholds == {"p95-latency": 800.0}  # the rest still counts


def test_alerts_that_is_not_a_table_is_one_warning(config_file: Path) -> None:
    config_file.write_text("alerts = 5\n")
    settings = resolve(parsed())
    assert settings.warnings == [
        f"{config_file}: alerts: expected a table ([alerts]), got 5; ignored"]
    assert not settings.alerts.enabled


def test_config_lists_the_alert_thresholds(config_file: Path) -> None:
    config_file.write_text("[alerts]\ncost-per-block = 12.5\ncommand = ['x', '-y']\n")
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[2:]}
    assert rows["alerts.cost-per-block"] == ["12.5", "config", "file"]
    assert rows["alerts.command"] == ["x", "-y", "config", "file"]
    assert rows["alerts.desktop"] == ["true", "default"]

def test_hosts_is_a_list_in_the_file(config_file: Path) -> None:
    """``--host`` is repeatable: the file names it in the plural, a list of strings (a
    lone string is one host); the headless commands read the same key."""
    from tokentop.tui.config.settings import configured_hosts

    config_file.write_text('hosts = ["alice@gpu1", "build"]\n')
    settings = resolve(parsed())
    assert settings.options["hosts"] == ("alice@gpu1", "build") and not settings.warnings
    assert configured_hosts() == ["alice@gpu1", "build"]
    config_file.write_text('hosts = "gpu1"\n')
    assert resolve(parsed()).options["hosts"] == ("gpu1",)
    config_file.write_text("hosts = [1, 2]\n")
    settings = resolve(parsed())
    assert settings.options["hosts"] == () and "a list of non-empty strings" in settings.warnings[0]
    assert configured_hosts() == []
