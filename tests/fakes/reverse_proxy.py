"""A reverse proxy in front of the app, as a school's nginx or Caddy would be.

It takes the platform's request, sends it on to the app in small pieces with chunked transfer
encoding (so the app never sees the body arrive in one read, nor a Content-Length), adds the
X-Forwarded-* headers, and streams the app's answer back. A test swaps a harness's client for
one that talks to this proxy, so every request of an ordinary conversation crosses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from yarl import URL

__all__ = ["reverse_proxy"]

# Headers about one connection, which a proxy must not pass on (RFC 9110, 7.6.1).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)


def reverse_proxy(upstream: URL, *, piece: int = 1024, delay: float = 0.0005) -> web.Application:
    """An app forwarding every request to `upstream`, the body in `piece`-byte chunks."""

    async def forward(request: web.Request) -> web.StreamResponse:
        async def body() -> AsyncIterator[bytes]:
            while chunk := await request.content.read(piece):
                yield chunk
                await asyncio.sleep(delay)

        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-Host"] = request.host
        async with request.app[_SESSION].request(
            request.method,
            upstream.join(request.rel_url),
            headers=headers,
            data=body() if request.body_exists else None,
            allow_redirects=False,
        ) as answer:
            response = web.StreamResponse(
                status=answer.status,
                headers={k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP},
            )
            await response.prepare(request)
            async for chunk in answer.content.iter_chunked(piece):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[_SESSION] = aiohttp.ClientSession(auto_decompress=False)
        yield
        await app[_SESSION].close()

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app
