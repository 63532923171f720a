"""Every replay rule of DESIGN 2.1, on real files in a temp dir."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from metrics_files import metrics_line, server_dir, write, write_gz

from tokentop.store.metrics import Layout, MetricsSource, metrics_document
from tokentop.store.timeparse import utc_minute

M = utc_minute("2026-05-05T12:00:00Z")


def replay(root: Path) -> MetricsSource:
    src = MetricsSource(root)
    src.replay()
    return src


def series(src: MetricsSource, server: str | None = None) -> list[tuple[str, int, int, float]]:
    doc = metrics_document(src, "all", server)
    # cost_usd is null when no file has cost (test_tool_usage): these compare as 0.0.
    return [
        (p["timestamp"], p["input_tokens"], p["output_tokens"], p["cost_usd"] or 0.0)
        for p in doc["data_points"]
    ]


def test_siblings_read_oldest_first_then_active(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    # Written in the "wrong" order on disk: order must come from the stamp in the name.
    write(d / "metrics.jsonl", [metrics_line("2026-05-05T12:03:00Z", diff=(3, 0), total=(6, 0))])
    write(d / "metrics-2026-05-05T12-02-30.000.jsonl",
          [metrics_line("2026-05-05T12:02:00Z", diff=(2, 0), total=(3, 0))])
    write_gz(d / "metrics-2026-05-05T12-01-30.000.jsonl.gz",
             [metrics_line("2026-05-05T12:01:00Z", diff=(1, 0), total=(1, 0))])
    src = replay(tmp_path)
    assert series(src) == [
        ("2026-05-05T12:01:00Z", 1, 0, 0.0),
        ("2026-05-05T12:02:00Z", 2, 0, 0.0),
        ("2026-05-05T12:03:00Z", 3, 0, 0.0),
    ]
    assert src.state.totals["stack-a/github"].tokens.input_tokens == 6
    assert src.state.stats.files == 3


def test_totals_are_the_last_line_in_file_order_not_the_latest_ts(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:05:00Z", diff=(1, 1), total=(50, 50)),
        metrics_line("2026-05-05T12:01:00Z", diff=(1, 1), total=(40, 41)),  # older ts, last line
    ])
    t = replay(tmp_path).state.totals["stack-a/github"]
    assert (t.tokens.input_tokens, t.tokens.output_tokens, t.tokens.total_tokens) == (40, 41, 81)


def test_reset_pair_adds_nothing_and_restarts_totals(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:10Z", diff=(5, 5), total=(500, 500)),
        json.dumps({"reset": True, "ts": "2026-05-05T12:01:00Z", "server": "github"}),
        metrics_line("2026-05-05T12:01:00Z", diff=(900, 900), total=(900, 900), reset=True),
        metrics_line("2026-05-05T12:02:00Z", diff=(7, 3), total=(907, 903)),
    ])
    src = replay(tmp_path)
    assert series(src) == [("2026-05-05T12:00:00Z", 5, 5, 0.0), ("2026-05-05T12:02:00Z", 7, 3, 0.0)]
    assert src.state.totals["stack-a/github"].tokens.total_tokens == 1810


def test_sentinel_as_last_line_leaves_zero_totals(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:10Z", diff=(5, 5), total=(500, 500),
                     cost_diff={"input_micro_usd": 10}, cost_total={"input_micro_usd": 99}),
        json.dumps({"reset": True, "ts": "2026-05-05T12:01:00Z", "server": "github"}),
    ])
    src = replay(tmp_path)
    t = src.state.totals["stack-a/github"]
    assert t.tokens.total_tokens == 0
    assert t.cost_micro_usd == 99  # cost total: the last one present
    assert series(src) == [("2026-05-05T12:00:00Z", 5, 5, 0.00001)]


def test_cost_reset_adds_tokens_not_cost(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:00Z", diff=(1, 1), total=(1, 1),
                     cost_diff={"input_micro_usd": 1_000_000}, cost_total={"input_micro_usd": 9}),
        metrics_line("2026-05-05T12:01:00Z", diff=(2, 2), total=(3, 3), cost_reset=True,
                     cost_diff={"input_micro_usd": 4_000_000, "output_micro_usd": 1},
                     cost_total={"input_micro_usd": 4_000_000, "output_micro_usd": 1}),
    ])
    src = replay(tmp_path)
    assert series(src) == [("2026-05-05T12:00:00Z", 1, 1, 1.0), ("2026-05-05T12:01:00Z", 2, 2, 0.0)]
    assert src.state.totals["stack-a/github"].cost_micro_usd == 4_000_001


def test_cost_parts_sum_and_empty_cost_is_valid(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    parts = {"input_micro_usd": 1, "output_micro_usd": 20, "cache_read_micro_usd": 300,
             "cache_write_micro_usd": 4000}
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:00:00Z", diff=(1, 0), total=(1, 0), cost_diff=parts,
                     cost_total=parts),
        metrics_line("2026-05-05T12:01:00Z", diff=(1, 0), total=(2, 0), cost_diff={},
                     cost_total={}),
    ])
    src = replay(tmp_path)
    assert series(src) == [("2026-05-05T12:00:00Z", 1, 0, 0.004321),
                           ("2026-05-05T12:01:00Z", 1, 0, 0.0)]
    assert src.state.totals["stack-a/github"].cost_micro_usd == 0
    assert src.state.stats.malformed == 0


def test_server_without_cost_has_null_cost_total(tmp_path: Path) -> None:
    d = server_dir(tmp_path, server="old")
    write(d / "metrics.jsonl", [metrics_line("2026-05-05T12:00:00Z", "old", (1, 1), (1, 1))])
    doc = metrics_document(replay(tmp_path), "all")
    assert doc["totals"]["stack-a/old"] == {
        "input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "cost_usd": None}


def test_minutes_merge_whatever_the_order(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:01:59.999Z", diff=(1, 0)),
        metrics_line("2026-05-05T12:00:01Z", diff=(10, 0)),
        metrics_line("2026-05-05T12:01:00.000000001Z", diff=(100, 0)),
    ])
    assert series(replay(tmp_path)) == [("2026-05-05T12:00:00Z", 10, 0, 0.0),
                                        ("2026-05-05T12:01:00Z", 101, 0, 0.0)]


def test_offsets_are_honoured(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T17:31:20.123456789+05:30", diff=(1, 0)),  # 12:01 UTC
        metrics_line("2026-05-05T05:02:00-07:00", diff=(2, 0)),  # 12:02 UTC
        metrics_line("2026-05-05t12:03:00z", diff=(3, 0)),  # lowercase is RFC 3339 too
    ])
    src = replay(tmp_path)
    assert [s[:2] for s in series(src)] == [("2026-05-05T12:01:00Z", 1),
                                           ("2026-05-05T12:02:00Z", 2),
                                           ("2026-05-05T12:03:00Z", 3)]
    assert src.state.stats.malformed == 0


def test_malformed_blank_and_serverless_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        "not json at all",
        "",
        "   ",
        '{"ts":"2026-05-05T12:00:00Z","server":"","diff":{"input_tokens":9}}',
        '{"ts":"2026-05-05T12:00:00Z","diff":{"input_tokens":9}}',
        '{"ts":"yesterday","server":"github","diff":{"input_tokens":9}}',
        '{"ts":"2026-05-05T12:00:00Z","server":"github","diff":"nope"}',
        "[1,2,3]",
        '{"ts":"2026-05-05T12:00:00Z","server":"github","diff":{"input_tokens":4',
        metrics_line("2026-05-05T12:00:00Z", diff=(1, 2), total=(1, 2)),
    ])
    src = replay(tmp_path)
    st = src.state.stats
    assert (st.lines, st.malformed, st.blank) == (10, 7, 2)
    assert series(src) == [("2026-05-05T12:00:00Z", 1, 2, 0.0)]


def test_extra_keys_are_tolerated(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [metrics_line(
        "2026-05-05T12:00:00Z", diff=(1, 2), total=(1, 2),
        tool_usage={"search": {"calls": 3, "nested": [1, {"a": None}]}},
        prompt_usage=[{"x": 1}], model_cost={"claude": {"input_micro_usd": 5}}, future=True,
    )])
    src = replay(tmp_path)
    assert src.state.stats.malformed == 0
    assert series(src) == [("2026-05-05T12:00:00Z", 1, 2, 0.0)]


def test_plain_and_gz_of_one_rotation_are_read_once(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    lines = [metrics_line(f"2026-05-05T12:0{i}:00Z", diff=(1, 0)) for i in range(5)]
    write(d / "metrics-2026-05-05T12-10-00.000.jsonl", lines)
    # lumberjack mid-compression: the .gz is incomplete; the plain file is the truth
    full = gzip.compress(("\n".join(lines) + "\n").encode())
    (d / "metrics-2026-05-05T12-10-00.000.jsonl.gz").write_bytes(full[: len(full) // 2])
    src = replay(tmp_path)
    assert sum(s[1] for s in series(src)) == 5
    assert src.state.stats.lines == 5


def test_truncated_gz_is_read_as_far_as_it_decompresses(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    lines = [metrics_line(f"2026-05-{5 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
                          diff=(1, 0)) for i in range(2000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1)
    (d / "metrics-2026-05-05T12-10-00.000.jsonl.gz").write_bytes(data[: len(data) * 3 // 4])
    src = replay(tmp_path)
    got = sum(s[1] for s in series(src))
    assert 500 < got < 2000  # a good part, not all, and no exception
    assert src.state.stats.truncated_gz == 1
    assert src.state.stats.malformed <= 1  # at most the line cut in half


def test_multi_megabyte_line_is_read_like_any_other(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    big = metrics_line("2026-05-05T12:00:00Z", diff=(7, 7), total=(7, 7),
                       tool_usage={"blob": "x" * (6 << 20)})
    write(d / "metrics.jsonl", [big, metrics_line("2026-05-05T12:01:00Z", diff=(1, 1))])
    src = replay(tmp_path)
    assert series(src) == [("2026-05-05T12:00:00Z", 7, 7, 0.0), ("2026-05-05T12:01:00Z", 1, 1, 0.0)]


def test_crlf_line_endings(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [metrics_line("2026-05-05T12:00:00Z", diff=(1, 2), total=(1, 2)),
                                metrics_line("2026-05-05T12:01:00Z", diff=(3, 4), total=(4, 6))],
          newline="\r\n")
    src = replay(tmp_path)
    assert src.state.stats.malformed == 0
    assert series(src) == [("2026-05-05T12:00:00Z", 1, 2, 0.0), ("2026-05-05T12:01:00Z", 3, 4, 0.0)]


def test_rotated_file_without_final_newline_keeps_its_last_line(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    (d / "metrics-2026-05-05T12-10-00.000.jsonl").write_text(
        metrics_line("2026-05-05T12:00:00Z", diff=(1, 0)) + "\n"
        + metrics_line("2026-05-05T12:01:00Z", diff=(2, 0)))
    assert sum(s[1] for s in series(replay(tmp_path))) == 3


def test_active_partial_last_line_is_held(tmp_path: Path) -> None:
    d = server_dir(tmp_path)
    (d / "metrics.jsonl").write_text(
        metrics_line("2026-05-05T12:00:00Z", diff=(1, 0)) + "\n"
        + metrics_line("2026-05-05T12:01:00Z", diff=(2, 0))[:30])
    src = replay(tmp_path)
    assert sum(s[1] for s in series(src)) == 1
    assert src.state.stats.malformed == 0


def test_stacks_servers_and_skills(tmp_path: Path) -> None:
    for stack in ("stack-a", "stack-b"):
        d = server_dir(tmp_path, stack, "github")
        write(d / "metrics.jsonl", [metrics_line("2026-05-05T12:00:00Z", diff=(1, 0))])
    skills = server_dir(tmp_path, "stack-a", "__skills__")
    write(skills / "metrics.jsonl", ['{"ts":"2026-05-05T12:00:00Z","server":"__skills__",'
                                     '"prompt_usage":{"x":1},"diff":{"input_tokens":50}}'])
    (tmp_path / "stack-b" / "empty").mkdir()
    (tmp_path / "stack-b" / "empty" / "metrics.jsonl").touch()  # zero-byte files are normal
    src = replay(tmp_path)
    assert src.ring.servers() == ["stack-a/github", "stack-b/empty", "stack-b/github"]
    assert sum(s[1] for s in series(src)) == 2
    # The argument may also be one stack directory.
    one = replay(tmp_path / "stack-b")
    assert Layout.resolve(tmp_path / "stack-b").stack == "stack-b"
    assert one.ring.servers() == ["stack-b/empty", "stack-b/github"]


def test_minutes_cached_by_prefix_never_serve_an_offset_time(tmp_path: Path) -> None:
    """Minutes are cached by their "YYYY-MM-DDTHH:MM" prefix, for UTC ("Z") times only:
    a time with an offset that shares the prefix is its own minute (10:01 UTC here)."""
    d = server_dir(tmp_path)
    write(d / "metrics.jsonl", [
        metrics_line("2026-05-05T12:01:00Z", diff=(5, 0), total=(5, 0)),
        metrics_line("2026-05-05T12:01:30+02:00", diff=(7, 0), total=(12, 0)),
        metrics_line("2026-05-05T12:01:59.999999999Z", diff=(1, 0), total=(13, 0)),
        metrics_line("2026-05-05T12:61:00Z", diff=(100, 0), total=(113, 0)),
    ])
    src = replay(tmp_path)
    assert series(src) == [("2026-05-05T10:01:00Z", 7, 0, 0.0),
                           ("2026-05-05T12:01:00Z", 6, 0, 0.0)]
    assert src.state.stats.malformed == 1  # minute 61
