"""Upstream seq accounting (tokentop.store.events.tracker): gaps, restarts, duplicates."""

from __future__ import annotations

import msgspec

from tokentop.store.events.model import Envelope, Event, Marker
from tokentop.store.events.tracker import SeqTracker, SourceStats


def track(*seqs: int) -> tuple[SeqTracker, list[tuple[bool, Marker | None]]]:
    t = SeqTracker(SourceStats())
    return t, [t.see(s) for s in seqs]


def test_first_seq_is_never_a_gap() -> None:
    t, out = track(500, 501, 502)
    assert out == [(True, None)] * 3
    assert t.last_seq == 502 and t.stats.upstream_dropped == 0


def test_no_seq_yet() -> None:
    assert SeqTracker(SourceStats()).last_seq is None


def test_gap_is_a_drop_in_upstream_numbers() -> None:
    t, out = track(1, 2, 6, 7, 9)
    assert out[2] == (True, Marker("upstream", dropped=3, from_seq=3, to_seq=5))
    assert out[3] == (True, None)
    assert out[4] == (True, Marker("upstream", dropped=1, from_seq=8, to_seq=8))
    assert t.stats.upstream_dropped == 4 and t.last_seq == 9


def test_seq_back_to_one_is_a_restart() -> None:
    t, out = track(1, 2, 3, 1, 2, 4)
    assert out[3] == (True, Marker("restart", from_seq=1))
    assert out[4] == (True, None)  # counting goes on from the restart
    assert out[5] == (True, Marker("upstream", dropped=1, from_seq=3, to_seq=3))
    assert t.stats.restarts == 1 and t.stats.duplicates == 0 and t.stats.upstream_dropped == 1


def test_duplicates_are_refused_and_counted() -> None:
    t, out = track(1, 2, 3, 3, 2, 4)
    assert out[3] == (False, Marker("duplicate", dropped=1, from_seq=3, to_seq=3))
    assert out[4] == (False, Marker("duplicate", dropped=1, from_seq=2, to_seq=2))
    assert out[5] == (True, None)  # a duplicate does not move the position
    assert t.stats.duplicates == 2 and t.last_seq == 4


def test_one_after_one_is_a_duplicate() -> None:
    _, out = track(1, 1)
    assert out[1] == (False, Marker("duplicate", dropped=1, from_seq=1, to_seq=1))


def test_after_reconnect_a_lower_seq_is_a_restart() -> None:
    t = SeqTracker(SourceStats())
    for s in range(1, 101):
        t.see(s)
    # Without the reconnect flag, 40 is a duplicate ...
    assert t.see(40) == (False, Marker("duplicate", dropped=1, from_seq=40, to_seq=40))
    # ... right after a reconnect, the server restarted and already sent 39 events.
    assert t.see(40, after_reconnect=True) == (True, Marker("restart", from_seq=40))
    assert t.see(41) == (True, None)
    assert t.stats.restarts == 1 and t.last_seq == 41


def test_after_reconnect_resumes_or_reports_the_gap() -> None:
    t, _ = track(1, 2, 3)
    assert t.see(4, after_reconnect=True) == (True, None)  # Last-Event-ID resume worked
    # The server's ring evicted 5..9 while we were away.
    assert t.see(10, after_reconnect=True) == (
        True, Marker("upstream", dropped=5, from_seq=5, to_seq=9))
    # The server resent the last event we had: a duplicate, not a restart.
    assert t.see(10, after_reconnect=True)[0] is False
    assert t.stats.upstream_dropped == 5 and t.stats.duplicates == 1


def test_account_counts_received_categories_and_truncation() -> None:
    t = SeqTracker(SourceStats())
    for cat, trunc in [("console", False), ("network", True), ("console", False),
                       ("brand_new", False)]:
        t.account(Envelope(Event(type="x", category=cat, truncated=trunc,
                                 data=msgspec.Raw(b"null"))))
    st = t.stats
    assert st.received == 4 and st.truncated == 1
    assert st.per_category == {"console": 2, "network": 1, "brand_new": 1}
    assert st.state == "connecting" and st.last_error is None and st.retry_in is None


def test_a_restart_found_before_resuming_counts_the_new_runs_lost_events() -> None:
    """The SSE source saw the server's newest seq (3) below the last one (10): the
    next seq is the new run's, whatever it is; what came before it in that run is lost."""
    t, _ = track(8, 9, 10)
    t.restarted(3)
    assert t.restart_pending and t.stats.restarts == 1
    assert t.stats.last_restart == ("server restarted: its newest seq is 3, below the 10 "
                                    "seen; replaying its buffer")
    assert t.see(4) == (True, Marker("restart", dropped=3, from_seq=1, to_seq=3))
    assert not t.restart_pending and t.last_seq == 4
    assert t.see(5) == (True, None)
    st = t.stats
    assert (st.restarts, st.restart_lost, st.upstream_dropped, st.duplicates) == (1, 3, 0, 0)


def test_a_restart_replayed_from_its_first_event_loses_nothing() -> None:
    t, _ = track(1, 2, 3)
    t.restarted(0)
    assert t.see(1) == (True, Marker("restart", from_seq=1))
    assert t.stats.restart_lost == 0 and t.stats.restarts == 1
    assert t.stats.last_restart == "server restarted: nothing lost of the new run"
