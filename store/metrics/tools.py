"""Per-tool and per-skill usage as gridctl persists it: cumulative snapshots, not diffs.

gridctl (``pkg/telemetry/metrics.go``, ``MetricsSnapshotLine``) writes on a server's
line a ``tool_usage`` map ``tool -> ToolStat`` (``pkg/metrics/accumulator.go``): calls
and the last call since its accumulator started, and since per-tool attribution the
tool's own input/output tokens (``omitempty``: older lines have calls only). The map
is the freshest cumulative snapshot, carried on every line the server emits, so the
latest one wins; a token ``reset`` clears it (``SeedFromFile``). The ``__skills__``
writer carries ``prompt_usage`` in the same shape (calls and last use, no tokens): how
often each registry skill was served through ``prompts/get``.

``last_called_at`` is Go's ``time.Time`` JSON: RFC 3339 with nanoseconds, in the
gateway's *local* zone (``time.Unix`` is local), and the zero time
``0001-01-01T00:00:00Z`` when never set (``omitempty`` does not drop a struct).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec


class ToolStat(msgspec.Struct, frozen=True):
    """gridctl's ``metrics.ToolStat``, exactly as written."""

    calls: int = 0
    last_called_at: str = ""
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def last_called(self) -> datetime | None:
        """The last call in UTC; None when gridctl wrote the zero time or nothing usable."""
        return parse_go_time(self.last_called_at)


_decode_usage = msgspec.json.Decoder(dict[str, ToolStat])


def decode_usage(raw: bytes | memoryview | msgspec.Raw) -> dict[str, ToolStat] | None:
    """A ``tool_usage``/``prompt_usage`` value; None for ``null`` or a shape gridctl
    never writes (Go's unmarshal would reject the whole line: tokentop keeps the line's
    tokens and drops only the map)."""
    try:
        return _decode_usage.decode(raw)
    except msgspec.ValidationError:
        return None


def parse_go_time(text: str) -> datetime | None:
    """RFC 3339 (any fraction, any offset) to an aware UTC datetime; the zero time and
    anything unparsable to None."""
    if not text or text.startswith("0001-01-01"):
        return None
    head, dot, rest = text.partition(".")
    if dot:  # Python takes at most 6 fractional digits: trim Go's nanoseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class ToolRow:
    """One tool of one server (or one skill of one stack), for screens and JSON."""

    owner: str  # ``stack/server`` for a tool, ``stack`` for a skill
    name: str
    stat: ToolStat


def usage_json(stat: ToolStat, *, tokens: bool = True) -> dict[str, object]:
    """One ToolStat as ``tokentop metrics --json`` prints it (times in UTC, null if none)."""
    last = stat.last_called
    doc: dict[str, object] = {
        "calls": stat.calls,
        "last_called_at": last.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if last else None,
    }
    if tokens:
        doc |= {"input_tokens": stat.input_tokens, "output_tokens": stat.output_tokens,
                "total_tokens": stat.total_tokens}
    return doc
