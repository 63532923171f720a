"""A one-shot ``metrics --json`` while lumberjack rotates (issue 16): the active file was
renamed between the replay's listing of the family and its opening of the active file,
and the renamed file's lines were never read (7-11 of 35 runs came up short). The
rotation is made to happen exactly there: right after the listing, with real files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metrics_files import metrics_line, server_dir, write

import tokentop.store.tail.family_tail as family_tail
from tokentop.store.metrics import MetricsSource


def lines(first: int, n: int) -> list[str]:
    return [metrics_line(f"2026-05-05T12:{(first + i) % 60:02d}:00Z", diff=(10, 1),
                         total=(10 * (first + i + 1), first + i + 1)) for i in range(n)]


@pytest.mark.parametrize("rotations", [1, 3])
def test_a_rotation_between_listing_and_opening_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rotations: int) -> None:
    gh = server_dir(tmp_path, "prod", "github")
    write(gh / "metrics.jsonl", lines(0, 20))
    written = 20
    real = family_tail.list_family
    left = [rotations]
    calls = [0]

    def listing_then_rotation(directory: Path, name: str):  # type: ignore[no-untyped-def]
        nonlocal written
        files = real(directory, name)
        calls[0] += 1  # the first listing only sizes the work (progress): skip it
        if left[0] and name == "metrics" and calls[0] > 1:
            left[0] -= 1
            stamp = f"2026-05-05T12-0{left[0]}-00.000"
            (gh / "metrics.jsonl").rename(gh / f"metrics-{stamp}.jsonl")  # lumberjack
            write(gh / "metrics.jsonl", lines(written, 5))
            written += 5
        return files

    monkeypatch.setattr(family_tail, "list_family", listing_then_rotation)
    source = MetricsSource(tmp_path)
    source.replay()
    totals = source.totals_snapshot()
    assert source.state.stats.lines == written
    assert totals["prod/github"].tokens.input_tokens == 10 * written  # the newest line read
