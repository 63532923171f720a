"""Antigravity conversation databases for the tests, built as ccusage builds its own.

A port of ccusage's adapter test helpers (ccusage ``adapters/antigravity/src/parser.rs``,
``mod test_support``: ``UsageFixture``, ``model_usage_blob``, ``retry_info_blob``,
``timestamp_blob``, ``metadata_blob``, ``step_metadata_blob``,
``trajectory_metadata_blob``, ``create_database``; the version the pinned 20.0.24 binary
follows), a protobuf encoder of varint and length-delimited fields. The table layout is
``tests/usage/fixtures/antigravity/schema.sql`` (the real one, from public readers).
``write_corpus`` writes the parity corpus (README.md there).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "antigravity"


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


@dataclass(frozen=True)
class UsageFixture:
    """ccusage's ``UsageFixture``: one ``ModelUsage`` message."""

    model_id: int | None = None
    input_tokens: int = 0
    total_output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    visible_output_tokens: int = 0
    provider: int | None = None
    message_id: str | None = None
    response_id: str | None = None
    provider_assigned_message_id: str | None = None


def model_usage_blob(u: UsageFixture) -> bytes:
    out = b""
    if u.model_id is not None:
        out += field_varint(1, u.model_id)
    for number, value in ((2, u.input_tokens), (3, u.total_output_tokens),
                          (4, u.cache_creation_tokens), (5, u.cache_read_tokens),
                          (9, u.reasoning_tokens), (10, u.visible_output_tokens)):
        if value > 0:
            out += field_varint(number, value)
    if u.provider is not None:
        out += field_varint(6, u.provider)
    for number, text in ((7, u.message_id), (11, u.response_id),
                         (12, u.provider_assigned_message_id)):
        if text is not None:
            out += field_bytes(number, text.encode())
    return out


def retry_info_blob(u: UsageFixture) -> bytes:
    return field_bytes(2, model_usage_blob(u))


def timestamp_blob(seconds: int, nanos: int) -> bytes:
    return field_varint(1, seconds) + field_varint(2, nanos)


def metadata_blob(model: str | None, usage: UsageFixture | None,
                  timestamp: tuple[int, int] | None,
                  retries: tuple[UsageFixture, ...] = ()) -> bytes:
    """A ``gen_metadata.data`` blob (ccusage's ``metadata_blob``)."""
    chat = b""
    if usage is not None:
        if usage.model_id is not None:
            chat += field_varint(3, usage.model_id)
        chat += field_bytes(4, model_usage_blob(usage))
    if timestamp is not None:
        chat += field_bytes(9, field_bytes(4, timestamp_blob(*timestamp)))
    for retry in retries:
        chat += field_bytes(17, retry_info_blob(retry))
    if model is not None:
        chat += field_bytes(19, model.encode())
    return field_bytes(1, chat)


def step_metadata_blob(model: str | None, usage: UsageFixture | None,
                       timestamp: tuple[int, int] | None,
                       retries: tuple[UsageFixture, ...] = (),
                       provider: int | None = None) -> bytes:
    """A ``steps.metadata`` blob (ccusage's ``step_metadata_blob``)."""
    out = b""
    if timestamp is not None:
        out += field_bytes(8, timestamp_blob(*timestamp))
    if usage is not None:
        out += field_bytes(9, model_usage_blob(usage))
    if model is not None or provider is not None:
        info = b""
        if usage is not None and usage.model_id is not None:
            info += field_varint(1, usage.model_id)
        if provider is not None:
            info += field_varint(7, provider)
        if model is not None:
            info += field_bytes(12, model.encode())
        out += field_bytes(24, info)
    for retry in retries:
        out += field_bytes(28, retry_info_blob(retry))
    return out


def trajectory_metadata_blob(seconds: int, nanos: int,
                             workspace_uri: str | None = None) -> bytes:
    """``trajectory_metadata_blob.data``: 2 = created-at; 1.1 = the workspace URI (as
    ccusage's older adapter and public readers decode it; 20.0.24 does not read it)."""
    out = field_bytes(2, timestamp_blob(seconds, nanos))
    if workspace_uri is not None:
        out += field_bytes(1, field_bytes(1, workspace_uri.encode()))
    return out


def create_database(path: Path, generations: list[tuple[int, bytes]],
                    steps: list[tuple[int, bytes]] = (),  # type: ignore[assignment]
                    trajectories: list[bytes] = (),  # type: ignore[assignment]
                    *, wal: bool = True) -> Path:
    """One conversation database in the real layout (``schema.sql``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript((FIXTURES / "schema.sql").read_text())
    conn.executemany("INSERT INTO gen_metadata (idx, data, size) VALUES (?, ?, ?)",
                     [(i, d, len(d)) for i, d in generations])
    conn.executemany("INSERT INTO steps (idx, step_type, status, metadata)"
                     " VALUES (?, 15, 3, ?)", list(steps))
    conn.executemany("INSERT INTO trajectory_metadata_blob (id, data) VALUES ('main', ?)",
                     [(d,) for d in trajectories])
    conn.commit()
    conn.close()
    return path


# --- blobs of other readers' tests, read as the 20.0.24 binary reads them ------------


def fb4ce58_generation_blob() -> bytes:
    """ccusage/ccusage ``rust/crates/ccusage/src/adapter/antigravity/parser.rs`` (commit
    fb4ce58) ``encode::generation_blob`` of its ``sample_generation``-like loader fixture
    (model ``gemini-3.1-pro-low``, 2026-01-02T00:00:00Z, system input 1000, fresh input
    6321, cache read 10, output 604, thinking 5, ``resp-1``): that layout's fields 1, 2,
    5, 9, 10, 11 of the usage."""
    usage = (field_varint(1, 1000) + field_varint(2, 6321) + field_varint(5, 10)
             + field_varint(9, 604) + field_varint(10, 5) + field_bytes(11, b"resp-1"))
    chat = (field_bytes(19, b"gemini-3.1-pro-low")
            + field_bytes(9, field_bytes(4, timestamp_blob(1_767_312_000, 0)))
            + field_bytes(4, usage))
    return field_bytes(1, chat)


def sample_gen_metadata_blob(response_id: str) -> bytes:
    """``sample_gen_metadata_blob`` of a public third-party Antigravity reader's
    ``protobuf`` parser tests (Rust; found by code search for
    ``trajectory_metadata_blob``): usage 1=100, 2=50, 5=12, 9=20, 10=5, 11=id; model
    ``gemini-3-flash-a``. Its ``sample_trajectory_metadata_blob`` is
    ``trajectory_metadata_blob(1_781_502_653, 0)``."""
    usage = (field_varint(1, 100) + field_varint(2, 50) + field_varint(5, 12)
             + field_varint(9, 20) + field_varint(10, 5)
             + field_bytes(11, response_id.encode()))
    return field_bytes(1, field_bytes(4, usage) + field_bytes(19, b"gemini-3-flash-a"))


# --- the parity corpus (fixtures/antigravity/README.md) ------------------------------

T0 = 1781078400  # 2026-06-10T08:00:00Z
DAY = 86400


def write_corpus(base: Path) -> tuple[Path, Path]:
    """Two roots, ``<base>/cli`` and ``<base>/backup`` (ANTIGRAVITY_DATA_DIR "cli,backup"):
    three conversations over three UTC days, the second copied verbatim to the backup."""
    cli, backup = base / "cli" / "conversations", base / "backup" / "conversations"
    r1 = UsageFixture(input_tokens=4000, total_output_tokens=900, visible_output_tokens=700,
                      reasoning_tokens=200, cache_read_tokens=12000, message_id="m-1",
                      response_id="resp-1", provider_assigned_message_id="prov-1")
    r2 = UsageFixture(input_tokens=300, visible_output_tokens=150, reasoning_tokens=50,
                      cache_read_tokens=16000, message_id="m-2", response_id="resp-2")
    r2_retry = UsageFixture(input_tokens=280, visible_output_tokens=20, message_id="m-2",
                            response_id="resp-2-retry")
    s1 = UsageFixture(input_tokens=1200, total_output_tokens=400, visible_output_tokens=400,
                      cache_creation_tokens=2048, response_id="step-1")
    create_database(cli / "6f0c1d2e-0001-4a5b-8c9d-0e1f2a3b4c5d.db", [
        (1, metadata_blob("Gemini 2.5 Pro", r1, (T0 + 60, 500_000_000))),
        (2, metadata_blob(None, r2, (T0 + 300, 0), (r2_retry,))),
        (3, metadata_blob(None, UsageFixture(response_id="resp-empty"), (T0 + 400, 0))),
    ], [
        (1, step_metadata_blob(None, r1, (T0 + 59, 0), (), 24)),
        (2, step_metadata_blob("claude-sonnet-4-5", s1, (T0 + 3600, 0), (), 26)),
    ], [trajectory_metadata_blob(T0, 0, "file:///Users/dev/My%20App")])

    r3 = UsageFixture(model_id=312, input_tokens=5000, total_output_tokens=1000,
                      visible_output_tokens=600, reasoning_tokens=400,
                      cache_read_tokens=2000, response_id="resp-3")
    anonymous = UsageFixture(input_tokens=700, visible_output_tokens=70)
    conv2 = create_database(cli / "6f0c1d2e-0002-4a5b-8c9d-0e1f2a3b4c5d.db", [
        (1, metadata_blob("gemini-3-flash-a", r3, None)),
        (2, metadata_blob(None, anonymous, (T0 + DAY + 7200, 0))),
    ], [], [trajectory_metadata_blob(T0 + DAY, 250_000_000)])
    backup.mkdir(parents=True, exist_ok=True)
    shutil.copy2(conv2, backup / conv2.name)

    r4 = UsageFixture(input_tokens=900, total_output_tokens=300, visible_output_tokens=250,
                      reasoning_tokens=50, cache_read_tokens=4096, response_id="resp-4")
    r5 = UsageFixture(input_tokens=1500, visible_output_tokens=120, cache_read_tokens=8192,
                      response_id="resp-5")
    create_database(backup / "6f0c1d2e-0003-4a5b-8c9d-0e1f2a3b4c5d.db", [
        (1, metadata_blob("Gemini 3.8 Flash (High)", r4, (T0 + 2 * DAY, 0))),
        (2, metadata_blob("Gemini 2.5 Flash", r5, (T0 + 2 * DAY + 60, 0))),
    ])
    for db in (cli.parent, backup.parent):
        for p in db.rglob("*"):
            os.utime(p, (T0 + 3 * DAY, T0 + 3 * DAY))
    return cli.parent, backup.parent
