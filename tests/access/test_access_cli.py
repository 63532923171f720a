"""``tokentop access FILE --json``: the real command in a subprocess on real files.

Its numbers must be the screen's: both come from ``AccessLog``, so the test compares
the printed document with an ``AccessLog`` read in-process, and with numbers worked
out by hand (test_access_store's fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_access_store import fixture_events, line

from tokentop.store.access import AccessLog

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "access", *args],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


def test_prints_the_summary(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    p.write_bytes(b"".join(line(e) for e in fixture_events()) + b"{torn\n")
    res = run(str(p), "--json")
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\n") == 1 and '", "' not in res.stdout  # compact JSON
    doc = json.loads(res.stdout)
    # GetSummary's keys first (a script written for /access-log/summary reads them) ...
    assert list(doc)[:10] == ["total_reads", "backend_reads", "cache_served_reads",
                              "total_original_tokens", "total_compressed_tokens",
                              "compression_ratio", "by_integration", "by_outcome",
                              "by_cache_source", "top_paths"]
    assert doc["total_reads"] == 6 and doc["backend_reads"] == 1
    assert doc["cache_served_reads"] == 5
    assert doc["total_original_tokens"] == 3600 and doc["total_compressed_tokens"] == 700
    assert doc["compression_ratio"] == round(700 / 3600, 6)
    assert doc["malformed"] == 1 and doc["last_malformed"].startswith(f"{p}:7: ")
    assert list(doc["by_integration"]) == ["github", "slack"]
    assert doc["by_outcome"]["cache_hit"] == 2
    assert doc["by_cache_source"]["unknown"] == 2
    assert doc["top_paths"][0] == {"path": "/github/a.go", "source_uri": "github://x",
                                   "events": 4, "total_tokens": 2600}
    # ... then tokentop's
    assert doc["tokentop_delivered_tokens"] == 1300 and doc["tokentop_tokens_saved"] == 2300
    assert doc["failed_reads"] == 1 and doc["errors"][0]["message"] == "boom"
    assert [m["reads"] for m in doc["per_minute"]] == [2, 2, 2]
    assert doc["per_minute"][0]["minute"] == "2026-05-05T12:00:00.000Z"
    same = AccessLog(p)
    same.read_all()
    assert doc == json.loads(json.dumps(same.document()))  # the screen's numbers


def test_top_limits_the_paths(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    p.write_bytes(b"".join(line(e) for e in fixture_events()))
    doc = json.loads(run(str(p), "--top", "1").stdout)
    assert [t["path"] for t in doc["top_paths"]] == ["/github/a.go"] and doc["paths"] == 2


def test_stdin() -> None:
    data = b"".join(line(e) for e in fixture_events())
    res = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "access", "-"], input=data,
                         capture_output=True, timeout=TIMEOUT, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["source"] == "<stdin>" and doc["total_reads"] == 6
    assert doc["tokentop_tokens_saved"] == 2300


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    p.write_bytes(b"")
    doc = json.loads(run(str(p), "--json").stdout)
    assert doc["total_reads"] == 0 and doc["compression_ratio"] == 0.0 and doc["first"] is None


@pytest.mark.parametrize("kind", ["missing", "directory", "unreadable"])
def test_bad_file_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "access.jsonl"
    if kind == "directory":
        p.mkdir()
    elif kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        p.write_text("{}\n")
        p.chmod(0)
    res = run(str(p), "--json")
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("tokentop: ") and res.stderr.count("\n") == 1
    assert "Traceback" not in res.stderr


def test_text_report(tmp_path: Path) -> None:
    """``--text``: GetSummary's numbers, then timings, breakdowns, errors, paths; a path
    with an escape sequence is printed with it made visible."""
    events = fixture_events()
    events[0]["path"] = "/evil\x1b[2J.md"
    events[0]["latency_ms"] = 42
    p = tmp_path / "access.jsonl"
    p.write_bytes(b"".join(line(e) for e in events))
    res = run(str(p), "--text")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "reads 6 · backend 1 · cache-served 5 (83%)" in out
    assert "original 3.6k · compressed 700 · ratio 0.194" in out
    assert "latency: 1 reads timed · mean 42 ms · max 42 ms" in out
    assert "unknown" in out and "boom" in out and "[github://x]" in out
    assert "\x1b" not in out and "/evil\\x1b[2J.md" in out
    assert run(str(p), "--text", "--json").returncode == 2


def run_env(*args: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIRSTORE_TOKEN"}
    if token is not None:
        env["AIRSTORE_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "access", *args],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, env=env)


def test_the_api_headless() -> None:
    """``tokentop access https://HOST/api/v1/workspaces/WS`` pages the loopback airstore
    (airstore_api.py) to the end with AIRSTORE_TOKEN; the token is never printed."""
    from airstore_api import AirstoreApi, access_event, serve

    api = AirstoreApi()
    for i in range(1200):
        api.append(access_event(i, latency_ms=7))
    with serve(api) as base:
        url = f"{base}/api/v1/workspaces/ws-ext"
        res = run_env(url, "--json", token="sekrit-token")
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc["total_reads"] == 1200 and doc["source"] == url + "/access-log"
        assert doc["by_cache_source"] == {"open_content": 1200}
        assert doc["by_origin"]["mount"]["events"] == 1200
        assert doc["timings"]["latency_ms"]["mean"] == 7.0
        assert len(doc["top_paths"]) == 7 and doc["top_paths"][0]["source_uri"].startswith(
            "gmail://")
        text = run_env(url, "--text", token="sekrit-token")
        assert text.returncode == 0 and "reads 1,200 · backend 0" in text.stdout
        refused = run_env(url, token="not-the-token")
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.count("\n") == 1 and "401 invalid token" in refused.stderr
        assert "not-the-token" not in refused.stderr
        for out in (res.stdout, text.stdout, text.stderr, res.stderr):
            assert "sekrit-token" not in out
    assert all(r["auth"] in ("Bearer sekrit-token", "Bearer not-the-token")
               for r in api.requests)


def test_a_bad_url_is_one_line() -> None:
    res = run_env("https://air.example/api/v1/tasks", token=None)
    assert res.returncode == 2 and res.stderr.startswith("tokentop: not an airstore")
    assert res.stderr.count("\n") == 1
