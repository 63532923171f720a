"""The dashboard over HTTP: textual-serve's ``Server``, guarded.

textual-serve starts one dashboard process per browser tab and relays its terminal over
a websocket; it trusts whoever reaches the port. This subclass adds what a dashboard
left running all day needs:

- **A token** when one is set (always when bound beyond loopback): the page URL carries
  ``?token=…``; the answer sets an HttpOnly, SameSite=Strict cookie and redirects to the
  bare URL, so the page's scripts and websocket, which cannot carry the query, pass too
  and the token leaves the address bar. Anything else gets 403.
- **Loopback answers only to loopback names**: a site whose DNS name is re-pointed at
  127.0.0.1 (DNS rebinding) sends its own name as Host and is refused.
- **The websocket only from the page's own origin**: browsers apply no same-origin rule
  to websockets, so any site the user visits could otherwise open
  ``ws://127.0.0.1:PORT/ws`` and type into the dashboard.
- **URLs built from the request's Host**, not the bind address: behind
  ``ssh -L 9000:localhost:8000`` the browser's page must connect to port 9000, and a
  page from ``0.0.0.0`` must not point the browser at 0.0.0.0.
- **Quiet, redacted output**: no access log (every first request carries the token);
  the few warnings go to stderr with the token replaced by ``[token]``.
- **A clean stop**: on SIGINT/SIGTERM the listener closes, each open websocket's handler
  is cancelled (textual-serve then tells its dashboard to quit), and the caller returns.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Seconds a stopping server waits for the dashboards to quit before it cancels them.
_SHUTDOWN_SECONDS = 3.0
_LOGGERS = ("textual-serve", "aiohttp")


def is_loopback(host: str) -> bool:
    """Whether a bind address or a Host header's name means this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _RedactingFormatter(logging.Formatter):
    """Whole formatted records, tracebacks included, with the token masked."""

    def __init__(self, token: str | None) -> None:
        super().__init__("tokentop serve: %(message)s")
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace(self._token, "[token]") if self._token else text


class GuardedServer(Server):
    """textual-serve's server with the guards above; ``run`` blocks until a signal."""

    def __init__(self, command: str, host: str, port: int, token: str | None) -> None:
        super().__init__(command, host=host, port=port, title="tokentop")
        self.token = token
        self._loopback_only = is_loopback(host)
        self._websockets: set[asyncio.Task[Any]] = set()

    @property
    def cookie_name(self) -> str:
        """Per port: browsers send a host's cookies to all its ports, and two servers
        on one machine must not overwrite each other's."""
        return f"tokentop-serve-{self.port}"

    # -- logging -----------------------------------------------------------------------

    def initialize_logging(self) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_RedactingFormatter(self.token))
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers[:] = [handler]
            logger.setLevel(logging.WARNING)
            logger.propagate = False

    # -- the app -----------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a banner here; the caller prints one line instead."""

    async def on_shutdown(self, app: web.Application) -> None:
        for task in list(self._websockets):
            task.cancel()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._loopback_only and not is_loopback(request.url.host or ""):
            raise web.HTTPForbidden(
                text="tokentop serve is bound to loopback: open it as localhost or "
                "127.0.0.1 (or bind another --host, which requires the token)\n")
        if request.path == "/ws" and not self._same_origin(request):
            raise web.HTTPForbidden(text="websocket from another origin\n")
        if self.token is not None:
            given = request.query.get("token")
            if given is not None and self._token_ok(given):
                if request.path == "/":
                    return self._enter(request)
            elif not self._token_ok(request.cookies.get(self.cookie_name, "")):
                raise web.HTTPForbidden(
                    text="tokentop serve needs its token: open the URL it printed\n")
        if request.path != "/ws":
            return await handler(request)
        task = asyncio.current_task()
        assert task is not None
        self._websockets.add(task)
        try:
            return await handler(request)
        finally:
            self._websockets.discard(task)

    def _token_ok(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _enter(self, request: web.Request) -> web.StreamResponse:
        """A right token in the page URL: the cookie, and the URL without the token."""
        response = web.HTTPSeeOther(str(request.rel_url.without_query_params("token")))
        response.set_cookie(self.cookie_name, self.token or "", httponly=True,
                            samesite="Strict", path="/")
        return response

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: the token (or loopback) decides
            return True
        try:
            url = URL(origin)
            return (url.host, url.port) == (request.url.host, request.url.port)
        except ValueError:
            return False

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """textual-serve's page, with its URLs on the host the browser asked for."""
        base = URL.build(scheme=request.scheme, authority=request.host)
        router = request.app.router
        ws_scheme = "wss" if request.scheme == "https" else "ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": str(
                base.with_scheme(ws_scheme).join(router["websocket"].url_for())),
            "config": {"static": {"url": str(base.join(
                router["static"].url_for(filename="/"))).rstrip("/") + "/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    # -- running -----------------------------------------------------------------------

    def run(self, on_listening: Callable[[int], None]) -> None:
        """Serve until SIGINT or SIGTERM; ``on_listening(port)`` once the socket is bound.
        Raises OSError when the address cannot be bound."""
        self.initialize_logging()
        asyncio.run(self._run(on_listening))

    async def _run(self, on_listening: Callable[[int], None]) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(await self._make_app(), access_log=None,
                               shutdown_timeout=_SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port,
                               shutdown_timeout=_SHUTDOWN_SECONDS)
            await site.start()
            self.port = _bound_port(runner, self.port)
            on_listening(self.port)
            await stop.wait()
        finally:
            await runner.cleanup()


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    """The port actually bound: ``--port 0`` asks the kernel for a free one."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
