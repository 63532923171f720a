"""Agents priced by names of their own (``store/usage/agents/pricenames.py``), as ccusage
20.0.24's adapters price them, and how the store keeps such a cost.

The per-agent parity tests (test_agent_{hermes,droid,kimi,zcode,grok}.py) compare whole
days with the pinned ccusage; these pin each rule on its own, with the numbers measured
on that binary (cited in ``pricenames``' docstring)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokentop.store.pricing import PriceTable, bundled
from tokentop.store.usage.agents.pricenames import PriceNames, price_names
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.reports import ReportOptions, daily

BEFORE_K2_6 = "2026-04-20T15:28:10.071000000Z"
FROM_K2_6 = "2026-04-20T15:28:10.072000000Z"


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return bundled()


def first(table: PriceTable, names: PriceNames | None) -> str:
    assert names is not None
    found = table.lookup_first(names.names)
    assert found is not None
    return found[0]


def test_hermes_tries_the_provider_qualified_name_first(table: PriceTable) -> None:
    names = price_names(table, "hermes", "openai", "gpt-5", "")
    assert names == PriceNames(("openai/gpt-5", "gpt-5"))
    # ccusage's longest match for openai/gpt-5 is OpenRouter's gpt-5-image-mini row
    # ($2.50 in, $2 out, $0.25 cached per M): 20,000 in, 64,000 cached, 2,200 out
    found = table.lookup_first(names.names)
    assert found is not None
    assert found[1].cost(20_000, 2_200, 0, 64_000) == pytest.approx(0.0704)
    # a provider Hermes could not name ("hermes") adds no qualified name
    assert price_names(table, "hermes", "hermes", "gpt-5", "").names == ("gpt-5",)


def test_droid_restores_version_dots_of_a_name_the_table_lacks(table: PriceTable) -> None:
    names = price_names(table, "droid", "openai", "gpt-5-1-codex", "")
    assert names is not None and names.names[:2] == ("gpt-5.1-codex", "gpt-5-1-codex")
    assert first(table, names) == "gpt-5.1-codex"
    price = table.lookup("gpt-5.1-codex")
    assert price is not None and (price.input, price.output) == (1.25, 10.0)
    # before: the dashed name's longest fuzzy match, at a fifth of the price
    assert table.lookup("gpt-5-1-codex").model == "openrouter/openai/gpt-5.1-codex-mini"
    # Gemini's dashed names keep their own match, as ccusage prices them
    # (gemini-2-5-flash: $0.10/$0.40 per M in ccusage, not gemini-2.5-flash's $0.30/$2.50)
    gemini = price_names(table, "droid", "google", "gemini-2-5-flash", "")
    assert gemini is not None and gemini.names[0] == "gemini-2-5-flash"
    assert table.lookup_first(gemini.names)[1].input == pytest.approx(0.10)
    # a row of the table keeps its own name first
    assert price_names(table, "droid", "anthropic", "claude-opus-4-5", "").names == (
        "claude-opus-4-5", "anthropic/claude-opus-4-5", "openrouter/anthropic/claude-opus-4-5")


@pytest.mark.parametrize(("at", "want"), [(BEFORE_K2_6, "moonshot/kimi-k2.5"),
                                          (FROM_K2_6, "moonshot/kimi-k2.6")])
def test_kimi_for_coding_is_the_k2_model_of_its_time(table: PriceTable, at: str,
                                                     want: str) -> None:
    names = price_names(table, "kimi_cli", "moonshot", "kimi-for-coding", at)
    assert first(table, names) == want
    assert price_names(table, "kimi_cli", "moonshot", "kimi-k2", at).names == (
        "moonshot/kimi-k2", "kimi/kimi-k2", "kimi-k2")


def test_zcode_prefers_zai_names_and_prices_cache_writes_as_input(table: PriceTable) -> None:
    names = price_names(table, "zcode", "zai", "GLM-4.6", "")
    assert names == PriceNames(("zai/GLM-4.6", "zai/glm-4.6", "glm-4.6", "GLM-4.6"),
                               cache_write_as_input=True)
    assert first(table, names) == "zai/glm-4.6"
    assert price_names(table, "zcode", "zai", "glm-4.6", "").names == ("glm-4.6",)


def test_other_agents_are_priced_by_model_id(table: PriceTable) -> None:
    assert price_names(table, "claude_code", "anthropic", "claude-sonnet-4-5", "") is None
    assert price_names(table, None, None, "gpt-5", "") is None


def test_grok_4_3_at_ccusages_rates(table: PriceTable) -> None:
    """The 2026-07-22 Grok turn whose cost Grok dropped: 7,620 in, 122,880 cached,
    2,410 out = $0.03091 in ccusage (models.dev's $0.20/M cache read made it $0.0401)."""
    price = table.lookup("grok-4.3")
    assert price is not None
    assert price.cost(7_620, 2_410, 0, 122_880) == pytest.approx(0.03091)
    assert price.cost(0, 0, 1_000_000, 0) == pytest.approx(1.25)


def kimi_message(mid: str, at: datetime, model: str = "kimi-for-coding") -> IngestRequest:
    return IngestRequest(source_system="kimi_cli", source_channel="jsonl", occurred_at=at,
                         session_id="s", message_id=mid, provider_id="moonshot",
                         model_raw=model, input_tokens=1_000_000, output_tokens=0)


def zcode_message(mid: str, i: int, cw: int) -> IngestRequest:
    return IngestRequest(source_system="zcode", source_channel="sqlite",
                         occurred_at=datetime(2026, 6, 10, 10, tzinfo=UTC), session_id="s",
                         message_id=mid, provider_id="zai", model_raw="claude-sonnet-4-5",
                         input_tokens=i, cache_write_tokens=cw, output_tokens=0)


def test_a_time_priced_message_keeps_its_cost_in_the_store_and_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One model id, two prices by time: the cost is computed per message at ingest,
    marked 2, and the reports (which re-price marker-1 rows by model id from the
    hourly rollups) take it as stored. Both messages fall in one UTC hour."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    before = datetime(2026, 4, 20, 15, 28, 10, 71_000, tzinfo=UTC)
    after = datetime(2026, 4, 20, 15, 28, 10, 72_000, tzinfo=UTC)
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([kimi_message("a", before), kimi_message("b", after)])
        rows = dict((r[0], r[1:]) for r in store.conn.execute(
            "SELECT message_id, cost_usd, tokentop_cost_computed FROM usage_events"))
        assert rows == {"a": (pytest.approx(0.60), 2), "b": (pytest.approx(0.95), 2)}
        # re-reading the same messages changes nothing
        store.ingest([kimi_message("a", before), kimi_message("b", after)])
        report = daily(store.conn, ReportOptions())
    assert report["totals"]["totalCost"] == pytest.approx(1.55)
    assert not report["totals"].get("unpricedModels")


def test_zcode_cache_writes_tier_with_the_input(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """150,000 input + 150,000 cache writes of claude-sonnet-4-5 through ZCode: $1.20 in
    ccusage, 300,000 input past the 200k tier (200k x $3 + 100k x $6)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with UsageStore.open(tmp_path / "usage.db") as store:
        store.ingest([zcode_message("z", 150_000, 150_000)])
        report = daily(store.conn, ReportOptions())
    assert report["totals"]["totalCost"] == pytest.approx(1.20)
    assert report["totals"]["cacheCreationTokens"] == 150_000
