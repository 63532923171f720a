"""``tokentop pricing update``: fetch a newer LiteLLM table, check it, keep it.

A failed update changes nothing: the table is fetched, parsed, converted (with the same
``pricing_litellm.convert`` as the bundled snapshot) and checked in memory, then written
to a temporary file in the state dir and renamed over ``pricing.json`` in one step, so a
reader sees the old table or the new one, never half of either.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokentop.store.pricing_litellm import convert
from tokentop.store.tail.regular import read_regular

DEFAULT_URL = ("https://raw.githubusercontent.com/BerriAI/litellm/main/"
               "model_prices_and_context_window.json")
MAX_BYTES = 64 * 1024 * 1024  # ccusage's PRICING_FETCH_MAX_BYTES
TIMEOUT_SECONDS = 10.0


class UpdateError(Exception):
    """Why an update did not happen, in one line."""


def _fetch(url: str) -> bytes:
    import httpx  # only here: every other tokentop command starts 80 ms sooner without it

    try:
        with httpx.stream("GET", url, timeout=TIMEOUT_SECONDS, follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise UpdateError(f"{url}: HTTP {resp.status_code}")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise UpdateError(f"{url}: larger than {MAX_BYTES // 2**20} MiB")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise UpdateError(f"{url}: {type(exc).__name__}: {exc}") from None


def load_source(source: str) -> tuple[bytes, str]:
    """The raw bytes of ``source`` (an http(s) URL or a file) and its description."""
    if source.startswith(("http://", "https://")):
        return _fetch(source), source
    path = Path(source).expanduser()
    try:
        return read_regular(path), str(path.resolve())
    except OSError as exc:
        raise UpdateError(f"{path}: {exc.strerror or exc}") from None


def build(body: bytes, origin: str) -> dict[str, Any]:
    """Parse and convert; ``UpdateError`` if it is not a usable LiteLLM table."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpdateError(f"{origin}: not JSON ({exc})") from None
    try:
        doc = convert(raw, source=f"LiteLLM table from {origin}",
                      date=datetime.now(UTC).date().isoformat())
    except ValueError as exc:
        raise UpdateError(f"{origin}: {exc}") from None
    doc["fetched_from"] = origin
    doc["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return doc


def write_atomically(doc: dict[str, Any], dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pricing-", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update(source: str, dest: Path) -> dict[str, Any]:
    """Fetch, check and store; returns the stored document. ``UpdateError`` if not."""
    body, origin = load_source(source)
    doc = build(body, origin)
    try:
        write_atomically(doc, dest)
    except OSError as exc:
        raise UpdateError(f"{dest}: {exc.strerror or exc}") from None
    return doc
