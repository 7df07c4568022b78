"""Files and pasted images in a message, fetched from Teams' servers (and only from them)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.core import TurnContext

from bot.channels.downloads import ShortDownload, cut_short, read_whole, unavailable
from bot.channels.teams.safe_fetch import RefusedAddress, guarded_session, open_url
from dialogs.services.errors import UploadRejected
from dialogs.services.messages import IncomingFile

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection

log = logging.getLogger(__name__)


FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


async def fetch(
    channel: TeamsConnection, context: TurnContext, attachment: Any, service_url: str | None
) -> IncomingFile | None:
    """A file or pasted image from the message, or None for Teams' own extra parts."""
    content_type = str(getattr(attachment, "content_type", "") or "")
    name = str(getattr(attachment, "name", "") or "screenshot")[:200]
    headers: dict[str, str] = {}
    if content_type == FILE_DOWNLOAD_INFO:
        content = getattr(attachment, "content", None) or {}
        url = str(content.get("downloadUrl") or "")
        if content.get("fileType") and "." not in name:
            name = f"{name}.{content['fileType']}"
    elif content_type.startswith("image/"):
        url = str(getattr(attachment, "content_url", "") or "")
        if _same_host(url, service_url):
            # Pasted images sit behind the connector and need the bot's own token; it is
            # never sent anywhere but the service the activity came from.
            token = await _bot_token(channel, context)
            if token:
                headers["Authorization"] = f"Bearer {token}"
    else:
        return None  # e.g. the text/html copy of the message Teams adds
    max_bytes = channel.runtime.settings.evidence.largest_upload_bytes
    if channel._http is None:
        # Long enough for a video at a school's upload speed; a stuck download still ends.
        channel._http = guarded_session(lambda: channel.fetch_policy, total_seconds=120)
    try:
        response = await open_url(channel._http, url, channel.fetch_policy, headers)
        async with response:
            if response.status != 200:
                raise unavailable(name, "Teams")
            downloaded = await read_whole(response, max_bytes=max_bytes)
    except (RefusedAddress, ValueError) as exc:
        # Why, but not the address: it may carry the file's access token.
        why = str(exc) if isinstance(exc, RefusedAddress) else "not a URL"
        log.warning("Teams: a file was not fetched: %s", why)
        raise UploadRejected(
            f"I couldn't fetch “{name[:80]}” from Teams. Please send it again."
        ) from exc
    except (ShortDownload, aiohttp.ClientPayloadError) as exc:
        raise cut_short(name, "Teams") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise unavailable(name, "Teams") from exc
    return downloaded.as_incoming(name, content_type)


async def _bot_token(channel: TeamsConnection, context: TurnContext) -> str | None:
    """The token the turn's connector client already uses (none in development mode)."""
    if channel.settings.development_mode:
        return None
    client = context.turn_state.get(channel.adapter.BOT_CONNECTOR_CLIENT_KEY)
    credentials = getattr(getattr(client, "config", None), "credentials", None)
    get_token = getattr(credentials, "get_access_token", None)
    if get_token is None:
        return None
    token = await asyncio.to_thread(get_token)
    return str(token) if token else None


def is_file(attachment: Any) -> bool:
    content_type = str(getattr(attachment, "content_type", "") or "")
    return content_type == FILE_DOWNLOAD_INFO or content_type.startswith("image/")


def _same_host(url: str, service_url: str | None) -> bool:
    return bool(service_url) and urlsplit(url).netloc == urlsplit(service_url or "").netloc
