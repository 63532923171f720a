"""The gateway's trace-pipeline diagnostics: queue pressure, drops, write failures.

Read from ``GET <base>/api/diagnostics/trace-pipeline`` (httpx) or from a JSON file
holding that document (DESIGN 2.5)::

    {"schema_version": "trace-pipeline-diagnostics.v1", "generated_at": "...",
     "diagnostics": {"queue_capacity": 1024, "queue_depth": 9, ...,
                     "write_failures_by_class": {"connection": 2}, "store_driver": "postgres"}}

Pressure is recomputed here from the utilization percentages (>= 100 saturated,
>= 80 high, >= 50 elevated, else ok) rather than trusted from the state strings, so
a document missing them (or an older gateway) still reads the same way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from tokentop.store.httpbody import MAX_BODY, aread_capped
from tokentop.store.tail.regular import read_regular
from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.timefmt import parse_db_time

DIAGNOSTICS_PATH = "/api/diagnostics/trace-pipeline"
DEFAULT_AUTH_HEADER = "X-OngoingAI-Gateway-Key"  # the gateway's auth.header default
KEY_ENV = "TOKENTOP_GATEWAY_KEY"
HEADER_ENV = "TOKENTOP_GATEWAY_AUTH_HEADER"
SCHEMA_VERSION = "trace-pipeline-diagnostics.v1"
TIMEOUT_S = 5.0


class _Raw(msgspec.Struct, kw_only=True):
    queue_capacity: int = 0
    queue_depth: int = 0
    queue_depth_high_watermark: int = 0
    queue_utilization_pct: float | None = None
    queue_high_watermark_utilization_pct: float | None = None
    enqueue_accepted_total: int = 0
    enqueue_dropped_total: int = 0
    write_dropped_total: int = 0
    total_dropped_total: int | None = None
    last_enqueue_drop_at: str | None = None
    last_write_drop_at: str | None = None
    last_write_drop_operation: str = ""
    write_failures_by_class: dict[str, int] = msgspec.field(default_factory=dict)
    store_driver: str = ""


class _Error(msgspec.Struct):
    error: str = ""


class _Document(msgspec.Struct, kw_only=True):
    schema_version: str = ""
    generated_at: str | None = None
    diagnostics: _Raw


class PipelineDiagnostics(msgspec.Struct, frozen=True, kw_only=True):
    """One reading of the gateway's trace pipeline."""

    source: str
    schema_version: str
    generated_at: datetime | None
    queue_capacity: int
    queue_depth: int
    queue_high_watermark: int
    utilization_pct: float
    high_watermark_utilization_pct: float
    pressure: str
    high_watermark_pressure: str
    enqueue_accepted_total: int
    enqueue_dropped_total: int
    write_dropped_total: int
    total_dropped_total: int
    last_enqueue_drop_at: datetime | None
    last_write_drop_at: datetime | None
    last_write_drop_operation: str
    write_failures_by_class: dict[str, int]
    store_driver: str


def pressure_for(pct: float) -> str:
    """The gateway's queue pressure words for a utilization percentage."""
    if pct >= 100:
        return "saturated"
    if pct >= 80:
        return "high"
    if pct >= 50:
        return "elevated"
    return "ok"


def _pct(given: float | None, part: int, capacity: int) -> float:
    if given is not None:
        return float(given)
    return 100.0 * part / capacity if capacity > 0 else 0.0


def _when(text: str | None, source: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_db_time(text)
    except ValueError:
        raise TraceStoreError(f"diagnostics from {source}: bad time {text[:40]!r}") from None


def parse_diagnostics(data: bytes, source: str) -> PipelineDiagnostics:
    """Decode one diagnostics document; TraceStoreError with one line if it is not one."""
    try:
        doc = msgspec.json.decode(data, type=_Document)
    except msgspec.ValidationError as e:
        raise TraceStoreError(f"not a trace-pipeline diagnostics document: {source} ({e})"
                              ) from None
    except msgspec.DecodeError:
        raise TraceStoreError(f"diagnostics are not valid JSON: {source}") from None
    if doc.schema_version and doc.schema_version != SCHEMA_VERSION:
        raise TraceStoreError(
            f"unsupported diagnostics schema {doc.schema_version!r} (want {SCHEMA_VERSION}): "
            f"{source}")
    raw = doc.diagnostics
    now_pct = _pct(raw.queue_utilization_pct, raw.queue_depth, raw.queue_capacity)
    high_pct = _pct(raw.queue_high_watermark_utilization_pct, raw.queue_depth_high_watermark,
                    raw.queue_capacity)
    total_dropped = raw.total_dropped_total
    if total_dropped is None:
        total_dropped = raw.enqueue_dropped_total + raw.write_dropped_total
    return PipelineDiagnostics(
        source=source, schema_version=doc.schema_version or SCHEMA_VERSION,
        generated_at=_when(doc.generated_at, source),
        queue_capacity=raw.queue_capacity, queue_depth=raw.queue_depth,
        queue_high_watermark=raw.queue_depth_high_watermark,
        utilization_pct=now_pct, high_watermark_utilization_pct=high_pct,
        pressure=pressure_for(now_pct), high_watermark_pressure=pressure_for(high_pct),
        enqueue_accepted_total=raw.enqueue_accepted_total,
        enqueue_dropped_total=raw.enqueue_dropped_total,
        write_dropped_total=raw.write_dropped_total, total_dropped_total=total_dropped,
        last_enqueue_drop_at=_when(raw.last_enqueue_drop_at, source),
        last_write_drop_at=_when(raw.last_write_drop_at, source),
        last_write_drop_operation=raw.last_write_drop_operation,
        write_failures_by_class=dict(sorted(raw.write_failures_by_class.items())),
        store_driver=raw.store_driver,
    )


def gateway_auth_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The gateway key header (the route needs ``analytics:read``), from the environment.

    ``TOKENTOP_GATEWAY_KEY`` holds the key, ``TOKENTOP_GATEWAY_AUTH_HEADER`` the header
    name if the gateway's ``auth.header`` is not the default. A key on the command line
    would show up in ``ps``; the environment does not.
    """
    env = os.environ if env is None else env
    key = env.get(KEY_ENV, "").strip()
    if not key:
        return {}
    return {env.get(HEADER_ENV, "").strip() or DEFAULT_AUTH_HEADER: key}


def diagnostics_url(base: str) -> str:
    """The endpoint for a gateway base URL (a URL already ending in it is kept)."""
    base = base.strip()
    if base.rstrip("/").endswith(DIAGNOSTICS_PATH):
        return base
    return base.rstrip("/") + DIAGNOSTICS_PATH


async def load_diagnostics(target: str, *, headers: dict[str, str] | None = None,
                           client: httpx.AsyncClient | None = None) -> PipelineDiagnostics:
    """Read diagnostics from a gateway base URL (http/https) or a JSON file.

    ``headers`` default to :func:`gateway_auth_headers` (the environment's key).
    """
    text = (target or "").strip()
    if text.lower().startswith(("http://", "https://")):
        url = diagnostics_url(text)
        data = await _get(url, gateway_auth_headers() if headers is None else headers, client)
        return parse_diagnostics(data, url)
    path = Path(text).expanduser()
    try:
        data = read_regular(path, MAX_BODY)
    except FileNotFoundError:
        raise TraceStoreError(f"diagnostics file not found: {path}") from None
    except IsADirectoryError:
        raise TraceStoreError(f"is a directory, not a diagnostics file: {path}") from None
    except OSError as e:
        raise TraceStoreError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_diagnostics(data, str(path))


async def _get(url: str, headers: dict[str, str], client: httpx.AsyncClient | None) -> bytes:
    own = client is None
    http: Any = client or httpx.AsyncClient(timeout=TIMEOUT_S)
    try:
        response, body = await aread_capped(http, "GET", url, headers=headers)
    except httpx.HTTPError as e:
        raise TraceStoreError(f"cannot read diagnostics from {url}: {e or type(e).__name__}"
                              ) from None
    finally:
        if own:
            await http.aclose()
    if response.status_code != 200:
        reason = ""
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            reason = msgspec.json.decode(body, type=_Error).error.strip()
        if response.status_code in (401, 403) and not reason:
            reason = f"set {KEY_ENV}"
        suffix = f": {' '.join(reason.split())[:200]}" if reason else ""
        raise TraceStoreError(f"diagnostics: HTTP {response.status_code} from {url}{suffix}")
    return body
