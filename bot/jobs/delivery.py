"""The outbox delivery loop: sends soon after something is queued, and retries on a timer.

It wakes when a unit of work that queued something commits (storage.db.Database.after_commit),
and when a turn goes through while inputs still wait in the journal; not after every turn,
since a turn sends its own replies (dialogs.services.replies) and a round per turn cost more
than the turn's own work.

Each round first takes inputs still waiting in the inbound journal (after a restart, or while
the database was away), so at start-up and every few seconds after an outage ends, what people
sent is taken in order and their replies sent. Before that, the entries of other hosts that
share the journal and have gone (their lease ran out) are taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from bot.runtime import Runtime
from dialogs.services.notifier import queued
from dialogs.services.outbox import DeliveryResult, Transport, deliver_pending
from storage.db import is_unavailable
from storage.host_leases import adopt_from_departed_hosts

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self, runtime: Runtime, transports: Sequence[Transport], *, every_seconds: float = 15
    ) -> None:
        self.runtime = runtime
        self.transports = list(transports)
        self.every_seconds = every_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next tick."""
        self._wake.set()

    def _committed(self, info: dict[str, Any]) -> None:
        if queued(info):
            self.kick()

    async def run_once(self) -> DeliveryResult:
        """Take what waits in the inbound journal (its replies join the outbox), then deliver."""
        await self._adopt()
        replayed = await self.runtime.runner.replay_journal()
        if replayed.taken or replayed.set_aside:
            log.info(
                "inbound journal: %d taken, %d waiting, %d set aside for IT",
                replayed.taken,
                replayed.waiting,
                replayed.set_aside,
            )
        return await deliver_pending(
            db=self.runtime.db,
            directory=self.runtime.directory,
            transports=self.transports,
            now=self.runtime.clock(),
            lanes=self.runtime.runner.lanes,
        )

    async def _adopt(self) -> None:
        """Take over the journal entries of hosts that have gone (storage.host_leases), so this
        round's replay takes them; with the database away, that waits for a later round."""
        leases = self.runtime.leases
        if leases is None:
            return
        try:
            await adopt_from_departed_hosts(self.runtime.journal, leases)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("journal entries of other hosts are checked once the database is back")

    async def _loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # cancellation that stops this loop, leaving shutdown waiting for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every_seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # the loop must outlive any one bad round; it retries next tick
                log.exception("delivery round failed")

    def start(self) -> None:
        if self._task is None:
            self.runtime.db.after_commit.append(self._committed)
            self.runtime.runner.wake_for_backlog(self.kick)
            self._task = asyncio.create_task(self._loop(), name="outbox-delivery")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.runtime.db.after_commit.remove(self._committed)
        self.runtime.runner.wake_for_backlog(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
