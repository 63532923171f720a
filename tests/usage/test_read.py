"""The read model (tokentop.store.usage.read) on a real SQLite store, numbers worked out by hand.

Rows are inserted with plain SQL, some in openusage's variable-width ``occurred_at``
(``...:00.5Z``, ``...:00Z``) right at window edges, so the bound arithmetic is
exercised as openusage's database would exercise it.

NOW = 2026-11-20 12:00:00 UTC. Prices (bundled table): sonnet 4.5 $3/$15 per M
input/output, haiku 4.5 $1/$5; ``mystery-model`` has no price.

  id  occurred_at                     model    provider   project sess    in   out  cost
  E1  2026-11-20T11:30:00.5Z          sonnet   anthropic  /a      s1    1000   200  0.006
  E2  2026-11-20T11:50:00Z            codex    openai     /b      s2    2000   100  0.5 given
  E3  2026-11-19T13:00:00.000000000Z  sonnet   anthropic  /a      s1    4000     0  1.0 given
  E4  2026-11-19T11:59:59.9Z          mystery  acme       /c      s3     500   500  unpriced
  E5  2026-11-19T12:00:00Z            haiku    anthropic  /a      s1    1000  1000  0.006
  E6  2026-11-15T10:00:00.25Z         sonnet   anthropic  /a      s4   10000     0  2.0 given
  E7  2026-10-01T00:00:00Z            codex    openai     /b      s5     100     0  0.1 given
E1: (1000*3 + 200*15)/1e6; E5: (1000*1 + 1000*5)/1e6. Agents: codex for openai rows,
claude_code for the rest.
Tool calls (tool_usage): bash 11:31, read 11:32, bash 11:33 on 2026-11-20.

1d = [2026-11-19T12:00:00, NOW]: E1 E2 E3 E5 (E4 is a tenth of a second too early).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import read, rollup
from tokentop.store.usage.schema import THRESHOLD_KEY, create

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
CODEX = "gpt-5-codex"
_ids = itertools.count()
ROLLED: set[int] = set()  # id() of connections whose reads go through the rollup


def insert(conn: sqlite3.Connection, ts: str, *, model: str | None = None,
           provider: str = "anthropic", agent: str = "claude_code", workspace: str = "/a",
           session: str = "s1", i: int = 0, o: int = 0, cost: float | None = None,
           event_type: str = "message_usage", tool: str | None = None,
           payload: str = "{}", account: str | None = None) -> None:
    n = next(_ids)
    conn.execute("INSERT INTO usage_raw_events VALUES (?,?,?,?,?,?,?,?,?)",
                 (f"r{n}", ts, agent, "jsonl", "v1", payload, "h", workspace, session))
    conn.execute(
        "INSERT INTO usage_events (event_id, occurred_at, provider_id, agent_name, account_id,"
        " workspace_id, session_id, event_type, model_raw, input_tokens, output_tokens,"
        " total_tokens, cost_usd, tool_name, status, dedup_key, raw_event_id,"
        " normalization_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"e{n}", ts, provider, agent, account, workspace, session, event_type, model, i, o,
         i + o, cost, tool, "ok", f"k{n}", f"r{n}", "v1"))
    if id(conn) in ROLLED:
        rebuild_rollup(conn)


def rebuild_rollup(conn: sqlite3.Connection) -> None:
    """Give the rows inserted by hand the rollup ingest would have kept."""
    threshold = PriceTable.load().tier_threshold
    rollup.rebuild(conn, threshold)
    conn.execute("INSERT OR REPLACE INTO tokentop_meta VALUES (?, ?)",
                 (THRESHOLD_KEY, rollup.basis(threshold)))


@pytest.fixture(params=["events", "rollup"])
def conn(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[sqlite3.Connection]:
    """Every test runs twice: reading the events, and reading whole hours from the
    rollup (the same numbers, or the rollup is wrong)."""
    c = sqlite3.connect(tmp_path / "usage.db", isolation_level=None)
    create(c)
    if request.param == "rollup":
        ROLLED.add(id(c))
    insert(c, "2026-11-20T11:30:00.5Z", model=SONNET, i=1000, o=200)
    insert(c, "2026-11-20T11:50:00Z", model=CODEX, provider="openai", agent="codex",
           workspace="/b", session="s2", i=2000, o=100, cost=0.5)
    insert(c, "2026-11-19T13:00:00.000000000Z", model=SONNET, i=4000, cost=1.0)
    insert(c, "2026-11-19T11:59:59.9Z", model="mystery-model", provider="acme",
           workspace="/c", session="s3", i=500, o=500)
    insert(c, "2026-11-19T12:00:00Z", model=HAIKU, i=1000, o=1000)
    insert(c, "2026-11-15T10:00:00.25Z", model=SONNET, session="s4", i=10000, cost=2.0)
    insert(c, "2026-10-01T00:00:00Z", model=CODEX, provider="openai", agent="codex",
           workspace="/b", session="s5", i=100, cost=0.1)
    for ts, tool in (("11:31", "bash"), ("11:32", "read"), ("11:33", "bash")):
        insert(c, f"2026-11-20T{ts}:00Z", event_type="tool_usage", tool=tool)
    yield c
    ROLLED.discard(id(c))
    c.close()


def by(view: read.UsageView, kind: str) -> dict[str, tuple[int, float, int]]:
    return {r.key: (r.sums.tokens, round(r.sums.cost, 6), r.sums.messages)
            for r in view.breakdowns[kind]}


def test_one_day_totals_and_every_breakdown(conn: sqlite3.Connection) -> None:
    v = read.read_usage(conn, "1d", NOW)
    assert v.totals.tokens == 1200 + 2100 + 4000 + 2000 == 9300
    assert v.totals.cost == pytest.approx(0.006 + 0.5 + 1.0 + 0.006)
    assert v.totals.messages == 4
    assert v.sessions == 2  # s1, s2
    assert by(v, "model") == {SONNET: (5200, 1.006, 2), CODEX: (2100, 0.5, 1),
                              HAIKU: (2000, 0.006, 1)}
    assert by(v, "provider") == {"anthropic": (7200, 1.012, 3), "openai": (2100, 0.5, 1)}
    assert by(v, "agent") == {"claude_code": (7200, 1.012, 3), "codex": (2100, 0.5, 1)}
    assert by(v, "project") == {"/a": (7200, 1.012, 3), "/b": (2100, 0.5, 1)}
    assert by(v, "tool") == {"bash": (0, 0.0, 2), "read": (0, 0.0, 1)}
    assert [r.key for r in v.breakdowns["model"]] == [SONNET, CODEX, HAIKU]  # busiest first
    assert v.breakdowns["provider"][0].share == pytest.approx(7200 / 9300)
    assert v.unpriced == []


@pytest.mark.parametrize(("window", "tokens", "cost", "messages", "sessions"), [
    ("3d", 10300, 1.512, 5, 3),   # + E4 (unpriced: tokens count, cost does not)
    ("7d", 20300, 3.512, 6, 4),   # + E6
    ("30d", 20300, 3.512, 6, 4),  # E7 is 50 days old
    ("all", 20400, 3.612, 7, 5),  # + E7
])
def test_windows(conn: sqlite3.Connection, window: str, tokens: int, cost: float,
                 messages: int, sessions: int) -> None:
    v = read.read_usage(conn, window, NOW)
    assert (v.totals.tokens, round(v.totals.cost, 6), v.totals.messages, v.sessions) == (
        tokens, cost, messages, sessions)


def test_unpriced_models_are_listed_not_zero(conn: sqlite3.Connection) -> None:
    v = read.read_usage(conn, "3d", NOW)
    assert v.unpriced == ["mystery-model"]
    assert v.totals.unpriced_tokens == 1000
    row = next(r for r in v.breakdowns["provider"] if r.key == "acme")
    assert (row.sums.tokens, row.sums.cost, row.sums.unpriced_tokens) == (1000, 0.0, 1000)


def test_variable_width_times_at_the_window_edge(conn: sqlite3.Connection) -> None:
    # 1d starts at 2026-11-19T12:00:00: "...11:59:59.9Z" is out, "...12:00:00Z" is in.
    assert "mystery-model" not in by(read.read_usage(conn, "1d", NOW), "model")
    assert HAIKU in by(read.read_usage(conn, "1d", NOW), "model")
    # One second later the haiku message (exactly at the old edge) drops out.
    later = read.read_usage(conn, "1d", NOW + timedelta(seconds=1))
    assert HAIKU not in by(later, "model")
    # An event a fraction after "now" is not in a window ending at "now" + 0 s ...
    insert(conn, "2026-11-20T12:00:01.5Z", model=SONNET, i=7)
    assert read.read_usage(conn, "1d", NOW).totals.tokens == 9300


def test_daily_bars_by_local_day(conn: sqlite3.Connection) -> None:
    v = read.read_usage(conn, "7d", NOW)
    assert [(d, t) for d, t, _ in v.daily] == [
        (date(2026, 11, 15), 10000), (date(2026, 11, 19), 1000 + 4000 + 2000),
        (date(2026, 11, 20), 1200 + 2100)]
    from zoneinfo import ZoneInfo

    # In New York (UTC-5) E3 (13:00Z) and E5 (12:00Z) fall on the 19th, E4 (11:59Z)
    # too; E1 and E2 are on the 20th (06:30, 06:50 local); E6 on the 15th (05:00).
    ny = read.read_usage(conn, "7d", NOW, tz=ZoneInfo("America/New_York"))
    assert [(d.day, t) for d, t, _ in ny.daily] == [(15, 10000), (19, 7000), (20, 3300)]


def test_burn_rate_over_the_last_hour(conn: sqlite3.Connection) -> None:
    burn = read.burn_rate(conn, NOW)
    assert burn.tokens == 1200 + 2100
    assert burn.tokens_per_minute == pytest.approx(3300 / 60)
    assert burn.cost_per_hour == pytest.approx(0.506)


def test_current_block_and_its_projection(conn: sqlite3.Connection) -> None:
    block = read.current_block(conn, NOW)
    assert block is not None
    # E1 (11:30:00.5) after a 22.5 h silence opens a block at 11:00; E2 (11:50) joins.
    assert (block.start, block.end) == (datetime(2026, 11, 20, 11, tzinfo=UTC),
                                        datetime(2026, 11, 20, 16, tzinfo=UTC))
    assert (block.tokens, block.entries) == (3300, 2)
    assert block.cost == pytest.approx(0.506)
    minutes = (20 * 60 - 0.5) / 60  # 11:30:00.5 -> 11:50:00
    assert block.remaining_minutes == 240  # 12:00 -> 16:00
    assert block.projected_tokens == round(3300 + 3300 / minutes * 240)
    assert block.projected_cost == round(0.506 + 0.506 / minutes * 240, 2)
    # Five hours and a minute after the last message, no block is active.
    assert read.current_block(conn, datetime(2026, 11, 20, 16, 51, tzinfo=UTC)) is None


def test_series_per_minute(conn: sqlite3.Connection) -> None:
    start = datetime(2026, 11, 20, 11, tzinfo=UTC)
    minutes, tokens, cost = read.series(conn, start, NOW)
    assert len(minutes) == 60 and minutes[0] == int(start.timestamp()) // 60
    assert tokens[30] == 1200 and cost[30] == 6000  # micro-USD
    assert tokens[50] == 2100 and cost[50] == 500000
    assert sum(tokens) == 3300
    hours, htokens, _ = read.series(conn, start - timedelta(hours=23), NOW, 60)
    assert len(hours) == 24 and sum(htokens) == 9300


def test_quota_gauges_from_latest_snapshots(conn: sqlite3.Connection) -> None:
    def snap(used: int) -> str:
        return json.dumps({"snapshot": {
            "provider_id": "anthropic", "account_id": "acct", "status": "ok",
            "metrics": {"5h_tokens": {"limit": 1000, "remaining": 1000 - used, "used": used,
                                      "unit": "tokens", "window": "5h"}},
            "resets": {"5h_tokens": "2026-11-20T15:00:00Z"}}})

    # openusage: one payload per event; two observations an hour apart (400 -> 600).
    insert(conn, "2026-11-20T10:00:00Z", provider="anthropic", account="acct",
           event_type="limit_snapshot", payload=snap(400))
    insert(conn, "2026-11-20T11:00:00.5Z", provider="anthropic", account="acct",
           event_type="limit_snapshot", payload=snap(600))
    # tokentop: the batch manifest; used derived from limit - remaining.
    manifest = {"events": 1, "first_payload": {"snapshot": {
        "provider_id": "openai", "account_id": "", "metrics": {
            "requests": {"limit": 100, "remaining": 90, "unit": "requests", "window": "1m"}}}}}
    insert(conn, "2026-11-20T11:30:00Z", provider="openai", event_type="limit_snapshot",
           payload=json.dumps(manifest))
    # A payload retention blanked: nothing to show for it.
    insert(conn, "2026-11-20T11:40:00Z", provider="google", event_type="limit_snapshot")
    q = read.quotas(conn)
    assert [(x.provider, x.metric, x.used, x.limit) for x in q] == [
        ("anthropic", "5h_tokens", 600, 1000), ("openai", "requests", 10, 100)]
    a, o = q
    assert a.fraction == pytest.approx(0.6)
    # 200 tokens in 3600.5 s; 400 left -> 7201 s after 11:00:00.5.
    assert a.full_at == datetime(2026, 11, 20, 11, 0, 0, 500000, tzinfo=UTC) + timedelta(
        seconds=400 / (200 / 3600.5))
    assert a.resets_at == datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert o.full_at is None  # one observation: no rate
    assert read.read_usage(conn, "1d", NOW).quotas == q
    # Snapshots are not usage: totals are unchanged.
    assert read.read_usage(conn, "1d", NOW).totals.tokens == 9300


def test_unknown_window_is_an_error(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="unknown window"):
        read.read_usage(conn, "2d", NOW)


def test_read_through_a_read_only_store_holds_no_transaction(tmp_path: Path,
                                                             conn: sqlite3.Connection) -> None:
    from tokentop.store.usage.db import UsageStore

    with UsageStore.open(tmp_path / "usage.db", read_only=True) as store:
        before = store.data_version()
        assert read.read_usage(store.conn, "all", NOW).totals.tokens == 20400
        assert not store.conn.in_transaction
        insert(conn, "2026-11-20T11:59:00Z", model=SONNET, i=1)
        assert store.data_version() != before
        assert read.read_usage(store.conn, "all", NOW).totals.tokens == 20401


def _summary(v: read.UsageView) -> tuple:
    block = v.block and (v.block.start, v.block.end, v.block.tokens, round(v.block.cost, 9),
                         v.block.entries, v.block.projected_tokens, set(v.block.models))
    return (v.totals.tokens, round(v.totals.cost, 9), v.totals.messages,
            v.totals.unpriced_tokens, v.sessions,
            {k: by(v, k) for k in read.BREAKDOWNS},
            [(d, t, round(c, 9)) for d, t, c in v.daily], v.unpriced,
            (v.burn.tokens, round(v.burn.cost_per_hour, 9)), block)


@pytest.mark.parametrize("window", read.WINDOWS)
def test_rollup_and_events_agree_at_any_moment(conn: sqlite3.Connection, window: str) -> None:
    """Windows that start and end mid-hour: the rollup's whole hours plus the events
    at both edges give exactly what the events alone give."""
    insert(conn, "2026-11-20T10:59:59.999Z", model=SONNET, session="s9", i=300_000, o=10)
    insert(conn, "2026-11-20T11:00:00Z", model=SONNET, session="s9", i=5, o=7)
    insert(conn, "2026-11-20T06:10:00Z", model=HAIKU, session="s8", i=50, o=9, cost=0.25)
    rebuild_rollup(conn)
    assert read.uses_rollup(conn)
    moments = [NOW - timedelta(hours=1) + timedelta(minutes=m, seconds=m % 7)
               for m in (0, 1, 7, 29, 59, 60, 61, 95, 300, 301, 1439, 1440, 1441)]
    # Around midnight UTC: whole days (the day grain) start and end there.
    midnight = datetime(2026, 11, 21, tzinfo=UTC)
    moments += [midnight + timedelta(seconds=s) for s in (-3601, -1, 0, 1, 3599, 3600, 3661)]
    for now in moments:
        for tz in (UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")):
            rolled = read.read_usage(conn, window, now, tz, rolled=True)
            plain = read.read_usage(conn, window, now, tz, rolled=False)
            assert _summary(rolled) == _summary(plain), (now, tz)


def test_month_is_the_calendar_month_to_date() -> None:
    """Issue 17: "month" starts on the 1st at 00:00 where the reader is; the others
    are rolling (1d: the 24 hours up to now)."""
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert read.window_start("month", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert read.window_start("1d", now) == datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    ny = ZoneInfo("America/New_York")
    # Nov 1 2026 00:00 in New York is still daylight time (UTC-4).
    assert read.window_start("month", now, ny) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    early = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Nov 30, 22:00 in New York
    assert read.window_start("month", early, ny) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def test_month_window_sums_from_the_first(conn: sqlite3.Connection) -> None:
    v = read.read_usage(conn, "month", NOW)
    assert v.start is not None and v.start.day == 1
    assert v.totals.tokens == read.read_usage(conn, "all", NOW).totals.tokens - sum(
        t for d, t, _ in read.read_usage(conn, "all", NOW).daily if d < v.start.date())
