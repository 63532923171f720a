"""Lines that never end (issue 16): a sparse file of one 512 MiB line, and any line past
``MAX_LINE``, is dropped as it streams past and counted; the lines around it are read;
memory stays bounded; and the splitter agrees with a plain ``split`` on any chunking."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tokentop.store.tail.reader import MAX_LINE, LineSplitter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import run_peak

GOOD = {"type": "assistant", "timestamp": "2026-11-20T10:00:00.000Z", "sessionId": "s1",
        "requestId": "r{n}", "cwd": "/w",
        "message": {"id": "m{n}", "model": "claude-sonnet-4-5-20250929",
                    "usage": {"input_tokens": 100, "output_tokens": 50,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}


def good(n: int) -> bytes:
    text = json.dumps(GOOD, separators=(",", ":")).replace("{n}", str(n))
    return text.encode() + b"\n"


def test_a_512_mib_line_costs_neither_memory_nor_the_lines_after_it(tmp_path: Path) -> None:
    project = tmp_path / "claude" / "projects" / "p"
    project.mkdir(parents=True)
    log = project / "s.jsonl"
    with log.open("wb") as fh:
        fh.write(good(1))
        fh.truncate(fh.tell() + (512 << 20))  # a sparse hole: 512 MiB of NULs, no newline
        fh.seek(0, os.SEEK_END)
        fh.write(b"\n" + good(2))
    code = ("import json, resource, sys\n"
            "from pathlib import Path\n"
            "from tokentop.store.usage.collect import collect_once\n"
            "from tokentop.store.usage.db import UsageStore\n"
            "t = Path(sys.argv[1])\n"
            "with UsageStore.open(t / 'u.db') as s:\n"
            "    r = collect_once(s, claude_roots=[t / 'claude'], codex_dir=t / 'x',"
            " hook_spool=t / 'y', agents=[])\n"
            "    n = s.conn.execute('SELECT COUNT(*) FROM usage_events').fetchone()[0]\n"
            "print(json.dumps({'events': n, 'skipped': r.claude.skipped}))\n")
    script = tmp_path / "child.py"
    script.write_text(code)
    out, peak_kib = run_peak([str(script), str(tmp_path)])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["events"] == 2  # the lines before and after the hole
    assert doc["skipped"] == {f"line longer than {MAX_LINE >> 20} MiB": 1}
    assert 0 < peak_kib < 200 * 1024, peak_kib  # issue 16: under 200 MB (was 1 GB)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
                      max_size=20),
       cuts=st.lists(st.integers(1, 25), min_size=1, max_size=10),
       tail=st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")))
def test_any_chunking_gives_the_lines_split_gives(lines: list[bytes], cuts: list[int],
                                                  tail: bytes) -> None:
    limit = 16
    data = b"".join(line + b"\n" for line in lines) + tail
    chunks, i, k = [], 0, 0
    while i < len(data):
        n = cuts[k % len(cuts)]
        chunks.append(data[i:i + n])
        i, k = i + n, k + 1
    split = LineSplitter(0, max_line=limit)
    got = [line for batch in split.batches(iter(chunks)) for line in batch]
    assert got == [line for line in lines if len(line) <= limit]
    assert split.oversized == sum(len(line) > limit for line in lines)
    assert split.end == len(data) - len(tail)  # every complete line consumed, kept or not
    assert split.carry == (tail if len(tail) <= limit else b"")


def test_the_newest_lines_of_a_256_mb_file_are_read_in_linear_time(tmp_path: Path) -> None:
    """``logs``' backward read: blocks were prepended and recounted (a 256 MB tail of
    long lines: 73 s). Now joined once and bounded by TAIL_BYTES."""
    import time

    from tokentop.store.tail.backread import TAIL_BYTES, last_plain_lines

    path = tmp_path / "logs.jsonl"
    line = b"x" * ((1 << 20) - 1) + b"\n"  # 1 MiB lines
    with path.open("wb") as fh:
        for _ in range(256):
            fh.write(line)
        fh.write(b"partial")
    t0 = time.perf_counter()
    lines, cursor, _ = last_plain_lines(path, 1000)
    elapsed = time.perf_counter() - t0
    assert len(lines) == TAIL_BYTES >> 20 and all(len(x) == len(line) - 1 for x in lines)
    assert cursor.offset == 256 << 20  # the partial line is left for the follower
    assert elapsed < 10, elapsed


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
                      max_size=30),
       tail=st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")),
       n=st.integers(0, 40), block=st.integers(1, 17))
def test_the_backward_read_agrees_with_a_forward_split(tmp_path_factory, lines, tail, n,
                                                      block) -> None:  # type: ignore[no-untyped-def]
    """Lines past the line cap (here 20 bytes) are skipped and counted going backwards
    as the forward ``LineSplitter`` skips them: the newest ``n`` kept lines, and the
    long ones seen on the way to them."""
    import tokentop.store.tail.backread as backread

    path = tmp_path_factory.mktemp("b") / "f.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in lines) + tail)
    limit = 20
    kept: list[bytes] = []
    skipped = 0
    for line in reversed(lines):
        if len(kept) >= n:
            break
        if len(line) > limit:
            skipped += 1
        else:
            kept.insert(0, line)
    old = backread.BLOCK, backread.MAX_LINE
    backread.BLOCK, backread.MAX_LINE = block, limit
    try:
        got, cursor, oversized = backread.last_plain_lines(path, n)
    finally:
        backread.BLOCK, backread.MAX_LINE = old
    assert got == kept
    assert oversized == skipped
    assert cursor.offset == path.stat().st_size - len(tail)


def _log_line(i: int, pad: int) -> bytes:
    return json.dumps({"time": f"2026-05-05T12:{i // 60:02d}:{i % 60:02d}Z", "level": "INFO",
                       "msg": f"m{i}", "pad": "x" * pad}).encode() + b"\n"


def test_logs_reads_a_256_mb_tail_in_bounded_memory(tmp_path: Path) -> None:
    """``tokentop logs`` over a 256 MB file of 1 MiB lines: the newest TAIL_BYTES of
    lines, each joined once, parsed a slice at a time and printed a line at a time
    (blocks, their join and its split held at once: 275 MB)."""
    from tokentop.store.tail.backread import TAIL_BYTES

    server = tmp_path / "prod" / "github"
    server.mkdir(parents=True)
    with (server / "logs.jsonl").open("wb") as fh:
        for i in range(256):
            fh.write(_log_line(i, (1 << 20) - 100))
    out, peak_kib = run_peak(["-m", "tokentop.tui.cli", "logs", str(tmp_path)])
    assert out.returncode == 0, out.stderr
    printed = out.stdout.splitlines()
    assert len(printed) == TAIL_BYTES >> 20
    assert json.loads(printed[-1])["msg"] == "m255"
    assert 0 < peak_kib < 200 * 1024, peak_kib  # issue 16: under 200 MB


def test_logs_skips_and_counts_lines_past_the_cap_going_backwards(tmp_path: Path) -> None:
    """Lines longer than MAX_LINE are dropped by the backward read as they are by the
    forward one: counted as malformed and named on stderr, the lines around them shown,
    and never held whole (three 20 MiB lines)."""
    server = tmp_path / "prod" / "github"
    server.mkdir(parents=True)
    with (server / "logs.jsonl").open("wb") as fh:
        fh.write(_log_line(1, 10))
        for i in range(3):
            fh.write(_log_line(10 + i, 20 << 20))
        fh.write(_log_line(2, 10))
    out, peak_kib = run_peak(["-m", "tokentop.tui.cli", "logs", str(tmp_path)])
    assert out.returncode == 0, out.stderr
    assert [json.loads(x)["msg"] for x in out.stdout.splitlines()] == ["m1", "m2"]
    assert "3 malformed" in out.stderr
    assert f"line longer than {MAX_LINE >> 20} MiB" in out.stderr
    assert "Traceback" not in out.stderr
    assert 0 < peak_kib < 100 * 1024, peak_kib


def test_a_gzip_bomb_of_one_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    """A rotated ``.gz`` that decompresses to one 512 MiB line (a few hundred KB on
    disk): was 1 GB of memory; now skipped as malformed, and the lines around it read."""
    import zlib

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from metrics_files import metrics_line, server_dir

    gh = server_dir(tmp_path, "prod", "github")
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b"\0" * (16 << 20)
    with (gh / "metrics-2026-05-05T11-00-00.000.jsonl.gz").open("wb") as fh:
        fh.write(comp.compress(metrics_line("2026-05-05T10:00:05Z", diff=(5, 1),
                                            total=(5, 1)).encode() + b"\n"))
        for _ in range(32):
            fh.write(comp.compress(block))
        fh.write(comp.compress(b"\n" + metrics_line("2026-05-05T10:01:05Z", diff=(7, 1),
                                                    total=(12, 2)).encode() + b"\n"))
        fh.write(comp.flush())
    code = ("import json, sys\n"
            "from tokentop.store.metrics import MetricsSource\n"
            "s = MetricsSource(sys.argv[1]); s.replay()\n"
            "st = s.state.stats\n"
            "print(json.dumps({'lines': st.lines, 'malformed': st.malformed,"
            " 'total': s.totals_snapshot()['prod/github'].tokens.input_tokens}))\n")
    script = tmp_path / "child.py"
    script.write_text(code)
    out, peak_kib = run_peak([str(script), str(tmp_path)])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["malformed"] == 1 and doc["total"] == 12  # both good lines read
    assert 0 < peak_kib < 200 * 1024, peak_kib
