"""``tokentop collect --install/--uninstall/--status`` (issue 18, part 5).

Real files under a temporary HOME and XDG_CONFIG_HOME; ``systemctl``, ``launchctl`` and
``crontab`` are executables of the test's own, first (and alone) on PATH, which record
their arguments in a file; the fake ``crontab`` keeps the crontab in a file as the real
one keeps it in its spool (``crontab -l`` without one fails with "no crontab for").
"""

from __future__ import annotations

import plistlib
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.tui.cli import main

SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >> "{log}"
case "$*" in
  *show-environment*) exit {user_manager};;
  *is-active*) echo active;;
esac
exit 0
"""
LAUNCHCTL = """#!/bin/sh
echo "launchctl $*" >> "{log}"
exit 0
"""
CRONTAB = """#!/bin/sh
echo "crontab $*" >> "{log}"
if [ "$1" = "-l" ]; then
  if [ -f "{tab}" ]; then /bin/cat "{tab}"; exit 0; fi
  echo "no crontab for tester" >&2; exit 1
fi
if [ "$1" = "-" ]; then /bin/cat > "{tab}"; exit 0; fi
exit 2
"""


class Box:
    """A home, its config dir, and the tools on its PATH."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = root / "home"
        self.config = root / "config"
        self.bin = root / "bin"
        self.log = root / "calls.log"
        self.tab = root / "crontab.txt"
        for d in (self.home, self.config, self.bin):
            d.mkdir()
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(self.config))
        monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))
        monkeypatch.setenv("PATH", str(self.bin))
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root / "claude dir"))

    def tool(self, name: str, script: str, **fmt: object) -> None:
        path = self.bin / name
        path.write_text(script.format(log=self.log, tab=self.tab, **fmt))
        path.chmod(0o755)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def run(self, *args: str) -> tuple[int, str, str]:
        r = CliRunner().invoke(main, ["collect", *args])
        return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    return Box(tmp_path, monkeypatch)


def test_systemd_install_idempotent_status_uninstall(box: Box) -> None:
    box.tool("systemctl", SYSTEMCTL, user_manager=0)
    units = box.config / "systemd" / "user"
    units.mkdir(parents=True)
    (units / "mine.service").write_text("[Service]\nExecStart=/bin/true\n")
    code, out, err = box.run("--install")  # auto: the user manager answers
    assert code == 0, err
    service = (units / "tokentop-collect.service").read_text()
    timer = (units / "tokentop-collect.timer").read_text()
    assert f"ExecStart={sys.executable} -m tokentop.tui.cli ingest\n" in service
    assert "Type=oneshot" in service
    # a variable that moves Claude Code's logs goes with the job, quoted for systemd
    assert f'Environment="CLAUDE_CONFIG_DIR={box.home.parent / "claude dir"}"' in service
    assert "OnCalendar=*:0/5\nPersistent=true\nUnit=tokentop-collect.service" in timer
    assert "WantedBy=timers.target" in timer
    assert box.calls() == ["systemctl --user show-environment",
                           "systemctl --user show-environment",
                           "systemctl --user daemon-reload",
                           "systemctl --user enable --now tokentop-collect.timer"]
    assert f"wrote {units / 'tokentop-collect.timer'}" in out

    box.log.unlink()
    code, out, _ = box.run("--install")
    assert code == 0
    assert out.count("unchanged ") == 2 and "wrote" not in out
    assert (units / "tokentop-collect.service").read_text() == service

    code, out, _ = box.run("--status")
    assert code == 0
    assert f"systemd: {units / 'tokentop-collect.service'}" in out
    assert "systemd timer: active" in out
    assert "last ingest: never" in out

    box.log.unlink()
    code, out, _ = box.run("--uninstall")
    assert code == 0
    assert not (units / "tokentop-collect.service").exists()
    assert not (units / "tokentop-collect.timer").exists()
    assert (units / "mine.service").exists()  # not ours: kept
    assert "systemctl --user disable --now tokentop-collect.timer" in box.calls()
    assert box.calls()[-1] == "systemctl --user daemon-reload"
    code, out, _ = box.run("--uninstall")
    assert out == "nothing of tokentop collect is installed\n"


def test_systemd_without_a_user_manager_says_what_to_run(box: Box) -> None:
    box.tool("systemctl", SYSTEMCTL, user_manager=1)
    code, out, _ = box.run("--install", "--method", "systemd")
    assert code == 0
    assert (box.config / "systemd" / "user" / "tokentop-collect.timer").exists()
    assert out.splitlines()[-1] == (
        "no systemd user manager answers here; run: systemctl --user daemon-reload"
        " && systemctl --user enable --now tokentop-collect.timer")
    assert "systemctl --user enable --now tokentop-collect.timer" not in box.calls()


def test_cron_keeps_every_other_line(box: Box) -> None:
    box.tool("crontab", CRONTAB)
    others = ["MAILTO=me@example.com", "# nightly backup",
              "0 3 * * * /usr/local/bin/backup # tokentop-collect is not at the end",
              "*/5 * * * * tokentop ingest"]
    box.tab.write_text("\n".join(others) + "\n")
    code, out, err = box.run("--install")  # auto: no systemctl, a crontab
    assert code == 0, err
    lines = box.tab.read_text().splitlines()
    assert lines[:4] == others
    ours = lines[4]
    assert ours.startswith("*/5 * * * * env ")
    assert ours.endswith(" >/dev/null 2>&1 # tokentop-collect")
    words = shlex.split(ours.split(" >/dev/null")[0])
    assert words[5:7] == ["env", f"CLAUDE_CONFIG_DIR={box.home.parent / 'claude dir'}"]
    assert words[-4:] == [sys.executable, "-m", "tokentop.tui.cli", "ingest"]

    code, out, _ = box.run("--install")
    assert out == "crontab line unchanged\n"
    assert box.tab.read_text().splitlines() == lines

    code, out, _ = box.run("--install", "--every", "10")
    new = box.tab.read_text().splitlines()
    assert new[:4] == others and len(new) == 5 and new[4].startswith("*/10 * * * * ")

    code, out, _ = box.run("--status")
    assert f"cron: {new[4]}" in out

    code, out, _ = box.run("--uninstall")
    assert code == 0
    assert box.tab.read_text().splitlines() == others
    assert out == f"remove crontab line: {new[4]}\n"


def test_cron_for_a_user_without_a_crontab(box: Box) -> None:
    box.tool("crontab", CRONTAB)
    code, _, err = box.run("--install", "--method", "cron", "--store", "~/s.db")
    assert code == 0, err
    (line,) = box.tab.read_text().splitlines()
    assert f"ingest --store {box.home / 's.db'} >/dev/null" in line


def test_launchd_agent(box: Box) -> None:
    box.tool("launchctl", LAUNCHCTL)
    code, _, err = box.run("--install", "--method", "launchd")
    assert code == 0, err
    path = box.home / "Library" / "LaunchAgents" / "tokentop.collect.plist"
    doc = plistlib.loads(path.read_bytes())
    assert doc["Label"] == "tokentop.collect"
    assert doc["ProgramArguments"] == [sys.executable, "-m", "tokentop.tui.cli", "ingest"]
    assert doc["StartInterval"] == 300 and doc["RunAtLoad"] is True
    assert doc["EnvironmentVariables"]["CLAUDE_CONFIG_DIR"] == str(box.home.parent / "claude dir")
    assert Path(doc["StandardOutPath"]).parent.is_dir()
    assert box.calls()[-1] == f"launchctl load -w {path}"
    code, _, _ = box.run("--uninstall")
    assert code == 0 and not path.exists()
    assert box.calls()[-1] == f"launchctl unload -w {path}"


def test_dry_run_writes_and_runs_nothing(box: Box) -> None:
    box.tool("systemctl", SYSTEMCTL, user_manager=0)
    code, out, _ = box.run("--install", "--method", "systemd", "--dry-run")
    assert code == 0
    assert f"would write {box.config / 'systemd' / 'user' / 'tokentop-collect.service'}:" in out
    assert "would run: systemctl --user enable --now tokentop-collect.timer" in out
    assert not (box.config / "systemd").exists()
    assert box.calls() == []


def test_no_scheduler_one_line(box: Box) -> None:
    code, out, err = box.run("--install")
    assert code == 2 and out == ""
    assert err.startswith("tokentop: no systemd user manager and no crontab here: run '")
    assert err.endswith("ingest' every 5 minutes from your scheduler\n")


def test_status_says_when_ingest_last_ran(box: Box) -> None:
    r = CliRunner().invoke(main, ["ingest"])  # a home without agent logs: 0 events
    assert r.exit_code == 0, r.output
    code, out, _ = box.run("--status")
    assert code == 0
    assert "not installed (tokentop collect --install)" in out
    last = out.splitlines()[-1]
    assert last.startswith("last ingest: 20") and " UTC (" in last
    assert "s ago), 0 events inserted" in last


def test_scheduler_quoting() -> None:
    """A path with a space, %, $ or a quote reaches the job as it was: systemd reads
    % as a specifier and $ as a variable on ExecStart; cron ends the command at %."""
    from tokentop.tui.commands import collect_schedule as sched

    argv = ["/opt/my py/python", "-m", "tokentop.tui.cli", "ingest", "--store",
            "/d/100%/$HOME/it's.db"]
    service = sched.systemd_plan(argv, {"XDG_STATE_HOME": "/s/50%"}, 5).files
    text = next(t for p, t in service.items() if p.suffix == ".service")
    assert ('ExecStart="/opt/my py/python" -m tokentop.tui.cli ingest --store'
            ' "/d/100%%/$$HOME/it\'s.db"\n') in text
    assert "Environment=XDG_STATE_HOME=/s/50%%\n" in text
    line = sched.cron_line(argv, {}, 5)
    assert "/d/100\\%/" in line and "%" not in line.replace("\\%", "")
    assert shlex.split(line[len("*/5 * * * * "):].split(" >/dev/null")[0].replace(
        "\\%", "%")) == argv
