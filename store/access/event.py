"""One airstore ``AccessEvent`` (a file read through an AI-agent filesystem).

Every read produces exactly one event whatever happened to compression, so the
event log *is* the read log. Two facts are derived here, once, for the summary and
the screen alike:

- **cache-served or backend.** ``cache_source`` says where the bytes came from:
  ``backend_rpc`` is a round trip to the source service; ``open_content``,
  ``content_cache``, ``prefetch`` and ``dirty_buffer`` (and any other named source)
  are local copies. The gRPC interceptor records reads it served itself and leaves
  ``cache_source`` empty: those are backend reads. An ``outcome`` of ``cache_hit``
  (the compressed result came from the result cache) is cache-served whatever the
  source says.
- **tokens delivered.** The agent received ``compressed_tokens`` when the outcome
  compressed the content (``compressed``, ``cache_hit``); on ``passthrough``,
  ``timeout``, ``error`` and ``skipped`` it received the original, whatever
  ``compressed_tokens`` holds (airstore leaves it 0 on a failure, which must not
  read as a 100 % saving). Tokens saved = original - delivered.
"""

from __future__ import annotations

import msgspec

OUTCOMES = ("compressed", "cache_hit", "passthrough", "timeout", "error", "skipped")
COMPRESSING = frozenset({"compressed", "cache_hit"})
BACKEND_SOURCES = frozenset({"", "backend_rpc"})


class AccessEvent(msgspec.Struct, frozen=True):
    """The fields of airstore's ``AccessEvent`` tokentop uses (``ts`` in unix ms)."""

    ts: int
    path: str = ""
    event_id: str = ""
    workspace_id: str = ""
    session_id: str = ""
    cache_source: str = ""
    offset: int = 0
    requested_bytes: int = 0
    read_bytes: int = 0
    latency_ms: int = 0
    mount_id: str = ""
    access_origin: str = ""
    integration: str = ""
    source_uri: str = ""
    query_path: str = ""
    result_id: str = ""
    original_bytes: int = 0
    compressed_bytes: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    strategy: str = ""
    outcome: str = ""
    compression_ms: int = 0
    fetch_ms: int = 0
    error_msg: str = ""

    @property
    def cache_served(self) -> bool:
        return is_cache_served(self.cache_source, self.outcome)

    @property
    def delivered_tokens(self) -> int:
        """The tokens the agent received (see the module docstring)."""
        return self.compressed_tokens if self.outcome in COMPRESSING else self.original_tokens

    @property
    def tokens_saved(self) -> int:
        return self.original_tokens - self.delivered_tokens


def is_cache_served(cache_source: str, outcome: str) -> bool:
    """A local copy or the result cache answered, not the backend."""
    return outcome == "cache_hit" or cache_source not in BACKEND_SOURCES


_decoder = msgspec.json.Decoder(AccessEvent)


def decode_line(line: bytes) -> AccessEvent | str:
    """The event of one JSONL line, or a one-line reason it is not one."""
    try:
        return _decoder.decode(line)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        return f"not an access event: {exc}"
