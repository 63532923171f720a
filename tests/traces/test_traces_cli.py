"""``tokentop traces`` run as a real subprocess: its numbers are the store's numbers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from gateway_db import fixture_rows
from gateway_server import GatewayServer
from pg_server import free_port

from tokentop.store.traces import AnalyticsFilter, open_trace_store

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "traces", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def ok(*args: str) -> dict[str, Any]:
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def fails(*args: str) -> str:
    proc = run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokentop: "), proc.stderr
    return lines[0]


def plain(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


def test_numbers_are_the_stores(sqlite_fixture: str) -> None:
    async def expected() -> dict[str, Any]:
        store = await open_trace_store(sqlite_fixture)
        f = AnalyticsFilter(provider="openai")
        try:
            return {"usage": plain(await store.usage_summary(f)),
                    "series": plain(await store.usage_series(f, "model", "week")),
                    "latency": plain(await store.latency_percentiles(f, "route")),
                    "models": plain(await store.model_stats(AnalyticsFilter()))}
        finally:
            await store.close()

    want = asyncio.run(expected())
    summary = ok(sqlite_fixture, "--json", "summary", "--provider", "openai",
                 "--group-by", "model", "--bucket", "week")
    assert summary["backend"] == "sqlite"
    assert summary["usage"] == want["usage"]
    assert summary["series"]["usage"] == want["series"]
    latency = ok(sqlite_fixture, "latency", "--provider", "openai", "--group-by", "route")
    assert latency["latency"] == want["latency"]
    assert ok(sqlite_fixture, "models")["models"] == want["models"]


def test_list_pages_and_get(sqlite_fixture: str) -> None:
    ids: list[str] = []
    cursor: list[str] = []
    for _ in range(10):
        page = ok(sqlite_fixture, "list", "--limit", "100", "--model", "gpt-4o", *cursor)
        ids += [t["id"] for t in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert len(ids) == len(set(ids)) == sum(r.model == "gpt-4o" for r in fixture_rows())
    trace = ok(sqlite_fixture, "get", ids[0])["trace"]
    assert trace["id"] == ids[0] and trace["response_body"].startswith('{"id": "resp-')


def test_errors_exit_2_with_one_line(sqlite_fixture: str, tmp_path: Path) -> None:
    assert "invalid cursor" in fails(sqlite_fixture, "list", "--cursor", "%%%not-a-cursor")
    assert "invalid group-by 'modle'" in fails(sqlite_fixture, "latency", "--group-by", "modle")
    assert "invalid bucket 'month'" in fails(sqlite_fixture, "summary", "--bucket", "month")
    assert "trace database not found" in fails(str(tmp_path / "missing.db"), "summary")
    assert "--from is not an ISO 8601 time" in fails(sqlite_fixture, "list", "--from", "soon")
    assert "get needs a trace ID" in fails(sqlite_fixture, "get")
    assert "no trace with id 'nope'" in fails(sqlite_fixture, "get", "nope")
    assert "cannot connect to PostgreSQL" in fails(
        f"postgresql://u:pw@127.0.0.1:{free_port()}/db", "summary")


def test_postgres_gives_the_same_document(sqlite_fixture: str, pg_fixture: str) -> None:
    for args in (["summary", "--group-by", "provider", "--bucket", "hour"],
                 ["errors", "--group-by", "key"], ["keys"],
                 ["list", "--limit", "30", "--status", "200"]):
        on_sqlite = ok(sqlite_fixture, *args)
        on_pg = ok(pg_fixture, *args)
        assert on_pg.pop("backend") == "postgresql"
        on_sqlite.pop("backend")
        on_sqlite.pop("store")
        on_pg.pop("store")
        assert on_sqlite == on_pg, args


@pytest.mark.parametrize("source", ["url", "file"])
def test_diagnostics(source: str, tmp_path: Path) -> None:
    with GatewayServer() as gw:
        if source == "file":
            path = tmp_path / "diag.json"
            path.write_text(json.dumps(gw.body))
            target = str(path)
        else:
            target = gw.url
        doc = ok(target, "--json", "diagnostics")["diagnostics"]
    assert doc["high_watermark_pressure"] == "elevated"
    assert doc["write_failures_by_class"] == {"connection": 4, "timeout": 1}
    assert "diagnostics file not found" in fails(str(tmp_path / "x.json"), "diagnostics")


def test_latency_cache_modes_give_the_same_numbers(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """auto (a file on SQLite), a second run reading that file, memory and off: one answer;
    only file modes leave a cache behind, in $XDG_STATE_HOME/tokentop."""
    from gateway_db import write_sqlite

    db = tmp_path / "gw.db"
    write_sqlite(db, fixture_rows())
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    cache_dir = state / "tokentop" / "trace-latency"
    answers = [ok(str(db), "--json", "latency", "--group-by", "model",
                  "--latency-cache", mode) for mode in ("memory", "off")]
    assert not cache_dir.exists()
    answers += [ok(str(db), "--json", "latency", "--group-by", "model") for _ in range(2)]
    assert len(list(cache_dir.glob("*.db"))) == 1
    assert all(a == answers[0] for a in answers)
    assert sum(s["request_count"] for s in answers[0]["latency"]) > 200
    assert "'disk' is not one of" in run(str(db), "--json", "latency", "--latency-cache",
                                   "disk").stderr
