"""A saved page of airstore's access-log API as a whole document (``curl ... > page.json``).

A page saved on one line is read by the JSONL follower like an event line
(``event.decode_line``). One saved with echo's ``?pretty`` (indented, many lines) is a
single JSON document: ``is_page_document`` tells it apart from JSONL by its first line
(an event or a page on one line decodes; ``{`` alone does not), and ``AccessPageFile``
reads it once, whole.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tokentop.store.access.book import TAIL, AccessBook
from tokentop.store.access.event import decode_line, decode_page
from tokentop.store.httpbody import MAX_BODY
from tokentop.store.tail.regular import open_binary, read_regular

MAX_PAGE_BYTES = MAX_BODY  # a page of 1000 reads is < 2 MiB: the cap of the same page fetched


def is_page_document(path: Path) -> bool:
    """True when ``path`` holds one multi-line JSON document rather than JSONL."""
    try:
        with open_binary(path) as f:
            head = f.read(1 << 20)
    except OSError:
        return False
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    first = text.split(b"\n", 1)[0].strip()
    return isinstance(decode_line(first), str) and b"\n" in text


class AccessPageFile(AccessBook):
    """One saved API page, read once (``run`` returns at once after)."""

    def __init__(self, path: str | Path, tail: int = TAIL) -> None:
        super().__init__(tail)
        self.path = Path(path)
        self.name = str(self.path)

    def read_all(self) -> None:
        self.run(threading.Event())

    def run(self, stop: threading.Event) -> None:
        try:
            body = read_regular(self.path, MAX_PAGE_BYTES)
        except OSError as exc:
            self._end("failed", f"cannot read {self.name}: {exc.strerror or exc}")
            return
        page = decode_page(body)
        if isinstance(page, str):
            self._end("failed", f"{self.name}: {' '.join(page.split())[:300]}")
            return
        assert page.data is not None
        self.take(page.data.reads or (), page.data.malformed, page.data.last_bad)
        self._end("ended", None)

    def _end(self, state: str, error: str | None) -> None:
        with self.lock:
            self.stats.state = state
            self.stats.last_error = error
