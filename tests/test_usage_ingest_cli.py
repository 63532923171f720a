"""``tokentop ingest`` when no agent has written logs where tokentop looks (issue 17,
defect 12): it names every agent and the places it looked in, and says none was found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.tui.commands.ingest import ingest


@pytest.fixture
def bare_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without any agent's logs, every agent variable unset."""
    from tokentop.store.usage.agents import locations

    for loc in locations():
        for var in loc.env:
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    return tmp_path


def test_nothing_found_names_where_it_looked(bare_home: Path) -> None:
    result = CliRunner().invoke(ingest, [])
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "tokentop: no agent logs found; looked in:" in err
    assert f"{bare_home / '.claude' / 'projects'}" in err
    assert f"{bare_home / '.codex' / 'sessions'}" in err and "(CODEX_HOME)" in err
    for label in ("Claude Code", "Codex", "Gemini CLI", "OpenCode", "Kimi CLI"):
        assert f"  {label} " in err
    assert "store: 0 inserted" in result.stdout  # the counts stay on stdout


def test_given_directories_are_the_ones_named(bare_home: Path) -> None:
    claude = bare_home / "elsewhere"
    claude.mkdir()
    codex = bare_home / "cx"
    codex.mkdir()
    result = CliRunner().invoke(ingest, ["--claude-dir", str(claude), "--codex-dir",
                                         str(codex), "--json"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays one JSON line
    assert f"{claude / 'projects'}" in result.stderr and f"{codex}  (CODEX_HOME)" in result.stderr


def test_logs_found_says_nothing_more(bare_home: Path) -> None:
    project = bare_home / ".claude" / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    (project / "s.jsonl").write_text("{}\n")
    result = CliRunner().invoke(ingest, [])
    assert result.exit_code == 0, result.output
    assert "no agent logs found" not in result.stderr
