"""The cold scan in processes (``tokentop.store.usage.shards``) stores exactly what the
in-process path stores: the same events, rollup, offsets and counts, on the real Claude
fixtures (tests/usage/fixtures/claude21: real Claude Code 2.1 logs from marot/spotter and
ccusage's own fixtures, sources in its README.md) and on generated corpora; its
byte-level pre-filter counts lines exactly as the line reader does; a store that fails
mid-pass loses or repeats nothing; spawned workers give the same results as forked ones."""

from __future__ import annotations

import json
import multiprocessing
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from claude_corpus import write_corpus
from test_claude import line, proj, write

from tokentop.store.tail.offsets import plan
from tokentop.store.tail.reader import LineSplitter
from tokentop.store.usage import collect, shards
from tokentop.store.usage.collect import Collector
from tokentop.store.usage.collectors import claude
from tokentop.store.usage.db import UsageStore, UsageStoreError

FIXTURES = Path(__file__).parent / "fixtures" / "claude21"
# written at ingest time, or drawn at random per event: not the data
VOLATILE = {"ingested_at", "updated_at", "applied_at", "created_at", "event_id", "raw_event_id"}


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every table of a store, as sorted rows of its non-volatile columns."""
    conn = sqlite3.connect(db)
    try:
        out = {}
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for name in sorted(names):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")
                    if r[1] not in VOLATILE]
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM {name}").fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def collect_into(db: Path, root: Path, parallel: bool, **kw) -> dict:
    with UsageStore.open(db) as store:
        rep = Collector(claude_roots=[root], codex_dir=root / "none", hook_spool=root / "none",
                        agents=(), parallel=parallel).collect(store, **kw)
    d = rep.as_dict()
    d.pop("elapsed_s")
    return d


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups of a few files, so both workers get work and results queue up."""
    monkeypatch.setattr(shards, "GROUP_BYTES", 64 << 10)


def odd_lines(root: Path) -> None:
    """Lines the collector must count and skip the same way on both paths."""
    write(proj(root, "-home-u-odd") / "odd.jsonl",
          line("m-odd-1"), "not json", "", "   ", "  " + line("m-odd-2"), "[1, 2]",
          line("m-null", costUSD=None), '{"message":{"usage":{"input_tokens":-1}}}',
          "garbage with \"usage\":{ inside", line("m-odd-1", out=99),
          newline=False)  # a partial last line: left for the next pass


def test_parallel_store_equals_serial_on_fixtures_and_generated(tmp_path, small_groups):
    root = tmp_path / "c"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    write_corpus(tmp_path / "gen", seed=5, days=4, sessions=40, line_kb=(1, 40))
    shutil.copytree(tmp_path / "gen" / "projects", root / "projects", dirs_exist_ok=True)
    odd_lines(root)
    serial = collect_into(tmp_path / "serial.db", root, parallel=False)
    pooled = collect_into(tmp_path / "pooled.db", root, parallel=True)
    assert serial == pooled
    assert serial["claude"]["malformed"] >= 3 and serial["claude"]["skipped"]
    assert serial["inserted"] > 500 and serial["batches"] >= 1
    a, b = dump(tmp_path / "serial.db"), dump(tmp_path / "pooled.db")
    assert a["usage_events"] and a["collector_offsets"]
    assert a == b


def test_parallel_batches_equal_serial_with_small_batches(tmp_path, small_groups, monkeypatch):
    """Many flushes inside files: the same batches, offsets and in-batch collapsing."""
    monkeypatch.setattr(collect, "BATCH", 37)
    truth = write_corpus(tmp_path / "c", seed=9, days=3, sessions=30, line_kb=(1, 8))
    seen: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    reps = {p: collect_into(tmp_path / f"{p}.db", tmp_path / "c", parallel=p,
                            progress=lambda d, t, p=p: seen[p].append((d, t)))
            for p in (False, True)}
    assert reps[True] == reps[False]
    assert reps[True]["batches"] > 5
    assert dump(tmp_path / "True.db") == dump(tmp_path / "False.db")
    assert seen[True][-1] == seen[False][-1] == (truth.bytes, truth.bytes)


def test_a_pass_after_the_parallel_one_reads_only_new_bytes(tmp_path, small_groups):
    root = tmp_path / "c"
    write_corpus(root, seed=3, days=2, sessions=12)
    collect_into(tmp_path / "u.db", root, parallel=True)
    f = write(proj(root, "-home-u-new") / "s.jsonl", line("m-new-1"))
    with UsageStore.open(tmp_path / "u.db") as store:
        rep = Collector(claude_roots=[root], codex_dir=root / "none", hook_spool=root / "none",
                        agents=()).collect(store)
    assert rep.claude.files_read == 1 and rep.ingest.inserted == 1
    assert rep.bytes_read == f.stat().st_size


class FailingStore(UsageStore):
    """A real store whose disk fills after ``left`` batches (the next ingest refuses);
    its group commit commits every batch, so the batches before the failure stay."""

    left = 0

    def group_commit(self, max_delay: float = 0.0):  # type: ignore[no-untyped-def, override]
        return super().group_commit(0.0)

    def ingest(self, *a, **kw):  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise UsageStoreError("database or disk is full")
        self.left -= 1
        return super().ingest(*a, **kw)


def test_a_store_failing_mid_pass_loses_and_repeats_nothing(tmp_path, small_groups,
                                                            monkeypatch):
    monkeypatch.setattr(collect, "BATCH", 50)
    root = tmp_path / "c"
    write_corpus(root, seed=4, days=3, sessions=30, line_kb=(1, 6))
    collect_into(tmp_path / "serial.db", root, parallel=False)
    store = FailingStore.open(tmp_path / "pooled.db")
    try:
        store.left = 3
        with pytest.raises(UsageStoreError):
            Collector(claude_roots=[root], codex_dir=root / "none", hook_spool=root / "none",
                      agents=(), parallel=True).collect(store)
        done = store.load_offsets(claude.COLLECTOR)
        assert len(done) > 0
    finally:
        store.close()
    collect_into(tmp_path / "pooled.db", root, parallel=True)
    a, b = dump(tmp_path / "serial.db"), dump(tmp_path / "pooled.db")
    assert a["usage_events"] == b["usage_events"]
    assert a["collector_offsets"] == b["collector_offsets"]


def test_spawned_workers_parse_as_forked_ones(tmp_path):
    root = tmp_path / "c"
    write_corpus(root, seed=6, days=2, sessions=8)
    odd_lines(root)
    files = sorted(str(p) for p in (root / "projects").rglob("*.jsonl"))
    tasks = plan(files, {})

    def flat(context: str) -> list[tuple]:
        return [(s.task.path, s.end, s.counts.as_dict(), s.bytes_read, s.final,
                 [(c.parsed(), c.offset, c.ticked) for c in s.chunks])
                for s in shards.scan_claude(tasks, max_workers=2, context=context,
                                            group_bytes=16 << 10)]

    forked = flat("fork")
    assert forked == flat("spawn")
    assert [s[0] for s in forked] == [t.path for t in tasks]  # plan order
    assert sum(len(c[0]) for s in forked for c in s[5]) > 20


def test_a_file_that_vanished_or_cannot_be_read_counts_as_in_process(tmp_path):
    """Files gone or turned into something unreadable between the plan and the read."""
    root = tmp_path / "c"
    write_corpus(root, seed=7, days=2, sessions=6)
    files = sorted(str(p) for p in (root / "projects").rglob("*.jsonl"))
    tasks = plan(files, {})
    Path(files[1]).unlink()
    Path(files[3]).unlink()
    Path(files[3]).mkdir()  # not a regular file: refused with an OSError
    reports = {}
    for pooled in (False, True):
        with UsageStore.open(tmp_path / f"{pooled}.db") as store:
            report = collect.CollectReport()
            sink = collect.Sink(store, report)
            if pooled:
                for scan in shards.scan_claude(tasks, max_workers=2, group_bytes=1):
                    Collector._claude_scan(scan, sink, report.claude, lambda n: None)
            else:
                col = Collector(claude_roots=[root], agents=())
                for task in tasks:
                    col._claude_file(task, sink, report.claude, lambda n: None)
            sink.flush()
        reports[pooled] = report.as_dict()
        reports[pooled].pop("elapsed_s")
    assert reports[True] == reports[False]
    claude_counts = reports[True]["claude"]
    assert claude_counts["files_read"] == len(files) - 2
    assert len(claude_counts["unreadable"]) == 1 and reports[True]["inserted"] > 10
    assert dump(tmp_path / "True.db") == dump(tmp_path / "False.db")


def test_parallel_store_equals_serial_over_every_agent(tmp_path, small_groups, monkeypatch):
    """A multi-agent home (tests/bench/bench_agents.py's generators: each agent's fixture
    records, in its real format, with fresh ids) beside Claude files: every agent's files
    (lines and whole documents) are parsed in workers too, databases stay in process
    (threads); same store."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    try:
        import bench_agents
    finally:
        sys.path.pop(0)
    from tokentop.store.usage.agents import AGENTS, kind_of

    home = tmp_path / "agents"
    for v in {v for a in AGENTS for v in a.env} | {"XDG_DATA_HOME"}:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    lines = {a.name for a in AGENTS if a.kind == "lines"}
    built = set()
    for i, (name, (gen, _)) in enumerate(sorted(bench_agents.GENERATORS.items())):
        budget = 200_000 if gen.kind == "file" else 20 if gen.kind == "whole" else 40
        gen.build(home, budget, random.Random(i), 5)
        for k, v in gen.env(home).items():
            monkeypatch.setenv(k, v)
        built.add(name)
    broken = sorted(home.rglob("*.settings.json"))[0]  # Droid's: a half-written document
    broken.write_bytes(broken.read_bytes()[:40])
    lines &= built  # an agent without a generator (grok) is simply absent here
    assert len(lines) >= 5
    root = tmp_path / "c"
    write_corpus(root, seed=8, days=3, sessions=10)
    reps = {}
    jobs: list[shards.Job] = []
    real_scan = shards.scan

    def scan(js, **kw):  # type: ignore[no-untyped-def]
        jobs.extend(js)
        return real_scan(js, **kw)

    monkeypatch.setattr(shards, "scan", scan)  # the real pool, watched
    for pooled in (False, True):
        with UsageStore.open(tmp_path / f"{pooled}.db") as store:
            rep = Collector(claude_roots=[root], codex_dir=root / "none",
                            hook_spool=root / "none", parallel=pooled).collect(store)
        reps[pooled] = rep.as_dict()
        reps[pooled].pop("elapsed_s")
    assert reps[True] == reps[False]
    assert all(reps[True][name]["requests"] > 0 for name in lines), reps[True]
    assert reps[True]["droid"]["skipped"] or reps[True]["droid"]["malformed"], reps[True]["droid"]
    assert lines <= {a.name for a, _ in jobs if a is not None}
    assert {kind_of(a) for a, _ in jobs if a is not None} == {"lines", "whole"}
    assert sum(1 for a, _ in jobs if a is None) == reps[True]["claude"]["files"]
    a, b = dump(tmp_path / "False.db"), dump(tmp_path / "True.db")
    assert len(a["usage_events"]) > 1000
    assert a == b


# -- the byte-level pre-filter ------------------------------------------------------------

def classify(lines: list[bytes]) -> tuple[list[bytes], int, int]:
    """What the in-process loop keeps of a batch: usage lines, line count, malformed."""
    usage = [x for x in lines if claude.USAGE_MARKER in x]
    bad = sum(1 for x in lines if claude.USAGE_MARKER not in x and shards._malformed(x))
    return usage, len(lines), bad


def chunked(data: bytes, rng: random.Random, most: int) -> Iterator[bytes]:
    i = 0
    while i < len(data):
        n = rng.randint(1, most)
        yield data[i:i + n]
        i += n


@pytest.mark.parametrize("max_line", [None, 300])
def test_prefilter_cuts_and_counts_lines_as_the_line_splitter(max_line):
    rng = random.Random(11)
    pieces = [b'{"a":1}', b'{"message":{"usage":{"input_tokens":1}}}', b"", b"  ", b"x y",
              b'  {"usage":{}}', b'[1]', b'{"t":"' + b"z" * 500 + b'","usage":{"k":2}}',
              b'"usage":{ bare', b'{"b":"' + b"q" * 1200 + b'"}']
    data = b"\n".join(rng.choice(pieces) for _ in range(3000)) + b"\n" + b'{"partial":'
    for most in (1, 7, 64, 997, 1 << 16, len(data)):
        want_split = LineSplitter(100, max_line)
        got_split = shards._UsageSplitter(100, max_line)
        want = [classify(b) for b in want_split.batches(chunked(data, random.Random(most), most))]
        got = [(x.usage, x.lines, x.malformed)
               for x in got_split.batches(chunked(data, random.Random(most), most))]
        assert got == want
        assert (got_split.end, got_split.carry, got_split.oversized) == (
            want_split.end, want_split.carry, want_split.oversized)
    assert sum(w[1] for w in want) + want_split.oversized == 3000
    assert want_split.oversized == (0 if max_line is None else data.count(b"q" * 1200)
                                    + data.count(b"z" * 500))
    assert want_split.carry == b'{"partial":'


def test_small_work_stays_in_process(tmp_path):
    write_corpus(tmp_path / "c", seed=1, days=1, sessions=3)
    files = sorted(str(p) for p in (tmp_path / "c").rglob("*.jsonl"))
    tasks = plan(files, {})
    assert not shards.worth_a_pool(tasks)
    assert shards.worth_a_pool(tasks, min_bytes=1) == (shards.workers() > 1)


def test_workers_are_not_forked_beside_other_threads():
    """A fork beside running threads (the dashboard's, the database readers') could copy
    a lock one of them holds; the workers then come from a fork server."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert shards._context().get_start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        t.join()
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        assert shards._context().get_start_method() == "fork"


def test_requests_cross_as_json_only_when_json_gives_them_back_equal():
    from datetime import datetime

    from tokentop.store.usage.model import IngestRequest

    ts = datetime.fromisoformat("2026-01-02T03:04:05.123456+05:30")
    plain = [IngestRequest(source_system="x", source_channel="jsonl", occurred_at=ts,
                           cost_usd=0.1 + 0.2, payload={"path": "/a", "n": [1, 2.5, None]})]
    packed = shards._pack(plain)
    assert isinstance(packed, bytes)
    back = shards.ChunkScan(packed, None, 0).parsed()  # type: ignore[arg-type]
    assert back == plain and back[0].occurred_at.utcoffset() == ts.utcoffset()
    for odd in ((1, 2), b"raw", ts):  # a tuple, bytes, a time: JSON would change them
        reqs = [IngestRequest(source_system="x", source_channel="jsonl", occurred_at=ts,
                              payload={"v": odd})]
        assert shards._pack(reqs) is reqs


def flat(scans) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(s.task.path, s.end, s.counts.as_dict(), s.bytes_read, s.final,
             [(c.parsed(), c.offset, c.ticked) for c in s.chunks]) for s in scans]


def test_a_group_the_pool_cannot_send_is_parsed_in_process(tmp_path):
    """An agent defined in a script (its parser a local class, its roots a lambda)
    cannot be pickled to a worker: its files are parsed here, and nothing is lost."""
    from tokentop.store.usage.agents.base import LinesAgent
    from tokentop.store.usage.agents.qwen import QWEN

    class LocalLines(QWEN.parser):  # type: ignore[misc, name-defined]
        pass

    local = LinesAgent("qwen", QWEN.system, QWEN.label, (), lambda: [tmp_path / "q"],
                       ("*.jsonl",), LocalLines)
    shutil.copytree(Path(__file__).parent / "fixtures" / "qwen" / "qwen", tmp_path / "q")
    src = sorted(str(p) for p in (tmp_path / "q").rglob("*.jsonl"))
    assert src
    write_corpus(tmp_path / "c", seed=2, days=1, sessions=4)
    claude_files = sorted(str(p) for p in (tmp_path / "c").rglob("*.jsonl"))
    jobs = [(None, t) for t in plan(claude_files, {})]
    jobs += [(local, t) for t in plan(src, {})]
    pooled = flat(shards.scan(jobs, max_workers=2, group_bytes=1))
    assert pooled == flat(shards.scan_group(jobs))
    assert sum(len(c[0]) for s in pooled[-len(src):] for c in s[5]) > 0  # qwen's requests


def test_a_main_module_without_its_guard_still_collects_everything(tmp_path):
    """Spawned workers import the main module again; one without the ``__main__``
    guard kills them at start. The pool breaks, the files are parsed in process."""
    write_corpus(tmp_path / "c", seed=3, days=1, sessions=6)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import json, sys\n"
        "from pathlib import Path\n"
        "from tokentop.store.tail.offsets import plan\n"
        "from tokentop.store.usage import shards\n"
        f"files = sorted(str(p) for p in Path({str(tmp_path / 'c')!r}).rglob('*.jsonl'))\n"
        "jobs = [(None, t) for t in plan(files, {})]\n"
        "scans = list(shards.scan(jobs, max_workers=2, context='spawn', group_bytes=1))\n"
        "print(json.dumps([[str(s.task.path), s.end, s.counts.requests, s.counts.usage_lines,\n"
        "                   sum(len(c.parsed()) for c in s.chunks)] for s in scans]))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    files = sorted(str(p) for p in (tmp_path / "c").rglob("*.jsonl"))
    want = [[str(s.task.path), s.end, s.counts.requests, s.counts.usage_lines,
             sum(len(c.parsed()) for c in s.chunks)]
            for s in shards.scan_group([(None, t) for t in plan(files, {})])]
    assert got == want and sum(w[4] for w in want) > 10


def _null_reference(line: bytes) -> bool:
    """``has_unsupported_null`` as it was (two passes), the rule it must keep."""
    start = line.find(b":null")
    while start >= 0:
        end = start - 1
        if end >= 0 and line[end] == 0x22:
            begin = line.rfind(b'"', 0, end)
            if begin >= 0 and line[begin + 1:end] in claude._NULLABLE_FORBIDDEN:
                return True
        start = line.find(b":null", start + 5)
    return False


def test_the_one_pass_null_rule_is_ccusages_rule():
    rng = random.Random(3)
    keys = [b"id", b"model", b"stop_sequence", b"costUSD", b"x", b"", b"requestId", b"cwd"]
    bits = [b'"', b":null", b":", b"null", b",", b"{", b"}", b" ", b"\\\\"]
    for _ in range(4000):
        parts = []
        for _ in range(rng.randint(0, 12)):
            if rng.random() < 0.5:
                parts.append(b'"' + rng.choice(keys) + b'"' + rng.choice([b":null", b":1"]))
            else:
                parts.append(rng.choice(bits))
        line = b"".join(parts)
        assert claude.has_unsupported_null(line) == _null_reference(line), line
