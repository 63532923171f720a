"""Which reader an ``--access`` argument names: airstore's API, a saved page, a JSONL file.

``https://HOST/api/v1/workspaces/WS`` is the API (the primary source: airstore keeps its
access log in S2, not in a file), ``-`` is stdin, a file holding one indented JSON
document is a saved API page, and any other file is JSONL (one event or one page a line).
"""

from __future__ import annotations

import threading
from pathlib import Path

from tokentop.store.access.api import AccessApi, is_url, parse_target
from tokentop.store.access.book import AccessBook
from tokentop.store.access.follow import AccessLog
from tokentop.store.access.page import AccessPageFile, is_page_document


class Unusable(AccessBook):
    """An argument that names no source: failed from the start, with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.name = "(the --access argument)"  # it may hold credentials: not repeated
        self.stats.state = "failed"
        self.stats.last_error = reason

    def run(self, stop: threading.Event) -> None:
        return


AccessSource = AccessApi | AccessLog | AccessPageFile | Unusable


def open_source(spec: str, *, token: str | None = None, follow: bool = False,
                poll: bool = False) -> AccessSource | str:
    """The reader for ``spec`` (not started), or a one-line reason there is none."""
    if is_url(spec):
        target = parse_target(spec)
        if isinstance(target, str):
            return target
        return AccessApi(target, token, follow=follow)
    if spec == "-":
        return AccessLog("-")
    path = Path(spec).expanduser()
    if path.is_file() and is_page_document(path):
        return AccessPageFile(path)
    return AccessLog(path, follow=follow, poll=poll)
