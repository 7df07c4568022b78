"""How many turns run at once: many while nothing else waits, one while requests are admitted.

Every request from Slack or Teams is journaled and answered before its turn is taken
(dialogs.inbox), on the same event loop as the turns. Slack gives up on an answer after 3 s
and sends the request again, so the answer must never wait behind turns: each running turn is
another piece of work the loop does between the steps of each request it is answering, and
under a burst, with many turns running, an answer waited seconds. So while any request is
being admitted (`admitting`), turns start one at a time; the rest wait, safe in the journal,
and start as soon as the burst has been answered. One always runs, so a steady stream of
requests slows the turns down but never stops them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

__all__ = ["TurnSlots"]


class TurnSlots:
    def __init__(self, most: int = 16, *, while_admitting: int = 1) -> None:
        if not 1 <= while_admitting <= most:
            raise ValueError("while_admitting must be between 1 and most")
        self.most = most
        self.while_admitting = while_admitting
        self._running = 0
        self._admitting = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        """A request is being admitted, or turns are waiting for a slot."""
        return self._admitting > 0 or bool(self._waiting)

    def _limit(self) -> int:
        return self.while_admitting if self._admitting else self.most

    @contextmanager
    def admitting(self) -> Iterator[None]:
        """Held while a request is verified, journaled and answered."""
        self._admitting += 1
        try:
            yield
        finally:
            self._admitting -= 1
            if not self._admitting:
                self._start_waiting()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Held while one turn runs; turns start in the order they asked."""
        if self._running < self._limit() and not self._waiting:
            self._running += 1
        else:
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(ready)
            try:
                await ready  # the slot is counted as ours when this is set
            except asyncio.CancelledError:
                if ready.done() and not ready.cancelled():
                    self._release()  # given the slot just as it was cancelled
                else:
                    self._waiting.remove(ready)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self._running -= 1
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and self._running < self._limit():
            ready = self._waiting.popleft()
            if not ready.done():
                self._running += 1
                ready.set_result(None)
