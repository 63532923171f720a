"""``--store postgresql://...`` from the command line, on the real PostgreSQL of
tests/conftest.py: two ``tokentop ingest`` processes at once over overlapping logs store
each event once; reports over the team store print what they print over a SQLite store
of the same logs; a second ingest changes nothing; an unreachable server, a missing
database or a malformed URL is one line and exit 2, the password never printed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _corpus_module() -> ModuleType:
    """tests/usage/claude_corpus.py, loaded by path: putting tests/usage on sys.path
    would make a later ``from conftest import ...`` find tests/usage/conftest.py."""
    path = Path(__file__).parent / "usage" / "claude_corpus.py"
    spec = importlib.util.spec_from_file_location("claude_corpus", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.get("claude_corpus") or importlib.util.module_from_spec(spec)
    if "claude_corpus" not in sys.modules:
        sys.modules["claude_corpus"] = module
        spec.loader.exec_module(module)
    return module


write_corpus = _corpus_module().write_corpus

TOKENTOP = str(Path(sys.executable).parent / "tokentop")


def _env(home: Path, claude: Path) -> dict[str, str]:
    """A machine: its own home and state, and only the Claude logs given."""
    from tokentop.store.usage.agents import locations

    env = {k: v for k, v in os.environ.items()
           if k not in {var for loc in locations() for var in loc.env}}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               CLAUDE_CONFIG_DIR=str(claude), CODEX_HOME=str(home / "codex"), TZ="UTC")
    home.mkdir(parents=True, exist_ok=True)
    return env


def _tokentop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TOKENTOP, *args], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The whole corpus, and two overlapping halves: A every main session and half the
    subagent files, B every subagent file and every other main session."""
    base = tmp_path_factory.mktemp("team-logs")
    corpus = base / "all"
    write_corpus(corpus, seed=11, days=3, sessions=16, line_kb=(1, 2))
    a, b = base / "a", base / "b"
    for i, f in enumerate(sorted(corpus.rglob("*.jsonl"))):
        sub = "subagents" in f.parts
        for root, wanted in ((a, not sub or i % 2 == 0), (b, sub or i % 2 == 0)):
            if wanted:
                dest = root / f.relative_to(corpus)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, dest)
    return corpus, a, b


def _sums(doc: dict) -> tuple:
    t = doc["totals"]
    return (t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"],
            t["cacheReadTokens"], round(t["totalCost"], 6))


def test_two_ingesters_at_once_then_reports_equal_sqlite(pg_server, tmp_path, logs):
    corpus, a, b = logs
    url = pg_server.create_database("cli")
    envs = [_env(tmp_path / "a", a), _env(tmp_path / "b", b)]
    procs = [subprocess.Popen([TOKENTOP, "ingest", "--store", url, "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for env in envs]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert json.loads(out)["team"]["sent"] > 0

    local = _env(tmp_path / "local", corpus)
    db = str(tmp_path / "local.db")
    assert _tokentop(local, "ingest", "--store", db).returncode == 0
    reader = _env(tmp_path / "reader", tmp_path / "no-logs")
    for kind in ("daily", "monthly", "session", "blocks"):
        want = _tokentop(local, "report", kind, "--json", "--store", db, "--no-ingest")
        got = _tokentop(reader, "report", kind, "--json", "--store", url, "--no-ingest")
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout) == json.loads(want.stdout), kind
    daily = json.loads(_tokentop(reader, "report", "daily", "--json", "--store", url,
                                 "--no-ingest").stdout)
    assert daily["daily"] and _sums(daily)[0] > 0

    # each machine again: nothing new, nothing written
    for env in envs:
        again = _tokentop(env, "ingest", "--store", url, "--json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["team"] == {
            "store": url, "sent": 0, "written": 0}
    table = _tokentop(envs[0], "ingest", "--store", url)
    assert f"team store {url}: 0 sent, 0 new or changed" in table.stdout


def test_a_report_collects_this_machine_first(pg_server, tmp_path, logs):
    corpus, _a, _b = logs
    url = pg_server.create_database("cli")
    env = _env(tmp_path / "m", corpus)
    got = _tokentop(env, "report", "daily", "--json", "--store", url)
    assert got.returncode == 0, got.stderr
    db = str(tmp_path / "local.db")
    want = _tokentop(env, "report", "daily", "--json", "--store", db)
    assert json.loads(got.stdout) == json.loads(want.stdout)
    assert json.loads(got.stdout)["daily"]


@pytest.mark.parametrize("kind", ["down", "no-db", "bad-url"])
def test_failures_are_one_line_exit_2_password_masked(pg_server, tmp_path, kind):
    from pg_server import free_port

    url = {"down": f"postgresql://bob:s3cret@127.0.0.1:{free_port()}/team",
           "no-db": f"postgresql://postgres:s3cret@127.0.0.1:{pg_server.port}/nope",
           "bad-url": "postgresql://bob:s3cret@127.0.0.1:notaport/team"}[kind]
    env = _env(tmp_path / "m", tmp_path / "no-logs")
    for args in (["ingest", "--store", url], ["report", "daily", "--store", url],
                 ["report", "session", "--store", url, "--no-ingest"]):
        r = _tokentop(env, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tokentop: "), r.stderr
        assert "Traceback" not in r.stderr and "s3cret" not in r.stderr + r.stdout
        assert "***" in lines[0]


def test_statusline_collect_db_and_watch_on_a_team_url(pg_server, tmp_path, logs):
    corpus, _a, _b = logs
    url = pg_server.create_database("cli")
    secret = url.replace("postgres@", "postgres:s3cret@")  # trust auth: any password
    env = _env(tmp_path / "m", corpus)
    assert _tokentop(env, "report", "daily", "--store", secret).returncode == 0
    db = str(tmp_path / "local.db")
    assert _tokentop(env, "ingest", "--store", db).returncode == 0
    # the statusline reads the replica the report pulled (no network): the local line
    at = "2026-11-18T12:00:00Z"
    line = _tokentop(env, "statusline", "--store", secret, "--at", at, "--no-color")
    want = _tokentop(env, "statusline", "--store", db, "--at", at, "--no-color")
    assert line.returncode == 0 and line.stdout == want.stdout and "$" in line.stdout
    # the scheduled job ingests into the team store; --status reads this machine's cache
    plan = _tokentop(env, "collect", "--install", "--method", "cron", "--dry-run",
                     "--store", url)
    assert plan.returncode == 0, plan.stderr
    assert f"--store {url}" in plan.stdout
    assert _tokentop(env, "ingest", "--store", secret).returncode == 0  # records its time
    status = _tokentop(env, "collect", "--status", "--store", url)
    assert "events inserted" in status.stdout
    for args in (["db", "--store", secret, "check"],
                 ["watch", "--store", secret, "--set", "cost-per-day=5"]):
        r = _tokentop(env, *args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "s3cret" not in r.stderr and "team store" in r.stderr


def test_two_ingesters_held_then_released_together(pg_server, tmp_path, logs):
    """Both processes are made to reach the INSERT before either may run it (a SHARE
    lock on the table until both wait on it): the database, not timing, keeps one row
    per event while the two write the same keys at once."""
    import asyncio

    import asyncpg

    corpus, a, b = logs
    url = pg_server.create_database("cli")
    envs = [_env(tmp_path / "a", a), _env(tmp_path / "b", b)]
    assert _tokentop(envs[0], "report", "daily", "--store", url,
                     "--no-ingest").returncode == 0  # the tables exist

    async def race() -> list[tuple[int, str, str]]:
        blocker = await asyncpg.connect(url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE usage_events IN SHARE MODE")
            procs = [subprocess.Popen([TOKENTOP, "ingest", "--store", url, "--json"],
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for env in envs]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 120
            while loop.time() < deadline:  # both waiting on the lock: then let go
                waiting = await blocker.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'usage_events'::regclass")
                if waiting >= 2 or any(p.poll() is not None for p in procs):
                    break
                await asyncio.sleep(0.05)
            assert waiting >= 2, "the two ingesters never waited together"
            await tx.commit()
            return [(p.wait(timeout=300), *p.communicate()) for p in procs]
        finally:
            await blocker.close()

    for code, out, err in asyncio.run(race()):
        assert code == 0, err
        assert json.loads(out)["team"]["sent"] > 0
    local = _env(tmp_path / "local", corpus)
    db = str(tmp_path / "local.db")
    assert _tokentop(local, "ingest", "--store", db).returncode == 0
    reader = _env(tmp_path / "reader", tmp_path / "no-logs")
    want = _tokentop(local, "report", "session", "--json", "--store", db, "--no-ingest")
    got = _tokentop(reader, "report", "session", "--json", "--store", url, "--no-ingest")
    assert json.loads(got.stdout) == json.loads(want.stdout)
    assert _sums(json.loads(got.stdout))[0] > 0
