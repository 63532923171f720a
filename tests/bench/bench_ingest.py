"""Ingest benchmark for the canonical usage store (issue 3, section 7).

Run it as a script (it is not a pytest test):

    python tests/bench/bench_ingest.py                     # 1,000,000 prefilled, 60 batches
    python tests/bench/bench_ingest.py --prefill 100000    # quick

It builds a store already holding ``--prefill`` events (rows generated in bulk, one
transaction, random key order as after real ingestion), then ingests
``--batches`` batches of ``--batch`` IngestRequest through ``UsageStore.ingest`` with
about 10% duplicates in the stream (half re-sent prefill events, half re-sent events of
the stream, some with more tokens, so both the duplicate and the enrich paths run). The
requests are built before the clock starts: the figure is the store's.

Figures:
- events/s: requests per second of ``ingest`` wall time (best and median batch, and
  overall), with dedup, into the prefilled store;
- bytes written per event in steady state, three ways over the timed batches plus a
  final TRUNCATE checkpoint: ``wchar`` (every byte handed to write/pwrite: WAL frames
  and checkpoint copies, the logical volume), ``write_bytes`` (the kernel's count of
  bytes this process sent to the storage layer: a page dirtied again before writeback
  counts once), and the growth of the db file + WAL;
- peak RSS (VmHWM) while ingesting (the prefill's high-water mark is reset first),
  with the baseline before the store was opened (interpreter + prebuilt requests).
It then prints the WAL frames one batch writes, and the ceilings of CPython's sqlite3
on this machine (see ``ceilings``), which bound any implementation of this schema.
Targets (issue 19): >= 150,000 events/s, <= 1 KB/event. It also prints events per
CPU-second (the machine is shared; that figure moves less with the neighbours' load).
``--template DB`` keeps the prefilled store (made once, copied per run), so runs of
two versions can be interleaved at the same load.

Where it stands (2 vCPU VM shared with other sessions, ext4 on virtio, SQLite 3.40.1,
CPython 3.11; 1M prefilled, 60 batches of 5,000, 10% duplicates, group commit 1 s;
median of 5 runs interleaved with the same bench on a schema 8 copy of main, load
average 1.5-2.4 during the runs):

    figure                      schema 8     schema 9
    events/s (wall)               13,554       24,328   (1.8x)
    events per CPU-second         14,659       25,584
    bytes/event (wchar)            7,472        2,268   (3.3x fewer)
    WAL pages, one batch           7,189        4,420   (5,000 new events, one commit)

(``write_bytes`` reads ~2x ``wchar`` in ``--template`` runs, for both schemas, even
with the copy made and synced by another process; without ``--template`` the two
agree within 5%. Not explained yet, so ``wchar`` is the figure.)

Both targets are still missed. Schema 9 (``schema`` docstring) took out the random
64-character UNIQUE ``dedup_key`` index (keys are found through an index of their
last 8 hex digits, a quarter of the entry) and openusage's three unused indexes;
``ingest`` binds only the columns a batch sets (a bound None costs CPython's sqlite3
an adapter lookup: 37-column rows went in at ~120k/s into an index-free table in
memory, the ~20 Claude sets at ~175-200k/s) and updates only the changed columns of
an enriched event. What bounds it now, measured:
- CPU (py-spy, 250 Hz, the 60 timed batches; ~39 us of wall per event): the
  ``executemany`` INSERT 31% (SQLite's row and four index inserts into 1M-row
  B-trees), ``_normalize`` 24% (validation, trimming, the sha256 key: ~6.7 us of CPU
  per event alone, ceiling ~126k/s), the rollup's writes 12% (most of it the
  per-session upserts: the stream spreads over 2,000 sessions) and sums 7%, the key
  lookups 12%. The ceilings (CPU time, in memory): INSERT of the columns Claude sets
  with the store's indexes 113-137k/s (full rows: 86-92k/s), normalize 126-138k/s,
  rollup sums ~430k/s, lookups 200-215k/s: one after the other, 40-46k/s on this
  machine before any disk B-tree (a store of 20k events takes ~44k/s). 150k/s needs
  that pipeline in compiled code (or validation moved into the parsing processes)
  and a driver that binds without per-value Python calls.
- bytes (WAL frames attributed with ``dbstat``, one commit of 4,900 new events:
  3,989 frames): the dedup index 3,194 (80%: random keys, so a commit dirties about
  two thirds of its 4,566 leaves; openusage's UNIQUE index had 19,910), the table
  ~420 B/event, the time-ordered indexes (event_id, occurred_at, raw_event_id)
  ~55 B/event each, the session rollups ~35 B/event each. Under group commit at
  ~25k events/s a commit holds ~5 batches and dirties nearly every dedup leaf once:
  ~750 B/event for the dedup index, WAL and checkpoint together. Every page is written twice
  in WAL mode (the frame, then the checkpoint copy), so even with no dedup index the
  row (~370 B of openusage's columns: a 64-character key, two 36-character ids, a
  30-character time) and its time-ordered index entries come to ~1.1-1.4 KB/event.
  <= 1 KB needs shorter stored values (ids) or a log-structured dedup index (recent
  keys in a small table merged in bulk), on top of schema 9.
What was tried before schema 9:
- SQLite's auto-checkpoint at 1000 pages copied (and fsynced) every batch right after
  writing it: 18.2 KB/event; the store checkpoints on its 60 s timer and bounds the
  WAL at 256 MB instead: 14.5 KB/event, +35% events/s;
- dropping ``idx_usage_events_message_id`` (schema 2): 14.5 -> 8.5 KB/event;
- ``--page-size 2048``: 10.6 KB/event (1024: about -40%), but full scans 0-17% (1024:
  50%) slower; kept 4096;
- a 512 MB page cache, or mmap: no gain (the cost is writing, not reading);
- batches of 50,000: 15,500 events/s, 8.9 KB/event (most leaves get dirtied anyway);
- one ``json_each`` INSERT instead of ``executemany``: slower (no parse cache in 3.40).
In schema 9: a 12-digit suffix (2,469 B/event, 4,762 WAL pages a batch) before 8.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tokentop.store.pricing import PriceTable  # noqa: E402
from tokentop.store.usage import rollup, schema  # noqa: E402
from tokentop.store.usage.db import UsageStore  # noqa: E402
from tokentop.store.usage.dedup import dedup_key  # noqa: E402
from tokentop.store.usage.ingest import COLUMNS, INSERT_SQL  # noqa: E402
from tokentop.store.usage.model import IngestRequest  # noqa: E402
from tokentop.store.usage.timefmt import format_ts  # noqa: E402

TARGET_RATE = 150_000
TARGET_BYTES = 1024
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5")
START = datetime(2026, 8, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def msg_id(rng: random.Random) -> str:
    return "msg_01" + "".join(rng.choices(B58, k=22))


def request(rng: random.Random, n: int, at: datetime, sessions: list[str]) -> IngestRequest:
    model = MODELS[n % 3]
    return IngestRequest(
        source_system="claude_code", source_channel="jsonl", occurred_at=at,
        session_id=sessions[n % len(sessions)], message_id=msg_id(rng),
        workspace_id=f"/home/dev/src/project-{n % 17}", provider_id="anthropic",
        agent_name="claude_code", model_raw=model, model_canonical=model,
        input_tokens=rng.randrange(1, 50), output_tokens=rng.randrange(10, 2000),
        cache_read_tokens=rng.randrange(0, 200_000), cache_write_tokens=rng.randrange(0, 5000),
        cost_usd=round(rng.random() / 10, 6), requests=1, payload=None,
    )


OWN_COLUMNS = (None,) * (len(COLUMNS) - 27)  # the tokentop_* columns: none set here


def prefill(path: Path, n: int, rng: random.Random, sessions: list[str]) -> list[IngestRequest]:
    """Write ``n`` events straight into a fresh store; returns a sample to re-send.

    Rows go in with every index in place and in random key order, as a store that
    grew by ingestion has them: index pages about 70% full. (Inserting in key order,
    or creating the indexes afterwards, packs pages 100% full, and then every later
    insert splits a page: a worse case than steady state, seen only after VACUUM.)
    One transaction and a large cache keep it fast.
    """
    UsageStore.open(path).close()  # the schema, WAL, pragmas
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1048576")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO usage_raw_events VALUES ('prefill', ?, 'claude_code', 'jsonl',"
                 " 'v1', '{}', 'h', NULL, NULL)", (format_ts(START),))
    sample: list[IngestRequest] = []
    step = timedelta(seconds=90 * 86400 / max(n, 1))
    chunk = 100_000
    for base in range(0, n, chunk):
        rows = []
        for i in range(base, min(n, base + chunk)):
            req = request(rng, i, START + step * i, sessions)
            if i % 97 == 0:
                sample.append(req)
            rows.append((
                f"00000000-0000-7000-8000-{i:012x}", format_ts(req.occurred_at),
                "anthropic", "claude_code", None, req.workspace_id, req.session_id, None,
                req.message_id, None, "message_usage", req.model_raw, req.model_canonical,
                None, req.input_tokens, req.output_tokens, None, req.cache_read_tokens,
                req.cache_write_tokens, None, req.cost_usd, 1, None, "ok", dedup_key(req),
                "prefill", "v1", *OWN_COLUMNS))
        conn.executemany(INSERT_SQL, rows)
    conn.execute("COMMIT")
    conn.execute("BEGIN")  # the rollup a store grown by ingestion would have
    rollup.rebuild(conn, PriceTable.load().tier_threshold)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sample


def ceilings(sample_rows: int = 50_000) -> None:
    """What CPython's sqlite3 can do at best, whatever the store code, in CPU time per
    event (the machine is shared: wall time would measure the neighbours): normalizing
    + keying, the rollup's per-event sums, ``executemany`` into an IN-MEMORY table
    with no index, with the primary key only, and with the store's indexes, both of
    full-width rows (the INSERT before schema 9) and of the columns the batch sets
    (``ingest._narrow_insert``), and the key lookups through the store's index."""
    from tokentop.store.usage import ingest as ing

    rng = random.Random(9)
    sessions = [f"s{i}" for i in range(100)]
    reqs = [request(rng, i, START + timedelta(seconds=i), sessions) for i in range(sample_rows)]

    def rate(t: float) -> str:
        return f"{sample_rows / (time.process_time() - t):>10,.0f} /s"

    t = time.process_time()
    rows = []
    for i, req in enumerate(reqs):
        row = ing._normalize(req, LATEST)[0]
        row[0], row[25] = f"e{i:012d}", "r"
        rows.append(row)
    print(f"  normalize + dedup key:                  {rate(t)}")
    deltas = rollup.Deltas(PriceTable.load().tier_threshold)
    t = time.process_time()
    for row in rows:
        deltas.add(row)
    print(f"  rollup sums (Deltas.add):               {rate(t)}")
    bare = schema.EVENTS_DDL.replace("TEXT PRIMARY KEY", "TEXT")
    indexed = schema.EVENTS_DDL + schema.EVENT_INDEXES
    conn = sqlite3.connect(":memory:")
    for label, ddl in (("no index", bare), ("PK only", schema.EVENTS_DDL),
                       ("store's indexes", indexed)):
        for width in ("full", "narrow"):
            conn.close()
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(schema.RAW_DDL + ddl)
            for name, kind in schema.TOKENTOP_COLUMNS:
                conn.execute(f"ALTER TABLE usage_events ADD COLUMN {name} {kind}")
            conn.execute("BEGIN")
            t = time.process_time()
            if width == "full":
                conn.executemany(INSERT_SQL, rows)
            else:
                conn.executemany(*ing._narrow_insert(rows))
            print(f"  executemany {width:<6} {label + ':':<27}{rate(t)}")
    suffixes = [schema.dedup_suffix(r[24]) for r in rows]
    t = time.process_time()
    for s in range(0, len(suffixes), ing.LOOKUP_CHUNK):
        chunk = suffixes[s:s + ing.LOOKUP_CHUNK]
        conn.execute(ing.SELECT_SQL.format(", ".join("?" * len(chunk))), chunk).fetchall()
    print(f"  key lookups (IN, 500 per query, hits):  {rate(t)}")


def wal_pages_per_batch(store: UsageStore, batch: list[IngestRequest]) -> tuple[int, int]:
    """WAL frames one ingest of ``batch`` writes (checkpointed empty first), and the
    page size."""
    store.checkpoint()
    store.ingest(batch)
    page = store.conn.execute("PRAGMA page_size").fetchone()[0]
    return (store.wal_size() - 32) // (page + 24), page


def io_counters() -> dict[str, int]:
    with open("/proc/self/io") as fh:
        return {k: int(v) for k, v in (line.split(": ") for line in fh if ": " in line)}


def peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def disk_size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        p = Path(f"{path}{suffix}")
        total += p.stat().st_size if p.exists() else 0
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefill", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--dup", type=float, default=0.10, help="share of duplicates")
    ap.add_argument("--warmup", type=int, default=3, help="batches before measuring")
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    ap.add_argument("--profile", action="store_true", help="cProfile the timed batches")
    ap.add_argument("--page-size", type=int, default=0, help="page size of the new store")
    ap.add_argument("--autocheckpoint", type=int, default=-1,
                    help="PRAGMA wal_autocheckpoint for the writer (-1: the store's)")
    ap.add_argument("--cache-mib", type=int, default=0,
                    help="page cache of the writer (default: the store's 64 MiB)")
    ap.add_argument("--mmap-mib", type=int, default=0, help="PRAGMA mmap_size of the writer")
    ap.add_argument("--prefill-child", nargs=2, metavar=("DB", "SAMPLE"),
                    help=argparse.SUPPRESS)  # internal: prefill DB in a child process
    ap.add_argument("--group-commit", type=float, default=1.0, metavar="S",
                    help="share one transaction among the batches of S seconds, as the"
                    " collectors do (0: commit every batch)")
    ap.add_argument("--template", metavar="DB",
                    help="a prefilled store to start from (copied; made by the prefill"
                    " if missing, with its sample beside it): repeated runs skip the prefill")
    ap.add_argument("--no-ceilings", action="store_true", help="skip the ceilings")
    ap.add_argument("--drop-index", action="append", default=[],
                    help="drop this index before the run (to measure its cost)")
    args = ap.parse_args()

    rng = random.Random(3)
    sessions = [hashlib.md5(str(i).encode()).hexdigest() for i in range(2000)]
    if args.prefill_child:
        sample = prefill(Path(args.prefill_child[0]), args.prefill, rng, sessions)
        Path(args.prefill_child[1]).write_bytes(msgspec.msgpack.encode(sample))
        return 0
    work = Path(args.dir or tempfile.mkdtemp(prefix="tokentop-bench-ingest-"))
    path = work / "usage.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    if args.page_size:
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA page_size = {args.page_size}")
        conn.execute("VACUUM")
        conn.close()
    t0 = time.perf_counter()
    sample_file = work / "sample.msgpack"
    template = Path(args.template) if args.template else None
    if template is not None and template.exists():
        # by another process, synced: the copy's page-cache writeback must not count in
        # this process's write_bytes
        subprocess.run(["cp", str(template), str(path)], check=True)
        os.sync()
        shutil.copyfile(f"{template}.sample", sample_file)
    else:
        # in a child, so that its large page cache does not count in this process's RSS
        subprocess.run([sys.executable, __file__, "--prefill", str(args.prefill),
                        "--prefill-child", str(path), str(sample_file)], check=True)
        if template is not None:
            shutil.copyfile(path, template)
            shutil.copyfile(sample_file, f"{template}.sample")
    sample = msgspec.msgpack.decode(sample_file.read_bytes(), type=list[IngestRequest])
    sample_file.unlink()
    rng = random.Random(4)

    print(f"prefill: {args.prefill:,} events in {time.perf_counter() - t0:.1f} s "
          f"({os.path.getsize(path) / 1e6:.0f} MB)")

    # the stream: new events from 'now', ~10% duplicates (prefill and stream re-sends)
    total = args.batch * (args.batches + args.warmup)
    sent: list[IngestRequest] = []
    batches: list[list[IngestRequest]] = []
    at = START + timedelta(days=90)
    for b in range(args.batches + args.warmup):
        batch = []
        for i in range(args.batch):
            n = b * args.batch + i
            at += timedelta(milliseconds=7)
            if rng.random() < args.dup and sent:
                src = rng.choice(sample) if rng.random() < 0.5 else rng.choice(sent)
                if rng.random() < 0.2:  # a later, bigger copy of the same message
                    src = IngestRequest(**{f: getattr(src, f) for f in src.__struct_fields__})
                    src.output_tokens = (src.output_tokens or 0) + 1
                batch.append(src)
            else:
                req = request(rng, n, at, sessions)
                batch.append(req)
                sent.append(req)
        batches.append(batch)
    print(f"stream: {total:,} requests in batches of {args.batch:,}, "
          f"{args.dup:.0%} duplicates, "
          + (f"group commit every {args.group_commit:g} s" if args.group_commit > 0
             else "one commit per batch"))

    # Peak RSS from here on: reset the high-water mark the prefill left (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base_rss = current_rss_mb()
    store = UsageStore.open(path)
    for name in args.drop_index:  # after open: opening recreates a missing index
        store.conn.execute(f"DROP INDEX {name}")
    if args.cache_mib:
        store.conn.execute(f"PRAGMA cache_size = -{args.cache_mib * 1024}")
    if args.mmap_mib:
        store.conn.execute(f"PRAGMA mmap_size = {args.mmap_mib << 20}")
    if args.autocheckpoint >= 0:
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {args.autocheckpoint}")
    for batch in batches[: args.warmup]:
        store.ingest(batch)
    store.checkpoint()
    size0, io0 = disk_size(path), io_counters()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    times = []
    cpu0 = time.process_time()
    counts = [0, 0, 0]
    group = (store.group_commit(args.group_commit) if args.group_commit > 0
             else contextlib.nullcontext())
    with group:
        for batch in batches[args.warmup:]:
            t = time.perf_counter()
            res = store.ingest(batch)
            store.maybe_checkpoint()
            times.append(time.perf_counter() - t)
            counts[0] += res.inserted
            counts[1] += res.enriched
            counts[2] += res.duplicates
        t = time.perf_counter()
    times[-1] += time.perf_counter() - t  # the group's last commit belongs to the run
    cpu = time.process_time() - cpu0
    t = time.perf_counter()
    store.checkpoint()
    ckpt = time.perf_counter() - t
    if profiler:
        profiler.disable()
    io1, size1 = io_counters(), disk_size(path)
    n = args.batch * args.batches

    rate = n / sum(times)
    per_batch = sorted(args.batch / t for t in times)
    wchar = (io1["wchar"] - io0["wchar"]) / n
    wbytes = (io1["write_bytes"] - io0["write_bytes"]) / n
    growth = (size1 - size0) / n
    rss = peak_rss_mb()
    print(f"ingest: {n:,} events in {sum(times):.2f} s: {rate:,.0f} events/s "
          f"(batch best {per_batch[-1]:,.0f}/s, median {statistics.median(per_batch):,.0f}/s); "
          f"inserted {counts[0]:,}, enriched {counts[1]:,}, duplicates {counts[2]:,}")
    print(f"CPU: {cpu:.2f} s, {n / cpu:,.0f} events per CPU-second (load-independent;"
          f" load average {os.getloadavg()[0]:.2f})")
    print(f"final TRUNCATE checkpoint: {ckpt:.2f} s")
    print(f"bytes/event: wchar {wchar:,.0f} B, write_bytes {wbytes:,.0f} B, "
          f"db+wal growth {growth:,.0f} B")
    print(f"peak RSS while ingesting: {rss:.0f} MB (of which {base_rss:.0f} MB before the "
          f"store was opened: the interpreter and the prebuilt requests)")
    extra = [request(rng, 10**8 + i, at + timedelta(milliseconds=i), sessions)
             for i in range(args.batch)]
    pages, page_size = wal_pages_per_batch(store, extra)
    store.close()
    print(f"WAL frames for one batch of {args.batch:,} new events: {pages:,} pages "
          f"of {page_size} B ({pages * (page_size + 24) / args.batch:,.0f} B/event before any "
          "checkpoint)")
    if not args.no_ceilings:
        print("ceilings of CPython's sqlite3 on this machine (50,000 rows):")
        ceilings()
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    ok_rate, ok_bytes = rate >= TARGET_RATE, wchar <= TARGET_BYTES
    print()
    print(f"{'PASS' if ok_rate else 'FAIL'}  events/s          {rate:,.0f} (>= {TARGET_RATE:,})")
    print(f"{'PASS' if ok_bytes else 'FAIL'}  bytes/event wchar {wchar:,.0f} (<= {TARGET_BYTES:,})")
    print(f"      peak RSS          {rss:.0f} MB")
    if not args.dir:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        work.rmdir()
    return 0 if ok_rate and ok_bytes else 1


if __name__ == "__main__":
    sys.exit(main())
