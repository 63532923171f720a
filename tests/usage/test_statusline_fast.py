"""The status line's own reader (``glance_fast``) and compiled price cache
(``pricing_cache``) against the read model, the reports and the price table, on real
SQLite stores built by SQL as ingest would leave them.

The line must never disagree with the dashboard: the fast reader must give exactly
(``==``, not approximately) the snapshot ``glance.read_glance`` gives, run the very
statements it runs, and match ``tokentop report`` and the Usage read model's burn rate,
over a store holding every pricing case: a model priced by a fuzzy match
(``anthropic/claude-sonnet-4-5-20250929``), an unpriced one, a per-kind tier, a
long-context tier, fast mode, 1-hour cache writes, a cost the agent gave, a cost
tokentop computed (re-priced), Codex's inclusive input, an error row, Claude Code's
``<synthetic>`` model, and the user's price overrides.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_read import insert, rebuild_rollup

from tokentop.store import pricing_cache, xdg
from tokentop.store.pricing import PriceTable
from tokentop.store.usage import glance_fast, glance_paths, groupsql, read, reports, rollup, schema
from tokentop.store.usage.glance import read_glance, snapshot
from tokentop.store.usage.schema import create
from tokentop.store.usage.timefmt import format_ts

SONNET = "claude-sonnet-4-5-20250929"
FUZZY = "anthropic/claude-sonnet-4-5-20250929"  # no row of its own: the longest match
OPUS = "claude-opus-4-6"  # fast multiplier 6
GPT = "gpt-5.4"  # long-context tier over 272,000 prompt tokens
EU = "claude-sonnet-4-5@eu"  # long-context tier over 200,000
NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=UTC)


def _set(c: sqlite3.Connection, sql: str, *args: object) -> None:
    """Change the newest event (what ``insert`` cannot set)."""
    c.execute(f"UPDATE usage_events SET {sql} WHERE rowid = (SELECT MAX(rowid)"
              " FROM usage_events)", args)


def fill(c: sqlite3.Connection, now: datetime = NOW) -> None:
    """Three days of every pricing case, denser in the last hours, so today, the burn
    window, the block walk and the partial hours at every edge all hold some."""
    at = now - timedelta(days=3)
    n = 0
    while at <= now:
        n += 1
        kind = n % 11
        ts = format_ts(at)
        if kind == 0:
            insert(c, ts, model=SONNET, i=1200 + n, o=300)
            _set(c, "tokentop_cache_write_1h = 500, cache_write_tokens = 800,"
                 " cache_read_tokens = 4000")
        elif kind == 1:
            insert(c, ts, model=FUZZY, i=900, o=100 + n)
        elif kind == 2:
            insert(c, ts, model="mystery-model", provider="acme", i=500, o=500)
        elif kind == 3:
            insert(c, ts, model=SONNET, i=250_000, o=1000)  # over the per-kind tier
        elif kind == 4:
            insert(c, ts, model=OPUS, i=2000, o=400)
            _set(c, "tokentop_speed = 'fast'")
        elif kind == 5:
            insert(c, ts, model=GPT, provider="codex", agent="codex", i=300_000, o=900)
            _set(c, "cache_read_tokens = 20000")  # Codex's input holds its cached part
        elif kind == 6:
            insert(c, ts, model=EU, i=150_000, o=100)
            _set(c, "cache_read_tokens = 60000")  # prompt 210,000: over 200,000
        elif kind == 7:
            insert(c, ts, model=SONNET, i=10, cost=0.25)  # the agent's own cost
        elif kind == 8:
            insert(c, ts, model=SONNET, i=3000, o=30, cost=9.99)
            _set(c, "tokentop_cost_computed = 1")  # computed by tokentop: re-priced
        elif kind == 9:
            insert(c, ts, model="<synthetic>", i=0, o=0)
        else:
            insert(c, ts, model=SONNET, i=777, o=7)
            _set(c, "status = 'error'")  # an error with usage: not counted
        at += timedelta(minutes=37) if at < now - timedelta(hours=8) else timedelta(minutes=4)
    snap = {"provider_id": "openai", "metrics": {"requests": {"limit": 1000, "used": 640}},
            "resets": {"requests": format_ts(now + timedelta(hours=2))}}
    for minutes, used in ((30, 500), (5, 640)):
        snap["metrics"]["requests"]["used"] = used
        c.execute("INSERT INTO usage_limit_snapshots VALUES (?, ?, 'openai', '', ?)",
                  (f"q{minutes}", format_ts(now - timedelta(minutes=minutes)),
                   json.dumps(snap)))
    rebuild_rollup(c)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store, built once (a few seconds); each test reads its own copy."""
    path = tmp_path_factory.mktemp("filled") / "usage.db"
    c = sqlite3.connect(path, isolation_level=None)
    create(c)
    fill(c)
    c.close()
    return path


@pytest.fixture
def conn(filled: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    import shutil

    shutil.copy(filled, tmp_path / "usage.db")
    c = sqlite3.connect(tmp_path / "usage.db", isolation_level=None)
    yield c
    c.close()


def expected(c: sqlite3.Connection, now: datetime, tz: ZoneInfo | None = None) -> dict:
    return snapshot(read_glance(c, now, tz))


def fast(c: sqlite3.Connection, now: datetime, tz: ZoneInfo | None = None) -> dict | None:
    return glance_fast.read_snapshot(c, now, tz)


# -- the same numbers --------------------------------------------------------------------


@pytest.mark.parametrize("tz", [None, "Asia/Kathmandu", "America/St_Johns",
                                "Pacific/Auckland"])
@pytest.mark.parametrize("minutes", [0, 35, 60 * 5, 60 * 7 + 13])
def test_snapshot_is_the_read_models_exactly(conn: sqlite3.Connection, tz: str | None,
                                             minutes: int) -> None:
    zone = ZoneInfo(tz) if tz else None
    now = NOW - timedelta(minutes=minutes)
    got = fast(conn, now, zone)
    assert got is not None
    assert got == expected(conn, now, zone)  # floats equal, not approximately
    assert got["today"] > 0 and got["burn"] > 0


def test_every_pricing_case_is_in_the_numbers(conn: sqlite3.Connection) -> None:
    """The store really holds what the test claims: the read model lists the unpriced
    model, prices the fuzzy one, and the line is the sum of its parts."""
    view = read.read_usage(conn, "1d", NOW)
    assert view.unpriced == ["mystery-model"]
    models = {row.key for row in view.breakdowns["model"]}
    assert {FUZZY, OPUS + "-fast", GPT, EU, SONNET} <= models
    fuzzy = next(r for r in view.breakdowns["model"] if r.key == FUZZY)
    assert fuzzy.sums.cost > 0


def agrees_with_report(conn: sqlite3.Connection, got: dict, now: datetime,
                       tz: ZoneInfo) -> None:
    """Today = ``report daily`` for today; the block = ``report blocks --active``; the
    burn = the Usage screen's burn rate."""
    opts = reports.ReportOptions(tz=tz, now=now)
    daily = reports.REPORTS["daily"](conn, opts)
    today = now.astimezone(tz).date().isoformat()
    (row,) = [d for d in daily["daily"] if d["date"] == today]
    assert got["today"] == pytest.approx(row["totalCost"], rel=1e-12)
    (active,) = reports.blocks(conn, opts, active_only=True)["blocks"]
    assert got["block"]["cost"] == pytest.approx(active["costUSD"], rel=1e-12)
    assert got["block"]["end"] == datetime.fromisoformat(
        active["endTime"].replace("Z", "+00:00")).timestamp()
    assert got["burn"] == read.burn_rate(conn, now, rolled=True).cost_per_hour


def test_line_agrees_with_report_and_burn_rate(conn: sqlite3.Connection) -> None:
    tz = ZoneInfo("Asia/Kathmandu")
    got = fast(conn, NOW, tz)
    assert got is not None
    agrees_with_report(conn, got, NOW, tz)
    assert [q["name"] for q in got["quotas"]] == ["openai requests"]
    assert got["quotas"][0]["fraction"] == 0.64 and got["quotas"][0]["full_at"] is not None


def test_hour_five_hours_into_a_block_walked_event_by_event(tmp_path: Path) -> None:
    """An event at exactly start + 5 h still belongs to the old block (ccusage's ``>``):
    the rollup walk hands that hour to ``expand``; both readers must agree."""
    c = sqlite3.connect(tmp_path / "usage.db", isolation_level=None)
    create(c)
    for ts in ("2026-11-20T07:10:00Z", "2026-11-20T09:00:00Z", "2026-11-20T12:00:00Z",
               "2026-11-20T12:20:00Z"):
        insert(c, ts, model=SONNET, i=1000, o=100)
    rebuild_rollup(c)
    now = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    got = fast(c, now)
    assert got == expected(c, now)
    assert got is not None and got["block"] is not None
    assert got["block"]["end"] == datetime(2026, 11, 20, 17, tzinfo=UTC).timestamp()
    c.close()


def test_same_statements_as_the_read_model(conn: sqlite3.Connection) -> None:
    """Character for character and in the same order (the table PRAGMAs aside: the read
    model asks once per statement, the fast reader once), with the same arguments."""
    def trace(fn: object) -> list[str]:
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            fn()  # type: ignore[operator]
        finally:
            conn.set_trace_callback(None)
        return [s for s in seen if not s.startswith("PRAGMA")]

    for now in (NOW, NOW - timedelta(minutes=35), NOW.replace(minute=0, second=0)):
        ours = trace(lambda now=now: fast(conn, now))
        theirs = trace(lambda now=now: read_glance(conn, now))
        assert ours == theirs
        assert len(ours) >= 7


def test_copied_constants_equal_their_originals() -> None:
    """The statements themselves are shared (``groupsql``); what the fast reader still
    names on its own must equal the read model's, and groupsql's model expression the
    rollup's (which groupsql cannot import: it loads the price table)."""
    g = glance_fast
    t = PriceTable.load().tier_threshold
    assert groupsql.MODEL_SQL == reports.MODEL_SQL == rollup.MODEL_EXPR
    assert (g.BLOCK, g.ROLLUP_BLOCK_LOOKBACK) == (reports.BLOCK, read.ROLLUP_BLOCK_LOOKBACK)
    tables = (g.HOUR_TABLE, g.DAY_TABLE, g.HOUR_MODEL_TABLE)
    assert tables == (rollup.HOUR.table, rollup.DAY.table, rollup.HOUR_MODEL.table)
    assert (g.THRESHOLD_KEY, g.OWNER_KEY, g.OWNER_VALUE) == (
        schema.THRESHOLD_KEY, schema.OWNER_KEY, schema.OWNER_VALUE)
    columns = g.TOKENTOP_COLUMNS
    assert columns == tuple(name for name, _ in schema.TOKENTOP_COLUMNS)
    assert g.SYNTHETIC == reports.SYNTHETIC
    assert pricing_cache.load().basis == rollup.basis(t)


@pytest.mark.parametrize("start,end", [
    ("2026-11-19T18:15:00", "2026-11-20T12:00:00"),  # edge, hours, days, hours
    ("2026-11-20T00:00:00", "2026-11-20T12:00:00"),  # hours only
    ("2026-11-20T11:34:56", "2026-11-20T12:00:00"),  # events only
    ("2026-11-18T00:00:00", "2026-11-20T00:00:00"),  # days only
    ("2026-11-19T23:45:00", "2026-11-20T03:00:00"),  # an edge, then hours
])
def test_window_split_is_the_read_models(start: str, end: str) -> None:
    a = datetime.fromisoformat(start).replace(tzinfo=UTC)
    b = datetime.fromisoformat(end).replace(tzinfo=UTC)
    events, parts = glance_fast.rollup_parts(a, b)
    split = read._split(a, b, True)
    assert events == split.events
    assert parts == [(table, column, *bounds) for table, column, bounds
                     in read._rollup_parts(split)] or (
        split.days is None and parts == [(rollup.TABLE, "hour", *split.hours)])


# -- where only the read model answers --------------------------------------------------


def test_foreign_or_older_store_is_left_to_the_read_model(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM tokentop_meta WHERE key = ?", (schema.THRESHOLD_KEY,))
    assert fast(conn, NOW) is None  # no rollup of this table: the read model reads it


def test_command_falls_back_and_gives_the_same_line(conn: sqlite3.Connection,
                                                   tmp_path: Path) -> None:
    store = tmp_path / "usage.db"

    def line() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tokentop.tui.cli", "statusline", "--store", str(store),
             "--at", NOW.isoformat(), "--tz", "UTC", "--no-color"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True)
        assert done.stderr == ""
        return done.stdout

    def render(snap: dict) -> str:
        from tokentop.tui.commands.claude_status import parse_status
        from tokentop.tui.commands.statusline_format import render_default

        return render_default(snap, parse_status(b""), NOW.timestamp(), False) + "\n"

    assert line() == render(expected(conn, NOW, ZoneInfo("UTC")))
    assert "today $" in line() and "block $" in line()
    conn.execute("DELETE FROM tokentop_meta WHERE key = ?", (schema.THRESHOLD_KEY,))
    # the read model over the events (its block walk looks back 10 hours only)
    assert fast(conn, NOW) is None
    assert line() == render(expected(conn, NOW, ZoneInfo("UTC")))


def test_open_read_only_as_the_reports_do(conn: sqlite3.Connection, tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    conn.execute("INSERT OR REPLACE INTO tokentop_meta VALUES (?, ?)",
                 (schema.OWNER_KEY, schema.OWNER_VALUE))
    got = glance_fast.connect_read_only(str(path))
    assert got is not None
    with pytest.raises(sqlite3.OperationalError):
        got.execute("CREATE TABLE x (y)")  # query_only
    got.close()
    assert glance_fast.connect_read_only(str(tmp_path / "missing.db")) is None
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    assert glance_fast.connect_read_only(str(tmp_path / "junk.db")) is None


@pytest.mark.parametrize("name", [None, "", "UTC", "Asia/Kathmandu", "Europe/Paris"])
def test_zone_is_the_reports(name: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Denver")
    assert glance_fast.parse_tz(name) == reports.parse_tz(name)
    monkeypatch.delenv("TZ")
    assert glance_fast.parse_tz(name) == reports.parse_tz(name)


def test_unknown_zone_is_left_to_the_reports() -> None:
    assert glance_fast.parse_tz("Mars/Olympus") is None
    with pytest.raises(reports.ReportError):
        reports.parse_tz("Mars/Olympus")


@pytest.mark.parametrize("env", [
    {}, {"XDG_STATE_HOME": "/tmp/s", "XDG_CONFIG_HOME": "/tmp/c/", "XDG_CACHE_HOME": "/x"},
    {"XDG_STATE_HOME": "relative/s", "XDG_CACHE_HOME": ""}, {"HOME": "/home/someone"},
])
def test_directories_are_platformdirs(env: dict[str, str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from tokentop.store.state import state_dir
    from tokentop.store.usage.paths import default_db_path

    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for kind in ("state", "config", "cache"):
        want = getattr(platformdirs, f"user_{kind}_dir")("tokentop", appauthor=False)
        assert xdg.user_dir(kind, "tokentop") == want
    assert Path(xdg.user_dir("state", "tokentop")) == state_dir("tokentop")
    assert Path(glance_paths.default_db_path()) == default_db_path()


# -- the compiled price cache -------------------------------------------------------------


def _overrides(text: str) -> Path:
    path = Path(xdg.user_dir("config", "tokentop")) / "pricing.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    # a rewrite within the filesystem's timestamp grain must still change the key
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    return path


def test_cache_holds_the_pricers_answers(conn: sqlite3.Connection) -> None:
    from tokentop.store.usage.costing import Pricer

    assert fast(conn, NOW) is not None
    path = Path(pricing_cache.cache_path())
    assert path.parent == Path(os.environ["XDG_CACHE_HOME"]) / "tokentop"
    assert path.stat().st_mode & 0o777 == 0o600
    cached = pricing_cache.load()
    pricer = Pricer()
    assert {FUZZY, SONNET, "mystery-model", OPUS + "-fast", GPT, EU} <= set(cached.models)
    for model in cached.models:
        price, is_fast = pricer.price(model)
        assert cached.price(model) == ((None, False) if price is None
                                        else (price.rates(), is_fast))
        for calc in range(1, len(cached.contexts) + 2):
            args = (model, 300_000, 1000, 9000, 40_000, 100_000, 0, 700, 0, 2000, 0, calc)
            assert cached.cost(*args) == pricer.cost(*args)
    assert cached.price("mystery-model") == (None, False)


def test_overrides_change_rebuilds_the_cache(conn: sqlite3.Connection) -> None:
    before = fast(conn, NOW)
    _overrides('[models."claude-sonnet-4-5-20250929"]\ninput = 30.0\n\n'
               '[models."mystery-model"]\ninput = 1.0\noutput = 2.0\n')
    after = fast(conn, NOW)
    assert after is not None and before is not None
    assert after == expected(conn, NOW)
    assert after["today"] > before["today"]  # sonnet dearer, mystery now priced
    agrees_with_report(conn, after, NOW, ZoneInfo("UTC"))
    assert pricing_cache.load().price("mystery-model")[0] is not None
    _overrides('[models."claude-sonnet-4-5-20250929"]\ninput = 3.0\n')
    again = fast(conn, NOW)
    assert again == expected(conn, NOW) != after
    assert pricing_cache.load().price("mystery-model") == (None, False)


def test_updated_table_change_rebuilds_the_cache(conn: sqlite3.Connection) -> None:
    """``tokentop pricing update``'s table (in the state dir) replaces the bundled one:
    the cache built from the bundled table is stale."""
    before = fast(conn, NOW)
    doc = json.loads((Path(pricing_cache._HERE) / "pricing_data.json").read_text())
    doc["models"][SONNET]["input"] *= 10
    updated = Path(xdg.user_dir("state", "tokentop")) / "pricing.json"
    updated.parent.mkdir(parents=True, exist_ok=True)
    updated.write_text(json.dumps(doc))
    after = fast(conn, NOW)
    assert after == expected(conn, NOW)
    assert before is not None and after is not None and after["today"] > before["today"]


@pytest.mark.parametrize("content", [
    b"", b"{not json", b"[]", b'{"key": 1}',
    None,  # the right key, models of the wrong shape (filled in below)
])
def test_damaged_cache_is_rebuilt_silently(conn: sqlite3.Connection, content: bytes | None,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    right = fast(conn, NOW)
    path = Path(pricing_cache.cache_path())
    if content is None:
        doc = json.loads(path.read_bytes())
        doc["models"][SONNET] = [[1, 2], "fast"]
        content = json.dumps(doc).encode()
    path.write_bytes(content)
    assert fast(conn, NOW) == right == expected(conn, NOW)
    assert capfd.readouterr().err == ""
    assert SONNET in json.loads(path.read_bytes())["models"]


def test_unwritable_cache_costs_only_speed(conn: sqlite3.Connection,
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no directory under it
    assert fast(conn, NOW) == expected(conn, NOW)


@pytest.mark.parametrize("path", ["/home/u/.local/state/tokentop/usage.db",
                                  "/tmp/a b/ü?#%&=;.db", "/x/~y_z-1.2/é€"])
def test_uri_quoting_is_urllibs(path: str) -> None:
    from urllib.parse import quote

    assert glance_fast.quote(path) == quote(path)


def test_quiet_wal_is_ownerships(conn: sqlite3.Connection, tmp_path: Path) -> None:
    from tokentop.store.usage import ownership

    path = tmp_path / "usage.db"
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert glance_fast._quiet_wal(str(path)) is ownership._quiet_wal(path) is True
    os.mkfifo(tmp_path / "fifo")  # never blocks on a file that is not regular
    assert glance_fast._quiet_wal(str(tmp_path / "fifo")) is False
    assert glance_fast._quiet_wal(str(tmp_path / "none")) is False


def test_command_loads_neither_read_model_nor_price_table(conn: sqlite3.Connection,
                                                          tmp_path: Path) -> None:
    """What keeps a cold call under 50 ms: once the price cache holds the store's models,
    the ``tokentop`` executable's statusline imports none of these (each costs 5-30 ms)."""
    code = (  # modules the interpreter loaded before (an editable install's finder) aside
        "import sys; ready = set(sys.modules);"
        "sys.argv = ['tokentop', 'statusline', '--store', sys.argv[1], '--at',"
        " sys.argv[2], '--no-color'];"
        "heavy = ('tokentop.store.usage.read', 'tokentop.store.usage.reports',"
        " 'tokentop.store.pricing', 'msgspec', 'platformdirs', 'dataclasses', 'pathlib',"
        " 'click', 'urllib.parse');"
        # the command leaves by os._exit (``entry._leave``), after the atexit handlers
        "import atexit; atexit.register(lambda: print(sorted("
        "m for m in heavy if m in sys.modules and m not in ready)));"
        "from tokentop.tui.entry import main; main()")
    args = [sys.executable, "-c", code, str(tmp_path / "usage.db"), NOW.isoformat()]
    first = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr  # fills the price cache: the slow path
    done = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    line, loaded = done.stdout.splitlines()
    assert line.startswith("today $") and first.stdout.splitlines()[0] == line
    assert loaded == "[]"
