"""gridctl's traces.jsonl: OTLP-JSON TracesData envelopes (protojson) to spans and traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gridlog_lines import (
    CHILD_HEX,
    GRANDCHILD_HEX,
    NS,
    ROOT_HEX,
    T0,
    TRACE_HEX,
    append,
    attr,
    b64,
    envelope,
    span,
    tool_span,
    write,
)

from tokentop.store.gridctl.follow import SignalFollower
from tokentop.store.gridctl.logs import ParseCounts
from tokentop.store.gridctl.spans import (
    Malformed,
    Span,
    any_value,
    group_traces,
    parse_envelope,
    parse_lines,
    span_id_hex,
    waterfall,
)
from tokentop.tui.widgets.span_text import span_row, trace_title, waterfall_text

ONE_TRACE = envelope([
    tool_span(TRACE_HEX, ROOT_HEX, "search_code", T0, 1_250_000_000, inp=900, out=350),
    span(TRACE_HEX, CHILD_HEX, "mcp.transport.send", T0 + 10_000_000, T0 + 1_200_000_000,
         parent=ROOT_HEX, kind="SPAN_KIND_CLIENT"),
    span(TRACE_HEX, GRANDCHILD_HEX, "POST api.github.com", T0 + 300_000_000,
         T0 + 900_000_000, parent=CHILD_HEX, kind="SPAN_KIND_CLIENT",
         attrs=[attr("http.response.status_code", 200)]),
])


def test_a_real_envelope() -> None:
    spans, bad = parse_envelope(ONE_TRACE, "prod/github")
    assert bad == 0 and len(spans) == 3
    root = spans[0]
    assert root.trace_id == TRACE_HEX  # base64 on disk, hex here
    assert root.span_id == ROOT_HEX and root.parent_id == ""
    assert spans[1].parent_id == ROOT_HEX and spans[2].parent_id == CHILD_HEX
    assert root.start_ns == T0 and root.duration_ns == 1_250_000_000  # int64 strings
    assert (root.tool, root.client, root.server_name) == ("search_code", "claude-code", "github")
    assert root.tokens == {"input_tokens": 900, "output_tokens": 350}
    assert root.total_tokens == 1250
    assert (root.status_code, root.status, root.kind) == (1, "OK", 2)
    assert root.resource == {"service.name": "gridctl"}
    assert root.scope == "gridctl/gateway"
    assert spans[2].attrs["http.response.status_code"] == 200
    doc = root.to_json()
    assert doc["traceId"] == TRACE_HEX and doc["kind"] == "SERVER"
    assert doc["status"] == {"code": "OK", "message": ""}
    json.dumps(doc)  # serialisable as is


def test_several_resource_spans_and_scopes_per_line() -> None:
    line = json.dumps({"resourceSpans": [
        {"resource": {"attributes": [attr("service.name", "a")]}, "scopeSpans": [
            {"scope": {"name": "s1"}, "spans": [tool_span("01" * 16, "02" * 8, "t1", T0, NS)]},
            {"scope": {"name": "s2"}, "spans": [tool_span("03" * 16, "04" * 8, "t2", T0, NS)]},
        ]},
        {"resource": {"attributes": [attr("service.name", "b")]}, "scopeSpans": [
            {"scope": {"name": "s3"}, "spans": [tool_span("05" * 16, "06" * 8, "t3", T0, NS),
                                                tool_span("05" * 16, "07" * 8, "t4", T0, NS)]},
        ]},
    ]})
    spans, bad = parse_envelope(line, "s/x")
    assert bad == 0
    assert [(s.tool, s.scope, s.resource["service.name"]) for s in spans] == [
        ("t1", "s1", "a"), ("t2", "s2", "a"), ("t3", "s3", "b"), ("t4", "s3", "b")]
    assert list(group_traces(spans)) == ["01" * 16, "03" * 16, "05" * 16]


def test_attribute_values() -> None:
    assert any_value({"stringValue": "x"}) == "x"
    assert any_value({"intValue": "9007199254740993"}) == 9007199254740993  # > 2**53
    assert any_value({"intValue": 5}) == 5
    assert any_value({"doubleValue": 0.5}) == 0.5
    assert str(any_value({"doubleValue": "NaN"})) == "nan"
    assert any_value({"boolValue": True}) is True
    assert any_value({"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}]}}) \
        == ["a", 2]
    assert any_value({"kvlistValue": {"values": [attr("k", "v")]}}) == {"k": "v"}
    assert any_value({}) is None


def test_ids_base64_or_hex() -> None:
    assert span_id_hex(b64(TRACE_HEX), 16) == TRACE_HEX
    assert span_id_hex(TRACE_HEX.upper(), 16) == TRACE_HEX  # OTLP/HTTP style hex
    assert span_id_hex(b64(ROOT_HEX), 8) == ROOT_HEX
    assert span_id_hex("", 8) == ""
    with pytest.raises(ValueError):
        span_id_hex(b64("00ff"), 8)  # wrong length
    with pytest.raises(ValueError):
        span_id_hex("!!!!", 8)


def test_enums_as_numbers_and_snake_case_keys() -> None:
    line = json.dumps({"resource_spans": [{"scope_spans": [{"spans": [{
        "trace_id": b64(TRACE_HEX), "span_id": b64(ROOT_HEX), "name": "x", "kind": 3,
        "start_time_unix_nano": T0, "end_time_unix_nano": T0 + 5,
        "status": {"code": 2, "message": "boom"},
        "attributes": [attr("gen_ai.usage.input_tokens", 7)]}]}]}]})
    (s,), bad = parse_envelope(line, "s/x")
    assert bad == 0 and s.kind == 3 and s.is_error and s.status_message == "boom"
    assert s.duration_ns == 5 and s.tokens == {"input_tokens": 7}


def test_malformed_lines_and_spans_are_counted() -> None:
    no_ids = {"name": "x", "startTimeUnixNano": "1"}
    bad_time = tool_span(TRACE_HEX, ROOT_HEX, "t", T0, NS) | {"startTimeUnixNano": "soon"}
    lines = [ONE_TRACE.encode(), b"", b"{not json", b'{"resourceSpans":"no"}', b"[]",
             envelope([no_ids, bad_time, tool_span(TRACE_HEX, CHILD_HEX, "ok", T0, NS)]).encode()]
    counts = ParseCounts()
    spans = parse_lines(lines, "s/x", counts)
    assert len(spans) == 4
    assert (counts.lines, counts.blank, counts.malformed) == (6, 1, 5)
    with pytest.raises(Malformed):
        parse_envelope("{}", "s/x")


def _spans() -> list[Span]:
    return parse_envelope(ONE_TRACE, "prod/github")[0]


def test_waterfall_tree_depths_and_offsets() -> None:
    spans = _spans()
    rows = list(waterfall(reversed(spans)))  # arrival order does not matter
    assert [(r.span.name, r.depth, r.offset_ns, r.orphan) for r in rows] == [
        ("tools/call search_code", 0, 0, False),
        ("mcp.transport.send", 1, 10_000_000, False),
        ("POST api.github.com", 2, 300_000_000, False),
    ]
    text = waterfall_text(rows, 80).plain.splitlines()
    assert text[0].strip().startswith("0") and text[0].rstrip().endswith("1.25 s")
    bars = [line.count("█") for line in text[1:]]
    assert bars[0] > bars[1] > bars[2] > 0  # scaled to the trace's duration
    assert text[2].startswith("  mcp.transport.send")  # indented by depth
    assert text[3].index("█") > text[1].index("█")  # offset from the trace start
    assert trace_title(rows) == "trace 4bf92f3577b3… · 3 spans · 1.25 s"


def test_waterfall_partial_trace_cycle_and_duplicates() -> None:
    spans = _spans()
    orphan = list(waterfall(spans[1:]))  # the root was never written (or evicted)
    assert [(r.depth, r.orphan) for r in orphan] == [(0, True), (1, False)]
    a = Span("s", TRACE_HEX, "aa" * 8, "bb" * 8, "a", 1, T0, T0 + 1)
    b = Span("s", TRACE_HEX, "bb" * 8, "aa" * 8, "b", 1, T0 + 1, T0 + 2)
    assert sorted(r.span.name for r in waterfall([a, b])) == ["a", "b"]  # a cycle ends
    assert len(list(waterfall([*spans, *spans]))) == 3  # a retried export shown once


def test_span_row_shows_the_call() -> None:
    root = _spans()[0]
    row = span_row(root, 120).plain
    for part in ("prod/github", "search_code", "claude-code", "1.25 s", "OK", "900→350"):
        assert part in row
    failed = parse_envelope(envelope([tool_span(TRACE_HEX, ROOT_HEX, "create_issue", T0, NS,
                                                error="403 rate limit")]), "s/x")[0][0]
    assert "ERROR" in span_row(failed, 120).plain and "403 rate limit" in span_row(
        failed, 120).plain


def test_traces_follow_across_rotated_gz_siblings(tmp_path: Path) -> None:
    d = tmp_path / "prod" / "github"
    old = envelope([tool_span("0a" * 16, "0b" * 8, "old", T0 - 60 * NS, NS)])
    write(d / "traces-2026-05-05T11-00-00.000.jsonl.gz", [old], gz=True)
    active = write(d / "traces.jsonl", [ONE_TRACE])
    f = SignalFollower(tmp_path, "traces", parse_lines)
    spans = f.load()
    assert [s.name for s in spans] == ["tools/call old", "tools/call search_code",
                                       "mcp.transport.send", "POST api.github.com"]
    append(active, envelope([tool_span("0c" * 16, "0d" * 8, "new", T0 + NS, NS)]) + "\n")
    assert [s.tool for s in f.rescan()] == ["new"]
