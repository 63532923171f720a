"""airstore access events (DESIGN 2.6, seed 000): decode, summarise, follow a JSONL log.

    log = AccessLog("access.jsonl")       # one file, read once or followed live
    log.run(stop)                         # blocking; a thread worker runs it
    snap = log.snapshot()                 # an immutable view: totals, breakdowns, series
    snap.to_dict()                        # what ``tokentop access FILE --json`` prints

The screen and the headless command use this very code: the UI adds nothing to the
numbers.
"""

from tokentop.store.access.event import AccessEvent, decode_line, is_cache_served
from tokentop.store.access.follow import AccessLog
from tokentop.store.access.summary import AccessSnapshot, AccessSummary, Group

__all__ = ["AccessEvent", "AccessLog", "AccessSnapshot", "AccessSummary", "Group",
           "decode_line", "is_cache_served"]
