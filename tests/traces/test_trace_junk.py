"""What SQLite lets a writer put in the gateway's numeric columns (issue 16): text and
BLOBs where integers belong. Every view answers (the junk reads as unknown); numbers
on the command line no column can hold are refused in one line."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from gateway_db import fixture_rows, write_sqlite

VIEWS = ["summary", "models", "keys", "latency", "errors", "tenants", "list"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "traces", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def junk(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    rows = fixture_rows()[:30]
    bad = dataclasses.replace(rows[0], input_tokens="lots", latency_ms=b"\x00\x01",
                              estimated_cost_usd="free", response_status="OK",
                              total_tokens=b"\xff")
    rows[0] = bad
    path = tmp_path_factory.mktemp("junk") / "ongoingai.db"
    write_sqlite(path, rows)
    return str(path), bad.id


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_answers(junk: tuple[str, str], view: str) -> None:
    out = run(junk[0], "--json", view)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    json.loads(out.stdout)


def test_the_junk_row_reads_as_unknown(junk: tuple[str, str]) -> None:
    out = run(junk[0], "--json", "get", junk[1])
    assert out.returncode == 0, out.stderr
    trace = json.loads(out.stdout)["trace"]
    assert trace["latency_ms"] is None and trace["input_tokens"] is None
    assert trace["estimated_cost_usd"] is None and trace["total_tokens"] is None


@pytest.mark.parametrize("flag", ["--status", "--min-tokens", "--max-tokens"])
def test_numbers_no_column_holds_are_refused(junk: tuple[str, str], flag: str) -> None:
    out = run(junk[0], "--json", "list", flag, "99999999999999999999")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Invalid value" in out.stderr
