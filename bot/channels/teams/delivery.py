"""Sending to Teams within its limits: a steady pace per conversation, and retries that wait.

Teams throttles a bot that sends too fast to one conversation (HTTP 429) and answers 412, 500,
502, 503 or 504 when it is briefly unable to take a message, and a connection can drop; each of
those is worth waiting for and trying again, honouring Retry-After when Teams gives one. (The
connector client sends with aiohttp, bot/channels/teams/connector_http.py, which retries
nothing by itself.)
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE = frozenset({412, 429, 500, 502, 503, 504})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed Bot Connector call, when there was one."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        value = headers.get("Retry-After")
    except AttributeError:
        return None
    try:
        return min(float(value), 60.0) if value is not None else None
    except ValueError:
        return None


async def with_retries(
    send: Callable[[], Awaitable[T]], *, attempts: int = 4, base_delay: float = 0.5
) -> T:
    for attempt in range(attempts):
        try:
            return await send()
        except Exception as exc:
            status = status_of(exc)
            dropped = isinstance(exc, aiohttp.ClientConnectionError)
            if (status not in RETRYABLE and not dropped) or attempt == attempts - 1:
                raise
            delay = _retry_after(exc) or base_delay * 2**attempt * (1 + random.random() / 4)  # noqa: S311
            log.info("Teams answered %s; trying again in %.1fs", status or "nothing", delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class Pacer:
    """At most `per_second` sends to one conversation, spread out rather than bursting."""

    def __init__(self, per_second: float = 4.0) -> None:
        self._gap = 1.0 / per_second
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, conversation_id: str) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            at = max(now, self._next.get(conversation_id, 0.0))
            self._next[conversation_id] = at + self._gap
            if len(self._next) > 10_000:
                self._next = {k: v for k, v in self._next.items() if v > now}
        if at > now:
            await asyncio.sleep(at - now)
