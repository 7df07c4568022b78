"""Gauges read when Prometheus asks: the outbox, stuck deliveries, the inbound journal.

They need the database or the disk, so they are never touched by a turn. Each scrape first
refreshes them (`refresh`, at most once every few seconds however many scrapers there are),
then the registry reads the snapshot (`collect`). A database that is down or slow never
breaks a scrape: the refresh gives up after a few seconds, `policybot_database_up` says 0, and
the gauges that need the database are left out (Prometheus marks them stale) rather than shown
with old values. The journal is on local disk and is read either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.runtime import Runtime
from dialogs.services.outbox import Stuck, Waiting, stuck, waiting
from storage.journal import Backlog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """What the last refresh found; None where it could not be read."""

    database_up: bool
    outbox: Waiting | None = None
    stuck: Stuck | None = None
    journal: Backlog | None = None
    outbox_now: datetime | None = None  # the bot's clock, which stamps the outbox
    journal_now: datetime | None = None  # the machine's clock, which names journal entries


class StateCollector(Collector):
    def __init__(
        self, runtime: Runtime, *, fresh_for_seconds: float = 5.0, timeout_seconds: float = 5.0
    ) -> None:
        self.runtime = runtime
        self.fresh_for_seconds = fresh_for_seconds
        self.timeout_seconds = timeout_seconds
        self.snapshot: Snapshot | None = None
        self._taken_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> Snapshot:
        """Read the gauges again unless they were read moments ago (one read for scrapers
        arriving together)."""
        async with self._lock:
            if self.snapshot is None or time.monotonic() - self._taken_at >= self.fresh_for_seconds:
                self.snapshot = await self._read()
                self._taken_at = time.monotonic()
            return self.snapshot

    async def _read(self) -> Snapshot:
        journal = await self._journal()
        journal_now = datetime.now(UTC)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                outbox = await waiting(self.runtime.db)
                undelivered = await stuck(self.runtime.db)
        except Exception as exc:  # down, slow, or refusing: the scrape goes on without it
            log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
            return Snapshot(database_up=False, journal=journal, journal_now=journal_now)
        return Snapshot(
            database_up=True,
            outbox=outbox,
            stuck=undelivered,
            journal=journal,
            outbox_now=self.runtime.clock(),
            journal_now=journal_now,
        )

    async def _journal(self) -> Backlog | None:
        try:
            return await asyncio.to_thread(self.runtime.journal.waiting)
        except OSError as exc:
            log.warning("metrics: the journal could not be read (%s)", type(exc).__name__)
            return None

    def describe(self) -> Iterator[Metric]:
        """Nothing: the registry must not read the database when this is registered."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot
        if snapshot is None:
            return
        yield _gauge(
            "policybot_database_up",
            "1 if the database answered the last metrics refresh, else 0.",
            int(snapshot.database_up),
        )
        if snapshot.outbox is not None and snapshot.outbox_now is not None:
            yield _by_state(
                "policybot_outbox_pending",
                "Messages in the outbox not delivered yet and still tried: queued for the "
                "delivery worker, or a turn's replies that turn is sending itself.",
                {"queued": snapshot.outbox.queued, "sending": snapshot.outbox.sending},
            )
            yield _gauge(
                "policybot_outbox_oldest_pending_seconds",
                "Age of the oldest message queued for the delivery worker (0 when none).",
                _age(snapshot.outbox.oldest_queued, snapshot.outbox_now),
            )
        if snapshot.stuck is not None:
            yield _by_state(
                "policybot_deliveries_stuck",
                "Messages not delivered after failing: still retried (retrying), or past their "
                "retry budget and given up on until `policybot deliveries retry` (escalated).",
                {"retrying": snapshot.stuck.retrying, "escalated": snapshot.stuck.escalated},
            )
        if snapshot.journal is not None and snapshot.journal_now is not None:
            yield _gauge(
                "policybot_journal_pending",
                "Inputs kept in the inbound journal, waiting for their turn to be saved.",
                snapshot.journal.pending,
            )
            yield _gauge(
                "policybot_journal_failed",
                "Inputs set aside in the journal for IT after a fault (`policybot journal`).",
                snapshot.journal.failed,
            )
            yield _gauge(
                "policybot_journal_oldest_pending_seconds",
                "Age of the oldest input waiting in the journal (0 when none).",
                _age(snapshot.journal.oldest, snapshot.journal_now),
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _by_state(name: str, documentation: str, values: dict[str, int]) -> GaugeMetricFamily:
    """One gauge with a `state` label, a sample per state (zeros included, so a dashboard's
    series never vanish when a queue empties)."""
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state, value in values.items():
        family.add_metric([state], value)
    return family


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
