"""The two operations a command runs on a team store: ingest (collect, then push) and
refresh (pull into the replica the read model opens)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.team import outbox
from tokentop.store.usage.team.connection import TeamStoreError
from tokentop.store.usage.team.location import cache_path, replica_path, team_dir
from tokentop.store.usage.team.pull import PullResult, pull
from tokentop.store.usage.team.push import PushResult, push

R = TypeVar("R")

__all__ = ["PullResult", "PushResult", "TeamStoreError", "ingest", "open_cache", "refresh"]


def _team_dir() -> Path:
    """tokentop's own directory for team caches, made 0700 like its state directory."""
    d = team_dir()
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageStoreError(f"cannot create {d}: {exc.strerror or exc}") from None
    return d


def open_cache(url: str) -> UsageStore:
    """This machine's collection cache for ``url``, with its outbox."""
    _team_dir()
    store = UsageStore.open(cache_path(url))
    try:
        outbox.attach(store.conn)
    except BaseException:
        store.close()
        raise
    return store


def ingest(url: str, collect: Callable[[UsageStore], R]) -> tuple[R, PushResult]:
    """``collect`` into the cache (committed there whatever happens next), then push
    what it stored or changed. A push that fails keeps the rows for the next one."""
    store = open_cache(url)
    try:
        collected = collect(store)
        return collected, push(store, url)
    finally:
        store.close()


def refresh(url: str) -> tuple[Path, PullResult]:
    """Pull the team store's changes into the replica; returns the replica's path."""
    _team_dir()
    path = replica_path(url)
    store = UsageStore.open(path)
    try:
        return path, pull(store, url)
    finally:
        store.close()


def prepare_replica(url: str) -> Path:
    """The replica's path, created (empty) if missing: what the Usage screen opens
    before the first pull has reached the server."""
    _team_dir()
    path = replica_path(url)
    UsageStore.open(path).close()
    return path


def push_pending(url: str) -> PushResult:
    """Push what an earlier ingest left in the cache (the server was down then)."""
    if not cache_path(url).exists():
        return PushResult()
    store = open_cache(url)
    try:
        return push(store, url)
    finally:
        store.close()


