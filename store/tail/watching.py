"""Wait for changes under some paths: inotify when the kernel grants it, polling when not.

Every follower in tokentop (metrics files, event/log tails, the agent collectors)
blocks on ``watchfiles``. Its native watcher needs an inotify instance and one watch per
directory, and both are per-user kernel limits (128 instances by default) shared by
every process of the user, containers included: on a busy box, or one with an editor
and a dev server already watching, the watcher cannot even be created
("Too many open files"). Without this module that was a dead collector. Here such a
refusal switches to ``watchfiles``' polling watcher, which needs no kernel resource,
and says so once through ``on_fallback``; any other error is the caller's, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# What the notify crate's inotify backend says when a per-user limit is reached:
# EMFILE creating the instance, ENOSPC adding a watch ("OS file watch limit reached").
_LIMIT_SIGNS = ("too many open files", "os error 24", "watch limit", "os error 28",
                "no space left on device")

Changes = set[tuple[Any, str]]


def is_limit(exc: BaseException) -> bool:
    """True for an inotify refusal: a kernel limit, not a broken path."""
    text = str(exc).lower()
    return any(sign in text for sign in _LIMIT_SIGNS)


def watch(
    *paths: Path | str,
    stop: threading.Event,
    poll: bool = False,
    poll_delay_ms: int = 250,
    on_fallback: Callable[[str], None] | None = None,
    **options: Any,
) -> Iterator[Changes]:
    """``watchfiles.watch`` over ``paths`` until ``stop``; polling if inotify is refused.

    ``options`` go to ``watchfiles.watch`` unchanged (debounce, step, rust_timeout,
    yield_on_timeout, recursive, ...). ``on_fallback`` gets one line naming the reason
    when polling replaces inotify.
    """
    import watchfiles  # imported here: one-shot reads never watch

    common: dict[str, Any] = {"stop_event": stop, "raise_interrupt": False, **options}
    if not poll:
        try:
            yield from watchfiles.watch(*paths, force_polling=False, **common)
            return
        except (OSError, RuntimeError) as exc:
            if not is_limit(exc):
                raise
            if on_fallback is not None:
                on_fallback(f"polling every {poll_delay_ms} ms: the kernel refused a file "
                            f"watcher ({exc})")
    yield from watchfiles.watch(*paths, force_polling=True, poll_delay_ms=poll_delay_ms,
                                **common)
