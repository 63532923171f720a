"""airstore access events with numbers no read can have (issue 16): dated year 10000 or
2^70 ms (this crashed the dashboard when screen 5 opened), counts past 2^63 or
negative. Each is a malformed read, counted and skipped, in a JSONL file and inside an
API page, and the good reads around it are summed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "access"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_access_screen import access_app, kpi, open_access
from test_access_store import ev, line

BAD = [ev(90, ts=253_402_300_800_000), ev(91, ts=2**70), ev(92, original_tokens=2**64),
       ev(93, compressed_tokens=-5), ev(94, latency_ms=2**63)]
GOOD = [ev(1), ev(2, minute=1)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "access", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("shape", ["jsonl", "page"])
def test_bad_reads_are_counted_and_the_rest_summed(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "access.jsonl"
    if shape == "jsonl":
        path.write_bytes(b"".join(line(e) for e in [GOOD[0], *BAD, GOOD[1]]))
    else:  # one saved API page, as ListReads returns it
        path.write_text(json.dumps({"success": True, "data": {
            "reads": [GOOD[0], *BAD, GOOD[1]], "next_cursor": "7", "has_more": False}}))
    out = run(str(path), "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    doc = json.loads(out.stdout)
    assert doc["total_reads"] == 2 and doc["malformed"] == len(BAD)


async def test_the_access_screen_opens_on_them(tmp_path: Path) -> None:
    path = tmp_path / "access.jsonl"
    path.write_bytes(b"".join(line(e) for e in [GOOD[0], *BAD, GOOD[1]]))
    app = access_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        assert kpi(screen, "akpi-reads") == "2"  # it drew; before, a year-10000 read
        # crashed the screen as it opened
