"""Trace-pipeline diagnostics from a real HTTP server on 127.0.0.1 and from a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateway_server import PATH, GatewayServer, document
from pg_server import free_port

from tokentop.store.traces import TraceStoreError
from tokentop.store.traces.diagnostics import load_diagnostics, pressure_for


async def test_from_gateway_url() -> None:
    with GatewayServer() as gw:
        d = await load_diagnostics(gw.url + "/")
        again = await load_diagnostics(gw.url + PATH)
    assert [path for path, _ in gw.requests] == [PATH, PATH]
    assert d == again  # a base URL and the endpoint's own URL read the same
    assert (d.queue_capacity, d.queue_depth, d.queue_high_watermark) == (1024, 9, 512)
    assert (d.pressure, d.high_watermark_pressure) == ("ok", "elevated")
    assert (d.enqueue_dropped_total, d.write_dropped_total, d.total_dropped_total) == (2, 1, 3)
    assert d.write_failures_by_class == {"connection": 4, "timeout": 1}
    assert d.last_write_drop_at == datetime(2026, 2, 22, 10, 1, tzinfo=UTC)
    assert d.generated_at == datetime(2026, 2, 22, 10, 2, tzinfo=UTC)
    assert d.store_driver == "postgres" and d.source.endswith(PATH)


async def test_pressure_is_computed_from_utilization(tmp_path: Path) -> None:
    path = tmp_path / "diag.json"
    # states say "ok" but the percentages say otherwise: the percentages win
    path.write_text(json.dumps(document(queue_utilization_pct=100,
                                        queue_high_watermark_utilization_pct=80,
                                        queue_pressure_state="ok")))
    d = await load_diagnostics(str(path))
    assert (d.pressure, d.high_watermark_pressure) == ("saturated", "high")
    # no percentages at all: from depth / capacity
    doc = document(queue_depth=52, queue_capacity=100, queue_depth_high_watermark=49)
    for key in ("queue_utilization_pct", "queue_high_watermark_utilization_pct",
                "total_dropped_total"):
        del doc["diagnostics"][key]
    path.write_text(json.dumps(doc))
    d = await load_diagnostics(str(path))
    assert (d.utilization_pct, d.pressure) == (52.0, "elevated")
    assert (d.high_watermark_utilization_pct, d.high_watermark_pressure) == (49.0, "ok")
    assert d.total_dropped_total == 3


@pytest.mark.parametrize(("pct", "word"), [(0, "ok"), (49.9, "ok"), (50, "elevated"),
                                           (79, "elevated"), (80, "high"), (99, "high"),
                                           (100, "saturated"), (250, "saturated")])
def test_pressure_words(pct: float, word: str) -> None:
    assert pressure_for(pct) == word


async def test_errors_are_one_line(tmp_path: Path) -> None:
    for body, status, match in (
            ({"error": "trace pipeline diagnostics unavailable"}, 503, "HTTP 503"),
            (b"<html>oops</html>", 200, "not valid JSON"),
            ({"schema_version": "v9", "diagnostics": {}}, 200,
             "unsupported diagnostics schema 'v9'")):
        with GatewayServer(body=body, status=status) as gw, \
                pytest.raises(TraceStoreError, match=match):
            await load_diagnostics(gw.url)
    with pytest.raises(TraceStoreError, match="cannot read diagnostics from") as info:
        await load_diagnostics(f"http://127.0.0.1:{free_port()}")
    assert "\n" not in str(info.value)
    with pytest.raises(TraceStoreError, match="diagnostics file not found"):
        await load_diagnostics(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"diagnostics": {"queue_depth": "lots"}}')
    with pytest.raises(TraceStoreError, match="not a trace-pipeline diagnostics document"):
        await load_diagnostics(str(bad))


async def test_gateway_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with GatewayServer(status=401, body={"error": "missing gateway key"}) as gw:
        monkeypatch.delenv("TOKENTOP_GATEWAY_KEY", raising=False)
        with pytest.raises(TraceStoreError, match=r"HTTP 401 .*: missing gateway key"):
            await load_diagnostics(gw.url)
        monkeypatch.setenv("TOKENTOP_GATEWAY_KEY", "gk-secret")
        gw.status, gw.body = 200, document()
        await load_diagnostics(gw.url)
        monkeypatch.setenv("TOKENTOP_GATEWAY_AUTH_HEADER", "X-Custom-Key")
        await load_diagnostics(gw.url)
    sent = [{k.lower(): v for k, v in headers.items()} for _, headers in gw.requests]
    assert "x-ongoingai-gateway-key" not in sent[0]
    assert sent[1]["x-ongoingai-gateway-key"] == "gk-secret"
    assert sent[2]["x-custom-key"] == "gk-secret"
