"""A full disk during ingest (issue 16): SQLite's own "database or disk is full" (made
real with ``PRAGMA max_page_count``, the file's size limit), not a simulation of it. The
batch is refused in one line, the store keeps what it had, a second ROLLBACK never turns
it into a traceback, and the live collector says "not storing" and catches up once there
is room again."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tokentop.store.usage.collect import watch
from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.model import IngestRequest


def requests(n: int, start: int = 0) -> list[IngestRequest]:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    return [IngestRequest(source_system="codex", source_channel="jsonl",
                          occurred_at=t0 + timedelta(seconds=i), turn_id=f"t{i}",
                          session_id="s", model_raw="gpt-5", input_tokens=10, output_tokens=1)
            for i in range(start, start + n)]


def fill_up(store: UsageStore) -> None:
    """No room beyond the pages the file has now."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")


def count(store: UsageStore) -> int:
    return int(store.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0])


@pytest.mark.parametrize("grouped", [False, True])
def test_a_full_disk_refuses_the_batch_and_keeps_the_store(tmp_path: Path,
                                                           grouped: bool) -> None:
    with UsageStore.open(tmp_path / "u.db") as store:
        store.ingest(requests(50))
        fill_up(store)
        with pytest.raises(UsageStoreError, match="disk full") as err:
            if grouped:
                with store.group_commit():
                    store.ingest(requests(3000, 100))
            else:
                store.ingest(requests(3000, 100))
        assert "\n" not in str(err.value) and str(tmp_path / "u.db") in str(err.value)
        assert count(store) == 50 and not store.conn.in_transaction
        store.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
        store.ingest(requests(3000, 100))
        assert count(store) == 3050
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


TURNS = 300  # far more than the two pages of room left


def test_the_live_collector_says_not_storing_then_catches_up(tmp_path: Path) -> None:
    """Codex rollout lines (``tests/usage/fixtures`` shape) appended while the store is
    full: reported, retried, and stored once there is room; none lost, none twice."""
    sessions = tmp_path / "codex" / "sessions" / "2026" / "11" / "01"
    sessions.mkdir(parents=True)
    log = sessions / "rollout-2026-11-01T10-00-00-abc.jsonl"

    def turn(i: int) -> str:
        at = datetime(2026, 11, 1, 10, tzinfo=UTC) + timedelta(minutes=i)
        ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        last = {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10,
                "reasoning_output_tokens": 0, "total_tokens": 110}
        total = {k: v * (i + 1) for k, v in last.items()}
        return "\n".join(json.dumps(x, separators=(",", ":")) for x in [
            {"timestamp": ts, "type": "turn_context",
             "payload": {"turn_id": f"p{i}", "model": "gpt-5", "cwd": "/w"}},
            {"timestamp": ts, "type": "event_msg", "payload": {
                "type": "token_count",
                "info": {"total_token_usage": total, "last_token_usage": last}}}]) + "\n"

    log.write_text(json.dumps({"timestamp": "2026-11-01T10:00:00.000Z", "type":
                               "session_meta", "payload": {"id": "abc", "cwd": "/w"}},
                              separators=(",", ":")) + "\n" + turn(0))
    store = UsageStore.open(tmp_path / "u.db")
    errors: list[str | None] = []
    inserted: list[int] = []
    got = threading.Condition()

    def on_change(report) -> None:  # type: ignore[no-untyped-def]
        with got:
            inserted.append(report.ingest.inserted)
            got.notify_all()

    def on_error(message: str | None) -> None:
        with got:
            errors.append(message)
            got.notify_all()

    stop = threading.Event()
    t = threading.Thread(target=watch, args=(store, stop, on_change), kwargs=dict(
        claude_roots=[], codex_dir=tmp_path / "codex" / "sessions", hook_spool=tmp_path / "y",
        agents=[], debounce_ms=50, on_error=on_error, retry_s=0.2))
    t.start()
    try:
        with got:
            assert got.wait_for(lambda: sum(inserted) >= 1, timeout=20)
        fill_up(store)
        with log.open("a") as fh:
            for i in range(1, TURNS):
                fh.write(turn(i))
        with got:
            assert got.wait_for(lambda: any(errors), timeout=20), errors
        assert any(e and "disk full" in e for e in errors)
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        with got:
            assert got.wait_for(lambda: errors and errors[-1] is None, timeout=20), errors
            assert got.wait_for(lambda: sum(inserted) >= TURNS, timeout=20)
    finally:
        stop.set()
        t.join(timeout=20)
    assert not t.is_alive()
    assert count(store) == TURNS  # every turn once
    store.close()


@pytest.mark.parametrize("fills", ["at start", "while shown"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_dashboard_says_not_storing_disk_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int],
        fills: str, request: pytest.FixtureRequest) -> None:
    """The dashboard's collector on a full store: the Usage status line says "not
    storing: disk full" where it said "collecting agent logs", the app keeps running,
    and once there is room the status is back and every line is stored. The store is
    made full with SQLite's own limit on the collector's connection, either before the
    first pass or once the screen already shows "collecting" (a failed write moves no
    data version: the line must still be redrawn)."""
    from textual.widgets import Label

    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp
    from tokentop.tui.screens.usage import UsageScreen

    # tests/conftest.py by its path: a subdirectory's conftest may hold the bare name
    shared = request.config.pluginmanager.get_plugin(
        str(Path(__file__).resolve().parents[1] / "conftest.py"))
    fixed_clock, settle_usage = shared.fixed_clock, shared.settle_usage

    claude = tmp_path / "claude"
    project = claude / "projects" / "p1"
    project.mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    for var, name in (("XDG_STATE_HOME", "state"), ("HOME", "home"),
                      ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        monkeypatch.setenv(var, str(tmp_path / name))  # no other agent's logs
    (tmp_path / "state").mkdir()
    db = tmp_path / "state" / "usage.db"
    with UsageStore.open(db):  # a store with room for nothing more once opened
        pass
    opened: list[UsageStore] = []
    real_open = UsageStore.open

    def open_full(*args, **kwargs) -> UsageStore:  # type: ignore[no-untyped-def]
        store = real_open(*args, **kwargs)
        if not store.read_only:
            if fills == "at start":
                fill_up(store)
            opened.append(store)
        return store

    monkeypatch.setattr(UsageStore, "open", open_full)
    lines = []
    for i in range(TURNS):
        lines.append(json.dumps({
            "type": "assistant", "timestamp": f"2026-05-05T12:{i // 60:02d}:{i % 60:02d}.000Z",
            "sessionId": "s1", "requestId": f"req{i}", "cwd": "/w",
            "message": {"id": f"msg{i}", "model": "claude-sonnet-4-5-20250929",
                        "usage": {"input_tokens": 100, "output_tokens": 50,
                                  "cache_creation_input_tokens": 0,
                                  "cache_read_input_tokens": 0}}}, separators=(",", ":")))
    log = project / "s.jsonl"
    later = lines[1:] if fills == "while shown" else []
    log.write_text("\n".join(lines[:len(lines) - len(later)]) + "\n")
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=db, usage_collect=True)

    def status() -> str:
        screen = app.screen
        if not isinstance(screen, UsageScreen):
            return ""
        return str(screen.query_one("#usage-status", Label).render())

    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        if later:
            def stored() -> int:
                with real_open(db, read_only=True) as store:
                    return count(store)

            await settle_usage(pilot, lambda: "collecting agent logs" in status()
                               and stored() == 1)
            for store in opened:
                fill_up(store)
            with log.open("a") as fh:
                fh.write("\n".join(later) + "\n")
        await settle_usage(pilot, lambda: "not storing: disk full" in status())
        assert "collecting agent logs" not in status()
        for store in opened:
            store.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
        await settle_usage(pilot, lambda: "collecting agent logs" in status())
        assert "not storing" not in status()
    with UsageStore.open(db, read_only=True) as store:
        assert count(store) == TURNS
