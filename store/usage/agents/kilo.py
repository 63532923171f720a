"""Kilo's usage: the ``message`` table of ``kilo.db``, one ``message_usage`` event per
assistant message.

Kilo's CLI is a fork of OpenCode (Kilo-Org/kilocode ``packages/opencode``, changes marked
``kilocode_change``): the same drizzle schema (``message``: ``id``, ``session_id``,
``time_created``, ``time_updated``, ``data``), the same assistant message JSON and the
same rewrite in place at each step (``tokens`` replaced by the latest step's, ``cost``
added up), so the fields and the watermark are OpenCode's: see
``tokentop.store.usage.agents.opencode``.

Where (ccusage 20.0.24 ``rust/crates/ccusage/src/adapter/kilo/paths.rs``): every
directory of ``$KILO_DATA_DIR`` (comma-separated) else ``$XDG_DATA_HOME/kilo``
(``~/.local/share/kilo``; Kilo resolves it as OpenCode does, with xdg-basedir; ccusage
ignores ``XDG_DATA_HOME``), and in each only ``kilo.db``: ccusage reads no channel
databases and no older ``storage/`` JSON for Kilo, nor does tokentop.

Counting, as ccusage's ``kilo/parser.rs``, which differs from its OpenCode rules:

- only ``role == "assistant"``; ``modelID`` is needed, ``providerID`` is not;
- ``time.created`` must be a positive integer: milliseconds, or seconds when below 10^12
  (multiplied by 1000); a message without one is no event;
- ``tokens.reasoning`` is ccusage's extra total (in its ``totalTokens``, in no column),
  and ``tokens.total`` beyond the parts and the reasoning is the output when the
  output is 0, else more extra; tokentop adds the extra to ``output_tokens``
  (reasoning is output, for every agent: totals and cost equal ccusage's, whose
  ``outputTokens`` leaves it out), keeps ``reasoning_tokens`` and ccusage's total in
  ``total_tokens``;
- the cost is the message's ``cost`` whenever it is a number, 0 included (ccusage's
  auto mode prices only a message without one);
- the message id is the JSON's ``id`` when present, else the row's ``id`` (ccusage:
  ``<db path>:<row id>``; tokentop's is stable when a database is copied or moved, so
  a copy of ``kilo.db`` under a second ``KILO_DATA_DIR`` entry counts once, where
  ccusage counts it twice unless the JSON has an ``id``); the session is the JSON's
  ``session_id``, else the row's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from tokentop.store.usage.agents.base import DatabaseAgent
from tokentop.store.usage.agents.opencode import (
    Message,
    at_ms,
    build_request,
    read_messages,
    text,
    usage_of,
)
from tokentop.store.usage.agents.paths import kilo_db_roots
from tokentop.store.usage.collectors.files import Counts
from tokentop.store.usage.model import IngestRequest, SourceChannel
from tokentop.store.usage.rowmarks import RowMarks

SYSTEM = "kilo"
ENV = ("KILO_DATA_DIR", "XDG_DATA_HOME")


def created_ms(n: int | None) -> int | None:
    """ccusage's ``normalize_timestamp``: positive; seconds below 10^12 become ms."""
    if n is None or n <= 0:
        return None
    return n * 1000 if n < 1_000_000_000_000 else n


def kilo_request(msg: Message, row_id: str | None, row_session: str | None
                 ) -> IngestRequest | None:
    if msg.role != "assistant" or msg.tokens is None:
        return None
    usage = usage_of(msg.tokens, extra=msg.tokens.reasoning)
    if usage is None:
        return None
    model = text(msg.modelID)
    ms = created_ms(msg.time.created if msg.time is not None else None)
    if model is None or ms is None:
        return None
    return build_request(SYSTEM, msg, usage, channel=SourceChannel.SQLITE,
                    occurred_at=at_ms(ms), message_id=text(msg.id) or row_id,
                    session_id=text(msg.session_id) or row_session or "unknown",
                    model=model, provider=text(msg.providerID), cost=msg.cost,
                    payload=None)


def read_kilo_db(conn: sqlite3.Connection, path: Path, watermark: int,
                 counts: Counts, marks: RowMarks,
                 ) -> tuple[Sequence[IngestRequest], int]:
    return read_messages(conn, watermark, counts, kilo_request)


AGENT = DatabaseAgent(
    name="kilo", system=SYSTEM, label="Kilo", env=ENV,
    roots=kilo_db_roots,
    read=read_kilo_db,
)
