"""airstore access events (beam-cloud/airstore ``pkg/instrumentation``, ``pkg/api/v1``).

    src = open_source("https://HOST/api/v1/workspaces/WS", token=..., follow=True)
    src = open_source("access.jsonl")     # or a saved API page, or "-"
    src.run(stop)                         # blocking; a thread worker runs it
    snap = src.snapshot()                 # an immutable view: GetSummary's numbers and more
    src.document()                        # what ``tokentop access SOURCE --json`` prints

The screen and the headless command use this very code: the UI adds nothing to the
numbers.
"""

from tokentop.store.access.api import TOKEN_ENV, AccessApi
from tokentop.store.access.book import AccessBook
from tokentop.store.access.event import AccessEvent, decode_line, is_cache_served
from tokentop.store.access.follow import AccessLog
from tokentop.store.access.page import AccessPageFile
from tokentop.store.access.source import AccessSource, open_source
from tokentop.store.access.summary import (
    AccessSnapshot,
    AccessSummary,
    ErrorStat,
    Group,
    PathStat,
    Timing,
)

__all__ = ["TOKEN_ENV", "AccessApi", "AccessBook", "AccessEvent", "AccessLog",
           "AccessPageFile", "AccessSnapshot", "AccessSource", "AccessSummary", "ErrorStat",
           "Group", "PathStat", "Timing", "decode_line", "is_cache_served", "open_source"]
