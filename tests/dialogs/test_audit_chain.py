"""The audit log's chain as an administrator relies on it: an untouched log verifies, and
whatever someone in control of the database changes behind the bot's back is found and named.

Tampering goes through a connection of its own that gets past the append-only triggers, the
way a database administrator could; the bot's own connections are never given that power.
Attacks by the server's own role go through a plain connection, triggers and all. Those who
tamper do not hold the audit key, except where a test says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from bot.config import Settings
from bot.runtime import Runtime
from dialogs.services.errors import InvalidRequest
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_chain import (
    GENESIS,
    AuditChain,
    EntryContent,
    Verification,
    seal_hash,
)
from storage.audit_key import AuditKey
from storage.audit_sealing import retention_payload
from storage.db import sync_url
from storage.models import AuditAnchor, AuditEntry, AuditKeying, AuditPruning, AuditSeal
from tests.conftest import Clock

LAST_YEAR = datetime(2025, 1, 15, 9, 0, 0, 123456, tzinfo=UTC)
CUTOFF = datetime(2025, 6, 1, tzinfo=UTC)


# -- helpers -------------------------------------------------------------------------------


async def add_entries(runtime: Runtime, count: int, *, at: datetime | None = None) -> list[int]:
    """`count` entries written the way the bot writes them, in one transaction; their ids."""
    async with runtime.db.session() as session:
        log = AuditLog(session, at or runtime.clock())
        for number in range(count):
            log.record(
                school_id="oakfield",
                actor_id="dana",
                action=AuditAction.CASE_VIEW,
                target_type="case",
                target_id=f"case-{number}",
                detail=f"CB-2026-{number:04d} viewed",
            )
        await session.flush()
        result = await session.execute(
            select(col(AuditEntry.id)).order_by(col(AuditEntry.id).desc()).limit(count)
        )
        return sorted(i for i in result.scalars() if i is not None)


async def verify(runtime: Runtime) -> Verification:
    async with runtime.db.session() as session:
        return await AuditChain(session, runtime.clock()).verify()


async def prune(runtime: Runtime, before: datetime, actor_id: str = "morgan") -> int:
    async with runtime.db.session() as session:
        return await AuditChain(session, runtime.clock()).prune(before, actor_id)


async def all_of(runtime: Runtime, model: type[Any], order: Any) -> list[Any]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).order_by(order))).scalars().all())


async def seals(runtime: Runtime) -> list[AuditSeal]:
    return await all_of(runtime, AuditSeal, col(AuditSeal.seq))


async def entry_ids(runtime: Runtime) -> list[int]:
    return [e.id for e in await all_of(runtime, AuditEntry, col(AuditEntry.id))]


async def sealed_log(runtime: Runtime, count: int = 10) -> list[AuditSeal]:
    """A log of `count` entries written in a few transactions (each sealed as it commits)."""
    for _ in range(count // 5):
        await add_entries(runtime, 5)
    await add_entries(runtime, count % 5)
    chain = await seals(runtime)
    assert len(chain) == count
    return chain


def key_of(runtime: Runtime) -> AuditKey:
    assert runtime.db.audit is not None
    return runtime.db.audit.key


@contextmanager
def tampering(database_url: str) -> Iterator[Connection]:
    """A connection past the append-only triggers and foreign keys, for one transaction.

    SQLite: the triggers are dropped and put back in this connection (which, like any new
    SQLite connection, does not enforce foreign keys). PostgreSQL: `session_replication_role`
    switches off every trigger, foreign keys included, for this transaction only.
    """
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                triggers = connection.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name IN ('audit_entry', 'audit_seal', 'audit_anchor', "
                        "'audit_keying')"
                    )
                ).all()
                assert triggers, "the append-only triggers are missing"
                for name, _ in triggers:
                    connection.execute(text(f'DROP TRIGGER "{name}"'))
                yield connection
                for _, sql in triggers:
                    connection.execute(text(sql))
            else:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                yield connection
    finally:
        engine.dispose()


def broken(result: Verification, entry_id: int | None, problem: str, checked: int) -> None:
    assert not result.ok
    assert result.first_broken_entry_id == entry_id
    assert result.problem == problem
    assert result.checked == checked


# -- an untouched log --------------------------------------------------------------------


async def test_an_empty_log_verifies(runtime: Runtime) -> None:
    assert await verify(runtime) == Verification(True, 0, None, "", 0)


async def test_entries_are_sealed_as_they_are_written_and_an_untouched_log_verifies(
    runtime: Runtime, clock: Clock
) -> None:
    written = [*await add_entries(runtime, 7), *await add_entries(runtime, 5)]
    assert await verify(runtime) == Verification(True, 12, None, "", 0)

    chain = await seals(runtime)
    assert [s.seq for s in chain] == list(range(1, 13))
    assert [s.entry_id for s in chain] == written
    assert chain[0].prev_hash == GENESIS
    assert all(s.prev_hash == before.hash for before, s in pairwise(chain))
    # Where the keyed chain begins is recorded once, under the key: here, at its start.
    [keying] = await all_of(runtime, AuditKeying, col(AuditKeying.id))
    assert (keying.keyed_from_seq, keying.start_through_seq, keying.start_hash) == (1, 0, GENESIS)
    assert keying.key_id == key_of(runtime).key_id

    clock.advance(minutes=1)
    await add_entries(runtime, 2)
    assert await verify(runtime) == Verification(True, 14, None, "", 0)


async def test_the_seal_is_an_hmac_of_the_documented_encoding_under_the_audit_key(
    runtime: Runtime, settings: Settings
) -> None:
    """An auditor given the key can check a seal with nothing but the database and a few lines
    of code; without the key, nobody can make one. The embedded default keeps its key in the
    data directory, made on first start."""
    [entry_id] = await add_entries(runtime, 1, at=LAST_YEAR)
    [first] = await seals(runtime)
    encoded = json.dumps(
        {
            "prev_hash": "0" * 64,
            "seq": 1,
            "entry_id": entry_id,
            "at": "2025-01-15T09:00:00.123456+00:00",
            "school_id": "oakfield",
            "actor_id": "dana",
            "action": "case.view",
            "target_type": "case",
            "target_id": "case-0",
            "detail": "CB-2026-0000 viewed",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    key_file = settings.data_dir / "audit.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = base64.urlsafe_b64decode(key_file.read_text().strip())
    assert first.hash == hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
    assert first.hash != hashlib.sha256(encoded.encode()).hexdigest()


# -- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", "nothing to see here"),
        ("actor_id", "sam"),
        ("at", LAST_YEAR + timedelta(seconds=1)),
    ],
)
async def test_a_changed_entry_is_named(
    runtime: Runtime, settings: Settings, column: str, value: Any
) -> None:
    chain = await sealed_log(runtime)
    fourth, seventh = chain[3].entry_id, chain[6].entry_id
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry)
            .where(col(AuditEntry.id).in_([fourth, seventh]))
            .values({column: value})
        )
    broken(await verify(runtime), fourth, f"Entry #{fourth} was changed after it was sealed.", 3)


async def test_an_entry_removed_with_its_seal_leaves_a_gap(
    runtime: Runtime, settings: Settings
) -> None:
    chain = await sealed_log(runtime)
    with tampering(settings.database_url) as connection:
        connection.execute(delete(AuditSeal).where(col(AuditSeal.seq) == 5))
        connection.execute(delete(AuditEntry).where(col(AuditEntry.id) == chain[4].entry_id))
    before, after = chain[3].entry_id, chain[5].entry_id
    broken(
        await verify(runtime),
        after,
        f"Entries were removed between entry #{before} and entry #{after}: "
        "chain position 5 is missing.",
        4,
    )


async def test_an_entry_removed_without_its_seal_is_named(
    runtime: Runtime, settings: Settings
) -> None:
    chain = await sealed_log(runtime)
    victim = chain[4].entry_id
    with tampering(settings.database_url) as connection:
        connection.execute(delete(AuditEntry).where(col(AuditEntry.id) == victim))
    broken(
        await verify(runtime),
        victim,
        f"Entry #{victim} was removed after it was sealed (its seal, chain position 5, "
        "is still there).",
        4,
    )


async def test_removing_the_start_of_the_log_outside_retention_is_found(
    runtime: Runtime, settings: Settings
) -> None:
    chain = await sealed_log(runtime)
    removed = [s.entry_id for s in chain[:3]]
    with tampering(settings.database_url) as connection:
        connection.execute(delete(AuditSeal).where(col(AuditSeal.seq) <= 3))
        connection.execute(delete(AuditEntry).where(col(AuditEntry.id).in_(removed)))
    first = chain[3].entry_id
    broken(
        await verify(runtime),
        first,
        f"The audit log starts at entry #{first} (chain position 4), but nothing records the "
        "removal of positions 1 to 3: entries before it were removed outside retention.",
        0,
    )


async def test_an_entry_slipped_into_the_middle_of_the_chain_is_named(
    runtime: Runtime, settings: Settings
) -> None:
    """Even a forger who holds the key and seals the new entry properly is found: the entry
    after it still says it follows the one before, and that gives the forgery away."""
    chain = await sealed_log(runtime)
    at = LAST_YEAR.replace(microsecond=0)
    with tampering(settings.database_url) as connection:
        # Make room at position 4 (in two steps: positions are unique at every row).
        connection.execute(
            update(AuditSeal).where(col(AuditSeal.seq) >= 4).values(seq=col(AuditSeal.seq) + 1000)
        )
        connection.execute(
            update(AuditSeal).where(col(AuditSeal.seq) >= 1000).values(seq=col(AuditSeal.seq) - 999)
        )
        forged = connection.execute(
            AuditEntry.__table__.insert()  # type: ignore[attr-defined]
            .values(
                at=at,
                school_id="oakfield",
                actor_id="dana",
                action="case.view",
                target_type="case",
                target_id="case-x",
                detail="CB-2026-0099 viewed",
            )
            .returning(AuditEntry.__table__.c.id)  # type: ignore[attr-defined]
        ).scalar_one()
        content = EntryContent(
            forged, at, "oakfield", "dana", "case.view", "case", "case-x", "CB-2026-0099 viewed"
        )
        connection.execute(
            AuditSeal.__table__.insert().values(  # type: ignore[attr-defined]
                seq=4,
                entry_id=forged,
                prev_hash=chain[2].hash,
                hash=seal_hash(key_of(runtime), chain[2].hash, 4, content),
                sealed_at=at,
            )
        )
    broken(
        await verify(runtime),
        forged,
        f"Entry #{forged} was inserted into the chain: the entry after it, "
        f"#{chain[3].entry_id}, was sealed straight after the one before it.",
        4,
    )


async def test_a_seal_pointing_elsewhere_is_named(runtime: Runtime, settings: Settings) -> None:
    chain = await sealed_log(runtime)
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditSeal).where(col(AuditSeal.seq) == 6).values(prev_hash="f" * 64)
        )
    sixth, fifth = chain[5].entry_id, chain[4].entry_id
    broken(
        await verify(runtime),
        sixth,
        f"The seal of entry #{sixth} was altered: it no longer follows the seal of entry "
        f"#{fifth} before it.",
        5,
    )


async def test_an_entry_changed_and_sealed_again_is_named(
    runtime: Runtime, settings: Settings
) -> None:
    """Rewriting an entry's seal to match its new content (with the key) breaks the next link
    instead."""
    chain = await sealed_log(runtime)
    victim = chain[4]
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == victim.entry_id).values(detail="-")
        )
        row = connection.execute(
            select(AuditEntry.__table__).where(  # type: ignore[attr-defined]
                col(AuditEntry.id) == victim.entry_id
            )
        ).one()
        content = EntryContent(**{k: getattr(row, k) for k in EntryContent.__dataclass_fields__})
        connection.execute(
            update(AuditSeal)
            .where(col(AuditSeal.seq) == 5)
            .values(hash=seal_hash(key_of(runtime), victim.prev_hash, 5, content))
        )
    broken(
        await verify(runtime),
        victim.entry_id,
        f"Entry #{victim.entry_id} or its seal was replaced after it was sealed: "
        f"entry #{chain[5].entry_id}, sealed after it, no longer follows it.",
        5,
    )


async def test_the_database_still_refuses_to_remove_audit_rows_outside_retention(
    runtime: Runtime,
) -> None:
    chain = await sealed_log(runtime)
    await prune(runtime, datetime(2100, 1, 1, tzinfo=UTC))  # leaves an anchor and one entry
    [kept] = await seals(runtime)
    for statement in [
        delete(AuditEntry).where(col(AuditEntry.id) == kept.entry_id),
        delete(AuditSeal).where(col(AuditSeal.seq) == kept.seq),
        update(AuditSeal).where(col(AuditSeal.seq) == kept.seq).values(prev_hash=GENESIS),
        delete(AuditAnchor),
        update(AuditAnchor).values(removed=0),
        delete(AuditKeying),
        update(AuditKeying).values(keyed_from_seq=2),
    ]:
        with pytest.raises(DBAPIError, match="append-only"):
            async with runtime.db.session() as session:
                await session.execute(statement)
    assert await seals(runtime) == [kept]
    assert len(await all_of(runtime, AuditAnchor, col(AuditAnchor.id))) == 1
    assert (await verify(runtime)).ok
    assert chain  # the log that was there before retention


# -- retention -----------------------------------------------------------------------------


async def test_retention_removes_the_old_start_of_the_log_and_the_rest_still_verifies(
    runtime: Runtime, clock: Clock
) -> None:
    old = await add_entries(runtime, 3, at=LAST_YEAR)
    old += await add_entries(runtime, 2, at=LAST_YEAR + timedelta(days=30))
    new = await add_entries(runtime, 4)
    fifth = (await seals(runtime))[4]

    assert await prune(runtime, CUTOFF) == 5

    assert await entry_ids(runtime) == [*new, max(new) + 1]
    [anchor] = await all_of(runtime, AuditAnchor, col(AuditAnchor.id))
    assert (anchor.removed_through_seq, anchor.last_hash) == (5, fifth.hash)
    assert (anchor.removed, anchor.actor_id, anchor.at) == (5, "morgan", clock())
    # The record of the removal is sealed with the key: it cannot be made without it.
    assert anchor.mac == key_of(runtime).mac(
        retention_payload(through=5, last_hash=fifth.hash, removed=5, at=clock(), actor_id="morgan")
    )
    # The removal is in the log, and sealed with it.
    [*_, record] = await all_of(runtime, AuditEntry, col(AuditEntry.id))
    assert (record.action, record.actor_id, record.detail) == (
        "audit.prune",
        "morgan",
        "removed 5 entries older than 2025-06-01 00:00 UTC",
    )
    assert [s.seq for s in await seals(runtime)] == [6, 7, 8, 9, 10]
    assert await all_of(runtime, AuditPruning, col(AuditPruning.id)) == []
    assert await verify(runtime) == Verification(True, 5, None, "", 0)

    # Later: more entries, and a retention run that removes everything older than now. The
    # record of that removal is sealed first, so the newest entry always stays.
    clock.advance(days=400)
    await add_entries(runtime, 3)
    assert await prune(runtime, clock() + timedelta(seconds=1)) == 8
    [last] = await seals(runtime)
    assert last.seq == 14
    assert await entry_ids(runtime) == [last.entry_id]
    assert await verify(runtime) == Verification(True, 1, None, "", 0)
    await add_entries(runtime, 2)
    assert await verify(runtime) == Verification(True, 3, None, "", 0)
    assert old


async def test_retention_never_removes_an_entry_newer_than_the_cutoff(
    runtime: Runtime, clock: Clock
) -> None:
    """A chain is in the order entries were sealed, not the order of their times: an old entry
    sealed after a new one is kept until the new one goes too."""
    early = await add_entries(runtime, 2, at=LAST_YEAR)
    recent = await add_entries(runtime, 1)
    late_old = await add_entries(runtime, 2, at=LAST_YEAR)

    assert await prune(runtime, CUTOFF) == 2

    remaining = await entry_ids(runtime)
    assert remaining[:3] == [*recent, *late_old]
    assert not set(early) & set(remaining)
    assert (await verify(runtime)).ok
    # Nothing left to remove: nothing removed, and nothing recorded about it.
    assert await prune(runtime, CUTOFF) == 0
    assert len(await all_of(runtime, AuditAnchor, col(AuditAnchor.id))) == 1
    assert await entry_ids(runtime) == remaining


async def test_retention_leaves_a_broken_log_alone(runtime: Runtime, settings: Settings) -> None:
    """Removing the start of a log that does not verify could remove the evidence."""
    chain = await sealed_log(runtime)
    victim = chain[1].entry_id
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == victim).values(detail="-")
        )
    with pytest.raises(InvalidRequest) as refused:
        await prune(runtime, datetime(2100, 1, 1, tzinfo=UTC))
    assert refused.value.message == (
        "The audit log is not intact, so no entries were removed. "
        f"Entry #{victim} was changed after it was sealed."
    )
    assert len(await entry_ids(runtime)) == 10
    async with runtime.db.session() as session:
        assert (await session.execute(select(func.count()).select_from(AuditAnchor))).scalar() == 0


# -- the application's own role --------------------------------------------------------------


@contextmanager
def as_the_application(database_url: str) -> Iterator[Connection]:
    """A plain connection with the bot's own credentials, for one transaction: the triggers are
    on, and whatever the server's role may do, this does."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def unkeyed_hash(prev_hash: str, seq: int, entry: EntryContent) -> str:
    """A seal as anyone can compute it without a key: SHA-256 of the documented encoding."""
    payload = {
        "prev_hash": prev_hash,
        "seq": seq,
        "entry_id": entry.id,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "school_id": entry.school_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


async def test_every_entry_removed_behind_a_hand_made_pruning_row_is_found(
    runtime: Runtime, settings: Settings
) -> None:
    """Any writer can insert the row that opens the triggers to retention: it removed every
    entry and seal, took the row out again, and verify said the log was intact."""
    await sealed_log(runtime)
    with as_the_application(settings.database_url) as connection:
        connection.execute(text("INSERT INTO audit_pruning DEFAULT VALUES"))
        connection.execute(delete(AuditSeal))
        connection.execute(delete(AuditEntry))
        connection.execute(delete(AuditPruning))
    result = await verify(runtime)
    assert not result.ok
    assert result.problem == (
        "The audit log is empty, but it held sealed entries from chain position 1 on: "
        "they were removed outside retention."
    )


async def test_a_hand_made_retention_record_does_not_cover_entries_removed_by_hand(
    runtime: Runtime, settings: Settings
) -> None:
    """The same, removing the start of the log and recording the removal as retention would,
    with the hash of the last seal removed copied from the database."""
    chain = await sealed_log(runtime)
    with as_the_application(settings.database_url) as connection:
        connection.execute(text("INSERT INTO audit_pruning DEFAULT VALUES"))
        connection.execute(delete(AuditSeal).where(col(AuditSeal.seq) <= 4))
        connection.execute(
            delete(AuditEntry).where(col(AuditEntry.id).in_([s.entry_id for s in chain[:4]]))
        )
        connection.execute(delete(AuditPruning))
        connection.execute(
            AuditAnchor.__table__.insert().values(  # type: ignore[attr-defined]
                at=LAST_YEAR,
                removed_through_seq=4,
                last_hash=chain[3].hash,
                removed=4,
                actor_id="policybot",
            )
        )
    result = await verify(runtime)
    assert not result.ok
    assert result.problem == (
        "The record of removing chain positions up to 4 on 15/01/2025 was not made by "
        "policybot (it does not carry the audit key's seal): entries were removed outside "
        "retention."
    )


async def test_an_entry_re_attributed_with_every_seal_after_it_recomputed_is_named(
    runtime: Runtime, settings: Settings
) -> None:
    """Whoever can get past the triggers changes who did something and recomputes the seals
    from there to the end, as anyone can compute a hash: the chain still has to break there."""
    chain = await sealed_log(runtime)
    victim = chain[4]
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == victim.entry_id).values(actor_id="sam")
        )
        prev_hash = victim.prev_hash
        for seal in chain[4:]:
            row = connection.execute(
                select(AuditEntry.__table__).where(  # type: ignore[attr-defined]
                    col(AuditEntry.id) == seal.entry_id
                )
            ).one()
            content = EntryContent(
                **{k: getattr(row, k) for k in EntryContent.__dataclass_fields__}
            )
            digest = unkeyed_hash(prev_hash, seal.seq, content)
            connection.execute(
                update(AuditSeal)
                .where(col(AuditSeal.seq) == seal.seq)
                .values(prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
    broken(
        await verify(runtime),
        victim.entry_id,
        f"Entry #{victim.entry_id} was changed after it was sealed.",
        4,
    )
