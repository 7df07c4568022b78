"""Sending a file the way a real file server does: in small pieces, over time.

Slack's and Microsoft's file servers send a screenshot of a few megabytes as a stream of TCP
segments that arrive over hundreds of milliseconds; a client that reads "what has arrived so far"
gets the first 64 KB or so, not the file. A fake that answers with the whole body in one write
hides that, because on loopback the whole body is usually in the first read. Both fakes serve
their files through `stream_file`, so every test that shares a file exercises a whole download.

`Pace` sets how the pieces come; `cut_after` ends the connection early, as a dropped mobile
connection or a proxy timeout does, after announcing the full Content-Length.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

__all__ = ["DEFAULT_PACE", "Pace", "stream_file"]


@dataclass(frozen=True)
class Pace:
    """How a file is sent: pieces of `chunk` bytes, `delay` seconds apart."""

    chunk: int = 16 * 1024
    delay: float = 0.0005


# Small enough pieces that no file of any real size arrives in one read; short enough pauses that
# the suite stays quick. Tests of slow networks pass their own.
DEFAULT_PACE = Pace()


async def stream_file(
    request: web.Request,
    data: bytes,
    content_type: str,
    *,
    pace: Pace = DEFAULT_PACE,
    cut_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Stream `data` with its Content-Length, in paced pieces; stop early at `cut_after` bytes."""
    response = web.StreamResponse(status=200, headers=headers or {})
    response.content_type = content_type
    response.content_length = len(data)
    await response.prepare(request)
    end = len(data) if cut_after is None else min(cut_after, len(data))
    try:
        for start in range(0, end, pace.chunk):
            await response.write(data[start : min(start + pace.chunk, end)])
            if pace.delay:
                await asyncio.sleep(pace.delay)
    except ConnectionResetError:
        return response  # the client stopped reading and hung up, as a client may
    if cut_after is not None:
        # Drop the connection without finishing the body, as a broken network does.
        transport = request.transport
        if transport is not None:
            transport.close()
        return response
    await response.write_eof()
    return response
