"""A terse progress line on stderr for the headless commands' collect passes.

``tokentop ingest`` shows it from the start; ``tokentop report`` only once its pass has
run half a second (a first run over a heavy user's logs takes seconds to minutes; a
warm report ~0.2 s, which must not flash a line) and erases it before the report is
printed. It is written only while stderr is a terminal (the callers check), and holds
only numbers: nothing read from the logs reaches the terminal through it. It is erased
with spaces, not an escape sequence: the headless commands' streams write every control
character but newline, tab and carriage return as text (``tokentop.tui.output``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def erase(width: int) -> str:
    """Back to the line's start, over ``width`` characters with spaces, and back."""
    return "\r" + " " * width + "\r"


class Percent:
    """``label: 42% of 1,024.0 MB``, redrawn at most ~10 times a second."""

    def __init__(self, label: str = "ingest", *, after: float = 0.0, clear: bool = False,
                 out: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.after, self.clear = label, after, clear
        self.out = out if out is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.last = -1.0
        self.shown = False
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.start < self.after:
            return
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        pct = 100 if total <= 0 else done * 100 // total
        line = f"{self.label}: {pct:3d}% of {total / 1e6:,.1f} MB"
        self.width = max(self.width, len(line))
        self.out.write("\r" + line)
        self.out.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.out.write(erase(self.width) if self.clear else "\n")
            self.out.flush()
            self.shown = False
