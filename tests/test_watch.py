"""``tokentop watch`` as a real process over real stores in a temporary directory.

The usage store is ``conftest.usage_requests`` written through the store's own ingest
(NOW = 2026-05-05 12:30 UTC): today $1.00 (the $0.25 and $0.75 messages; the unpriced
model adds nothing), the 5-hour block from 11:00 the same $1.00, $0.25 over the last
hour, and the weekly quota at 50% (40% at 11:30, 50% at 12:20: full at 16:30, 4 h on).
The event file is kernel-images' envelopes (tests/events/fixtures/kernel_events.jsonl)
with seqs 11-20 cut out: 10 lost of 37.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import write_usage_store

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest

AT = "2026-05-05T12:30:00Z"
KERNEL_EVENTS = Path(__file__).parent / "events" / "fixtures" / "kernel_events.jsonl"


def tokentop(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def config(text: str) -> Path:
    """The config file the child reads (XDG_CONFIG_HOME is the test's own)."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "tokentop" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return write_usage_store(tmp_path / "usage.db")


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_one_json_line_per_alert_and_exit_1(store: Path) -> None:
    config("[alerts]\ncost-per-day = 0.5\ncost-per-block = 2\nburn-rate = 0.2\n"
           "quota-percent = 45\nquota-hours-to-full = 5\n")
    done = tokentop("watch", "--store", str(store), "--at", AT)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    found = {(d["alert"], d["subject"]): (d["value"], d["threshold"])
             for d in lines(done.stdout)}
    assert found == {("cost-per-day", ""): (1.0, 0.5),
                     ("burn-rate", ""): (0.25, 0.2),
                     ("quota-percent", "anthropic me weekly"): (50.0, 45.0),
                     ("quota-hours-to-full", "anthropic me weekly"): (4.0, 5.0)}
    first = lines(done.stdout)[0]
    assert first == {"alert": "cost-per-day", "subject": "", "value": 1.0, "threshold": 0.5,
                     "unit": "$", "at": "2026-05-05T12:30:00+00:00",
                     "message": "cost today $1.00 (over $0.50)"}


def test_nothing_crossed_prints_nothing_and_exits_0(store: Path) -> None:
    config("[alerts]\ncost-per-day = 1.5\ncost-per-block = 1.01\nquota-percent = 51\n")
    done = tokentop("watch", "--store", str(store), "--at", AT)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_set_adds_a_threshold_over_the_file(store: Path) -> None:
    config("[alerts]\ncost-per-day = 100\n")
    done = tokentop("watch", "--store", str(store), "--at", AT, "--set", "cost-per-block=1")
    assert done.returncode == 1
    assert [d["alert"] for d in lines(done.stdout)] == ["cost-per-block"]


def test_a_past_day_is_checked_with_at(store: Path) -> None:
    """2026-04-10: the $50 codex message of that day (and nothing in the last hour)."""
    config("[alerts]\ncost-per-day = 40\nburn-rate = 1\n")
    done = tokentop("watch", "--store", str(store), "--at", "2026-04-10T23:00:00Z")
    assert done.returncode == 1
    assert lines(done.stdout)[0]["value"] == 50.0 and len(lines(done.stdout)) == 1


def test_the_event_files_drop_rate(tmp_path: Path) -> None:
    """Upstream envelopes (kernel-images' writers, see the fixture's README) with a gap."""
    kept = [line for line in KERNEL_EVENTS.read_text().splitlines()
            if not 11 <= json.loads(line)["seq"] <= 20]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(kept) + "\n")
    config("[alerts]\ndrop-rate = 20\n")
    done = tokentop("watch", "--events", str(events), "--no-ingest")
    assert done.returncode == 1, done.stderr
    (alert,) = lines(done.stdout)
    assert alert["alert"] == "drop-rate"
    assert alert["value"] == pytest.approx(100 * 10 / 37, abs=1e-5)


def test_every_says_a_crossing_once_across_looks(tmp_path: Path) -> None:
    """Three looks a second apart over a store whose last hour cost $2: one line."""
    path = tmp_path / "live.db"
    now = datetime.now(UTC)
    with UsageStore.open(path) as store:
        store.ingest([IngestRequest(
            source_system="claude_code", source_channel="jsonl",
            occurred_at=now - timedelta(minutes=2), message_id="m-live", session_id="s",
            provider_id="anthropic", agent_name="claude_code",
            model_raw="claude-sonnet-4-5-20250929", input_tokens=10, output_tokens=10,
            cost_usd=2.0)])
    config("[alerts]\nburn-rate = 1\n")
    done = tokentop("watch", "--store", str(path), "--every", "1", "--count", "3",
                    "--no-ingest")
    assert done.returncode == 1, done.stderr
    (alert,) = lines(done.stdout)
    assert (alert["alert"], alert["value"]) == ("burn-rate", 2.0)


# -- errors: one line, exit 2 ------------------------------------------------------------
def test_no_threshold_is_an_error(store: Path) -> None:
    done = tokentop("watch", "--store", str(store))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("tokentop: no alert thresholds: set them in the [alerts]")
    assert len(done.stderr.splitlines()) == 1


def test_a_bad_threshold_fails_the_check_instead_of_being_dropped(store: Path) -> None:
    path = config("[alerts]\ncost-per-day = 1\nburn-rate = -3\n")
    done = tokentop("watch", "--store", str(store), "--at", AT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"tokentop: {path}: alerts.burn-rate: expected a number above 0, "
                           "got -3; ignored\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "burn-rate"], "--set 'burn-rate': expected RULE=VALUE"),
    (["--set", "burn-rate=lots"], "--set 'burn-rate=lots': 'lots' is not a number"),
    (["--set", "quota-percent=101"], "quota-percent: expected a number above 0 and at most"),
    (["--at", "yesterday"], "--at is not an ISO 8601 time: 'yesterday'"),
    (["--count", "2"], "--count needs --every"),
])
def test_bad_arguments(store: Path, args: list[str], message: str) -> None:
    config("[alerts]\ncost-per-day = 1\n")
    done = tokentop("watch", "--store", str(store), *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_store_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "usage.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    config("[alerts]\ncost-per-day = 1\n")
    done = tokentop("watch", "--store", str(junk), "--no-ingest")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"tokentop: cannot read usage store {junk}")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert junk.read_bytes() == b"not sqlite at all" * 100  # nothing written


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    config("[alerts]\ncost-per-day = 1\n")
    done = tokentop("watch", "--store", str(tmp_path / "typo.db"))
    assert done.returncode == 2
    assert done.stderr == f"tokentop: usage store not found: {tmp_path / 'typo.db'}\n"
    assert list(tmp_path.iterdir()) == []


def test_alerts_found_still_print_when_another_source_fails(store: Path,
                                                            tmp_path: Path) -> None:
    """The usage alert is printed; the unreadable trace store makes the status 2."""
    config("[alerts]\ncost-per-day = 0.5\nerror-rate = 5\n")
    done = tokentop("watch", "--store", str(store), "--at", AT,
                    "--traces", str(tmp_path / "no-gateway.db"))
    assert done.returncode == 2
    assert [d["alert"] for d in lines(done.stdout)] == ["cost-per-day"]
    (problem,) = done.stderr.splitlines()
    assert problem.startswith("tokentop: trace store ") and "no-gateway.db" in problem


def test_the_store_in_the_config_file_is_used(store: Path) -> None:
    config(f'store = "{store}"\n[alerts]\ncost-per-day = 0.5\n')
    done = tokentop("watch", "--at", AT)
    assert done.returncode == 1 and lines(done.stdout)[0]["alert"] == "cost-per-day"



def test_a_missing_event_file_is_one_line(tmp_path: Path) -> None:
    config("[alerts]\ndrop-rate = 1\n")
    done = tokentop("watch", "--events", str(tmp_path / "gone.jsonl"), "--no-ingest")
    assert done.returncode == 2 and done.stdout == ""
    (problem,) = done.stderr.splitlines()
    assert problem == f"tokentop: {tmp_path / 'gone.jsonl'}: No such file or directory"


def test_a_live_stream_is_the_dashboards(tmp_path: Path) -> None:
    config("[alerts]\ndrop-rate = 1\n")
    done = tokentop("watch", "--events", "http://127.0.0.1:9/telemetry/stream")
    assert done.returncode == 2
    assert "watch reads a saved event file" in done.stderr
