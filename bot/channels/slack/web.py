"""The Slack Web API client and file downloads, with the retries Slack asks clients to make."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.downloads import ShortDownload, cut_short, read_whole, unavailable
from bot.config import SlackSettings
from dialogs.services.errors import UploadRejected
from dialogs.services.messages import IncomingFile

SLACK_FILE_HOSTS = frozenset({"files.slack.com"})


def web_client(settings: SlackSettings) -> AsyncWebClient:
    """A client that waits out 429s as Retry-After says, and retries 5xx and dropped connections."""
    client = AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url or AsyncWebClient.BASE_URL,
        timeout=10,
    )
    client.retry_handlers = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]
    return client


# What a Web API call can fail with once its retries are spent: Slack's refusal, or the network.
API_FAILURES = (SlackApiError, aiohttp.ClientError, OSError, TimeoutError)


def failure_of(exc: BaseException) -> str:
    """Name a failed Web API call for a log line, whatever came back: Slack's own error code,
    or the HTTP status of a body that was not JSON (Slack's edge answers an outage in plain
    text, and reading it as JSON would raise inside the error handling)."""
    if isinstance(exc, SlackApiError):
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        return f"HTTP {getattr(exc.response, 'status_code', '?')}"
    return type(exc).__name__


class FileFetcher:
    """Downloads files people share with the bot, sending the bot token only to Slack."""

    def __init__(self, settings: SlackSettings, *, max_bytes: int) -> None:
        self._token = settings.bot_token
        self._max_bytes = max_bytes
        hosts = set(SLACK_FILE_HOSTS)
        if settings.api_url:
            hosts.add(urlsplit(settings.api_url).netloc)
        self._hosts = frozenset(hosts)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, file: dict[str, object]) -> IncomingFile:
        """The file's bytes, or UploadRejected with a reason a person can act on."""
        name = str(file.get("name") or file.get("title") or "file")[:200]
        size = file.get("size")
        declared = int(size) if isinstance(size, int) else None
        if declared is not None and declared > self._max_bytes:
            # Too big to keep: the evidence check words the refusal, without downloading it.
            return IncomingFile(name=name, data=b"", size=declared)
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        parts = urlsplit(url)
        local = parts.netloc.startswith(("127.0.0.1", "localhost"))
        if parts.netloc not in self._hosts or parts.scheme != ("http" if local else "https"):
            raise UploadRejected(
                f"I couldn't fetch “{name[:80]}” from Slack. Please send it again."
            )
        if self._session is None:
            # Long enough for a video at a school's upload speed; a stuck download still ends.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        try:
            async with self._session.get(
                url, headers={"Authorization": f"Bearer {self._token}"}, allow_redirects=False
            ) as response:
                if response.status != 200:
                    raise unavailable(name, "Slack")
                downloaded = await read_whole(response, max_bytes=self._max_bytes)
        except (ShortDownload, aiohttp.ClientPayloadError) as exc:
            raise cut_short(name, "Slack") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unavailable(name, "Slack") from exc
        mimetype = file.get("mimetype")
        return downloaded.as_incoming(name, str(mimetype) if mimetype else None)
