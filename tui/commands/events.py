"""``tokentop events SOURCE``: a browser event stream as JSON lines (issue 4, section 4).

SOURCE is an SSE URL (``http(s)://.../telemetry/stream``, key from ``KERNEL_API_KEY``),
``-`` (JSONL on stdin) or a JSONL file; a saved page of ``GET /telemetry/events`` (a
JSON array of envelopes, one line or pretty-printed) is read as well. The source runs
in a worker thread and publishes into a local
:class:`~tokentop.store.events.stream.EventStream`; the main thread reads it with
:meth:`~tokentop.store.events.stream.Reader.read_blocking` and prints, per batch, one
buffered write and one flush:

- one line per envelope, in the upstream shape ``{"seq": N, "event": {...}}`` (the
  upstream seq; the local seq for a bare event), ``data`` re-emitted as received;
- one line per marker, ``{"dropped": n, "from_seq": a, "to_seq": b, "kind": k}``: an
  ``upstream`` gap or a ``restart`` just before the envelope it rides on, a
  ``duplicate`` where it arrived (dropped, never printed as an envelope), a ``viewer``
  drop (this reader fell behind the ring; seqs are local) where it occurred.

A file (or stdin) is never lost to a slow reader: its source waits while the ring is
full (only the file reader waits; the ring itself never blocks a writer). An SSE
stream is live and does not wait: a reader that falls behind gets ``viewer`` markers.

It ends at the end of the file (unless ``--follow``), after ``--count`` envelopes, on
Ctrl-C (exit 130) or SIGTERM (143), with a summary on stderr; on a fatal source error
(401/403/404, an unreadable file) with one line on stderr and exit 2. A closed stdout
(``| head``) ends it quietly with exit 0. No Textual here: headless commands start fast.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from tokentop.store.tail.regular import check_regular
from tokentop.tui.commands.common import fail

if TYPE_CHECKING:
    from tokentop.store.events.model import Envelope, Marker
    from tokentop.store.events.stream import EventStream, Reader, ReadResult
    from tokentop.store.events.tracker import SourceStats

READ_BATCH = 1024  # results printed per write + flush at most
IDLE = 0.1  # seconds between looks at the source's state while nothing arrives
JOIN_TIMEOUT = 3.0



class _Terminated(Exception):
    """SIGTERM arrived (raised in the main thread by the handler)."""


class _Stopped(Exception):
    """Raised inside a paced file source's publish when the command is ending."""


class _Broken(Exception):
    """stdout was closed by its reader."""


def _is_url(source: str) -> bool:
    return "://" in source


def _check_file(source: str) -> None:
    path = Path(source).expanduser()
    if not path.exists():
        fail(f"no such file: {path}")
    if path.is_dir():
        fail(f"is a directory, not an event file: {path}")
    try:
        check_regular(path)  # a FIFO blocked open() here
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}")


def _paced_stream() -> tuple[EventStream, threading.Event, threading.Event]:
    """A ring whose publish waits while the reader is a whole ring behind (for files).

    Returns (stream, room, stop): the printer sets ``room`` after every batch it
    consumed; setting ``stop`` makes a waiting publish raise :class:`_Stopped`.
    ``stream.reader`` must be set before the source starts.
    """
    from tokentop.store.events.stream import EventStream

    room = threading.Event()
    stop = threading.Event()

    class PacedStream(EventStream):
        reader: Reader

        def publish(self, env: Envelope) -> Envelope:
            limit = self.capacity - 1
            reader = self.reader
            while self._seq - reader.next_seq >= limit:
                room.clear()
                if self._seq - reader.next_seq < limit:
                    break
                if stop.is_set():
                    raise _Stopped
                room.wait(IDLE)
            return super().publish(env)

    return PacedStream(), room, stop


class _Printer:
    """Turns read results into output lines; runs in the main thread (``on_marker``
    excepted: the source thread calls it for each duplicate)."""

    def __init__(self, stream: EventStream, reader: Reader, out: BinaryIO,
                 count: int | None) -> None:
        import msgspec

        self.stream = stream
        self.reader = reader
        self.out = out
        self.count = count
        self.printed = 0
        self._encode = msgspec.json.Encoder().encode
        self._json = msgspec.json.encode
        self._null = msgspec.Raw(b"null")
        # Duplicates are never published: each is kept with the local seq published
        # just before it arrived, and printed before the first result after that seq.
        self._dups: deque[tuple[int, Marker]] = deque()

    def on_marker(self, marker: Marker) -> None:
        self._dups.append((self.stream.seq, marker))

    @property
    def done(self) -> bool:
        return self.count is not None and self.printed >= self.count

    def _dups_before(self, seq: int, lines: list[bytes]) -> None:
        dups = self._dups
        while dups and dups[0][0] < seq:
            lines.append(self._json(dups.popleft()[1].to_json()) + b"\n")

    def _write(self, lines: list[bytes]) -> None:
        if not lines:
            return
        try:
            self.out.write(b"".join(lines))
            self.out.flush()
        except BrokenPipeError:
            raise _Broken from None
        except ValueError:  # stdout closed under us
            raise _Broken from None

    def batch(self, first: ReadResult) -> None:
        """Print ``first`` and whatever else is buffered (up to READ_BATCH results)."""
        from tokentop.store.events.model import Marker

        reader = self.reader
        # The local seq of the result at hand (``first`` has already moved the reader).
        nxt = first.envelope.seq if first.envelope is not None else (
            reader.next_seq - first.dropped)
        results = [first, *reader.read_many(READ_BATCH - 1)]
        lines: list[bytes] = []
        append = lines.append
        encode = self._encode
        null = self._null
        for r in results:
            env = r.envelope
            if env is None:
                self._dups_before(nxt, lines)
                last = nxt + r.dropped - 1
                append(self._json(Marker("viewer", dropped=r.dropped, from_seq=nxt,
                                         to_seq=last).to_json()) + b"\n")
                nxt = last + 1
                continue
            seq = env.seq
            if self._dups:
                self._dups_before(seq, lines)
            if env.marker is not None:
                append(self._json(env.marker.to_json()) + b"\n")
            up = env.upstream_seq
            ev = env.event
            body = encode(ev)
            if ev.source.metadata == null:
                body = _strip_null_metadata(body, ev.source.kind or ev.source.event)
            append(b'{"seq":%d,"event":%s}\n' % (seq if up is None else up, body))
            nxt = seq + 1
            self.printed += 1
            if self.done:
                break
        else:
            self._dups_before(nxt, lines)
        self._write(lines)

    def idle(self) -> None:
        """Nothing new to read: print the duplicates seen since the last envelope."""
        lines: list[bytes] = []
        self._dups_before(self.reader.next_seq, lines)
        self._write(lines)

    def finish(self) -> None:
        lines: list[bytes] = []
        self._dups_before(sys.maxsize, lines)
        self._write(lines)


def _strip_null_metadata(body: bytes, has_source: str) -> bytes:
    """Drop the ``"metadata":null`` the encoder writes for an event without metadata
    (and the whole ``"source"`` when it is empty), as the event arrived.

    Safe on the first occurrence: ``source`` is encoded before ``data`` and after only
    ``ts`` (a number) and strings, which cannot hold an unescaped quote.
    """
    if has_source:
        return body.replace(b',"metadata":null}', b"}", 1)
    return body.replace(b'"source":{"metadata":null},', b"", 1)


def _summary(stats: SourceStats, viewer_dropped: int, printed: int) -> str:
    return (f"tokentop events: received {stats.received}, printed {printed}, "
            f"upstream dropped {stats.upstream_dropped}, viewer dropped {viewer_dropped}, "
            f"duplicates {stats.duplicates}, restarts {stats.restarts}, "
            f"truncated {stats.truncated}, malformed {stats.malformed}, "
            f"lost in restarts {stats.restart_lost}")  # last: older parsers still match


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


@click.command("events")
@click.argument("source", metavar="SOURCE")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON line per envelope and per marker (the default and, for now, "
              "the only format).")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="Stop after N envelopes.")
@click.option("--replay", is_flag=True,
              help="SSE: start from the oldest event the server buffers (?replay=all). "
              "A file is always read from its start.")
@click.option("--follow", "-f", is_flag=True,
              help="File: keep following appends and rotation (like tail -F) until Ctrl-C. "
              "An SSE stream is always followed.")
@click.option("--poll", is_flag=True, help="With --follow: poll instead of using "
              "filesystem events (for network filesystems).")
@click.option("--retries", type=click.IntRange(min=0), default=10, show_default=True,
              metavar="N", help="SSE: give up after N failed reconnects in a row (each "
              "is reported on stderr with its wait; 0: retry forever).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Give up (exit 2) when no event arrived for this long.")
def events(source: str, as_json: bool, count: int | None, replay: bool, follow: bool,
           poll: bool, retries: int, timeout: float | None) -> None:
    """Print a browser event stream as JSON lines.

    SOURCE is an SSE URL (http(s)://.../telemetry/stream; the key, if needed, comes from
    KERNEL_API_KEY), - for JSONL on stdin, a JSONL file of envelopes or bare events, or a
    saved page of GET /telemetry/events (a JSON array of envelopes).

    Before resuming an SSE stream, the server's newest seq is asked (GET .../telemetry,
    else the last page of GET .../telemetry/events): below the last seq seen, the
    server restarted, and its buffer is replayed (?replay=all); the restart marker says
    how many of its events were already gone.

    Each envelope prints as {"seq": N, "event": {...}}, each marker as {"dropped": n,
    "from_seq": a, "to_seq": b, "kind": "upstream|restart|duplicate|viewer"} where it
    happened (a gap or restart just before the envelope after it; a restart's "dropped"
    counts the new run's events lost before the first one read). A summary goes to
    stderr at the end: end of file (unless --follow), --count, Ctrl-C.

    Exit status: 0 at the end (or when stdout is closed), 2 on a missing file, a fatal
    source error (401/403/404), --retries used up or --timeout passed, 130 on Ctrl-C,
    143 on SIGTERM.
    """
    del as_json  # JSON lines are the only output format
    is_url = _is_url(source)
    if is_url:
        scheme = source.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            fail(f"unsupported URL scheme {scheme!r}: use http:// or https://")
    elif source != "-":
        _check_file(source)

    from tokentop.store.events.filesource import FileSource
    from tokentop.store.events.sse import SseSource, redact_url
    from tokentop.store.events.stream import EventStream

    room: threading.Event | None = None
    pace_stop: threading.Event | None = None
    if is_url:
        stream = EventStream()
    else:
        stream, room, pace_stop = _paced_stream()
    reader = stream.new_reader()
    if not is_url:
        stream.reader = reader  # type: ignore[attr-defined]
    printer = _Printer(stream, reader, sys.stdout.buffer, count)

    stop = threading.Event()
    done = threading.Event()
    crash: list[BaseException] = []
    src: SseSource | FileSource
    if is_url:
        src = SseSource(source, stream, replay=replay, on_marker=printer.on_marker,
                        max_retries=retries or None)
        where = redact_url(source)
    else:
        src = FileSource(Path(source).expanduser() if source != "-" else "-", stream,
                         follow=follow, poll=poll, on_marker=printer.on_marker)
        where = src.name

    def target() -> None:
        try:
            if isinstance(src, SseSource):
                src.run_in_thread(stop)
            else:
                src.run(stop)
        except _Stopped:
            pass
        except BaseException as exc:  # a bug: reported in the main thread
            crash.append(exc)
        finally:
            done.set()

    def on_term(_signum: int, _frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    thread = threading.Thread(target=target, name="tokentop-events-source", daemon=True)

    def shut_down() -> None:
        stop.set()
        if pace_stop is not None:
            pace_stop.set()
        if thread.is_alive():
            # A second Ctrl-C stops the wait (the thread is a daemon).
            with contextlib.suppress(KeyboardInterrupt):
                thread.join(JOIN_TIMEOUT)

    code = 0
    shown_error: tuple[str, int] | None = None
    shown_restart: str | None = None
    last_event = time.monotonic()
    timed_out = False
    try:
        try:
            thread.start()
            while not printer.done:
                r = reader.read_blocking(IDLE)
                if r is None:
                    if done.is_set():
                        r = reader.try_read()  # published before the source ended
                        if r is None:
                            break
                    else:
                        printer.idle()
                        st = src.stats
                        if (is_url and st.state == "reconnecting" and st.last_error
                                and (st.last_error, st.retries) != shown_error):
                            shown_error = (st.last_error, st.retries)
                            wait = f" in {st.retry_in:.1f} s" if st.retry_in else ""
                            limit = f"/{retries}" if retries else ""
                            click.echo(f"tokentop: {st.last_error} (retry {st.retries}"
                                       f"{limit}{wait})", err=True)
                        if timeout is not None and time.monotonic() - last_event > timeout:
                            timed_out = True
                            break
                        continue
                last_event = time.monotonic()
                printer.batch(r)
                restart = src.stats.last_restart
                if restart and restart != shown_restart:  # after the marker's line
                    shown_restart = restart
                    click.echo(f"tokentop: {restart}", err=True)
                if room is not None:
                    room.set()
            if not printer.done:
                printer.finish()
        except KeyboardInterrupt:
            code = 130
        except _Terminated:
            code = 143
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the summary is on its way
            shut_down()
    except _Broken:
        _quiet_stdout()
        sys.exit(0)
    finally:
        signal.signal(signal.SIGTERM, previous)

    stats = src.stats
    if crash:
        exc = crash[0]
        click.echo(f"tokentop: the event source crashed: {type(exc).__name__}: {exc}",
                   err=True)
        sys.exit(1)
    if timed_out and code == 0:
        click.echo(_summary(stats, reader.dropped_total, printer.printed), err=True)
        fail(f"no event for {timeout:g} s from {where}"
             + (f" ({stats.last_error})" if stats.last_error else ""))
    if stats.state == "failed" and code == 0:
        if stats.received or stats.malformed:
            click.echo(_summary(stats, reader.dropped_total, printer.printed), err=True)
        fail(stats.last_error or f"{where}: the source failed")
    click.echo(_summary(stats, reader.dropped_total, printer.printed), err=True)
    if stats.malformed and stats.last_malformed:
        click.echo(f"tokentop: last malformed line: {stats.last_malformed}", err=True)
    sys.exit(code)
