"""The ``__skills__`` writer of a stack: skill (prompt) usage, not a server.

gridctl's gateway registers one extra metrics writer per stack under the reserved name
``__skills__`` (``telemetry.PromptUsageNamespace``, ``pkg/telemetry/metrics.go``;
``pkg/controller/gateway_builder.go`` puts it at ``<stack>/__skills__/metrics.jsonl``).
Its lines carry a zero ``diff``/``total`` and a cumulative ``prompt_usage`` map (skill
-> calls and last use) whenever a registry skill was served through ``prompts/get``.
They are never points of a chart; ``SeedPromptUsageFromFile`` restores the latest
non-null map, and so does this sink, into ``MetricsState.skills[stack]``.
"""

from __future__ import annotations

import msgspec

from tokentop.store.metrics.line import decoder
from tokentop.store.metrics.replay import MetricsState, ReplayStats
from tokentop.store.metrics.tools import decode_usage


class SkillsSink:
    """A ``FamilyTail`` sink for ``__skills__`` files; ``key`` is the stack name."""

    def __init__(self, state: MetricsState) -> None:
        self.state = state
        self.lock = state.lock

    @property
    def stats(self) -> ReplayStats:
        return self.state.stats

    def apply(self, stack: str, lines: list[bytes]) -> int:
        malformed = blank = 0
        maps: list[msgspec.Raw] = []  # non-null prompt_usage maps, decoded lazily
        for raw in lines:
            try:
                line = decoder.decode(raw)
            except msgspec.DecodeError:
                if raw.strip():
                    malformed += 1
                else:
                    blank += 1
                continue
            if not line.server:
                malformed += 1
                continue
            pu = line.prompt_usage
            if pu and (len(pu) != 4 or bytes(pu) != b"null"):
                maps.append(pu)
        # The latest map that decodes: Go's unmarshal drops a line whose map does not, so
        # SeedPromptUsageFromFile falls back to the line before it.
        usage = next((u for u in map(decode_usage, reversed(maps)) if u is not None), None)
        with self.lock:
            st = self.state.stats
            st.lines += len(lines)
            st.malformed += malformed
            st.blank += blank
            if usage is not None:
                self.state.skills[stack] = usage
        return len(lines)

    def apply_tail(self, stack: str, tail: bytes) -> None:
        if tail.strip():
            self.apply(stack, [tail])
