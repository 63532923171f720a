"""Antigravity (``store/usage/agents/antigravity.py``): one SQLite database per
conversation, usage in protobuf blobs, and against the pinned ccusage.

Fixtures: conversation databases in the real layout (tests/usage/fixtures/antigravity,
README.md there) holding blobs built by ``antigravity_support``, a port of ccusage's
adapter test helpers (``adapters/antigravity/src/parser.rs`` ``test_support``:
``metadata_blob``, ``step_metadata_blob``, ``trajectory_metadata_blob``,
``create_database``); several tests here are ports of that adapter's tests (named where
they are). The parity corpus (``write_corpus``) is read by ccusage 20.0.24 too.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from antigravity_support import (
    T0,
    UsageFixture,
    create_database,
    fb4ce58_generation_blob,
    metadata_blob,
    sample_gen_metadata_blob,
    step_metadata_blob,
    trajectory_metadata_blob,
    write_corpus,
)
from test_ccusage_parity import ROOT, ccusage_bin, env_for, run_json, tokentop_cmd

from tokentop.store.usage.agents import antigravity as ag
from tokentop.store.usage.agents import paths
from tokentop.store.usage.agents.antigravity import ANTIGRAVITY
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.db import UsageStore


def collect(store: UsageStore, tmp: Path, *data_roots: Path) -> Any:
    def roots() -> list[Path]:
        os.environ["ANTIGRAVITY_DATA_DIR"] = ",".join(str(r) for r in data_roots)
        try:
            return ag.roots()
        finally:
            del os.environ["ANTIGRAVITY_DATA_DIR"]
    agent = dataclasses.replace(ANTIGRAVITY, roots=roots)
    return collect_once(store, claude_roots=[], codex_dir=tmp / "none",
                        hook_spool=tmp / "none", agents=[agent])


def rows(store: UsageStore) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT message_id, session_id, provider_id, model_raw,"
        " substr(occurred_at, 1, 23), input_tokens, output_tokens, reasoning_tokens,"
        " cache_read_tokens, cache_write_tokens"
        " FROM usage_events WHERE agent_name = 'antigravity'")}


# --- where -------------------------------------------------------------------------


def test_roots_and_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ANTIGRAVITY_DATA_DIR", raising=False)
    defaults = [tmp_path / d / "conversations" for d in (
        ".gemini/antigravity", ".gemini/antigravity-cli", ".gemini/antigravity-ide",
        ".gemini/antigravity-backup", ".config/antigravity")]
    assert ag.roots() == defaults  # nothing there: the directories it looks in
    conv = tmp_path / ".gemini" / "antigravity-ide" / "conversations"
    (conv / "sub").mkdir(parents=True)
    for name in ("a.db", "a.db-wal", "a.db-shm", "legacy.pb", "notes.txt", "sub/b.db"):
        (conv / name).write_bytes(b"")
    (conv.parent / "top.db").write_bytes(b"")  # beside conversations/: not read
    assert ag.roots() == [*defaults[:2], conv / "a.db", conv / "sub" / "b.db",
                          *defaults[3:]]
    # the variable: roots separated by commas, trimmed, each once, no ~; a root without
    # conversations/ is searched itself; set but blank: nothing (ccusage 20.0.24, probed)
    monkeypatch.setenv("ANTIGRAVITY_DATA_DIR", f" {conv} ,{conv},, {tmp_path}/none")
    assert ag.roots() == [conv / "a.db", conv / "sub" / "b.db",
                          tmp_path / "none" / "conversations"]
    assert paths.antigravity_dirs() == [conv, tmp_path / "none" / "conversations"]
    monkeypatch.setenv("ANTIGRAVITY_DATA_DIR", " ")
    assert ag.roots() == []


def test_the_agent_list_names_directories_not_every_conversation(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tokentop agents`` and the empty Usage screen: a heavy user has hundreds of
    conversation databases; the list shows the directories holding them."""
    from tokentop.store.usage.agents import locations

    conv = tmp_path / "ag" / "conversations"
    (conv / "sub").mkdir(parents=True)
    for i in range(12):
        (conv / ("sub" if i % 2 else ".") / f"c{i}.db").write_bytes(b"")
    monkeypatch.setenv("ANTIGRAVITY_DATA_DIR", str(tmp_path / "ag"))
    entry = next(loc for loc in locations() if loc.name == "antigravity")
    assert entry.paths == (conv, conv / "sub")


# --- the blobs (ports of ccusage's parser tests) -------------------------------------


def test_protobuf_scalars_use_last_duplicate_and_messages_the_first() -> None:
    """ccusage ``protobuf_scalars_use_last_duplicate_and_messages_keep_merge_order``."""
    blob = (b"\x08\x01\x08\x02" + b"\x12\x05first\x12\x04last"
            + b"\x1a\x0dmessage-first\x1a\x0emessage-second")
    f = ag.decode(blob)
    assert ag._int(f, 1) == 2 and ag._text(f, 2) == "last"
    assert ag._bytes(f, 3) == b"message-first"
    assert ag._all(f, 3) == [b"message-first", b"message-second"]


@pytest.mark.parametrize(("blob", "error"), [
    (b"\x0a\x01\x80", "truncated protobuf varint"),  # ccusage propagates_malformed_...
    (b"\x0a\x05ab", "truncated protobuf fixed-width value"),
    (b"\x08\x01\x13\x08\x02", "unsupported protobuf wire type"),  # a group
    (b"\x00\x01", "protobuf field number is zero"),
    (b"\x08" + b"\xff" * 9 + b"\x02", "protobuf varint overflow"),
    (b"\x12\x00", "missing chat model field 1"),
])
def test_malformed_blobs(blob: bytes, error: str) -> None:
    with pytest.raises(ag.ProtoError, match=error):
        ag.parse_generation(blob)


def test_parses_step_retry_info_from_field_28() -> None:
    """ccusage ``parses_production_step_retry_info_from_field_28``."""
    retry = UsageFixture(input_tokens=11, total_output_tokens=22, visible_output_tokens=20,
                         response_id="production-step-retry")
    meta = ag.parse_step(step_metadata_blob(None, None, None, (retry,), 24))
    assert meta.provider == 24 and meta.usage is None
    assert [(u.input, u.response_id) for u in meta.retries] == [(11, "production-step-retry")]


def test_generation_fields_and_timestamps() -> None:
    usage = UsageFixture(model_id=246, input_tokens=4, total_output_tokens=6,
                         cache_creation_tokens=3, cache_read_tokens=5, reasoning_tokens=1,
                         visible_output_tokens=5, provider=24, message_id="m",
                         response_id="r", provider_assigned_message_id="p")
    meta = ag.parse_generation(metadata_blob("Gemini 3 Pro", usage, (T0, 1_999_999_999)))
    assert (meta.model, meta.model_id) == ("Gemini 3 Pro", 246)
    assert meta.timestamp is not None
    assert meta.timestamp.isoformat() == "2026-06-10T08:00:00.999000+00:00"  # clamped
    u = meta.usage
    assert u is not None and (u.input, u.total_output, u.cache_write, u.cache_read,
                              u.reasoning, u.visible, u.provider) == (4, 6, 3, 5, 1, 5, 24)
    assert u.identities() == ["response:r", "provider:p", "message:m"]
    assert ag.parse_trajectory(trajectory_metadata_blob(0, 5)) is None  # seconds > 0


# model labels and ids as the pinned ccusage 20.0.24 binary names them (each probed)
NAMES = {
    "Gemini 3.8 Flash (High)": "gemini-3.8-flash-high",
    "gemini 3.7 flash (medium)": "gemini-3.7-flash-medium",
    "gemini 3.6 flash (low)": "gemini-3.6-flash-low",
    "GEMINI 3.8 FLASH (Tiered)": "gemini-3.8-flash", "gemini 3.8 flash(high)": "gemini-3.8-flash",
    "gemini 3.8 flash thinking": "gemini-3.8-flash", "gemini 3 flash": "gemini-3.6-flash",
    "gemini 3 flash (high)": "gemini-3.6-flash", "gemini 3.7 pro thinking": "gemini-3.7-pro",
    "Gemini 3.1 Pro (High)": "gemini-3.1-pro", "gemini 2 flash": "gemini-2.0-flash",
    "gemini  3.8 flash (high)": "gemini--3.8-flash",
    "model_placeholder_m318": "gemini-3.8-flash-high",
    "model_placeholder_m73": "gemini-3.6-flash-low", "model_placeholder_m26": "claude-opus-4-6",
    "MODEL_PLACEHOLDER_M16": "gemini-3.1-pro", "model_placeholder_m999": "model_placeholder_m999",
    "model_openai_gpt_oss_120b_medium": "gpt-oss-120b-medium",
    "gemini-3-flash-agent-b": "gemini-3.5-flash-high",
    "gemini-3-flash": "gemini-3-flash-preview", "gemini-3.5-flash-low": "gemini-3.5-flash-medium",
    "gemini-3-pro-low": "gemini-3-pro", "claude 3.7 sonnet thinking": "claude-3-7-sonnet",
    "claude-opus-4-6-thinking": "claude-opus-4-6-thinking",
    "  Claude Sonnet 4.6 (Thinking) ": "claude-sonnet-4.6",
    "GPT-OSS 120B (Medium)": "gpt-oss-120b", "Some-Custom (x)": "Some-Custom (x)",
    "(high)": "(high)",
}
IDS = {246: "gemini-2.5-pro", 329: "gemini-2.5-flash-thinking", 282: "claude-4-sonnet",
       341: "claude-4.5-haiku", 342: "gpt-oss-120b-medium", 1318: "gemini-3.8-flash-high",
       1071: "gemini-3.6-flash-high", 1026: "claude-opus-4-6",
       1084: "gemini-3-flash-preview", 1000: "model_placeholder_m0",
       7: "antigravity-model-7", 999: "antigravity-model-999"}


def test_model_names() -> None:
    assert {raw: ag.normalize(raw) for raw in NAMES} == NAMES
    assert {i: ag.normalize(ag.model_from_id(i)) for i in IDS} == IDS
    assert ag.normalize("  ") is None


def test_other_readers_blobs_read_as_the_binary_reads_them(tmp_path: Path) -> None:
    """Blobs of an older layout (ccusage fb4ce58's adapter tests, a third-party reader's
    ``sample_gen_metadata_blob``) read the way ccusage 20.0.24 reads them (each checked
    on the binary): usage field 1 is a model id, 2 the input, 9 reasoning, 10 visible
    output. fb4ce58's loader test expected input 7,321, output 604, thinking 5 and
    ``gemini-3.1-pro``; 20.0.24 reports input 6,321, output 5 (+604 in the total) and
    ``model_placeholder_m0``; the other: input 50, output 5 (+20), 12 cached,
    ``antigravity-model-100``, at the trajectory's time."""
    conv = tmp_path / "d" / "conversations"
    create_database(conv / "conv-1.db", [(1, fb4ce58_generation_blob())])
    create_database(conv / "conversation-a.db", [(1, sample_gen_metadata_blob("response-1"))],
                    trajectories=[trajectory_metadata_blob(1_781_502_653, 0)])
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, tmp_path / "d")
        assert rows(store) == {
            "antigravity:response:resp-1": ("conv-1", None, "model_placeholder_m0",
                                            "2026-01-02T00:00:00.000", 6321, 609, 604, 10,
                                            0),
            "antigravity:response:response-1": (
                "conversation-a", None, "antigravity-model-100", "2026-06-15T05:50:53.000",
                50, 25, 20, 12, 0),
        }


# --- collecting ---------------------------------------------------------------------


def test_the_corpus(tmp_path: Path) -> None:
    cli, backup = write_corpus(tmp_path / "data")
    live = sqlite3.connect(next(cli.rglob("*0001*.db")))  # Antigravity running: its -wal
    live.execute("SELECT 1 FROM gen_metadata").fetchall()
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, cli, backup)
        got = rows(store)
        assert store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone() == (7,)
        store_workspaces = store.conn.execute(
            "SELECT DISTINCT session_id, workspace_id FROM usage_events").fetchall()
        again = collect(store, tmp_path, cli, backup)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns)
             for p in (tmp_path / "data").rglob("*") if p.is_file()}
    live.close()
    assert after == before  # nothing written next to Antigravity's databases
    c1, c2 = "6f0c1d2e-0001-4a5b-8c9d-0e1f2a3b4c5d", "6f0c1d2e-0002-4a5b-8c9d-0e1f2a3b4c5d"
    c3 = "6f0c1d2e-0003-4a5b-8c9d-0e1f2a3b4c5d"
    assert dict(store_workspaces) == {c1: "/Users/dev/My App", c2: None, c3: None}
    assert got == {
        # step 1 and generation 1 are one call (its identities): the step's earlier time
        "antigravity:message:m-1": (c1, "google", "gemini-2.5-pro",
                                    "2026-06-10T08:00:59.000", 4000, 900, 200, 12000, 0),
        # generation 2 and its retry share message m-2: one event, each count the larger
        "antigravity:message:m-2": (c1, None, "gemini-2.5-pro", "2026-06-10T08:05:00.000",
                                    300, 200, 50, 16000, 0),
        "antigravity:response:step-1": (c1, None, "claude-sonnet-4-5",
                                        "2026-06-10T09:00:00.000", 1200, 400, 0, 0, 2048),
        # no time of its own: the trajectory's; its usage names model 312
        "antigravity:response:resp-3": (c2, None, "gemini-2.5-flash",
                                        "2026-06-11T08:00:00.250", 5000, 1000, 400, 2000, 0),
        # no identity: keyed by place, so its verbatim copy in backup/ counts once
        f"antigravity:{c2}:gen:2:0": (c2, None, "gemini-3.5-flash-high",
                                      "2026-06-11T10:00:00.000", 700, 70, 0, 0, 0),
        "antigravity:response:resp-4": (c3, None, "gemini-3.8-flash-high",
                                        "2026-06-12T08:00:00.000", 900, 300, 50, 4096, 0),
        "antigravity:response:resp-5": (c3, None, "gemini-2.5-flash",
                                        "2026-06-12T08:01:00.000", 1500, 120, 0, 8192, 0),
    }
    counts = report.agents["antigravity"]
    assert (counts.files, counts.files_read, counts.malformed) == (4, 4, 0)
    assert again.ingest.inserted == 0 and again.agents["antigravity"].files_read == 0


def test_a_new_generation_is_read_once(tmp_path: Path) -> None:
    cli, backup = write_corpus(tmp_path / "data")
    db = next(cli.rglob("*0001*.db"))
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, cli, backup)
        con = sqlite3.connect(db)
        blob = metadata_blob(None, UsageFixture(input_tokens=10, visible_output_tokens=2,
                                                response_id="resp-new"), (T0 + 7200, 0))
        con.execute("INSERT INTO gen_metadata (idx, data, size) VALUES (4, ?, ?)",
                    (blob, len(blob)))
        con.commit()
        con.close()
        second = collect(store, tmp_path, cli, backup)
        counts = second.agents["antigravity"]
        assert second.ingest.inserted == 1 and counts.files_read == 1
        assert counts.usage_lines == 1  # the unchanged events are not ingested again
        # carried forward: the last model named before it
        assert rows(store)["antigravity:response:resp-new"][2:4] == (
            "gemini-2.5-pro", "2026-06-10T10:00:00.000")
        third = collect(store, tmp_path, cli, backup)
        assert third.ingest.inserted == 0 and third.agents["antigravity"].files_read == 0


def test_a_group_grown_between_reads_keeps_its_key(tmp_path: Path) -> None:
    """A retry written later sharing the first try's response id and adding a message id:
    the merged event replaces the stored one (its key stays ``response:r1``; by the key
    rule alone it would become ``message:m1`` and count twice)."""
    conv = tmp_path / "d" / "conversations"
    first = UsageFixture(input_tokens=100, visible_output_tokens=10, response_id="r1")
    db = create_database(conv / "c.db", [(1, metadata_blob("gemini-3-pro", first, (T0, 0)))])
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, tmp_path / "d")
        con = sqlite3.connect(db)
        blob = metadata_blob(None, UsageFixture(input_tokens=150, visible_output_tokens=12,
                                                response_id="r1", message_id="m1"),
                             (T0 + 5, 0))
        con.execute("INSERT INTO gen_metadata (idx, data) VALUES (2, ?)", (blob,))
        con.commit()
        con.close()
        collect(store, tmp_path, tmp_path / "d")
        assert {k: v[4:6] for k, v in rows(store).items()} == {
            "antigravity:response:r1": (150, 12)}


def test_malformed_rows_and_databases(tmp_path: Path) -> None:
    conv = tmp_path / "data" / "conversations"
    good = metadata_blob("gemini-3-pro", UsageFixture(input_tokens=2, visible_output_tokens=3,
                                                      response_id="ok"), (T0, 0))
    create_database(conv / "mixed.db", [(1, b"\x0a\x01\x80"), (2, good), (3, b"\x12\x00")],
                    [(1, b"\xff")], [b"\x12\x01"], wal=False)
    other = sqlite3.connect(conv / "other.db")  # not a conversation: no gen_metadata
    other.execute("CREATE TABLE steps (idx INTEGER PRIMARY KEY, metadata BLOB)")
    other.close()
    (conv / "not-a-db.db").write_text("not sqlite")
    with UsageStore.open(tmp_path / "usage.db") as store:
        report = collect(store, tmp_path, tmp_path / "data")
        assert list(rows(store)) == ["antigravity:response:ok"]
        assert rows(store)["antigravity:response:ok"][3] == "2026-06-10T08:00:00.000"
    counts = report.agents["antigravity"]
    assert counts.malformed == 4  # two generations, a step, the trajectory
    assert counts.skipped == {"no gen_metadata table": 1,
                              "database unreadable (DatabaseError)": 1}


def test_copies_across_databases(tmp_path: Path) -> None:
    """ccusage ``deduplicates_response_ids_across_databases``: the same message (its
    message and provider ids) in two roots with different response ids. ccusage merges
    them (each count the larger) whatever the files; tokentop when they are the same
    conversation (the same ``<uuid>.db`` in two roots, e.g. ``antigravity-backup``): one
    event, the copy with more tokens (here every count of the second is larger). In two
    DIFFERENT conversations tokentop keeps both (the store's key includes the session):
    220 input where ccusage has 200."""
    def one(root: str, name: str, usage: UsageFixture, at: int) -> None:
        create_database(tmp_path / root / "conversations" / f"{name}.db",
                        [(1, metadata_blob("gemini-3-pro", usage, (at, 0)))])

    def usage(n: int, response: str) -> UsageFixture:
        return UsageFixture(input_tokens=20 * n, total_output_tokens=40 * n,
                            visible_output_tokens=35 * n, reasoning_tokens=5 * n,
                            message_id="shared-message", response_id=response,
                            provider_assigned_message_id="shared-provider")
    one("first", "conv", usage(1, "shared-response"), 1_778_000_000)
    one("second", "conv", usage(10, "retry-response"), 1_778_000_001)
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, tmp_path / "first", tmp_path / "second")
        assert store.conn.execute(
            "SELECT session_id, message_id, input_tokens, output_tokens, reasoning_tokens"
            " FROM usage_events").fetchall() == [
            ("conv", "antigravity:message:shared-message", 200, 400, 50)]
    one("third", "other-conv", usage(1, "shared-response"), 1_778_000_000)
    with UsageStore.open(tmp_path / "usage2.db") as store:
        collect(store, tmp_path, tmp_path / "third", tmp_path / "second")
        assert store.conn.execute("SELECT SUM(input_tokens) FROM usage_events"
                                  ).fetchone() == (220,)


def test_steps_retries_and_source_copies(tmp_path: Path) -> None:
    """ccusage ``collects_steps_and_retries_and_deduplicates_source_copies``."""
    shared = UsageFixture(input_tokens=100, total_output_tokens=50, cache_creation_tokens=5,
                          cache_read_tokens=7, reasoning_tokens=10, visible_output_tokens=40,
                          message_id="message-1", response_id="response-1",
                          provider_assigned_message_id="provider-1")
    retry = UsageFixture(input_tokens=80, total_output_tokens=30, reasoning_tokens=5,
                         visible_output_tokens=25, message_id="message-1",
                         response_id="retry-response",
                         provider_assigned_message_id="provider-1")
    step_retry = UsageFixture(input_tokens=11, total_output_tokens=22, reasoning_tokens=2,
                              visible_output_tokens=20, message_id="step-retry-message",
                              response_id="step-retry-response",
                              provider_assigned_message_id="step-retry-provider")
    create_database(tmp_path / "d" / "conversations" / "session.db",
                    [(1, metadata_blob("gemini-3-pro", shared, (1_778_100_001, 0), (retry,)))],
                    [(1, step_metadata_blob(None, shared, (1_778_100_000, 0), (), 7)),
                     (2, step_metadata_blob("gemini-3-flash-agent", None, (1_778_100_002, 0),
                                            (step_retry,), 7))])
    with UsageStore.open(tmp_path / "usage.db") as store:
        collect(store, tmp_path, tmp_path / "d")
        got = rows(store)
    assert got == {
        "antigravity:message:message-1": ("session", None, "gemini-3-pro",
                                          "2026-05-06T20:40:00.000", 100, 50, 10, 7, 5),
        "antigravity:message:step-retry-message": (
            "session", None, "gemini-3.5-flash-high", "2026-05-06T20:40:02.000", 11, 22, 2,
            0, 0),
    }


# --- parity with the pinned ccusage --------------------------------------------------

SAME = ("inputTokens", "cacheCreationTokens", "cacheReadTokens")
# (input, output, cache write, cache read, total) per UTC day in tokentop. ccusage's
# outputTokens leave out the reasoning beyond the visible output (250, 400, 50); on
# 2026-06-11 ccusage counts the conversation copied to backup/ twice for its call
# without identity (700 in, 70 out: total 9,540), tokentop once (8,770).
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "2026-06-10": (5500, 1500, 2048, 28000, 37048),
    "2026-06-11": (5700, 1070, 0, 2000, 8770),
    "2026-06-12": (2400, 420, 0, 12288, 15108),
}
CCUSAGE = {"2026-06-10": (5500, 1250, 37048), "2026-06-11": (6400, 740, 9540),
           "2026-06-12": (2400, 370, 15108)}  # (input, output, total)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("antigravity-parity")
    cli, backup = write_corpus(tmp / "data")
    env = env_for(tmp, tmp / "no-claude")
    env["ANTIGRAVITY_DATA_DIR"] = f"{cli},{backup}"
    theirs = run_json([str(ccusage_bin()), "antigravity", "daily", "--json", "--offline",
                       "--timezone", "UTC"], env, tmp)
    ours = run_json(tokentop_cmd("daily", "--json", "--source", "antigravity", "--timezone",
                                 "UTC", "--store", str(tmp / "usage.db")), env, ROOT)
    return ours, theirs


def test_parity_tokens_per_day(both: tuple[dict, dict]) -> None:
    ours, theirs = both
    assert [d["date"] for d in theirs["daily"]] == list(EXPECTED)
    assert [d["date"] for d in ours["daily"]] == list(EXPECTED)
    for a, b in zip(ours["daily"], theirs["daily"], strict=True):
        day = a["date"]
        assert tuple(a[k] for k in ("inputTokens", "outputTokens", "cacheCreationTokens",
                                    "cacheReadTokens", "totalTokens")) == EXPECTED[day]
        assert (b["inputTokens"], b["outputTokens"], b["totalTokens"]) == CCUSAGE[day]
        assert sorted(a["modelsUsed"]) == sorted(b["modelsUsed"]), day
        if day != "2026-06-11":
            assert {k: a[k] for k in (*SAME, "totalTokens")} == \
                {k: b[k] for k in (*SAME, "totalTokens")}, day


@pytest.mark.parametrize("day", ["2026-06-10", "2026-06-12"])
def test_parity_cost_per_day(both: tuple[dict, dict], day: str) -> None:
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == day)
    b = next(d for d in theirs["daily"] if d["date"] == day)
    assert a["totalCost"] == pytest.approx(b["totalCost"], rel=0.005, abs=1e-9), day


def test_parity_cost_of_the_copied_call(both: tuple[dict, dict]) -> None:
    """2026-06-11: ccusage prices the call without identity twice ($0.00168 each, its
    700 in and 70 out of gemini-3.5-flash-high): $0.00742; tokentop once: $0.00574."""
    ours, theirs = both
    a = next(d for d in ours["daily"] if d["date"] == "2026-06-11")
    b = next(d for d in theirs["daily"] if d["date"] == "2026-06-11")
    assert b["totalCost"] == pytest.approx(0.00742, rel=0.005)
    assert a["totalCost"] == pytest.approx(0.00742 - 0.00168, rel=0.005)
