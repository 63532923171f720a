"""``cost_usd`` in tokentop's store: filled with the computed cost, marked as computed,
so openusage (which sums ``cost_usd``) reads tokentop's store at the right cost, while
tokentop's own reports still price with the table in force (issue 13, part 4)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import schema
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.reports import ReportOptions, daily

# A real Claude Code 2.1.39 session and ccusage's own fixtures, with ccusage 20.0.24's
# total over them (see tests/usage/test_ccusage_parity.py and the fixture's README).
REAL_2_1 = Path(__file__).parent / "fixtures" / "claude21"
CCUSAGE_TOTAL_COST = 17.8035647
# openusage's read model sums cost_usd of the rows that are not errors
# (janekbaraniewski/openusage internal/telemetry/usage_view_query_*.go).
OPENUSAGE_COST_SQL = ("SELECT SUM(cost_usd) FROM usage_events"
                      " WHERE event_type = 'message_usage' AND status != 'error'")
T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def message(mid: str, model: str = "claude-sonnet-4-5", *, cost: float | None = None,
            input_tokens: int = 1000, output: int = 500, channel: str = "jsonl",
            **extra: object) -> IngestRequest:
    return IngestRequest(source_system="claude_code", source_channel=channel,
                         occurred_at=T, session_id="s1", message_id=mid,
                         provider_id="anthropic", model_raw=model,
                         input_tokens=input_tokens, output_tokens=output, cost_usd=cost,
                         **extra)  # type: ignore[arg-type]


def stored(conn: sqlite3.Connection, mid: str) -> tuple[float | None, int | None]:
    return conn.execute("SELECT cost_usd, tokentop_cost_computed FROM usage_events"
                        " WHERE message_id = ?", (mid,)).fetchone()


def test_real_logs_read_by_openusage_cost_what_ccusage_says(tmp_path: Path,
                                                             isolated: Path) -> None:
    corpus = tmp_path / "claude"
    shutil.copytree(REAL_2_1, corpus)
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect_once(store, claude_roots=[corpus], codex_dir=tmp_path / "no-codex",
                     hook_spool=tmp_path / "no-spool")
        conn = store.conn
        assert conn.execute(OPENUSAGE_COST_SQL).fetchone()[0] == pytest.approx(
            CCUSAGE_TOTAL_COST, rel=1e-9)
        ours = daily(conn, ReportOptions())["totals"]["totalCost"]
        assert ours == pytest.approx(CCUSAGE_TOTAL_COST, rel=1e-9)
        # every priced message is filled; only the synthetic placeholder is not
        unfilled = conn.execute("SELECT DISTINCT model_raw FROM usage_events WHERE"
                                " event_type = 'message_usage' AND cost_usd IS NULL").fetchall()
        assert {r[0] for r in unfilled} <= {"<synthetic>"}


def test_agent_cost_is_kept_computed_is_marked_unknown_is_null(store: UsageStore) -> None:
    store.ingest([message("a", cost=0.5), message("b"), message("c", "acme-private-9")])
    conn = store.conn
    assert stored(conn, "a") == (0.5, None)
    cost, computed = stored(conn, "b")
    price = PriceTable.load().lookup("claude-sonnet-4-5")
    assert price is not None
    assert computed == 1 and cost == pytest.approx(price.cost(1000, 500))
    assert stored(conn, "c") == (None, None)  # unpriced: named, never $0


def test_fast_mode_and_one_hour_writes_are_priced_into_cost_usd(store: UsageStore) -> None:
    store.ingest([message("f", "claude-opus-4-6", speed="fast"),
                  message("h", "claude-opus-4-6", cache_write_tokens=10_000,
                          cache_write_1h_tokens=10_000)])
    price = PriceTable.load().lookup("claude-opus-4-6")
    assert price is not None and price.fast_multiplier > 1
    assert stored(store.conn, "f")[0] == pytest.approx(price.cost(1000, 500, fast=True))
    assert stored(store.conn, "h")[0] == pytest.approx(
        price.cost(1000, 500, cache_write_1h=10_000))


def test_codex_input_includes_cached_and_is_priced_without_it(store: UsageStore) -> None:
    store.ingest([IngestRequest(source_system="codex", source_channel="jsonl",
                                occurred_at=T, session_id="c", turn_id="t1",
                                provider_id="codex", model_raw="gpt-5",
                                input_tokens=10_000, cache_read_tokens=8_000,
                                output_tokens=100)])
    price = PriceTable.load().lookup("gpt-5")
    assert price is not None
    cost = store.conn.execute("SELECT cost_usd FROM usage_events").fetchone()[0]
    assert cost == pytest.approx(price.cost(2_000, 100, cache_read=8_000))


def test_a_better_copy_is_priced_again_and_an_agent_cost_wins(store: UsageStore) -> None:
    store.ingest([message("m", output=100)])
    first = stored(store.conn, "m")[0]
    store.ingest([message("m", output=900)])  # the streamed copy grew: more tokens win
    grown, computed = stored(store.conn, "m")
    assert computed == 1 and grown is not None and first is not None and grown > first
    store.ingest([message("m", output=900, cost=7.0, channel="hook")])
    assert stored(store.conn, "m") == (7.0, None)
    # a later copy without a cost does not turn the agent's cost into a computed one
    store.ingest([message("m", output=900)])
    assert stored(store.conn, "m") == (7.0, None)


def test_reports_reprice_computed_costs_with_the_table_in_force(isolated: Path) -> None:
    with UsageStore.open(isolated / "usage.db") as store:
        store.ingest([message("a", input_tokens=100_000, output=0)])
        opts = ReportOptions(since=date(2026, 3, 2), until=date(2026, 3, 2))
        assert daily(store.conn, opts)["totals"]["totalCost"] == pytest.approx(0.3)
        path = isolated / "config" / "tokentop" / "pricing.toml"
        path.parent.mkdir(parents=True)
        path.write_text('[models."claude-sonnet-4-5"]\ninput = 2.4\noutput = 15\n')
        # the stored cost is what the table said at ingest; the report is today's table
        assert stored(store.conn, "a")[0] == pytest.approx(0.3)
        assert daily(store.conn, opts)["totals"]["totalCost"] == pytest.approx(0.24)


def test_a_schema_4_store_is_read_unmigrated_then_backfilled(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with UsageStore.open(path) as store:
        store.ingest([message("a"), message("b", cost=0.25), message("c", "acme-private-9")])
        conn = store.conn
        conn.execute("UPDATE usage_events SET cost_usd = NULL WHERE message_id != 'b'")
        conn.execute("ALTER TABLE usage_events DROP COLUMN tokentop_cost_computed")
        conn.execute("DROP TABLE tokentop_row_marks")
        conn.execute("DELETE FROM tokentop_migrations WHERE version >= 5")
    opts = ReportOptions(since=date(2026, 3, 2), until=date(2026, 3, 2))
    with UsageStore.open(path, read_only=True) as ro:  # no migration while read-only
        assert schema.version(ro.conn) == 4
        before = daily(ro.conn, opts)["totals"]["totalCost"]
    with UsageStore.open(path) as store:
        conn = store.conn
        assert schema.version(conn) == schema.SCHEMA_VERSION == 9
        assert conn.execute("SELECT COUNT(*) FROM tokentop_row_marks").fetchone() == (0,)
        price = PriceTable.load().lookup("claude-sonnet-4-5")
        assert price is not None
        assert stored(conn, "a") == (pytest.approx(price.cost(1000, 500)), 1)
        assert stored(conn, "b") == (0.25, None)
        assert stored(conn, "c") == (None, None)
        assert daily(conn, opts)["totals"]["totalCost"] == pytest.approx(before)
        assert before == pytest.approx(price.cost(1000, 500) + 0.25)


def test_long_context_messages_are_priced_whole_in_every_reader(store: UsageStore) -> None:
    """Reports and the Usage screen price from sums grouped by how many long-context
    thresholds each prompt exceeds (``semantics.calc_sql``): a gpt-5.4 message past
    272k costs the tier's rates for all of it, one under does not, and the grouped
    sums, the rollup and the per-message prices agree."""
    from tokentop.store.usage import read

    shapes = [("gpt-5.4", 100_000, 0), ("gpt-5.4", 272_000, 0), ("gpt-5.4", 250_000, 30_000),
              ("gemini-2.5-pro", 150_000, 60_000), ("claude-sonnet-4-5", 300_000, 0)]
    reqs = [message(f"m{n}", model, input_tokens=i, output=2_000, cache_read_tokens=cr)
            for n, (model, i, cr) in enumerate(shapes)]
    store.ingest(reqs)
    table = PriceTable.load()
    want = 0.0
    for model, i, cr in shapes:
        price = table.lookup(model)
        assert price is not None
        want += price.cost(i, 2_000, cache_read=cr)
    gpt = table.lookup("gpt-5.4")
    assert gpt is not None and gpt.context is not None
    # the third message alone: all of it at $5/M in, $22.50/M out, $0.50/M cached
    assert gpt.cost(250_000, 2_000, cache_read=30_000) == pytest.approx(
        (250_000 * 5 + 2_000 * 22.5 + 30_000 * 0.5) / 1e6)
    conn = store.conn
    assert conn.execute("SELECT SUM(cost_usd) FROM usage_events").fetchone()[0] == (
        pytest.approx(want))
    opts = ReportOptions(since=date(2026, 3, 2), until=date(2026, 3, 2))
    assert daily(conn, opts)["totals"]["totalCost"] == pytest.approx(want)
    now = T.replace(hour=23)
    assert read.uses_rollup(conn)
    rolled = read.read_usage(conn, "1d", now, rolled=True)
    events = read.read_usage(conn, "1d", now, rolled=False)
    assert rolled.totals.cost == pytest.approx(want)
    assert events.totals.cost == pytest.approx(want)
