"""gridctl's logs.jsonl records (Go slog JSON) parsed as gridctl writes them."""

from __future__ import annotations

from datetime import datetime

import pytest
from gridlog_lines import NS, slog

from tokentop.store.gridctl.logs import (
    LEVELS,
    ParseCounts,
    human_duration,
    level_number,
    min_level,
    parse_lines,
    parse_record,
    parse_rfc3339_ns,
)
from tokentop.tui.widgets.log_text import detail_text, local_clock, render_log_row

LINE = (b'{"ts":"2026-05-05T14:01:00.482130001+02:00","level":"INFO","msg":"tool call completed",'
        b'"component":"github","tool":"search_code","duration":1250000000,'
        b'"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","input_tokens":900}')


def test_a_real_record() -> None:
    rec = parse_record(LINE, "prod/github")
    # 14:01 at +02:00 is 12:01 UTC; all nine fractional digits kept.
    assert rec.ns == 1_777_982_460 * NS + 482_130_001
    assert rec.offset_min == 120
    assert rec.ts == "2026-05-05T14:01:00.482130001+02:00"
    assert (rec.level, rec.level_no, rec.badge, rec.msg) == ("INFO", 0, "INFO",
                                                             "tool call completed")
    assert rec.component == "github" and rec.tool == "search_code"
    assert rec.duration_ns == 1_250_000_000
    assert rec.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert rec.attrs["input_tokens"] == 900
    assert "ts" not in rec.attrs and "msg" not in rec.attrs
    doc = rec.to_json()
    assert doc["time"] == "2026-05-05T12:01:00.482130001Z"
    assert doc["ts"] == rec.ts


MINUTE = 1_777_982_460 * NS  # 2026-05-05T12:01:00Z


@pytest.mark.parametrize(("ts", "ns", "offset"), [
    ("2026-05-05T12:01:00Z", MINUTE, 0),
    ("2026-05-05T07:31:00.5-04:30", MINUTE + 500_000_000, -270),
    ("2026-05-06T01:46:00+13:45", MINUTE, 825),
    ("2026-05-05t12:01:00.000000001z", MINUTE + 1, 0),
    ("2026-05-04T23:01:00.123456789-13:00", MINUTE + 123_456_789, -780),
])
def test_offsets_name_the_same_instant(ts: str, ns: int, offset: int) -> None:
    assert parse_rfc3339_ns(ts) == (ns, offset)
    # datetime agrees to the microsecond it can hold
    assert int(datetime.fromisoformat(ts.upper().replace("Z", "+00:00")).timestamp()) == ns // NS


@pytest.mark.parametrize("ts", ["2026-05-05T12:01:00", "2026-05-05 12:01Z", "12:01:00Z",
                                "2026-13-05T12:01:00Z", "2026-05-05T12:01:00.1234567890Z"])
def test_not_rfc3339(ts: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339_ns(ts)


def test_local_time_of_the_instant_and_original_offset_in_detail() -> None:
    rec = parse_record(LINE, "prod/github")
    assert local_clock(rec.ns) == "12:01:00.482"  # tests run in UTC
    row = render_log_row(rec, 120).plain
    assert row.startswith("12:01:00.482  INFO ")
    assert "prod/github" in row and "duration=1.25 s" in row and "trace_id=4bf92f35…" in row
    detail = detail_text(rec).plain
    assert "2026-05-05 12:01:00.482 (local)" in detail
    assert "2026-05-05T14:01:00.482130001+02:00" in detail  # the offset gridctl wrote
    assert "1.25 s  (1,250,000,000 ns)" in detail


@pytest.mark.parametrize(("level", "number", "badge"), [
    ("DEBUG", -4, "DEBUG"), ("INFO", 0, "INFO"), ("WARN", 4, "WARN"), ("ERROR", 8, "ERROR"),
    ("INFO+2", 2, "INFO"), ("ERROR+4", 12, "ERROR"), ("DEBUG-4", -8, "DEBUG"),
    ("warning", 4, "WARN"), ("bogus", 0, "INFO"),
])
def test_levels(level: str, number: int, badge: str) -> None:
    assert level_number(level) == number
    rec = parse_record(slog("2026-05-05T12:00:00Z", level, "m"), "s/x")
    assert rec.badge == badge


def test_level_filter_and_search() -> None:
    lines = [slog("2026-05-05T12:00:00Z", lv, f"{lv.lower()} message", tool="Search_Code")
             for lv in ("DEBUG", "INFO", "WARN", "ERROR")]
    recs = [parse_record(x, "s/x") for x in lines]
    assert [r.level for r in recs if r.matches(min_level("warn"))] == ["WARN", "ERROR"]
    assert [r.level for r in recs if r.matches(None, "ERROR MESS")] == ["ERROR"]
    assert all(r.matches(None, "tool=search_code") for r in recs)  # attributes, any case
    assert min_level("all") is None and min_level(None) is None
    with pytest.raises(ValueError, match="unknown level"):
        min_level("loud")
    assert min_level("ERROR") == LEVELS["ERROR"]


def test_malformed_and_blank_lines_are_counted() -> None:
    good = slog("2026-05-05T12:00:00Z", "INFO", "ok")
    lines = [good.encode(), b"", b"   ", b"{not json", b"[1,2]", b'{"level":"INFO","msg":"no ts"}',
             b'{"ts":"yesterday","level":"INFO","msg":"x"}', good.encode()]
    counts = ParseCounts()
    recs = parse_lines(lines, "s/x", counts)
    assert len(recs) == 2
    assert (counts.lines, counts.blank, counts.malformed) == (8, 2, 4)
    assert "not an RFC 3339 timestamp" in (counts.last_error or "")


def test_slog_default_time_key_and_groups() -> None:
    line = ('{"time":"2026-05-05T12:00:00.1Z","level":"WARN","msg":"retry",'
            '"req":{"id":7,"peer":{"addr":"10.0.0.1"}},"attempt":2}')
    rec = parse_record(line, "s/x")
    assert rec.ns == 1_777_982_400 * NS + 100_000_000
    assert rec.attrs == {"req.id": 7, "req.peer.addr": "10.0.0.1", "attempt": 2}


def test_old_gateway_server_key_is_the_component() -> None:
    rec = parse_record(slog("2026-05-05T12:00:00Z", "INFO", "x", server="github"), "s/github")
    assert rec.component == "github"
    both = parse_record(slog("2026-05-05T12:00:00Z", "INFO", "x", server="a", component="b"),
                        "s/b")
    assert both.component == "b"  # component wins (seed 001)


def test_untrusted_text_is_not_markup() -> None:
    rec = parse_record(slog("2026-05-05T12:00:00Z", "ERROR", "[bold red]boom\x1b[2J",
                            tool="[link=x]t[/link]"), "s/x")
    row = render_log_row(rec, 120)
    assert "[bold red]boom\\x1b[2J" in row.plain
    assert "[link=x]t[/link]" in row.plain
    assert not any("link" in str(span.style) for span in row.spans)


@pytest.mark.parametrize(("ns", "text"), [
    (1_250_000_000, "1.25 s"), (340_000_000, "340 ms"), (12_000, "12 µs"), (999, "999 ns"),
    (1_500_000, "1.5 ms"), (12_345_000_000, "12.3 s"), (90 * NS, "1.5 min"),
    (2 * 3600 * NS, "2 h"), (0, "0 ns"), (-340_000_000, "-340 ms"),
])
def test_human_durations(ns: int, text: str) -> None:
    assert human_duration(ns) == text


def test_detail_pretty_prints_structured_values() -> None:
    rec = parse_record(slog("2026-05-05T12:00:00Z", "INFO", "args", args=["--repo",
                            "gridctl/gridctl", "--limit", "100", "--state", "open"]), "s/x")
    lines = detail_text(rec).plain.splitlines()
    assert any(line.strip() == '"gridctl/gridctl",' for line in lines)
