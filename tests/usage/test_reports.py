"""Reports from the store: ccusage's JSON shape, costs, timezones, blocks, the CLI.

Rows are inserted with plain SQL, so these tests hold whatever the collectors do. The
``*_CCUSAGE`` documents are ccusage's own output for the same messages (the Claude logs
behind ``PROBE`` below, after ccusage's dedup): tokentop's report must equal them.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tokentop.store.usage import reports
from tokentop.store.usage.reports import ReportError, ReportOptions
from tokentop.store.usage.schema import create
from tokentop.tui.commands.report import report

_ids = itertools.count()


def make_store(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    create(conn)
    return conn


def add(conn: sqlite3.Connection, ts: str, model: str | None, i: int = 0, o: int = 0,
        cw: int = 0, cr: int = 0, *, cost: float | None = None, agent: str = "claude_code",
        session: str = "s1", workspace: str = "-home-u-app",
        event_type: str = "message_usage") -> None:
    n = next(_ids)
    conn.execute("INSERT INTO usage_raw_events VALUES (?,?,?,?,?,?,?,?,?)",
                 (f"r{n}", ts, agent, "jsonl", "v1", "{}", "h", workspace, session))
    conn.execute(
        "INSERT INTO usage_events (event_id, occurred_at, provider_id, agent_name, workspace_id,"
        " session_id, event_type, model_raw, model_canonical, input_tokens, output_tokens,"
        " cache_write_tokens, cache_read_tokens, total_tokens, cost_usd, status, dedup_key,"
        " raw_event_id, normalization_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"e{n}", ts, "anthropic", agent, workspace, session, event_type, model, model,
         i, o, cw, cr, i + o + cw + cr, cost, "ok", f"k{n}", f"r{n}", "v1"),
    )


def fixed(ts: str) -> str:
    """The store's fixed-width form of an ISO time with milliseconds."""
    return ts.replace("Z", "").ljust(23, "0")[:23] + "000000Z"


SONNET = "claude-sonnet-4-5-20250929"
# One row per message as ccusage counts them (streamed copies, a resumed session's
# replay and a sidechain replay already folded into one).
PROBE = [
    ("2026-11-20T09:14:03.512Z", SONNET, 100, 10, 1000, 2000, None, "s1"),
    ("2026-11-20T09:14:05.000Z", SONNET, 5, 50, 0, 0, None, "s1"),
    ("2026-11-20T10:00:00.000Z", SONNET, 300000, 0, 0, 0, None, "s1"),  # > 200k: tier
    ("2026-11-20T23:30:00.000Z", "claude-opus-4-1-20250805", 1000000, 0, 0, 0, 1.0, "s1"),
    ("2026-11-21T01:00:00.000Z", "unknown-model-x", 1000, 0, 0, 0, None, "s1"),
    ("2026-11-21T01:00:01.000Z", "<synthetic>", 0, 0, 0, 0, None, "s1"),
    ("2026-11-21T08:00:00.000Z", "claude-haiku-4-5-20251001", 10**6, 10**6, 10**6, 10**6,
     None, "s2"),
]
NOW = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


@pytest.fixture
def probe(tmp_path: Path) -> sqlite3.Connection:
    conn = make_store(tmp_path / "usage.db")
    for ts, model, i, o, cw, cr, cost, sess in PROBE:
        add(conn, fixed(ts), model, i, o, cw, cr, cost=cost, session=sess)
    conn.commit()
    return conn


def utc(**kw: Any) -> ReportOptions:
    return ReportOptions(tz=ZoneInfo("UTC"), now=NOW, **kw)


def assert_same(ours: Any, theirs: Any, path: str = "$") -> None:
    """Equal documents: same keys in the same order, equal values, floats within 1e-9."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert sorted(ours) == list(theirs), path  # ccusage prints keys sorted
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for n, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{path}[{n}]")
    elif isinstance(theirs, float) or isinstance(ours, float):
        assert ours == pytest.approx(theirs, abs=1e-9), path
    else:
        assert ours == theirs, path


# `ccusage claude daily --json --offline --timezone UTC` (20.0.24) on the same messages
DAILY_CCUSAGE = json.loads(
    '{"daily":[{"cacheCreationTokens":1000,"cacheReadTokens":2000,"date":"2026-11-20","inputT'
    'okens":1300105,"modelBreakdowns":[{"cacheCreationTokens":1000,"cacheReadTokens":2000,"co'
    'st":1.205565,"inputTokens":300105,"modelName":"claude-sonnet-4-5-20250929","outputTokens'
    '":60},{"cacheCreationTokens":0,"cacheReadTokens":0,"cost":1.0,"inputTokens":1000000,"mod'
    'elName":"claude-opus-4-1-20250805","outputTokens":0}],"modelsUsed":["claude-sonnet-4-5-2'
    '0250929","claude-opus-4-1-20250805"],"outputTokens":60,"totalCost":2.205565,"totalTokens'
    '":1303165},{"cacheCreationTokens":1000000,"cacheReadTokens":1000000,"date":"2026-11-21",'
    '"inputTokens":1001000,"modelBreakdowns":[{"cacheCreationTokens":1000000,"cacheReadTokens'
    '":1000000,"cost":7.35,"inputTokens":1000000,"modelName":"claude-haiku-4-5-20251001","out'
    'putTokens":1000000},{"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.0,"inputTokens'
    '":1000,"missingPricing":true,"modelName":"unknown-model-x","outputTokens":0}],"modelsUse'
    'd":["unknown-model-x","claude-haiku-4-5-20251001"],"outputTokens":1000000,"totalCost":7.'
    '35,"totalTokens":4001000}],"totals":{"cacheCreationTokens":1001000,"cacheReadTokens":100'
    '2000,"inputTokens":2301105,"outputTokens":1000060,"totalCost":9.555565,"totalTokens":530'
    '4165,"unpricedModels":["unknown-model-x"]}}'
)

# `ccusage claude monthly --json --offline --timezone UTC` (20.0.24) on the same messages
MONTHLY_CCUSAGE = json.loads(
    '{"monthly":[{"cacheCreationTokens":1001000,"cacheReadTokens":1002000,"inputTokens":23011'
    '05,"modelBreakdowns":[{"cacheCreationTokens":1000000,"cacheReadTokens":1000000,"cost":7.'
    '35,"inputTokens":1000000,"modelName":"claude-haiku-4-5-20251001","outputTokens":1000000}'
    ',{"cacheCreationTokens":1000,"cacheReadTokens":2000,"cost":1.205565,"inputTokens":300105'
    ',"modelName":"claude-sonnet-4-5-20250929","outputTokens":60},{"cacheCreationTokens":0,"c'
    'acheReadTokens":0,"cost":1.0,"inputTokens":1000000,"modelName":"claude-opus-4-1-20250805'
    '","outputTokens":0},{"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.0,"inputTokens'
    '":1000,"missingPricing":true,"modelName":"unknown-model-x","outputTokens":0}],"modelsUse'
    'd":["claude-sonnet-4-5-20250929","claude-opus-4-1-20250805","unknown-model-x","claude-ha'
    'iku-4-5-20251001"],"month":"2026-11","outputTokens":1000060,"totalCost":9.555565,"totalT'
    'okens":5304165}],"totals":{"cacheCreationTokens":1001000,"cacheReadTokens":1002000,"inpu'
    'tTokens":2301105,"outputTokens":1000060,"totalCost":9.555565,"totalTokens":5304165,"unpr'
    'icedModels":["unknown-model-x"]}}'
)

# `ccusage claude blocks --json --offline --timezone UTC` (20.0.24) on the same messages
BLOCKS_CCUSAGE = json.loads(
    '{"blocks":[{"actualEndTime":"2026-11-20T10:00:00.000Z","burnRate":null,"costUSD":1.20556'
    '5,"endTime":"2026-11-20T14:00:00.000Z","entries":3,"id":"2026-11-20T09:00:00.000Z","isAc'
    'tive":false,"isGap":false,"models":["claude-sonnet-4-5-20250929"],"projection":null,"sta'
    'rtTime":"2026-11-20T09:00:00.000Z","tokenCounts":{"cacheCreationInputTokens":1000,"cache'
    'ReadInputTokens":2000,"inputTokens":300105,"outputTokens":60},"totalTokens":303165},{"ac'
    'tualEndTime":null,"burnRate":null,"costUSD":0,"endTime":"2026-11-20T23:30:00.000Z","entr'
    'ies":0,"id":"gap-2026-11-20T15:00:00.000Z","isActive":false,"isGap":true,"models":[],"pr'
    'ojection":null,"startTime":"2026-11-20T15:00:00.000Z","tokenCounts":{"cacheCreationInput'
    'Tokens":0,"cacheReadInputTokens":0,"inputTokens":0,"outputTokens":0},"totalTokens":0},{"'
    'actualEndTime":"2026-11-21T01:00:01.000Z","burnRate":null,"costUSD":1,"endTime":"2026-11'
    '-21T04:00:00.000Z","entries":3,"id":"2026-11-20T23:00:00.000Z","isActive":false,"isGap":'
    'false,"models":["claude-opus-4-1-20250805","unknown-model-x"],"projection":null,"startTi'
    'me":"2026-11-20T23:00:00.000Z","tokenCounts":{"cacheCreationInputTokens":0,"cacheReadInp'
    'utTokens":0,"inputTokens":1001000,"outputTokens":0},"totalTokens":1001000},{"actualEndTi'
    'me":null,"burnRate":null,"costUSD":0,"endTime":"2026-11-21T08:00:00.000Z","entries":0,"i'
    'd":"gap-2026-11-21T06:00:01.000Z","isActive":false,"isGap":true,"models":[],"projection"'
    ':null,"startTime":"2026-11-21T06:00:01.000Z","tokenCounts":{"cacheCreationInputTokens":0'
    ',"cacheReadInputTokens":0,"inputTokens":0,"outputTokens":0},"totalTokens":0},{"actualEnd'
    'Time":"2026-11-21T08:00:00.000Z","burnRate":null,"costUSD":7.35,"endTime":"2026-11-21T13'
    ':00:00.000Z","entries":1,"id":"2026-11-21T08:00:00.000Z","isActive":false,"isGap":false,'
    '"models":["claude-haiku-4-5-20251001"],"projection":null,"startTime":"2026-11-21T08:00:0'
    '0.000Z","tokenCounts":{"cacheCreationInputTokens":1000000,"cacheReadInputTokens":1000000'
    ',"inputTokens":1000000,"outputTokens":1000000},"totalTokens":4000000}]}'
)


def test_daily_equals_ccusage(probe: sqlite3.Connection) -> None:
    assert_same(reports.daily(probe, utc()), DAILY_CCUSAGE)


def test_monthly_equals_ccusage(probe: sqlite3.Connection) -> None:
    assert_same(reports.monthly(probe, utc()), MONTHLY_CCUSAGE)


def test_blocks_equal_ccusage(probe: sqlite3.Connection) -> None:
    assert_same(reports.blocks(probe, utc()), BLOCKS_CCUSAGE)


def test_unpriced_model_is_listed_not_counted(probe: sqlite3.Connection) -> None:
    doc = reports.daily(probe, utc())
    assert doc["totals"]["unpricedModels"] == ["unknown-model-x"]
    day = doc["daily"][1]
    unknown = next(m for m in day["modelBreakdowns"] if m["modelName"] == "unknown-model-x")
    assert unknown == {"cacheCreationTokens": 0, "cacheReadTokens": 0, "cost": 0.0,
                       "inputTokens": 1000, "missingPricing": True,
                       "modelName": "unknown-model-x", "outputTokens": 0}
    assert "<synthetic>" not in day["modelsUsed"]


def test_source_cost_wins_over_price(probe: sqlite3.Connection) -> None:
    day = reports.daily(probe, utc())["daily"][0]
    opus = next(m for m in day["modelBreakdowns"] if m["modelName"].startswith("claude-opus"))
    assert opus["cost"] == 1.0  # costUSD from the log, not 15.0 from the table


def test_session_report(probe: sqlite3.Connection) -> None:
    doc = reports.session(probe, utc())
    assert [s["sessionId"] for s in doc["sessions"]] == ["s2", "s1"]  # costliest first
    s1 = doc["sessions"][1]
    assert sorted(s1) == ["cacheCreationTokens", "cacheReadTokens", "firstActivity",
                          "inputTokens", "lastActivity", "modelBreakdowns", "modelsUsed",
                          "outputTokens", "projectPath", "sessionId", "totalCost",
                          "totalTokens"]
    assert s1["firstActivity"] == "2026-11-20T09:14:03.512Z"
    assert s1["lastActivity"] == "2026-11-21T01:00:01.000Z"
    assert s1["projectPath"] == "-home-u-app"
    assert s1["totalCost"] == pytest.approx(2.205565)
    assert s1["modelsUsed"] == [SONNET, "claude-opus-4-1-20250805", "unknown-model-x"]
    assert doc["totals"]["totalTokens"] == 5304165


def test_timezone_groups_days_locally(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    add(conn, fixed("2026-11-20T23:30:00.000Z"), SONNET, 10)
    add(conn, fixed("2026-11-20T18:45:00.000Z"), SONNET, 1)
    conn.commit()

    def days(tz: str) -> dict[str, int]:
        doc = reports.daily(conn, ReportOptions(tz=ZoneInfo(tz)))
        return {d["date"]: d["inputTokens"] for d in doc["daily"]}

    assert days("UTC") == {"2026-11-20": 11}
    assert days("America/New_York") == {"2026-11-20": 11}
    assert days("Asia/Tokyo") == {"2026-11-21": 11}
    # +05:30: 18:45Z is 00:15 next day, 23:30Z is 05:00 next day (minute grouping)
    assert days("Asia/Kolkata") == {"2026-11-21": 11}
    # +05:45: 18:45Z is 00:30 next day
    assert days("Asia/Kathmandu") == {"2026-11-21": 11}
    assert days("Pacific/Chatham") == {"2026-11-21": 11}


def test_since_until_are_inclusive_local_days(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    for d in range(18, 23):
        add(conn, fixed(f"2026-11-{d}T00:00:00.000Z"), SONNET, d)
        add(conn, fixed(f"2026-11-{d}T23:59:59.999Z"), SONNET, 100 * d)
    conn.commit()
    doc = reports.daily(conn, utc(since=date(2026, 11, 19), until=date(2026, 11, 21)))
    assert [(d["date"], d["inputTokens"]) for d in doc["daily"]] == [
        ("2026-11-19", 1919), ("2026-11-20", 2020), ("2026-11-21", 2121)]


def test_openusage_variable_width_times(tmp_path: Path) -> None:
    """openusage writes RFC3339Nano with trailing zeros trimmed; bounds must hold."""
    conn = make_store(tmp_path / "u.db")
    add(conn, "2026-11-20T23:59:59.5Z", SONNET, 1)
    add(conn, "2026-11-20T23:59:59Z", SONNET, 2)
    add(conn, "2026-11-21T00:00:00Z", SONNET, 4)
    add(conn, "2026-11-21T00:00:00.25Z", SONNET, 8)
    conn.commit()
    doc = reports.daily(conn, utc(until=date(2026, 11, 20)))
    assert [(d["date"], d["inputTokens"]) for d in doc["daily"]] == [("2026-11-20", 3)]
    doc = reports.daily(conn, utc(since=date(2026, 11, 21)))
    assert [(d["date"], d["inputTokens"]) for d in doc["daily"]] == [("2026-11-21", 12)]
    s = reports.session(conn, utc())["sessions"][0]
    assert s["firstActivity"] == "2026-11-20T23:59:59.000Z"
    assert s["lastActivity"] == "2026-11-21T00:00:00.250Z"


def test_source_filter(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    add(conn, fixed("2026-11-20T10:00:00.000Z"), SONNET, 1)
    add(conn, fixed("2026-11-20T10:00:00.000Z"), "gpt-5-codex", 1_000_000, agent="codex")
    add(conn, fixed("2026-11-20T10:00:00.000Z"), None, 0, event_type="limit_snapshot")
    conn.commit()
    total = {s: reports.daily(conn, utc(source=s))["totals"]["inputTokens"]
             for s in ("all", "claude", "codex")}
    assert total == {"all": 1_000_001, "claude": 1, "codex": 1_000_000}
    codex = reports.daily(conn, utc(source="codex"))["totals"]
    assert codex["totalCost"] == pytest.approx(1.25)
    with pytest.raises(ReportError):
        reports.daily(conn, utc(source="cursor"))


def test_active_block_burn_rate_and_projection(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    # like ccusage's run: two messages 60 min apart in the block that started 17:00
    add(conn, fixed("2026-11-22T17:28:33.010Z"), SONNET, 1000, 100)
    add(conn, fixed("2026-11-22T18:28:33.010Z"), SONNET, 1000, 100)
    conn.commit()
    now = datetime(2026, 11, 22, 18, 58, 34, tzinfo=UTC)
    (block,) = reports.blocks(conn, ReportOptions(now=now))["blocks"]
    assert block["isActive"] is True
    assert block["id"] == "2026-11-22T17:00:00.000Z"
    assert block["endTime"] == "2026-11-22T22:00:00.000Z"
    assert block["burnRate"]["tokensPerMinute"] == pytest.approx(2200 / 60)
    assert block["burnRate"]["costPerHour"] == pytest.approx(0.009)
    # ccusage printed {"remainingMinutes":181,"totalCost":0.04,"totalTokens":8837}
    assert block["projection"] == {"remainingMinutes": 181, "totalCost": 0.04,
                                   "totalTokens": 8837}
    later = ReportOptions(now=datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    (done,) = reports.blocks(conn, later)["blocks"]
    assert done["isActive"] is False and done["burnRate"] is None
    assert reports.blocks(conn, later, active_only=True)["blocks"] == []


def test_block_splits_five_hours_after_start(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    for ts in ("09:10", "11:00", "13:50", "14:00", "14:00:01", "18:30"):
        hh, mm, *ss = ts.split(":")
        add(conn, fixed(f"2026-11-20T{hh}:{mm}:{ss[0] if ss else '00'}.000Z"), SONNET, 1)
    conn.commit()
    doc = reports.blocks(conn, utc())
    assert [(b["startTime"][11:16], b["entries"]) for b in doc["blocks"]] == [
        ("09:00", 4), ("14:00", 2)]  # 14:00:00 is exactly 5 h after 09:00: same block


def test_empty_store_has_ccusage_shape(tmp_path: Path) -> None:
    conn = make_store(tmp_path / "u.db")
    assert reports.daily(conn, utc()) == {"daily": [], "totals": {
        "cacheCreationTokens": 0, "cacheReadTokens": 0, "inputTokens": 0, "outputTokens": 0,
        "totalCost": 0, "totalTokens": 0}}
    assert reports.blocks(conn, utc()) == {"blocks": []}
    assert reports.session(conn, utc())["sessions"] == []


# --- the command


def run(*args: str) -> Any:
    return CliRunner().invoke(report, list(args))


def test_cli_daily_json(probe: sqlite3.Connection, tmp_path: Path) -> None:
    out = run("daily", "--json", "--timezone", "UTC", "--store", str(tmp_path / "usage.db"),
              "--no-ingest")
    assert out.exit_code == 0, out.output
    assert_same(json.loads(out.output), DAILY_CCUSAGE)
    # keys sorted and two-space indented, as ccusage prints them
    assert out.output == json.dumps(json.loads(out.output), indent=2, sort_keys=True) + "\n"


def test_cli_reports_run_on_every_kind(probe: sqlite3.Connection, tmp_path: Path) -> None:
    db = str(tmp_path / "usage.db")
    for kind, key in (("monthly", "monthly"), ("session", "sessions"), ("blocks", "blocks")):
        out = run(kind, "--json", "-z", "UTC", "--store", db, "--no-ingest")
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)[key]
        text = run(kind, "-z", "UTC", "--store", db, "--no-ingest")
        assert text.exit_code == 0, text.output


def test_cli_does_not_write_a_foreign_store(probe: sqlite3.Connection, tmp_path: Path) -> None:
    """openusage's telemetry.db (no collector_offsets) is read, never collected into."""
    db = tmp_path / "telemetry.db"
    conn = sqlite3.connect(db)
    probe.backup(conn)
    conn.execute("DROP TABLE collector_offsets")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    out = run("daily", "--json", "-z", "UTC", "--store", str(db))
    assert out.exit_code == 0, out.output
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["daily", "--since", "2026-13-01"], "bad date"),
        (["daily", "--since", "yesterday"], "bad date"),
        (["daily", "--since", "20261121", "--until", "20261120"], "after --until"),
        (["daily", "--timezone", "Mars/Olympus"], "unknown timezone"),
        (["daily", "--source", "cursor"], "unknown source"),
        (["daily", "--store", "/nonexistent/usage.db"], "not found"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = CliRunner().invoke(report, [*args, "--no-ingest"])
    assert out.exit_code == 2
    assert message in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_cli_unreadable_store(tmp_path: Path) -> None:
    bad = tmp_path / "usage.db"
    bad.write_bytes(b"not a database at all" * 100)
    out = run("daily", "--json", "--store", str(bad), "--no-ingest")
    assert out.exit_code == 2
    assert "cannot read usage store" in out.output


def test_default_timezone_follows_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert reports.parse_tz(None) == ZoneInfo("Asia/Tokyo")
    assert reports.parse_tz("Europe/Paris") == ZoneInfo("Europe/Paris")


def test_report_commands_do_not_import_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, tokentop.tui.commands.report, tokentop.tui.commands.pricing, "
            "tokentop.store.usage.reports; "
            "sys.exit('textual' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_agent_is_a_source(tmp_path: Path) -> None:
    """--source takes ccusage's agent names: each selects its agent's events only."""
    from tokentop.store.usage.agents import AGENTS

    conn = make_store(tmp_path / "u.db")
    add(conn, fixed("2026-11-20T10:00:00.000Z"), SONNET, 1)
    add(conn, fixed("2026-11-20T10:00:00.000Z"), "gemini-2.5-pro", 500, agent="gemini_cli")
    conn.commit()
    assert {a.name for a in AGENTS} <= set(reports.SOURCES)
    gemini = reports.daily(conn, utc(source="gemini"))["totals"]["inputTokens"]
    assert gemini == 500
    assert reports.daily(conn, utc(source="pi"))["totals"]["inputTokens"] == 0


def test_the_claude_details_read_only_the_rows_that_carry_them(tmp_path: Path) -> None:
    """The JSON's ``tokentop`` section reads through a partial index of the rows with
    Claude Code 2.1's fields, not every event of every agent."""
    from tokentop.store.usage import schema
    from tokentop.store.usage.db import UsageStore

    with UsageStore.open(tmp_path / "u.db") as store:
        where, args = reports._where(utc())
        plan = " ".join(str(r[3]) for r in store.conn.execute(
            "EXPLAIN QUERY PLAN " + reports._DETAILS_SQL.format(key="1", where=where), args))
        assert schema.DETAILS_INDEX in plan


def test_pretty_json_is_the_standard_documents_json_and_escapes_beyond_ascii() -> None:
    """The report's JSON comes from msgspec when it is all ASCII (fast) and from the
    standard library otherwise: either way the same document, keys sorted, indented,
    and a bidi override or other non-ASCII text in a project path escaped, never raw."""
    import json as stdjson

    from tokentop.tui.commands.report import pretty_json

    doc = {"daily": [{"date": "2026-12-01", "totalCost": 0.1 + 0.2, "tiny": 1e-7,
                      "inputTokens": 12, "modelsUsed": ["a"], "none": None, "e": {}}],
           "totals": {"b": 1, "a": 2.5}}
    fast = pretty_json(doc)
    assert stdjson.loads(fast) == doc
    assert fast.splitlines()[:3] == ["{", '  "daily": [', "    {"]
    assert fast.index('"a": 2.5') < fast.index('"b": 1')  # keys sorted
    hostile = {"sessions": [{"project": "/home/x/\u202eevil\u0007", "cost": 1.5}]}
    text = pretty_json(hostile)
    assert text.isascii() and "\\u202e" in text and "\\u0007" in text
    assert stdjson.loads(text) == hostile
