"""Reading a file from a platform's file server to its end, and never past the school's limit.

A download arrives as a stream of pieces over time. Reading "what has arrived" once gives the
first 64 KB or so of a phone screenshot, which then fails its content check as if the person had
sent a damaged file. So the body is read piece by piece until the server ends it; reading stops
as soon as the file is over the limit (nothing more is kept in memory), and a body shorter than
the length the server announced is a failed download, not a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from dialogs.services.errors import UploadRejected
from dialogs.services.messages import IncomingFile

__all__ = ["Downloaded", "ShortDownload", "cut_short", "read_whole", "unavailable"]

_PIECE = 64 * 1024


class ShortDownload(Exception):
    """The server ended the file before the length it announced."""


@dataclass(frozen=True)
class Downloaded:
    """A whole file, or (over the limit) no bytes and at least how big it is."""

    data: bytes
    size: int
    over_limit: bool = False

    def as_incoming(self, name: str, declared_type: str | None) -> IncomingFile:
        """The file as the dialogs take it: a file over the limit carries only its size, so the
        evidence check refuses it by size with the limit named, without reading it."""
        return IncomingFile(name=name, data=self.data, declared_type=declared_type, size=self.size)


async def read_whole(response: aiohttp.ClientResponse, *, max_bytes: int) -> Downloaded:
    """Read the body to its end; stop early, keeping nothing, once it is over `max_bytes`.

    Raises ShortDownload, or aiohttp's ClientPayloadError, when the body ends early.
    """
    announced = response.content_length
    if announced is not None and announced > max_bytes:
        return Downloaded(b"", announced, over_limit=True)
    pieces: list[bytes] = []
    received = 0
    async for piece in response.content.iter_chunked(_PIECE):
        received += len(piece)
        if received > max_bytes:
            return Downloaded(b"", max(received, announced or 0), over_limit=True)
        pieces.append(piece)
    if announced is not None and received < announced:
        raise ShortDownload(f"{received} of {announced} bytes")
    return Downloaded(b"".join(pieces), received)


def cut_short(name: str, platform: str) -> UploadRejected:
    """What a person is told when a download stopped part-way: it is not their file's fault."""
    return UploadRejected(
        f"I couldn't fetch all of “{name[:80]}” from {platform}: the download stopped part-way. "
        "Please send it again; everything else you gave me is saved."
    )


def unavailable(name: str, platform: str) -> UploadRejected:
    """What a person is told when the platform would not give the file just now."""
    return UploadRejected(
        f"I couldn't fetch “{name[:80]}” from {platform} just now. Please send it again in a "
        "minute; everything else you gave me is saved."
    )
