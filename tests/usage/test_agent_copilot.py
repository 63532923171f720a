"""GitHub Copilot CLI (``store/usage/agents/copilot.py``): session logs and the OTel
export into the store, and the daily report against ccusage's on the same files.

Fixtures (``fixtures/copilot``, sources in its README.md): a real Copilot CLI session
log committed in amichne/kast (``SessionExportHookTest.kt``), ccusage's own Copilot OTel
tests (ryoppippi/ccusage ``rust/crates/ccusage/src/adapter/copilot/loader.rs``), and
logs generated in those shapes: a session resumed twice (shutdowns that grow, one that
grows nothing, a tool call whose command names ``session.shutdown``, a half-written
line), a session both logs record, an agent-turn record, a copy of an OTel file.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from opencode_support import both_daily, by_date, isolated_env

from tokentop.store.usage.agents import copilot
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore

FIXTURES = Path(__file__).parent / "fixtures" / "copilot"
TOKEN_KEYS = ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
RESUMED = "7e1f0c2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"
DUPE_MTIME = 1775952000  # 2026-04-12T00:00:00Z: ccusage's dupe test has no span times


def make_home(tmp: Path) -> Path:
    home = tmp / "copilot-home"
    shutil.copytree(FIXTURES / "home", home)
    os.utime(home / "otel" / "ccusage-dupe.jsonl", (DUPE_MTIME, DUPE_MTIME))
    return home


def collect(store: UsageStore, tmp: Path, otel: list[Path] | None = None):  # type: ignore[no-untyped-def]
    agents = list(copilot.AGENTS)
    if otel is not None:
        agents[1] = dataclasses.replace(copilot.COPILOT_OTEL, roots=lambda: otel)
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=agents)


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, substr(occurred_at, 1, 19), session_id, workspace_id, model_raw,"
        " input_tokens, output_tokens, reasoning_tokens, cache_write_tokens,"
        " cache_read_tokens FROM usage_events WHERE agent_name = 'copilot_cli'")}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = make_home(tmp_path)
    monkeypatch.setenv("COPILOT_HOME", str(home))
    monkeypatch.delenv("COPILOT_OTEL_FILE_EXPORTER_PATH", raising=False)
    return home


def test_locations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COPILOT_HOME", raising=False)
    monkeypatch.delenv("COPILOT_OTEL_FILE_EXPORTER_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert copilot.session_roots() == [tmp_path / ".copilot" / "session-state"]
    assert copilot.otel_roots() == [tmp_path / ".copilot" / "otel"]
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("COPILOT_OTEL_FILE_EXPORTER_PATH", str(tmp_path / "x" / "o.json"))
    assert copilot.session_roots() == [tmp_path / "c" / "session-state"]
    assert copilot.otel_roots() == [tmp_path / "c" / "otel", tmp_path / "x" / "o.json"]


def test_shutdown_growth_and_otel_calls(home: Path, tmp_path: Path) -> None:
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path)
        got = rows(store)
    counts = report.agents["copilot"]
    assert counts.files == 5 and counts.malformed == 1  # the half-written shutdown
    assert counts.skipped == {"shutdown with no new tokens": 1,
                              "recorded again by a higher OTel record": 2,
                              "counted by the session's shutdown": 1}
    # amichne/kast's real session: one shutdown, cwd from session.start
    kast = "c5b0a991-bfeb-4fd2-b903-48389a066c4b"
    assert got[f"{kast}:session-shutdown:gpt-5.4-mini"] == (
        "2026-04-23T19:49:00", kast, "/home/u/workspace", "gpt-5.4-mini", 10, 10, 0, 0, 0)
    # input without the cache; reasoning is part of the output
    first = got[f"{RESUMED}:0b1c2d3e-0004-4000-8000-000000000004:claude-sonnet-4.5"]
    assert first[4:] == (41250 - 30720 - 6144, 1830, 412, 6144, 30720)
    # the second process: what grew since the first shutdown, per model and field
    second = f"{RESUMED}:0b1c2d3e-0006-4000-8000-000000000006:"
    assert got[second + "claude-sonnet-4.5"][4:] == (
        (60000 - 48000 - 6144) - 4386, 2500 - 1830, 88, 0, 48000 - 30720)
    assert got[second + "gpt-5-mini"][4:] == (2000, 100, 64, 0, 1000)
    # OTel: ccusage's chat span (input minus the cache read), its total-only span
    assert got["otel:trace-1:span-1"] == (
        "2026-04-11T19:04:24", "conv-1", None, "claude-sonnet-4", 19329, 281, 128, 25, 123)
    assert got["otel:trace-2:span-2"][3:7] == ("test-model", 0, 567, 0)  # total only
    # of the invoke_agent span, the inference log and the chat span: the chat span
    assert got["otel:trace-dupe:chat-1"][:1] + got["otel:trace-dupe:chat-1"][4:6] == (
        "2026-04-12T00:00:00", 60, 10)
    assert got["otel:agent-turn:conv-turns:3:3"][4:] == (1000, 400, 64, 0, 4000)
    # conv-covered is in both logs: its shutdown counts, its span does not
    assert [k for k, v in got.items() if v[1] == "conv-covered"] == [
        "conv-covered:cc-2:claude-sonnet-4"]
    # a total beyond the parts (reasoning not among them): 50 extra output
    assert got["otel:trace-x:span-x"][4:] == (100, 50 + 50, 30, 0, 0)
    assert len(got) == 10


def test_a_second_run_reads_nothing_and_a_new_shutdown_counts_its_growth(
        home: Path, tmp_path: Path) -> None:
    log = home / "session-state" / RESUMED / "events.jsonl"
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path)
        again = collect(store, tmp_path)
        assert again.bytes_read == 0 and again.ingest.inserted == 0
        with open(log, "ab") as fh:  # a third resume (after the half-written line)
            fh.write(b'{"type":"session.shutdown","data":{"modelMetrics":{"gpt-5-mini":'
                     b'{"requests":{"count":3},"usage":{"inputTokens":3500,"outputTokens":'
                     b'130,"cacheReadTokens":1200,"cacheWriteTokens":0}}}},"id":"late",'
                     b'"timestamp":"2026-05-30T10:00:00.000Z"}\n')
        third = collect(store, tmp_path)  # resumes mid-file: prime() rebuilds the totals
        assert third.ingest.inserted == 1
        assert rows(store)[f"{RESUMED}:late:gpt-5-mini"][4:] == (300, 30, 0, 0, 200)


def test_an_otel_copy_counts_once(home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    shutil.copytree(FIXTURES / "extra", extra)
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, otel=[home / "otel", extra])
        n = store.conn.execute("SELECT COUNT(*) FROM usage_events WHERE message_id LIKE"
                               " 'otel:trace-%:span-%'").fetchone()[0]
    assert n == 3  # trace-1, trace-2 (copied) and trace-x, once each; not conv-covered


def test_nothing_is_written_to_copilots_files(home: Path, tmp_path: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in home.rglob("*.jsonl")}
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in home.rglob("*.jsonl")} == \
        before


# --- parity with the pinned ccusage: ``ccusage copilot daily`` on the same files


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = isolated_env(tmp, **extra)
    if "COPILOT_OTEL_FILE_EXPORTER_PATH" not in extra:  # no user export reaches either
        env.pop("COPILOT_OTEL_FILE_EXPORTER_PATH", None)
    return env


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("copilot-parity")
    home = make_home(tmp)
    return both_daily(tmp, "copilot", _env(tmp, COPILOT_HOME=str(home)))


def test_parity_tokens_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = by_date(both[0]), by_date(both[1])
    assert list(ours) == list(theirs) == [
        "2026-04-11", "2026-04-12", "2026-04-23", "2026-05-26", "2026-05-28"]
    for day, a in ours.items():
        b = theirs[day]
        assert {k: a[k] for k in TOKEN_KEYS} == {k: b[k] for k in TOKEN_KEYS}, day
        # the extra of a total beyond the parts: in ccusage's total and cost, not its
        # outputTokens; in tokentop's output_tokens
        assert a["outputTokens"] == b["outputTokens"] + (50 if day == "2026-04-12" else 0)
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), day


def test_parity_cost_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = by_date(both[0]), by_date(both[1])
    for day, a in ours.items():
        assert a["totalCost"] == pytest.approx(theirs[day]["totalCost"], rel=0.005), day


def test_parity_otel_copy(tmp_path: Path) -> None:
    """The same OTel file twice: ccusage counts it twice, tokentop once (2026-04-11:
    40,058 tokens here, 60,383 in ccusage, conv-covered's span being skipped in both)."""
    home = make_home(tmp_path)
    shutil.copy(FIXTURES / "extra" / "copy-of-spans.jsonl", home / "otel")
    ours, theirs = (by_date(d) for d in both_daily(
        tmp_path, "copilot", _env(tmp_path, COPILOT_HOME=str(home))))
    assert ours["2026-04-11"]["totalTokens"] == 40_058
    assert theirs["2026-04-11"]["totalTokens"] == 40_058 + 19_329 + 281 + 25 + 123 + 567


def test_parity_exporter_path(tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    export = tmp_path / "exports" / "copilot-otel.json"
    export.parent.mkdir()
    shutil.copy(FIXTURES / "home" / "otel" / "ccusage-spans.jsonl", export)
    ours, theirs = both_daily(tmp_path, "copilot", _env(
        tmp_path, COPILOT_HOME=str(home), COPILOT_OTEL_FILE_EXPORTER_PATH=str(export)))
    assert theirs["totals"]["totalTokens"] > 0
    assert ours["totals"]["totalTokens"] == theirs["totals"]["totalTokens"]
