"""``forkmap.ForkMap``: calls made in forked children, results as the calls give them;
a child that fails costs time, never a result. And a pass reads the agents' databases
the same through it as through threads (real SQLite databases of real formats)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tokentop.store.usage.forkmap import ForkMap


def test_results_in_order_from_two_children() -> None:
    parent = os.getpid()
    fm = ForkMap(lambda x: (x * x, os.getpid()), list(range(7)), lambda r: r, lambda r: r)
    got = [fm.result(i) for i in range(7)]
    assert [g[0] for g in got] == [i * i for i in range(7)]
    pids = {g[1] for g in got}
    assert parent not in pids and len(pids) == 2  # dealt in turn to two children
    fm.close()


def test_a_failing_child_leaves_its_calls_to_this_process() -> None:
    parent = os.getpid()

    def only_here(x: int) -> int:
        if os.getpid() != parent and x % 2:
            raise RuntimeError("the child fails")
        return x + 1

    fm = ForkMap(only_here, [0, 1, 2, 3], lambda r: r, lambda r: r)
    assert [fm.result(i) for i in range(4)] == [1, 2, 3, 4]
    fm.close()


def test_close_reaps_children_never_read() -> None:
    fm = ForkMap(lambda x: x, [1, 2], lambda r: r, lambda r: r)
    pids = {c.pid for c in fm._children.values()}
    fm.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):  # reaped already: no such child
            os.waitpid(pid, os.WNOHANG)


def test_no_fork_beside_a_running_thread() -> None:
    assert ForkMap.possible()
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not ForkMap.possible()
    finally:
        stop.set()
        t.join()


def test_databases_read_in_children_or_threads_store_the_same(tmp_path: Path) -> None:
    """The same Hermes and Goose databases collected by a pass in the main thread
    (forked readers) and by one in a worker thread (the thread pool): equal stores,
    row marks included."""
    from test_agent_goose import make_db as goose_db  # real schemas, as those tests build
    from test_agent_hermes import make_db as hermes_db

    from tokentop.store.usage.agents import by_name
    from tokentop.store.usage.collect import collect_once
    from tokentop.store.usage.db import UsageStore

    hermes = hermes_db(tmp_path / "h" / "state.db")
    goose = goose_db(tmp_path / "g" / "s.db", "schema_v13.sql", "sessions.sql")
    agents = [by_name("hermes")._replace(roots=lambda: [hermes]),  # type: ignore[union-attr]
              by_name("goose")._replace(roots=lambda: [goose])]  # type: ignore[union-attr]

    def collect(path: Path) -> list:
        with UsageStore.open(path) as store:
            collect_once(store, claude_roots=[], codex_dir=tmp_path / "none",
                         hook_spool=tmp_path / "none", agents=agents)
            return [store.conn.execute(q).fetchall() for q in (
                "SELECT agent_name, message_id, input_tokens, output_tokens, cost_usd"
                " FROM usage_events ORDER BY message_id",
                "SELECT collector, row_key, mark FROM tokentop_row_marks ORDER BY 1, 2",
                "SELECT collector, offset FROM collector_offsets ORDER BY 1")]

    forked = collect(tmp_path / "forked.db")
    box: list = []
    worker = threading.Thread(target=lambda: box.append(collect(tmp_path / "threads.db")))
    worker.start()
    worker.join()
    assert box == [forked]
    assert {r[0] for r in forked[0]} == {"hermes", "goose"}
