"""Fixtures shared by the usage-store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import sshd

from tokentop.store.usage.db import UsageStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    """A fresh, real tokentop usage store in the test's temp dir."""
    with UsageStore.open(tmp_path / "usage.db") as s:
        yield s


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Iterator[sshd.Sshd]:
    """A throwaway sshd on 127.0.0.1 (``support.sshd``), for the remote-box tests."""
    with sshd.running(monkeypatch) as server:
        yield server
