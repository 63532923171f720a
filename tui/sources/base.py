"""A running source: one reader of one kind of data, started once, stopped with the app.

Every source the dashboard reads (the metrics files, the usage store and its
collectors, the browser event stream, the trace store, the access log, gridctl's logs
and spans, the inventory of files) is a ``Source``: the app starts it (at start-up, or
the first time a screen asks for it), it reads in a Textual worker so the UI never
waits, and it says what it has through four things every screen uses the same way:

- ``status``: a short line for a status bar (``error`` first, when there is one);
- ``error``: the last failure as one line, never a traceback. A ``run`` that raises
  does not take the dashboard down: the exception becomes ``error``, once, here;
- ``changed()``: called from the worker when new data is there. However often it is
  called, at most one ``SourceUpdated`` is on its way to the app at a time, so a
  source reading 20,000 lines a second still costs the UI a few messages a second;
- ``stop()``: sets the stop event ``run`` waits on (it checks at least once a second).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.message_pump import MessagePump
    from textual.worker import Worker

    from tokentop.tui.app import TokentopApp


def one_line(exc: BaseException) -> str:
    """An exception as one line (a driver's message may span several)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class SourceUpdated(Message, bubble=False):
    """A source has new data (or a new error): redraw from it.

    The app gets one per batch and hands each subscriber a fresh copy (a message
    belongs to the one queue it is posted to). It does not bubble: a screen's copy
    must not reach the app's handler again.
    """

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    @property
    def name(self) -> str:
        return self.source.name


class Source(ABC):
    """One reader run in a worker; see the module docstring."""

    name: str  # the registry's key; also the worker's name and group
    what: str = "reading"  # "<what> stopped: <error>" when reading raises

    def __init__(self, host: TokentopApp) -> None:
        self.host = host
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()  # cut ``run``'s wait short (new request)
        self.error: str | None = None
        self.worker: Worker[None] | None = None
        self.subscribers: list[MessagePump] = []
        self._pending = False
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self.worker is not None

    @property
    def status(self) -> str:
        return self.error or ""

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> None:
        """Run in a worker, once (a second call does nothing)."""
        if self.worker is None and not self.stop_event.is_set():
            self.worker = self._launch()

    @abstractmethod
    def _launch(self) -> Worker[None]:
        """Start the worker that reads (a thread, or a task on the event loop)."""

    def _crashed(self, exc: Exception) -> None:
        """Keep the dashboard up and say what broke, in one line."""
        self.fail(f"{self.what} stopped: {one_line(exc)}")

    def stop(self) -> None:
        self.stop_event.set()
        self.wake_event.set()

    async def aclose(self) -> None:  # noqa: B027 - most sources hold nothing of the loop's
        """Release what must be released on the event loop (an async connection)."""

    def wake(self) -> None:
        self.wake_event.set()

    # -- telling the screens -------------------------------------------------------
    def subscribe(self, pump: MessagePump) -> None:
        """``pump`` (a screen) gets a ``SourceUpdated`` for every batch from now on."""
        if pump not in self.subscribers:
            self.subscribers.append(pump)

    def fail(self, message: str) -> None:
        self.error = message
        self.changed()

    def changed(self) -> None:
        """New data is there: one message to the app unless one is still on its way."""
        with self._lock:
            if self._pending:
                return
            self._pending = True
        self.host.post_message(SourceUpdated(self))

    def delivered(self) -> None:
        """The app took the message: the next ``changed`` posts again, then deliver
        the batch (on the event loop)."""
        with self._lock:
            self._pending = False
        self.deliver()

    def deliver(self) -> None:
        """Hand the batch to the subscribers (override to send something richer)."""
        for pump in self.subscribers:
            pump.post_message(SourceUpdated(self))


class ThreadSource(Source, ABC):
    """A source whose reading blocks (files, SQLite): ``run`` in a thread worker."""

    @abstractmethod
    def run(self, stop: threading.Event) -> None:
        """Read until ``stop`` is set (or the data ends)."""

    def _launch(self) -> Worker[None]:
        return self.host.run_worker(self._main, name=self.name, group=self.name,
                                    thread=True, exit_on_error=False)

    def _main(self) -> None:
        try:
            self.run(self.stop_event)
        except Exception as exc:
            self._crashed(exc)


class AsyncSource(Source, ABC):
    """A source read through an async driver (the trace store): ``arun`` on the loop."""

    @abstractmethod
    async def arun(self, stop: threading.Event) -> None:
        """Read until ``stop`` is set."""

    def _launch(self) -> Worker[None]:
        return self.host.run_worker(self._main(), name=self.name, group=self.name,
                                    exit_on_error=False)

    async def _main(self) -> None:
        try:
            await self.arun(self.stop_event)
        except Exception as exc:
            self._crashed(exc)
