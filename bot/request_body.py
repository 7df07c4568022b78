"""Reading a request's body with a cap, for the endpoints that check a signature over it.

aiohttp's own cap (client_max_size) is for the whole application and is only applied while the
body is being read. An endpoint that must hash the raw bytes before anything else reads them
itself, with its own, smaller cap: a body whose Content-Length is over it is refused before a
byte is read, and one sent without a length (chunked) as soon as more than the cap has come.
"""

from __future__ import annotations

from aiohttp import web


async def read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    # One read returns only what has arrived so far: keep reading to the end, or until the
    # body is known to be too large.
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        return None
    return b"".join(chunks)
