"""HTTP reply bodies read with a ceiling.

A server is untrusted input: a 1.5 GB diagnostics body cost 2.5 GB of memory, read
whole by ``response.content``. Every body tokentop reads in one piece (diagnostics,
an airstore page, an error reply) is streamed and stops at a ceiling far above any
real reply; past it the reply is refused in one line and nothing more is read.
"""

from __future__ import annotations

from typing import Any

import httpx

MAX_BODY = 32 << 20  # 32 MiB: a diagnostics document or a page of 1,000 reads is < 2 MiB


class BodyTooLarge(httpx.HTTPError):
    """A reply whose body passed the ceiling (an ``httpx.HTTPError``: callers that
    report a failed request report this one too)."""


def read_capped(client: httpx.Client, method: str, url: str, *, limit: int = MAX_BODY,
                **kwargs: Any) -> tuple[httpx.Response, bytes]:
    """The response (closed) and its body, at most ``limit`` bytes (else BodyTooLarge)."""
    with client.stream(method, url, **kwargs) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"reply larger than {limit >> 20} MiB: not read")
            chunks.append(chunk)
    return response, b"".join(chunks)


async def aread_capped(client: httpx.AsyncClient, method: str, url: str, *,
                       limit: int = MAX_BODY, **kwargs: Any) -> tuple[httpx.Response, bytes]:
    """:func:`read_capped` for an async client."""
    async with client.stream(method, url, **kwargs) as response:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"reply larger than {limit >> 20} MiB: not read")
            chunks.append(chunk)
    return response, b"".join(chunks)
