"""tokentop.store.access.api against a loopback airstore access-log API (airstore_api.py).

The server pages as airstore's ``ListReads`` does (cursor, limit, has_more, the session's
stream), refuses tokens as its middleware does (401), and fails or drops connections on
request; the reader must page to the end, poll for new reads, retry from the same cursor
and never count an event twice, never show the token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from airstore_api import AirstoreApi, access_event, serve

from tokentop.store.access import AccessLog, AccessPageFile, open_source
from tokentop.store.access.api import AccessApi, ApiTarget, parse_target

TOKEN = "sekrit-token"


def wait(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.fixture
def api() -> AirstoreApi:
    return AirstoreApi()


@pytest.fixture
def base(api: AirstoreApi) -> Iterator[str]:
    with serve(api) as url:
        yield url


def target(base: str, suffix: str = "") -> ApiTarget:
    t = parse_target(f"{base}/api/v1/workspaces/ws-ext{suffix}")
    assert isinstance(t, ApiTarget)
    return t


def reader(base: str, token: str | None = TOKEN, **kw: object) -> AccessApi:
    return AccessApi(target(base), token, backoff=0.01, **kw)  # type: ignore[arg-type]


def test_pages_to_the_end_with_the_cursor(api: AirstoreApi, base: str) -> None:
    for i in range(2500):
        api.append(access_event(i))
    r = reader(base)
    r.read_all()
    assert r.stats.state == "ended" and r.stats.last_error is None
    snap = r.snapshot()
    assert snap.reads == 2500 and snap.duplicates == 0
    assert snap.original_tokens == 2_500_000 and snap.compressed_tokens == 500_000
    assert {g.name: g.reads for g in snap.by_cache_source} == {"open_content": 2500}
    assert {g.name: g.reads for g in snap.by_origin} == {"mount": 2500}
    # full pages (has_more), the last short page, then one empty ask: caught up
    assert api.cursors() == ["0", "1000", "2000", "2500"]
    assert all(req["auth"] == f"Bearer {TOKEN}" for req in api.requests)
    assert all(req["query"]["limit"] == ["1000"] for req in api.requests)
    assert all(req["path"] == "/api/v1/workspaces/ws-ext/access-log" for req in api.requests)
    assert r.cursor == "2500"


def test_follow_polls_for_new_reads(api: AirstoreApi, base: str) -> None:
    for i in range(30):
        api.append(access_event(i))
    r = reader(base, follow=True, poll=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=r.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait(lambda: r.snapshot().reads == 30, "the first reads")
        assert r.stats.state == "connected"
        asked = len(api.requests)
        wait(lambda: len(api.requests) > asked + 2, "polling")  # it keeps asking
        for i in range(30, 45):
            api.append(access_event(i))
        wait(lambda: r.snapshot().reads == 45, "the new reads")
        assert r.snapshot().duplicates == 0
        assert [e.event_id for e in r.recent(2)] == ["e43", "e44"]
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert r.cursor == "45"


def test_a_wrong_token_is_401_and_ends_the_reader(api: AirstoreApi, base: str) -> None:
    api.append(access_event(1))
    r = reader(base, token="wrong-token-value", follow=True, poll=0.01)
    r.run(threading.Event())  # returns: a refused token does not fix itself
    assert r.stats.state == "failed"
    error = r.stats.last_error or ""
    assert "401 invalid token" in error and "AIRSTORE_TOKEN" in error
    assert "wrong-token-value" not in error
    assert len(api.requests) == 1 and r.snapshot().reads == 0
    nobody = reader(base, token=None)
    nobody.read_all()
    assert "401 authorization required" in (nobody.stats.last_error or "")
    assert "set AIRSTORE_TOKEN" in (nobody.stats.last_error or "")
    assert api.requests[-1]["auth"] is None  # no header at all without a token


def test_open_access_needs_no_token() -> None:
    """middleware.go's fast path: no admin token configured, no token sent, let in."""
    api = AirstoreApi(token=None)
    api.append(access_event(1))
    with serve(api) as base:
        r = reader(base, token=None)
        r.read_all()
    assert r.stats.state == "ended" and r.snapshot().reads == 1


def test_a_server_error_mid_paging_is_retried_from_the_same_cursor(
        api: AirstoreApi, base: str) -> None:
    for i in range(1500):
        api.append(access_event(i))
    api.fail_at("1000", "status", 500, "failed to read access log: s2 unavailable")
    r = reader(base)
    r.read_all()
    snap = r.snapshot()
    assert r.stats.state == "ended" and snap.reads == 1500 and snap.duplicates == 0
    assert r.retries_made == 1
    cursors = api.cursors()
    assert cursors[0] == "0" and cursors.count("1000") == 2  # asked again, same cursor
    assert cursors[-1] == "1500"


def test_a_dropped_connection_is_retried(api: AirstoreApi, base: str) -> None:
    for i in range(1010):
        api.append(access_event(i))
    api.fail_at("1000", "drop")  # mid-paging, on a kept-alive connection
    r = reader(base)
    r.read_all()
    assert r.stats.state == "ended" and r.snapshot().reads == 1010
    assert r.snapshot().duplicates == 0
    assert r.retries_made == 1 and api.cursors() == ["0", "1000", "1000", "1010"]


def test_a_server_that_keeps_failing_ends_a_one_shot_read(api: AirstoreApi,
                                                          base: str) -> None:
    api.append(access_event(1))
    for _ in range(10):
        api.fail("status", 500, f"failed to read access log: bad token {TOKEN}")
    r = reader(base, retries=2)
    r.read_all()
    assert r.stats.state == "failed" and len(api.requests) == 3
    error = r.stats.last_error or ""
    assert "500 failed to read access log" in error
    assert TOKEN not in error and "***" in error  # the token is cut out of replies


def test_following_retries_with_backoff_until_the_server_answers(
        api: AirstoreApi, base: str) -> None:
    for i in range(5):
        api.append(access_event(i))
    for _ in range(3):
        api.fail("status", 503, "access log unavailable")
    r = reader(base, follow=True, poll=0.02)
    stop = threading.Event()
    states: list[str] = []
    thread = threading.Thread(target=r.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait(lambda: (states.append(r.stats.state) or r.snapshot().reads == 5), "recovery")
        assert "reconnecting" in states and r.retries_made == 3
        wait(lambda: r.stats.state == "connected", "connected")
        assert r.stats.last_error is None
    finally:
        stop.set()
        thread.join(5)


def test_the_session_and_window_are_passed_through(api: AirstoreApi, base: str) -> None:
    """``?session=`` picks the session's stream (access.{ws}.{session}.events), as
    ListReads does; events of other sessions are not read."""
    for i in range(4):
        api.append(access_event(i))
    for i in range(4, 7):
        api.append(access_event(i, session="agent-7"), session="agent-7")
    t = parse_target(f"{base}/api/v1/workspaces/ws-ext/access-log?session=agent-7&x=1")
    assert isinstance(t, ApiTarget) and t.params == {"session": "agent-7"}
    r = AccessApi(t, TOKEN)
    r.read_all()
    assert r.snapshot().reads == 3
    assert {g.name for g in r.snapshot().sessions} == {"agent-7"}
    assert api.requests[0]["query"]["session"] == ["agent-7"]
    assert "x" not in api.requests[0]["query"]


def test_an_unknown_workspace_is_404(api: AirstoreApi, base: str) -> None:
    t = parse_target(f"{base}/api/v1/workspaces/nope")
    assert isinstance(t, ApiTarget)
    r = AccessApi(t, TOKEN)
    r.read_all()
    assert r.stats.state == "failed" and "404 workspace not found" in (r.stats.last_error or "")


def test_duplicated_records_count_once(api: AirstoreApi, base: str) -> None:
    """S2 may hold an event twice (a collector re-sent its batch without Redis dedupe)."""
    for i in range(5):
        api.append(access_event(i))
    api.append(access_event(2))
    api.append(b'{"ts": "not a number"')  # skipped by the handler, never reaches us
    r = reader(base)
    r.read_all()
    snap = r.snapshot()
    assert snap.reads == 5 and snap.duplicates == 1 and r.cursor == "7"


@pytest.mark.parametrize(("url", "endpoint"), [
    ("https://air.example/api/v1/workspaces/ws1",
     "https://air.example/api/v1/workspaces/ws1/access-log"),
    ("https://air.example/api/v1/workspaces/ws1/access-log/",
     "https://air.example/api/v1/workspaces/ws1/access-log"),
    ("http://user:pw@127.0.0.1:1994/api/v1/workspaces/ws1?token=zzz",
     "http://127.0.0.1:1994/api/v1/workspaces/ws1/access-log"),
])
def test_parse_target(url: str, endpoint: str) -> None:
    t = parse_target(url)
    assert isinstance(t, ApiTarget) and t.endpoint == endpoint and t.name == endpoint
    assert "pw" not in t.name and "zzz" not in t.name and t.params == {}


@pytest.mark.parametrize("url", ["https://air.example/", "https://air.example/api/v1/tasks",
                                 "ftp://air.example/api/v1/workspaces/w", "https://:99/x",
                                 "http://[::1/api/v1/workspaces/w"])
def test_parse_target_refuses(url: str) -> None:
    assert isinstance(parse_target(url), str)


def test_a_page_saved_from_the_api_is_a_file_source(api: AirstoreApi, base: str,
                                                    tmp_path: Path) -> None:
    """``curl -H 'Authorization: Bearer ...' .../access-log > page.json``: the bytes the
    handler sent, read back as a FILE (one line, as echo writes it; and ?pretty-like)."""
    for i in range(12):
        api.append(access_event(i))
    reply = httpx.get(f"{base}/api/v1/workspaces/ws-ext/access-log?limit=5",
                      headers={"Authorization": f"Bearer {TOKEN}"})
    saved = tmp_path / "page.json"
    saved.write_bytes(reply.content)
    src = open_source(str(saved))
    assert isinstance(src, AccessLog)  # one line: the JSONL reader takes it
    src.read_all()
    assert src.snapshot().reads == 5 and src.stats.malformed == 0
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(reply.json(), indent=2))
    src2 = open_source(str(pretty))
    assert isinstance(src2, AccessPageFile)
    src2.read_all()
    assert src2.snapshot().reads == 5
