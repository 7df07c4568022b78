"""Several hosts sharing one journal folder on one PostgreSQL database, simulated in one test by
journals and leases under different host ids: a host's entries are its own while its lease
runs, and once it has run out each entry is taken over by exactly one other host."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.jobs.delivery import DeliveryWorker
from bot.runtime import Runtime
from storage.db import Database
from storage.host_leases import HostLeases, adopt_from_departed_hosts
from storage.journal import Journal, Kept, Owner, belongs_to_another_live_process, owner_of
from tests.resilience.test_replay import entry_for, state_and_replies
from tests.storage.test_journal import entries_of, typed
from tests.support import Person

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def lease_runs_out(db: Database, host: str) -> None:
    """What happens to the lease of a host that stopped renewing it (killed, cut off)."""
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE host_lease SET expires_at = now() - interval '1 second' WHERE host_id = :h"
            ),
            {"h": host},
        )


def hosts(shared: Path, db: Database, *names: str) -> list[tuple[Journal, HostLeases]]:
    return [(Journal(shared, host=name), HostLeases(db, name, lease_seconds=60)) for name in names]


def test_an_entry_names_its_process_and_host(tmp_path: Path, database_url: str) -> None:
    journal = Journal(tmp_path, host="web-1.school.internal")
    path = journal.write(typed())
    assert owner_of(path) == Owner(os.getpid(), "web-1.school.internal")
    # Another host's entry is left alone whatever its pid says on this machine.
    assert belongs_to_another_live_process(path, host="web-2")
    assert not belongs_to_another_live_process(path, host="web-1.school.internal")
    # Names written before entries named their host are this machine's, as they were.
    tag, arrived, *_owner, unique = path.name.split("-")
    assert owner_of(path.with_name(f"{tag}-{arrived}-{os.getpid()}-{unique}")) == Owner(
        os.getpid(), None
    )


async def test_a_gone_hosts_entries_are_taken_over_exactly_once(
    tmp_path: Path, db: Database
) -> None:
    shared = tmp_path / "shared"
    (a, a_lease), (b, b_lease), (c, c_lease) = hosts(shared, db, "web-a", "web-b", "web-c")
    for lease in (a_lease, b_lease, c_lease):
        await lease.renew()
    first = a.write(typed("first", delivery="Ev1"))
    second = a.write(typed("second", delivery="Ev2"))

    # While web-a renews its lease, its entries are its own.
    assert await adopt_from_departed_hosts(b, b_lease) == 0
    assert b.pending() == [first, second]

    await lease_runs_out(db, "web-a")
    taken = await asyncio.gather(
        adopt_from_departed_hosts(b, b_lease), adopt_from_departed_hosts(c, c_lease)
    )
    assert sum(taken) == 2  # each entry once, by one host or the other
    pending = b.pending()
    assert entries_of(b, pending) == ["first", "second"]  # in their order, unchanged
    owners = [owner_of(path) for path in pending]
    assert all(owner is not None and owner.host in {"web-b", "web-c"} for owner in owners)
    assert not first.exists()
    assert not second.exists()
    async with db.session() as session:
        claims = (await session.execute(text("SELECT count(*) FROM journal_adoption"))).scalar()
    assert claims == 2
    # Nothing is taken twice: a second look finds nothing of web-a's.
    assert await adopt_from_departed_hosts(c, c_lease) == 0


async def test_entries_a_gone_host_kept_only_in_a_batch_are_taken_over_too(
    tmp_path: Path, db: Database
) -> None:
    """web-a acknowledged a burst (its batch is on disk) and stopped before putting the
    entries at their places: they are web-a's while its lease runs, then put back and taken
    over like any other entry of its."""
    shared = tmp_path / "shared"
    (a, a_lease), (b, b_lease) = hosts(shared, db, "web-a", "web-b")
    for lease in (a_lease, b_lease):
        await lease.renew()
    burst = [typed(f"burst {n}", delivery=f"Ev{n}") for n in range(3)]
    kept = a.keep_batch([(entry, a.place(entry)) for entry in burst])
    assert all(isinstance(one, Kept) for one in kept)

    assert await adopt_from_departed_hosts(b, b_lease) == 0
    assert len(b.batches()) == 1
    assert Journal(shared, host="web-b").batches() == b.batches()  # not web-b's to put back

    await lease_runs_out(db, "web-a")
    assert await adopt_from_departed_hosts(b, b_lease) == 3
    assert b.batches() == []
    assert entries_of(b, b.pending()) == ["burst 0", "burst 1", "burst 2"]
    assert all(owner_of(path) == Owner(os.getpid(), "web-b") for path in b.pending())


async def test_a_host_that_never_held_a_lease_counts_as_gone_only_for_old_entries(
    tmp_path: Path, db: Database
) -> None:
    shared = tmp_path / "shared"
    (new, _), (b, b_lease) = hosts(shared, db, "web-new", "web-b")
    await b_lease.renew()
    young = new.write(typed("just written"))
    tag, _arrived, *_owner, unique = young.name.split("-")
    hour_ago = time.time_ns() - 3600 * 10**9
    old_name = f"{tag}-{hour_ago:020d}-{os.getpid()}@web-new-0{unique}"
    old = new.write(typed("kept for an hour"), young.with_name(old_name))
    assert await adopt_from_departed_hosts(b, b_lease) == 1
    assert young.exists()
    assert not old.exists()


async def test_a_claim_stands_while_its_host_lives_and_is_taken_again_when_it_has_gone(
    db: Database,
) -> None:
    b, c = HostLeases(db, "web-b"), HostLeases(db, "web-c")
    await b.renew()
    await c.renew()
    assert await b.claim("some-entry")
    assert await b.claim("some-entry")  # its own, again (it stopped before renaming it)
    assert not await c.claim("some-entry")
    await lease_runs_out(db, "web-b")
    assert await c.claim("some-entry")
    assert not await b.claim("some-entry")


async def test_the_delivery_round_takes_over_a_gone_hosts_message_and_answers_it(
    runtime: Runtime,
) -> None:
    """The whole way: an entry another host journaled before it went is taken over by this
    host's delivery round, its turn taken, and its reply queued."""
    assert runtime.leases is not None
    await runtime.leases.renew()
    sam = Person(runtime)
    await sam.say("report")
    gone = Journal(runtime.journal.root, host="web-gone")
    gone_lease = HostLeases(runtime.db, "web-gone")
    await gone_lease.renew()
    gone.write(entry_for(sam, "me", "EvGONEHOST"))
    worker = DeliveryWorker(runtime, [])

    await worker.run_once()
    assert len(runtime.journal.pending()) == 1  # web-gone's lease still runs

    await lease_runs_out(runtime.db, "web-gone")
    await worker.run_once()
    assert runtime.journal.pending() == []
    step, queued = await state_and_replies(runtime)
    assert step == "immediate_danger"
    assert queued
