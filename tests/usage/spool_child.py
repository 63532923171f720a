"""A child process that drains a spool into a store, and can SIGKILL itself at a
chosen step (tests/usage/test_spool.py).

    python spool_child.py DB SPOOL BATCH

``SPOOL_KILL=step:n`` picks the step: ``parse:n`` (while parsing the n-th record),
``ingest:n`` (inside the n-th ingest transaction, before COMMIT), ``after_ingest:n``
(the n-th batch committed, nothing acked), ``ack:n`` (right after the n-th ack). The
hooks live here, around the real Spool and UsageStore, not in the code under test.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.spool import Spool, SpoolRecord, drain

STEP, _, N = (os.environ.get("SPOOL_KILL") or ":0").partition(":")
N = int(N or 0)
counts = {"parse": 0, "ingest": 0, "ack": 0}


def die(*_args: object) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 1


def tick(step: str) -> bool:
    counts[step] += 1
    return step == STEP and counts[step] == N


def parse(record: SpoolRecord) -> list[IngestRequest]:
    if tick("parse"):
        die()
    return [
        IngestRequest(
            source_system="claude_code", source_channel=record.source_channel,
            occurred_at=datetime.fromtimestamp(e["t"], UTC), message_id=e["msg"],
            session_id=e["session"], output_tokens=e["tokens"], provider_id="anthropic",
        )
        for e in record.payload["events"]
    ]


class KillingStore:
    def __init__(self, store: UsageStore) -> None:
        self.store = store

    def ingest(self, requests: list[IngestRequest]):
        kill_inside = tick("ingest")
        if kill_inside:
            self.store.conn.set_progress_handler(die, 500)  # mid-transaction
        result = self.store.ingest(requests)
        if STEP == "after_ingest" and counts["ingest"] == N:
            die()
        return result


class KillingSpool(Spool):
    def ack(self, path) -> None:
        super().ack(path)
        if tick("ack"):
            die()


def main() -> None:
    db, spool_dir, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with UsageStore.open(db) as store:
        res = drain(KillingSpool(spool_dir), KillingStore(store), parse, batch=batch)
    print(res.acked, res.ingest.inserted, res.ingest.enriched, res.ingest.duplicates)


if __name__ == "__main__":
    main()
