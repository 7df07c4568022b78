"""Hosts that share the inbound journal, and taking over the entries of one that has gone.

Servers on several hosts can keep the journal in one shared folder (POLICYBOT_JOURNAL_DIR), so
that what a host took from Slack or Teams is not lost with that host. A process id says nothing
on another machine, so each host renews a lease in the database every third of
POLICYBOT_LEASE_SECONDS; while a host's lease runs, its entries are its own. Once it has run
out (the host was killed, lost its network, or was switched off), any other host may take its
entries over: it claims each one with a row whose primary key is the entry's name, so however
many hosts look at once, exactly one takes it, and renames it as its own (storage.journal).

Lease times are the database's clock, so hosts whose clocks disagree still agree on who is gone.
A host whose lease ran out only because it could not reach the database may still be taking an
entry that another has taken over; the delivery id each entry carries makes the second turn a
no-op, so the person is answered once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from storage.db import Database, is_unavailable
from storage.journal import Journal, owner_of

log = logging.getLogger(__name__)

# Claims are kept a while after the entry was taken, then cleared.
_KEEP_CLAIMS = timedelta(days=7)


class HostLeases:
    """This host's lease, and the others' as the database sees them (PostgreSQL only: an
    embedded SQLite database belongs to one host)."""

    def __init__(self, db: Database, host_id: str, *, lease_seconds: float = 60) -> None:
        self.db = db
        self.host_id = host_id
        self.lease_seconds = lease_seconds

    async def renew(self) -> None:
        """Say this host is alive for another lease."""
        async with self.db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO host_lease (host_id, renewed_at, expires_at) "
                    "VALUES (:host, now(), now() + make_interval(secs => :seconds)) "
                    "ON CONFLICT (host_id) DO UPDATE SET renewed_at = excluded.renewed_at, "
                    "expires_at = excluded.expires_at"
                ),
                {"host": self.host_id, "seconds": self.lease_seconds},
            )
            await session.execute(
                text("DELETE FROM journal_adoption WHERE adopted_at < now() - :keep"),
                {"keep": _KEEP_CLAIMS},
            )

    async def keep_renewing(self) -> None:
        """Renew every third of the lease until cancelled; a database that is away is retried
        (the lease may run out meanwhile, and then others take this host's entries over)."""
        while True:
            try:
                await self.renew()
            except Exception as exc:  # the loop must outlive any one failure
                if is_unavailable(exc):
                    log.warning("this host's lease could not be renewed (%s)", type(exc).__name__)
                else:
                    log.exception("this host's lease could not be renewed")
            await asyncio.sleep(self.lease_seconds / 3)

    async def live(self, hosts: Iterable[str]) -> set[str]:
        """Which of these hosts' leases still run."""
        return await self._hosts(hosts, only_live=True)

    async def known(self, hosts: Iterable[str]) -> set[str]:
        """Which of these hosts have ever held a lease."""
        return await self._hosts(hosts, only_live=False)

    async def _hosts(self, hosts: Iterable[str], *, only_live: bool) -> set[str]:
        wanted = sorted(set(hosts))
        if not wanted:
            return set()
        async with self.db.session() as session:
            rows = await session.execute(
                text(
                    "SELECT host_id FROM host_lease WHERE host_id = ANY(:hosts) "
                    "AND (NOT :only_live OR expires_at > now())"
                ),
                {"hosts": wanted, "only_live": only_live},
            )
            return {str(host) for host in rows.scalars()}

    async def claim(self, entry: str) -> bool:
        """Claim an entry for this host; True for exactly one claimant. A claim already made
        stands while its host's lease runs; one this host made before (it stopped before the
        renaming) or one by a host that has gone in its turn is taken again."""
        statement = text(
            "INSERT INTO journal_adoption (entry, host_id, adopted_at) "
            "VALUES (:entry, :host, now()) "
            "ON CONFLICT (entry) DO UPDATE SET host_id = excluded.host_id, adopted_at = now() "
            "WHERE journal_adoption.host_id = excluded.host_id OR NOT EXISTS ("
            "  SELECT 1 FROM host_lease WHERE host_lease.host_id = journal_adoption.host_id"
            "  AND host_lease.expires_at > now()) "
            "RETURNING entry"
        )
        async with self.db.session() as session:
            found = await session.execute(statement, {"entry": entry, "host": self.host_id})
            return found.first() is not None


async def adopt_from_departed_hosts(journal: Journal, leases: HostLeases) -> int:
    """Take over the pending entries of hosts whose lease has run out; how many were taken.
    Their batches (storage.journal_batches) are put back first, so that entries a host kept
    only in a batch are taken over too.

    A host that has never held a lease counts as gone only for entries older than a lease (a
    host renews before it takes anything, so a younger entry may be one it is writing now)."""
    for batch, host in await _departed(journal, leases, await asyncio.to_thread(journal.batches)):
        if (
            await leases.claim(batch.name)
            and await asyncio.to_thread(journal.adopt_batch, batch) > 0
        ):
            log.warning("put back a journal batch of host %s, whose lease ran out", host)
    adopted = 0
    for path, host in await _departed(journal, leases, await asyncio.to_thread(journal.pending)):
        if not await leases.claim(path.name):
            continue  # another host took it over
        if await asyncio.to_thread(journal.adopt, path) is not None:
            adopted += 1
            log.warning("took over a journal entry of host %s, whose lease ran out", host)
    return adopted


async def _departed(
    journal: Journal, leases: HostLeases, paths: list[Path]
) -> list[tuple[Path, str]]:
    """Of these journal files, those of other hosts that have gone, with their host."""
    foreign: dict[Path, str] = {}
    for path in paths:
        owner = owner_of(path)
        if owner is not None and owner.host is not None and owner.host != journal.host:
            foreign[path] = owner.host
    if not foreign:
        return []
    live = await leases.live(foreign.values())
    known = await leases.known(foreign.values())
    oldest_unknown = time.time_ns() - int(leases.lease_seconds * 1e9)
    return [
        (path, host)
        for path, host in foreign.items()
        if host not in live and (host in known or int(path.name.split("-")[1]) <= oldest_unknown)
    ]
