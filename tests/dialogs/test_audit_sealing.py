"""Audit entries are sealed in the transaction that writes them: an entry and its seal land
together or not at all, transactions committing at once still make one chain, a chain sealed
by an earlier version (without the key) still verifies, and a process with another key is
stopped before it seals anything."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.config import Settings
from bot.runtime import Runtime, build_runtime, prepare_database
from dialogs.services.errors import ConfigError
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_chain import GENESIS, EntryContent, Verification
from storage.audit_key import AuditKey
from storage.audit_sealing import OtherAuditKey
from storage.models import AuditAnchor, AuditEntry, AuditKeying, AuditSeal
from tests.conftest import Clock
from tests.dialogs.test_audit_chain import (
    LAST_YEAR,
    add_entries,
    all_of,
    as_the_application,
    broken,
    entry_ids,
    seals,
    tampering,
    unkeyed_hash,
    verify,
)


def record(log: AuditLog, target_id: str) -> None:
    log.record(
        school_id="oakfield",
        actor_id="dana",
        action=AuditAction.CASE_VIEW,
        target_type="case",
        target_id=target_id,
        detail="viewed",
    )


async def failed_turn(runtime: Runtime, target_id: str) -> None:
    """A unit of work that writes an entry and then fails, so it is rolled back."""
    async with runtime.db.session() as session:
        record(AuditLog(session, runtime.clock()), target_id)
        await session.flush()
        raise RuntimeError("the turn failed")


async def failed_step(session: AsyncSession, log: AuditLog, target_id: str) -> None:
    """A step in a savepoint that writes an entry and then fails."""
    async with session.begin_nested():
        record(log, target_id)
        await session.flush()
        raise RuntimeError("a step failed")


# -- one transaction -------------------------------------------------------------------------


async def test_an_entry_and_its_seal_land_together_or_not_at_all(runtime: Runtime) -> None:
    await add_entries(runtime, 2)
    async with runtime.db.session() as session:
        record(AuditLog(session, runtime.clock()), "case-a")
        await session.flush()
        # Written, not sealed yet: that happens as the transaction commits.
        assert len((await session.execute(select(AuditSeal))).scalars().all()) == 2
    assert [s.seq for s in await seals(runtime)] == [1, 2, 3]

    with pytest.raises(RuntimeError, match="the turn failed"):
        await failed_turn(runtime, "case-b")
    assert len(await entry_ids(runtime)) == 3
    assert [s.seq for s in await seals(runtime)] == [1, 2, 3]

    # An entry in a savepoint that is rolled back goes with it; the rest is sealed.
    async with runtime.db.session() as session:
        log = AuditLog(session, runtime.clock())
        record(log, "case-c")
        with pytest.raises(RuntimeError, match="a step failed"):
            await failed_step(session, log, "case-d")
        record(log, "case-e")
    targets = [e.target_id for e in await all_of(runtime, AuditEntry, col(AuditEntry.id))]
    assert targets[3:] == ["case-c", "case-e"]
    assert [s.seq for s in await seals(runtime)] == [1, 2, 3, 4, 5]
    assert await verify(runtime) == Verification(True, 5, None, "", 0)


async def test_transactions_committing_at_once_make_one_chain(
    settings: Settings, runtime: Runtime, clock: Clock
) -> None:
    """Two processes, each with several transactions writing the log at once: on PostgreSQL
    they wait for one another's seal and commit; on SQLite for the write lock. Either way:
    every transaction lands, and the chain is one, unbroken, each entry sealed once."""
    other = build_runtime(settings, clock=clock)

    async def writer(who: Runtime, name: str) -> None:
        for round_ in range(5):
            async with who.db.session() as session:
                log = AuditLog(session, who.clock())
                for number in range(3):
                    record(log, f"{name}-{round_}-{number}")
                await session.flush()
                await asyncio.sleep(0)  # let the others write before this one commits

    try:
        await asyncio.gather(*(writer(who, f"{n}") for n in range(4) for who in (runtime, other)))
    finally:
        await other.close()
    chain = await seals(runtime)
    written = await entry_ids(runtime)
    assert len(written) == 8 * 5 * 3
    assert [s.seq for s in chain] == list(range(1, len(written) + 1))
    assert sorted(s.entry_id for s in chain) == written
    assert await verify(runtime) == Verification(True, len(written), None, "", 0)


# -- a chain an earlier version sealed -------------------------------------------------------


async def test_a_chain_sealed_without_a_key_still_verifies_and_the_keyed_chain_binds_it(
    runtime: Runtime, settings: Settings
) -> None:
    """As an earlier version left it: retention had removed positions 1 and 2, positions 3 and
    4 are SHA-256 seals, and the newest entry was not sealed yet. The first transaction that
    seals with the key seals that entry too and records where the keyed chain begins; the older
    seals still verify, and recomputing them gives the change away at the first keyed seal."""
    with as_the_application(settings.database_url) as connection:
        ids = [
            connection.execute(
                AuditEntry.__table__.insert()  # type: ignore[attr-defined]
                .values(
                    at=LAST_YEAR + timedelta(minutes=n),
                    school_id="oakfield",
                    actor_id="dana",
                    action="case.view",
                    target_type="case",
                    target_id=f"case-{n}",
                    detail="viewed",
                )
                .returning(AuditEntry.__table__.c.id)  # type: ignore[attr-defined]
            ).scalar_one()
            for n in range(3)
        ]
        rows = connection.execute(
            select(AuditEntry.__table__).order_by(col(AuditEntry.id))  # type: ignore[attr-defined]
        ).all()
        contents = [
            EntryContent(**{k: getattr(r, k) for k in EntryContent.__dataclass_fields__})
            for r in rows
        ]
        removed_hash = "ab" * 32  # the hash of position 2, removed by retention back then
        connection.execute(
            AuditAnchor.__table__.insert().values(  # type: ignore[attr-defined]
                at=LAST_YEAR,
                removed_through_seq=2,
                last_hash=removed_hash,
                removed=2,
                actor_id="policybot",
            )
        )
        prev_hash = removed_hash
        for seq, content in zip((3, 4), contents[:2], strict=True):
            digest = unkeyed_hash(prev_hash, seq, content)
            connection.execute(
                AuditSeal.__table__.insert().values(  # type: ignore[attr-defined]
                    seq=seq,
                    entry_id=content.id,
                    prev_hash=prev_hash,
                    hash=digest,
                    sealed_at=LAST_YEAR,
                )
            )
            prev_hash = digest
    assert await verify(runtime) == Verification(True, 2, None, "", 1)

    new = await add_entries(runtime, 2)

    [keying] = await all_of(runtime, AuditKeying, col(AuditKeying.id))
    assert (keying.keyed_from_seq, keying.start_through_seq, keying.start_hash) == (
        5,
        2,
        removed_hash,
    )
    chain = await seals(runtime)
    assert [(s.seq, s.entry_id) for s in chain] == [
        (3, ids[0]),
        (4, ids[1]),
        (5, ids[2]),
        (6, new[0]),
        (7, new[1]),
    ]
    assert await verify(runtime) == Verification(True, 5, None, "", 0)

    # Someone re-attributes the oldest entry and recomputes the unkeyed seals after it.
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == ids[0]).values(actor_id="sam")
        )
        prev_hash = removed_hash
        for seq, content in zip((3, 4), contents[:2], strict=True):
            changed = dataclasses.replace(content, actor_id="sam") if seq == 3 else content
            digest = unkeyed_hash(prev_hash, seq, changed)
            connection.execute(
                update(AuditSeal)
                .where(col(AuditSeal.seq) == seq)
                .values(prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
    broken(
        await verify(runtime),
        ids[1],
        f"Entry #{ids[1]} or its seal was replaced after it was sealed: entry #{ids[2]}, "
        "sealed after it, no longer follows it.",
        2,
    )


async def test_a_record_of_where_the_keyed_chain_begins_cannot_be_made_by_hand(
    runtime: Runtime, settings: Settings
) -> None:
    """Moving the beginning later would let seals be recomputed as unkeyed ones."""
    await add_entries(runtime, 3)
    with as_the_application(settings.database_url) as connection:
        connection.execute(
            AuditKeying.__table__.insert().values(  # type: ignore[attr-defined]
                at=LAST_YEAR,
                keyed_from_seq=4,
                start_through_seq=0,
                start_hash=GENESIS,
                key_id="0123456789abcdef",
                mac="0" * 64,
            )
        )
    broken(
        await verify(runtime),
        None,
        "The record of where the keyed audit chain begins, dated 15/01/2025, was not made by "
        "policybot (it does not carry the audit key's seal).",
        0,
    )


# -- another key -----------------------------------------------------------------------------


async def test_a_process_with_another_key_seals_nothing_and_does_not_start(
    runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    """A second machine that made a key of its own would seal a chain nobody could verify."""
    await add_entries(runtime, 2)
    elsewhere = dataclasses.replace(settings, audit_key=bytes(range(32)))
    other_key = AuditKey(bytes(range(32))).key_id
    assert runtime.db.audit is not None
    ours = runtime.db.audit.key.key_id

    with pytest.raises(ConfigError) as refused:
        prepare_database(elsewhere)
    assert refused.value.message == (
        f"The audit log is sealed with another key (key id {ours}) than the one configured "
        f"(key id {other_key}): set POLICYBOT_AUDIT_KEY, or POLICYBOT_AUDIT_KEY_FILE, to the "
        "key the log was sealed with."
    )
    other = build_runtime(elsewhere, clock=clock)
    try:
        with pytest.raises(OtherAuditKey):
            await add_entries(other, 1)
    finally:
        await other.close()
    assert len(await entry_ids(runtime)) == 2
    assert (await verify(runtime)).ok


async def test_a_removed_record_of_where_the_keyed_chain_begins_is_found(
    runtime: Runtime, settings: Settings
) -> None:
    """Removing it (past the triggers) gives itself away: without it, the keyed seals are
    checked as unkeyed ones, and the first of them fails."""
    [first, _] = await add_entries(runtime, 2)
    with tampering(settings.database_url) as connection:
        connection.execute(delete(AuditKeying))
    await add_entries(runtime, 1)
    broken(await verify(runtime), first, f"Entry #{first} was changed after it was sealed.", 0)
