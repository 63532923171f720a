"""The bundled price table: dated, matched by alias and prefix, unknown means unpriced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tokentop.store.pricing import PriceTable, normalize
from tokentop.tui.commands.pricing import pricing


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def test_table_is_dated_and_cached(table: PriceTable) -> None:
    assert table.date == "2026-09-22"
    assert PriceTable.load() is table
    assert "ccusage" in table.source


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-4-sonnet-20250514", "claude-sonnet-4"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-4-5-thinking", "claude-opus-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("CLAUDE-HAIKU-4-5", "claude-haiku-4-5"),
        ("gpt-5", "gpt-5"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("openai/gpt-5-codex", "gpt-5-codex"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("gpt-5.1-codex-mini", "gpt-5.1-codex-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("o3", "o3"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
        ("google/gemini-2.5-flash", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ],
)
def test_lookup_matches_aliases_and_prefixes(table: PriceTable, raw: str, model: str) -> None:
    price = table.lookup(raw)
    assert price is not None, raw
    assert price.model == model


@pytest.mark.parametrize("raw", ["<synthetic>", "", None, "gpt-5.7", "llama-3-70b", "claude"])
def test_unknown_model_has_no_price(table: PriceTable, raw: str | None) -> None:
    assert table.lookup(raw) is None


def test_normalize_strips_prefix_and_dates() -> None:
    assert normalize(" Anthropic/claude-opus-4-1-20250805 ") == "claude-opus-4-1"
    assert normalize("gpt-4.1-2025-04-14") == "gpt-4.1"


def test_cost_per_million(table: PriceTable) -> None:
    haiku = table.lookup("claude-haiku-4-5")
    assert haiku is not None
    # 1M of each kind: 1 + 5 + 1.25 + 0.1 (the values ccusage 20.0.24 prices offline)
    assert haiku.cost(1_000_000, 1_000_000, 1_000_000, 1_000_000) == pytest.approx(7.35)
    opus = table.lookup("claude-opus-4-1")
    assert opus is not None
    assert opus.cost(input=1_000_000) == pytest.approx(15.0)
    assert opus.cost(output=1_000_000) == pytest.approx(75.0)


def test_tier_applies_per_kind_beyond_200k_like_ccusage(table: PriceTable) -> None:
    sonnet = table.lookup("claude-sonnet-4-5-20250929")
    assert sonnet is not None and sonnet.above is not None
    # 200k at $3 + 100k at $6 (ccusage: 1.2 for this message)
    assert sonnet.cost(input=300_000) == pytest.approx(1.2)
    # 150k input + 150k cache read: neither kind crosses 200k, so no surcharge
    assert sonnet.cost(input=150_000, cache_read=150_000) == pytest.approx(0.495)
    # summed form equals the per-message form
    assert sonnet.cost_from_sums(300_000, 0, 0, 0, input_over=100_000) == pytest.approx(1.2)
    # sonnet 4.6 has no tier in the table
    s46 = table.lookup("claude-sonnet-4-6")
    assert s46 is not None and s46.above is None
    assert s46.cost(input=300_000) == pytest.approx(0.9)


def test_openai_has_no_cache_write_price(table: PriceTable) -> None:
    gpt = table.lookup("gpt-5-codex")
    assert gpt is not None
    assert gpt.cost(cache_write=1_000_000) == 0.0
    assert gpt.cost(cache_read=1_000_000) == pytest.approx(0.125)


def test_pricing_command_lists_table_with_date() -> None:
    out = CliRunner().invoke(pricing, [])
    assert out.exit_code == 0
    assert "2026-09-22" in out.output
    assert "claude-sonnet-4-5" in out.output
    doc = json.loads(CliRunner().invoke(pricing, ["--json"]).output)
    assert doc["date"] == "2026-09-22"
    names = {m["model"] for m in doc["models"]}
    assert {"claude-opus-4-1", "gpt-5-codex", "gemini-2.5-pro", "o3"} <= names
    sonnet = next(m for m in doc["models"] if m["model"] == "claude-sonnet-4-5")
    assert sonnet["above"]["input"] == 6.0
