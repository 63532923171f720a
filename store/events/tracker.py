"""Upstream seq accounting shared by the event sources (SSE, file).

The server numbers its envelopes 1, 2, ... and never sends a drop frame (DESIGN 2.4):
**a gap in seq is a drop**, and seq going back to 1 means the server restarted. The
tracker turns the sequence of upstream seqs a source receives into those facts:

- the first seq ever is accepted as is (``?replay=all`` starts wherever the server's
  ring starts, so a first seq above 1 is not a gap);
- ``last + 1``: the normal case;
- above ``last + 1``: accepted, with an ``upstream`` marker for ``last+1 .. seq-1``;
- ``1`` while ``last > 1``, or anything below ``last`` right after a reconnect (or a
  rotated file): the server restarted; accepted with a ``restart`` marker, and
  counting goes on from there;
- after :meth:`SeqTracker.restarted` (the SSE source found, before reconnecting, that
  the server's newest seq is below the last one seen: kernel-images keeps ``seq`` in
  process memory, ``server/lib/events/eventstream.go``, so a new process counts from 1
  again): the next seq is accepted whatever it is, with a ``restart`` marker whose
  ``dropped`` is the new process's events that came before it (``1 .. seq-1``: what
  its ring no longer held when tokentop replayed it);
- otherwise (``seq <= last``) a duplicate: the caller drops it; the marker says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokentop.store.events.model import Envelope, Marker

SourceState = str  # connecting | connected | reconnecting | ended | failed


@dataclass
class SourceStats:
    """What one event source has seen; read by the screen's status line and the CLI.

    ``received`` counts accepted envelopes (duplicates are not received twice);
    ``truncated`` counts accepted envelopes without their data (upstream or local).
    """

    received: int = 0
    upstream_dropped: int = 0
    duplicates: int = 0
    restarts: int = 0
    restart_lost: int = 0  # events of restarted servers that were gone before we read them
    truncated: int = 0
    malformed: int = 0
    per_category: dict[str, int] = field(default_factory=dict)
    state: SourceState = "connecting"
    last_error: str | None = None
    retry_in: float | None = None  # seconds until the next reconnect attempt
    retries: int = 0  # reconnect attempts since the last one that delivered
    last_malformed: str | None = None  # one line: where and why the last bad line failed
    last_restart: str | None = None  # one line: the last restart detected, and its loss


class SeqTracker:
    """Follows one source's upstream seqs; see the module docstring for the rules."""

    def __init__(self, stats: SourceStats) -> None:
        self.stats = stats
        self._last: int | None = None
        self._restart_pending = False

    @property
    def last_seq(self) -> int | None:
        """The last accepted upstream seq (the ``Last-Event-ID`` to resume from)."""
        return self._last

    @property
    def restart_pending(self) -> bool:
        """A restart was detected and no envelope of the new server has arrived yet:
        the source must replay the server's buffer instead of resuming by id."""
        return self._restart_pending

    def restarted(self, server_seq: int) -> None:
        """The server restarted (its newest seq, ``server_seq``, is below the last one
        seen): counted now, so the status says so before the next event arrives; the
        next seq, whatever it is, gets the ``restart`` marker with the loss."""
        last = self._last
        self.stats.restarts += 1
        self._restart_pending = True
        self.stats.last_restart = (
            f"server restarted: its newest seq is {server_seq}, below the {last} seen; "
            "replaying its buffer")

    def see(self, upstream_seq: int, after_reconnect: bool = False) -> tuple[bool, Marker | None]:
        """Judge one upstream seq: (accept it?, the marker to attach or report)."""
        seq = upstream_seq
        last = self._last
        if self._restart_pending:
            return True, self._first_after_restart(seq)
        if last is None or seq == last + 1:
            self._last = seq
            return True, None
        if seq > last:
            dropped = seq - last - 1
            self.stats.upstream_dropped += dropped
            self._last = seq
            return True, Marker("upstream", dropped=dropped, from_seq=last + 1, to_seq=seq - 1)
        if (seq == 1 and last > 1) or (after_reconnect and seq < last):
            self.stats.restarts += 1
            self._last = seq
            return True, Marker("restart", from_seq=seq)
        self.stats.duplicates += 1
        return False, Marker("duplicate", dropped=1, from_seq=seq, to_seq=seq)

    def _first_after_restart(self, seq: int) -> Marker:
        self._restart_pending = False
        self._last = seq
        lost = max(0, seq - 1)
        st = self.stats
        st.restart_lost += lost
        if lost:
            st.last_restart = (f"server restarted: {lost:,} event{'s' if lost != 1 else ''} "
                               f"of the new run lost (seq 1-{seq - 1})")
            return Marker("restart", dropped=lost, from_seq=1, to_seq=seq - 1)
        st.last_restart = "server restarted: nothing lost of the new run"
        return Marker("restart", from_seq=seq)

    def account(self, env: Envelope) -> None:
        """Count an accepted envelope (pass the stored copy ``publish`` returned, so a
        local truncation is counted too)."""
        st = self.stats
        st.received += 1
        cat = env.event.category
        st.per_category[cat] = st.per_category.get(cat, 0) + 1
        if env.event.truncated:
            st.truncated += 1
