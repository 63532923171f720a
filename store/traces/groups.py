"""The group-by and bucket words the analytics accept, and the columns they mean.

A word outside the list is a user error (TraceStoreError), never a silent default:
``--group-by modle`` must say so.
"""

from __future__ import annotations

from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.model import BREAKDOWN_GROUPS, BUCKETS, SERIES_GROUPS

GROUP_COLUMNS: dict[str, str | None] = {
    "none": None,
    "provider": "provider",
    "model": "model",
    "route": "request_path",
    "key": "gateway_key_id",
}


def series_group(group_by: str) -> str | None:
    """The column of a series group (none|provider|model); None for none."""
    word = (group_by or "none").strip().lower()
    if word not in SERIES_GROUPS:
        raise TraceStoreError(
            f"invalid group-by {group_by!r} for a series (use {'|'.join(SERIES_GROUPS)})")
    return GROUP_COLUMNS[word]


def breakdown_group(group_by: str) -> str | None:
    """The column of a latency/error group (none|provider|model|route|key)."""
    word = (group_by or "none").strip().lower()
    if word not in BREAKDOWN_GROUPS:
        raise TraceStoreError(
            f"invalid group-by {group_by!r} (use {'|'.join(BREAKDOWN_GROUPS)})")
    return GROUP_COLUMNS[word]


def bucket_word(bucket: str) -> str:
    word = (bucket or "day").strip().lower()
    if word not in BUCKETS:
        raise TraceStoreError(f"invalid bucket {bucket!r} (use {'|'.join(BUCKETS)})")
    return word
