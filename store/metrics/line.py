"""The on-disk schema of one gridctl metrics line (MetricsSnapshotLine), typed.

msgspec decodes straight into these structs, ignoring keys we do not know
(``model_cost``...), which is both the tolerance DESIGN 2.1 asks for and the fastest
way to skip them. ``tool_usage`` and ``prompt_usage`` are kept as raw bytes: every line
of a busy server carries its whole cumulative tool map, and only the last one of a
batch is worth decoding (``tokentop.store.metrics.tools``).

The ``cost_*`` keys are what gridctl wrote until it removed its dollar-cost layer
(gridctl commit 5245a795, 2026-08-07); files written since carry none, older ones keep
theirs, and both decode here.

Every count is bounded (0 to 10^12 per line, far past any real diff or total): two
lines of 2^62 in one minute overflowed the ring's 64-bit sums, a traceback in the CLI
and a replay worker dead at "100%". A line outside is malformed, counted and skipped.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_COUNT = 10**12
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]


class TokenCounts(msgspec.Struct, frozen=True):
    input_tokens: Count = 0
    output_tokens: Count = 0
    total_tokens: Count = 0


class CostCounts(msgspec.Struct, frozen=True):
    """Micro-USD; every part optional (missing = 0), ``{}`` valid."""

    input_micro_usd: Count = 0
    output_micro_usd: Count = 0
    cache_read_micro_usd: Count = 0
    cache_write_micro_usd: Count = 0

    @property
    def micro_usd(self) -> int:
        return (
            self.input_micro_usd
            + self.output_micro_usd
            + self.cache_read_micro_usd
            + self.cache_write_micro_usd
        )


ZERO_TOKENS = TokenCounts()


class MetricsLine(msgspec.Struct):
    ts: str = ""
    server: str = ""
    diff: TokenCounts | None = None
    total: TokenCounts | None = None
    cost_diff: CostCounts | None = None
    cost_total: CostCounts | None = None
    reset: bool = False
    cost_reset: bool = False
    tool_usage: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # b"": absent
    prompt_usage: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


decoder = msgspec.json.Decoder(MetricsLine)
