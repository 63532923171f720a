"""Render ``screenshots/serve.png``: the demo dashboard as ``tokentop serve`` shows it
in a browser. Run from the repository: ``.venv/bin/python tests/support/serve_screenshot.py
[OUT.png]``.

The real thing end to end: ``tokentop serve --demo`` on a free port, Debian's headless
``chromium`` at 1280x800, the PNG taken once the Overview is on the page. Unlike the SVGs
of ``tests/make_screenshots.py`` it shows the live demo (today's clock), so it differs
on every run.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support.cdp import chromium, find_browser
from support.served import serve

OUT = Path(__file__).resolve().parents[2] / "screenshots" / "serve.png"
OVERVIEW = "Token Usage Over Time"


async def render(out: Path) -> None:
    browser = find_browser()
    if browser is None:
        raise SystemExit("no chromium on PATH: apt-get install chromium")
    async with serve("--demo", "--port", "0") as served:
        async with chromium(browser, width=1280, height=800) as page:
            await page.open(served.url)
            await page.wait_for_text(OVERVIEW, timeout=60)
            await page.screenshot(out)
        await served.interrupt()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    asyncio.run(render(out))
    print(out)


if __name__ == "__main__":
    main()
