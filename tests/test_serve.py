"""``tokentop serve``: the dashboard in a real headless Chromium, and its guards.

The browser tests start ``tokentop serve --demo --port 0`` (the kernel picks a free port;
the test reads it from the one printed line), open it in Debian's ``chromium`` over the
DevTools protocol (tests/support/cdp.py), read the terminal's text, press ``2`` and read
the Usage screen. They are skipped only when no Chromium is installed; CI installs it
(.ci/run). The guards are checked over plain HTTP.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from support.cdp import chromium, find_browser
from support.served import TOKENTOP, serve

from tokentop.tui.cli import main

OVERVIEW = "Token Usage Over Time"  # the Overview screen's main chart
USAGE = "By model"  # the Usage screen's first table
BROWSER = find_browser()


@pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH (apt-get install chromium)")
@pytest.mark.parametrize("token", [None, "s3cret-token-for-the-test"], ids=["loopback", "token"])
async def test_browser_shows_dashboard_and_switches_screen(token: str | None) -> None:
    env = {"TOKENTOP_SERVE_TOKEN": token} if token else {}
    async with serve("--demo", "--port", "0", env=env) as served:
        if token:
            assert served.url.endswith(f"/?token={token}")
        async with chromium(BROWSER) as page:  # type: ignore[arg-type]
            await page.open(served.url)
            await page.wait_for_text(OVERVIEW, timeout=20)
            await page.press("2")
            usage = await page.wait_for_text(USAGE, timeout=10)
            assert OVERVIEW not in usage
            assert "2 Usage" in usage  # the screen bar
            if token:  # the cookie took the token's place in the address bar
                assert "token" not in await page.evaluate("location.href")
            # Ctrl-C while a browser is connected: a clean exit, the one line only,
            # and no dashboard left behind
            await served.interrupt()
            assert await served.group_gone()
    assert served.returncode == 0
    assert served.stdout.count("\n") == 1 and "(Ctrl-C stops)" in served.stdout
    assert "Traceback" not in served.stderr
    if token:
        assert token not in served.stderr


async def test_non_loopback_bind_requires_token() -> None:
    async with serve("--demo", "--host", "0.0.0.0", "--port", "0") as served:
        token = served.url.split("?token=", 1)[1]
        assert len(token) >= 24
        port = served.url.split(":")[2].split("/")[0]
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            for path in ("/", "/static/js/textual.js", "/ws", "/?token=wrong"):
                reply = await client.get(path)
                assert reply.status_code == 403, path
                assert "needs its token" in reply.text
            entered = await client.get(f"/?token={token}&fontsize=14")
            assert entered.status_code == 303
            assert entered.headers["location"] == "/?fontsize=14"
            page = await client.get("/?fontsize=14")  # the cookie, not the URL, now
            assert page.status_code == 200
            assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.text
            assert (await client.get("/static/js/textual.js")).status_code == 200
        await served.interrupt()
    assert served.returncode == 0
    assert token not in served.stderr


async def test_loopback_refuses_other_names_and_other_origins() -> None:
    """DNS rebinding (another name resolved to 127.0.0.1) and a foreign page opening
    the websocket: both would drive the dashboard without any token."""
    async with serve("--demo", "--port", "0") as served:
        assert "token" not in served.url
        async with httpx.AsyncClient(base_url=served.url.rstrip("/")) as client:
            assert (await client.get("/")).status_code == 200
            assert (await client.get("/", headers={"Host": "evil.example"})).status_code == 403
            foreign = await client.get("/ws", headers={"Origin": "http://evil.example"})
            assert foreign.status_code == 403
            # the page's URLs follow the Host the browser used (an SSH tunnel's port)
            tunnelled = await client.get("/", headers={"Host": "localhost:9000"})
            assert 'data-session-websocket-url="ws://localhost:9000/ws"' in tunnelled.text
        await served.interrupt()
    assert served.returncode == 0


async def test_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([str(TOKENTOP), "serve", "--port", str(port), "--demo"],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"tokentop: cannot serve on 127.0.0.1:{port}")
    assert result.stderr.count("\n") == 1


def test_a_broken_config_file_is_one_line_before_serving(tmp_path: Path) -> None:
    """Checked once, up front: not an error page in every browser tab."""
    import os

    (tmp_path / "tokentop").mkdir()
    (tmp_path / "tokentop" / "config.toml").write_text("screen = \n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run([str(TOKENTOP), "serve", "--port", "0", "--demo"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "config.toml: not valid TOML" in result.stderr
    assert result.stderr.count("\n") == 1


def test_dashboard_options_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options before and after ``serve`` reach each tab's dashboard; a typo fails now."""
    from tokentop.tui.commands import serve_http

    commands: list[str] = []
    monkeypatch.setattr(serve_http.GuardedServer, "run",
                        lambda self, on_listening: commands.append(self.command))
    result = CliRunner().invoke(main, ["--ring-days", "3", "serve", "--port", "0",
                                       "--demo", "--store", "/tmp/a b.db"],
                                prog_name="tokentop")
    assert result.exit_code == 0, result.output
    assert commands[0].endswith("-m tokentop.tui.cli --ring-days 3 --demo --store '/tmp/a b.db'")
    typo = CliRunner().invoke(main, ["serve", "--dmo"], prog_name="tokentop")
    assert typo.exit_code == 2
    assert "No such option '--dmo'" in typo.output and "tokentop serve" in typo.output
    assert not commands[1:]


def test_log_lines_redact_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    """textual-serve logs a failing handler's exception; the token never shows in it."""
    import logging

    from tokentop.tui.commands.serve_http import GuardedServer

    logger = logging.getLogger("textual-serve")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        GuardedServer("true", "0.0.0.0", 0, token="abc123secret").initialize_logging()
        try:
            raise ValueError("GET /?token=abc123secret failed")
        except ValueError as exc:
            logger.exception(exc)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    err = capsys.readouterr().err
    assert "GET /?token=[token] failed" in err and "Traceback" in err
    assert "abc123secret" not in err
