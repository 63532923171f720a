"""The trace stores stand on their own: the latency cache does not reach back into the
queries that own it, and opening a trace store never loads the usage store (both take
tokentop's state directory from store/state.py)."""

from __future__ import annotations

import subprocess
import sys

import grimp

CACHE = "tokentop.store.traces.latency_cache"
BASE = "tokentop.store.traces.base"


def test_latency_cache_does_not_import_the_shared_queries() -> None:
    graph = grimp.build_graph("tokentop")  # TYPE_CHECKING imports count too
    assert graph.find_shortest_chain(importer=CACHE, imported=BASE) is None
    assert CACHE in graph.find_upstream_modules(BASE)  # one way: the store owns its cache


def test_trace_and_usage_stores_do_not_import_each_other() -> None:
    graph = grimp.build_graph("tokentop")
    for importer, imported in (("tokentop.store.traces", "tokentop.store.usage"),
                               ("tokentop.store.usage", "tokentop.store.traces")):
        chains = graph.find_shortest_chains(importer=importer, imported=imported,
                                            as_packages=True)
        assert chains == set(), chains


def test_opening_a_trace_store_does_not_load_the_usage_store() -> None:
    code = (
        f"import sys, {CACHE}, tokentop.store.traces.open;"
        "print(sorted(m for m in sys.modules if m.startswith('tokentop.store.usage')))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]", res.stdout + res.stderr
