"""Lines that never end (issue 16): a sparse file of one 512 MiB line, and any line past
``MAX_LINE``, is dropped as it streams past and counted; the lines around it are read;
memory stays bounded; and the splitter agrees with a plain ``split`` on any chunking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tokentop.store.tail.reader import MAX_LINE, LineSplitter

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
            "print(json.dumps({'events': n, 'skipped': r.claude.skipped,"
            " 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["events"] == 2  # the lines before and after the hole
    assert doc["skipped"] == {f"line longer than {MAX_LINE >> 20} MiB": 1}
    assert doc["rss_kib"] < 200 * 1024, doc  # issue 16: under 200 MB (was 1 GB)


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
