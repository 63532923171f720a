"""``--store postgresql://...`` for the headless commands: ingest into a team store,
and the local replica a report reads (``tokentop.store.usage.team``).

Every failure is one line and exit 2 (``fail``), the URL shown with its credentials
masked; what was collected stays in this machine's cache for the next push.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tokentop.tui.commands.common import fail


def ingest_team(url: str, collect: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``collect`` into this machine's cache for ``url``, then push; (report, push)."""
    from tokentop.store.usage.db import UsageStoreError
    from tokentop.store.usage.team import sync
    from tokentop.store.usage.team.location import shown

    try:
        return sync.ingest(url, collect)
    except sync.TeamStoreError as e:
        fail(f"{e} (collected locally; sent with the next ingest)")
    except (UsageStoreError, OSError) as e:
        fail(f"ingest into team store {shown(url)} failed: {e}")


def team_replica(url: str, collect: bool) -> Path:
    """Ingest (unless ``collect`` is False), then pull: the replica's path to read."""
    from tokentop.store.usage.collect import collect_once
    from tokentop.store.usage.db import UsageStoreError
    from tokentop.store.usage.team import sync
    from tokentop.store.usage.team.location import shown

    if collect:
        ingest_team(url, collect_once)
    try:
        path, _pulled = sync.refresh(url)
    except sync.TeamStoreError as e:
        fail(str(e))
    except (UsageStoreError, OSError) as e:
        fail(f"cannot read team store {shown(url)}: {e}")
    return path
