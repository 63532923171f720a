"""The price table in force: LiteLLM's snapshot, ccusage's lookup, overrides, the command.

Real data: the bundled table is extracted from the litellm 1.104.0 wheel on PyPI
(``scripts/extract_litellm_prices.py``); lookups follow ccusage 20.0.24's
``rust/crates/ccusage/src/pricing.rs`` ``find`` (repository ccusage/ccusage).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.store.pricing import PriceTable, bundled
from tokentop.tui.commands.pricing import pricing


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user state or config leaks in: XDG dirs under tmp."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def overrides_file(tmp: Path, text: str) -> Path:
    path = tmp / "config" / "tokentop" / "pricing.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_table_names_its_litellm_version_and_is_cached() -> None:
    table = PriceTable.load()
    assert table.origin == "bundled"
    assert table.litellm_version == "1.104.0"
    assert "litellm 1.104.0 wheel" in table.source
    assert len(table.prices) > 600  # ccusage 20.0.24's selection of LiteLLM's rows
    assert table.ccusage_version == "20.0.24" and len(table.fallback_rows) > 2000
    assert PriceTable.load() is table  # cached while nothing on disk changes


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("claude-opus-4-7[1m]", "claude-opus-4-7"),
        ("claude-opus-4-6-fast", "claude-opus-4-6"),
        ("claude-opus-4-5-thinking", "claude-opus-4-5"),
        ("claude-opus-5", "claude-opus-5"),
        ("claude-sonnet-5", "claude-sonnet-5"),
        ("gpt-5.5", "gpt-5.5"),
        ("gpt-5.6-sol", "gpt-5.6-sol"),
        # ccusage picks the longest id containing the name, even a gateway row
        ("openai/gpt-5-codex", "openrouter/openai/gpt-5-codex"),
        ("gemini-3-flash-preview", "gemini-3-flash-preview"),
    ],
)
def test_lookup_follows_ccusage_find(raw: str, model: str) -> None:
    price = PriceTable.load().lookup(raw)
    assert price is not None, raw
    assert price.model == model


@pytest.mark.parametrize("raw", ["<synthetic>", "", None, "gpt-5.7", "totally-unknown-model"])
def test_unknown_model_is_unpriced_not_free(raw: str | None) -> None:
    assert PriceTable.load().lookup(raw) is None


def test_version_numbers_are_not_dates() -> None:
    """ccusage's suffix rule: "gpt-5" must not price "gpt-5.7", a date suffix may follow."""
    table = PriceTable.load()
    assert table.lookup("gpt-5.7") is None
    p = table.lookup("claude-haiku-4-5-20251001")
    assert p is not None and p.input == pytest.approx(1.0)


def test_fast_multipliers_as_ccusage_carries_them() -> None:
    table = PriceTable.load()
    expect = {"claude-opus-4-6": 6.0, "claude-opus-4-7": 6.0, "claude-opus-4-8": 2.0,
              "gpt-5.5": 2.5, "gpt-5.4": 2.0, "gpt-5.3-codex": 2.0, "claude-opus-5": 2.0,
              "claude-sonnet-4-5": 1.0}
    for name, mult in expect.items():
        price = table.lookup(name)
        assert price is not None and price.fast_multiplier == mult, name


def test_tier_is_per_kind_and_a_kind_without_tier_keeps_its_base() -> None:
    sonnet = PriceTable.load().lookup("claude-sonnet-4-5")
    assert sonnet is not None and sonnet.above is not None
    assert sonnet.cost(input=300_000) == pytest.approx(0.6 + 0.6)  # 200k x $3 + 100k x $6
    assert sonnet.cost(input=150_000, cache_read=150_000) == pytest.approx(0.495)


def test_overrides_replace_rates_and_add_private_models(isolated: Path) -> None:
    overrides_file(isolated, '[models."claude-sonnet-4-5"]\ninput = 2.4\n\n'
                   '[models."acme-coder"]\ninput = 1.0\noutput = 4.0\n'
                   'aliases = ["acme/coder-large"]\n')
    table = PriceTable.load()
    s = table.lookup("claude-sonnet-4-5")
    assert s is not None and s.input == 2.4 and s.output == pytest.approx(15.0)
    acme = table.lookup("acme/coder-large")
    assert acme is not None and acme.model == "acme-coder"
    assert acme.cost(1_000_000, 1_000_000, 1_000_000, 1_000_000) == pytest.approx(
        1.0 + 4.0 + 1.25 + 0.1)
    assert table.overrides is not None and table.overrides.models == ["claude-sonnet-4-5",
                                                                      "acme-coder"]
    assert bundled().lookup("claude-sonnet-4-5").input == pytest.approx(3.0)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["[models\nbroken", 'models = "x"',
                                  '[models."m"]\ninput = "cheap"\noutput = 1',
                                  '[models."m"]\ninput = 1\noutput = 1\nspeed = 2'])
def test_bad_overrides_file_is_one_line_and_ignored(isolated: Path, text: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = overrides_file(isolated, text)
    table = PriceTable.load()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err
    s = table.lookup("claude-sonnet-4-5")
    assert s is not None and s.input == pytest.approx(3.0)
    assert table.overrides is not None and table.overrides.error


def test_overrides_change_is_picked_up_without_restart(isolated: Path) -> None:
    path = overrides_file(isolated, '[models."acme-coder"]\ninput = 1.0\noutput = 4.0\n')
    first = PriceTable.load()
    assert first.lookup("acme-coder") is not None
    path.unlink()
    assert PriceTable.load().lookup("acme-coder") is None


def test_pricing_command_says_which_table_and_overrides(isolated: Path) -> None:
    out = CliRunner().invoke(pricing, [])
    assert out.exit_code == 0, out.output
    assert "table: bundled, litellm 1.104.0 wheel" in out.output
    assert "overrides: none" in out.output
    overrides_file(isolated, '[models."acme-coder"]\ninput = 1.0\noutput = 4.0\n')
    out = CliRunner().invoke(pricing, [])
    assert "pricing.toml: 1 model(s)" in out.output
    doc = json.loads(CliRunner().invoke(pricing, ["--json"]).output)
    assert doc["table"] == "bundled" and doc["litellmVersion"] == "1.104.0"
    assert doc["overrides"]["models"] == ["acme-coder"]
    names = {m["model"] for m in doc["prices"]}
    assert {"claude-opus-5", "gpt-5.5", "acme-coder"} <= names


def test_the_substring_prefilter_finds_what_every_key_checked_finds() -> None:
    """``_longest_match`` skips keys that cannot match by a plain substring test before
    the boundary rules: over names made from the bundled table's own keys (and their
    models.dev fallback rows) it answers what checking every key with ``_key_matches``
    answers."""
    import random

    from tokentop.store import pricing as p

    table = p.PriceTable.load()

    def every_key(candidates: list[str], model: str) -> str | None:
        nm, best = p._normalized(model), None
        for c in candidates:
            if p._key_matches(c, model, nm) and (
                    best is None or len(c) > len(best) or (len(c) == len(best) and c < best)):
                best = c
        return best

    rng = random.Random(7)
    models = {"gpt-5", "gpt-5.7", "o3", "claude-3-5-sonnet@20240620", "-", "4", "claude"}
    for key in rng.sample([*table._fuzzy, *table._fallback_fuzzy], 40):
        models |= {key, key.upper(), f"anthropic/{key}", f"{key}-20250101",
                   key.replace("-", "."), key[:len(key) // 2] or key, f"{key}@latest",
                   f"{key}-fast", f"x{key}"}
    for model in sorted(models):
        for candidates in (table._fuzzy, table._fallback_fuzzy):
            assert p._longest_match(candidates, model) == every_key(candidates, model), model
