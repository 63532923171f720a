"""airstore's access log read through its REST API: paged with the cursor, then polled.

airstore writes no local file: reads go to S2 streams and come back through
``GET /api/v1/workspaces/{workspace_id}/access-log`` (beam-cloud/airstore
``pkg/api/v1/access_log.go``, ``ListReads``). Its contract, as the handler is written:

- query ``cursor`` (an S2 seq number, default 0), ``limit`` (1..1000, else 100),
  ``start``/``end`` (unix ms), ``session`` (default: the workspace id);
- ``{"success": true, "data": {"reads": [...], "next_cursor": "N", "has_more": b}}``;
  ``next_cursor`` is one past the last record *looked at* (so it moves even when the
  records were filtered out), and equals the request's cursor when there was nothing;
  ``has_more`` is only true when the page filled ``limit``;
- ``Authorization: Bearer TOKEN`` (``pkg/api/v1/middleware.go``); with no admin token
  configured a request without one is let in. Errors are ``{"success": false,
  "error": "..."}``: 401 ``authorization required``/``invalid token``, 403, 404
  ``workspace not found``, 503 ``access log unavailable``, 500 ``failed to read
  access log: ...``.

So the reader asks again at once while the page was full or the cursor moved, and once
it did not (caught up) it waits ``poll`` seconds before asking again (``follow``), or
ends. A refused token, a missing workspace or a reply that is not a page end the
reader (``failed``); a server error or a dropped connection is retried from the same
cursor with a doubling back-off (at most ``retries`` times in a row when not following).
Events are deduplicated on ``event_id`` by the ``AccessBook``.

The token (airstore's CLI reads ``AIRSTORE_TOKEN``: ``pkg/cli/cli.go``) is sent, never
shown: ``name`` is the URL without credentials or query, and every error message has the
token cut out. Redirects are not followed (the token would go to another host).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
import msgspec

from tokentop.store.access.book import TAIL, AccessBook
from tokentop.store.access.event import Page, decode_page
from tokentop.store.httpbody import read_capped

TOKEN_ENV = "AIRSTORE_TOKEN"
PAGE_LIMIT = 1000  # the handler's maximum
POLL_SECONDS = 2.0
RETRIES = 3
BACKOFF = 0.5
MAX_BACKOFF = 30.0
TIMEOUT = 15.0
PASSED_PARAMS = ("session", "start", "end", "limit")  # query parameters ListReads reads
_WORKSPACE = re.compile(r"^(?P<base>.*/workspaces/[^/]+)(?:/access-log)?/?$")


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@dataclass(frozen=True)
class ApiTarget:
    endpoint: str  # .../workspaces/{id}/access-log
    params: dict[str, str]
    name: str  # shown: no credentials, no query but the session


def parse_target(url: str) -> ApiTarget | str:
    """``https://HOST/api/v1/workspaces/WS`` (or ``.../access-log``, with ``?session=``,
    ``start``, ``end``, ``limit``) as a target, or a one-line reason it is not one."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not host:
        return "not an http(s) URL of an airstore workspace"
    match = _WORKSPACE.match(parts.path)
    if match is None:
        return ("not an airstore workspace URL: expected "
                "https://HOST/api/v1/workspaces/WORKSPACE_ID")
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    endpoint = urlunsplit((parts.scheme, netloc, match["base"] + "/access-log", "", ""))
    params = {k: v for k, v in parse_qsl(parts.query) if k in PASSED_PARAMS}
    name = endpoint + (f"?session={params['session']}" if "session" in params else "")
    return ApiTarget(endpoint, params, name)


class Fatal(Exception):
    """The reader cannot go on (a refused token, no such workspace, not airstore)."""


class Transient(Exception):
    """Worth asking again from the same cursor (a server error, a dropped connection)."""


class AccessApi(AccessBook):
    """airstore's access log over HTTP, paged then polled (thread-safe to look at)."""

    def __init__(self, target: ApiTarget, token: str | None = None, *, follow: bool = False,
                 poll: float = POLL_SECONDS, retries: int = RETRIES, backoff: float = BACKOFF,
                 timeout: float = TIMEOUT, tail: int = TAIL) -> None:
        super().__init__(tail)
        self.target = target
        self.name = target.name
        self._token = token or None
        self.follow = follow
        self.poll = poll
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.cursor = "0"
        self.pages = 0  # pages read
        self.retries_made = 0  # requests asked again after a server error or a drop

    def redact(self, text: str) -> str:
        """``text`` on one line, at most 300 characters, without the token."""
        if self._token:
            text = text.replace(self._token, "***")
        return " ".join(text.split())[:300]

    def read_all(self) -> None:
        """Page to the end once (``follow`` is ignored)."""
        self.follow = False
        self.run(threading.Event())

    def run(self, stop: threading.Event) -> None:
        headers = {"Accept": "application/json", "User-Agent": "tokentop"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        failures = 0
        with httpx.Client(headers=headers, timeout=self.timeout,
                          follow_redirects=False) as client:
            while not stop.is_set():
                try:
                    page = self._get(client)
                except Fatal as exc:
                    self._set("failed", self.redact(str(exc)))
                    return
                except Transient as exc:
                    failures += 1
                    message = self.redact(str(exc))
                    if not self.follow and failures > self.retries:
                        self._set("failed", message)
                        return
                    delay = min(MAX_BACKOFF, self.backoff * 2 ** (failures - 1))
                    self._set("reconnecting", message, delay)
                    if stop.wait(delay):
                        return
                    continue
                failures = 0
                assert page.data is not None
                self.take(page.data.reads or (), page.data.malformed, page.data.last_bad)
                self.pages += 1
                moved = bool(page.data.next_cursor) and page.data.next_cursor != self.cursor
                if moved:
                    self.cursor = page.data.next_cursor
                self._set("connected", None)
                if page.data.has_more or moved:
                    continue
                if not self.follow:
                    self._set("ended", None)
                    return
                if stop.wait(self.poll):
                    return

    def _set(self, state: str, error: str | None, retry_in: float | None = None) -> None:
        with self.lock:
            self.stats.state = state
            self.stats.last_error = error
            self.stats.retry_in = retry_in
            if error is not None and state == "reconnecting":
                self.retries_made += 1

    def _get(self, client: httpx.Client) -> Page:
        params = {"limit": str(PAGE_LIMIT), **self.target.params, "cursor": self.cursor}
        try:
            reply, body = read_capped(client, "GET", self.target.endpoint, params=params)
        except httpx.HTTPError as exc:  # a drop, a timeout, a body that would not decode
            raise Transient(f"lost the connection to {self.name}: "
                            f"{type(exc).__name__}: {exc}") from None
        status = reply.status_code
        if status == 200:
            page = decode_page(body)
            if isinstance(page, str):
                raise Fatal(f"{self.name} did not answer with an access-log page: {page}")
            if not page.success:
                raise Fatal(f"{self.name} answered success=false: {page.error or '?'}")
            return page
        said = _message(body)
        if status == 401:
            hint = ("set " + TOKEN_ENV) if not self._token else (TOKEN_ENV + " was refused")
            raise Fatal(f"airstore said 401 {said or 'unauthorized'}: {hint}")
        if status == 403:
            raise Fatal(f"airstore said 403 {said or 'forbidden'}: "
                        f"the token has no access to this workspace")
        if 300 <= status < 400:
            raise Fatal(f"airstore redirected ({status}); pass the final URL "
                        f"(redirects are not followed: the token would go with them)")
        if status >= 500 or status == 429:
            raise Transient(f"airstore said {status} {said}".rstrip())
        raise Fatal(f"airstore said {status} {said}".rstrip())


class _Error(msgspec.Struct):
    error: str = ""
    message: str = ""


def _message(body: bytes) -> str:
    """The reason in an error reply (``{"error": ...}`` or echo's ``{"message": ...}``)."""
    try:
        err = msgspec.json.decode(body, type=_Error)
    except msgspec.DecodeError:
        return ""
    return err.error or err.message
