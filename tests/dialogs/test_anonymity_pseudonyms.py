"""The audit log's pseudonyms: the same for one person and one record, unlinkable otherwise,
and resolvable only with the key (also one kept after a rotation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.services.privacy.pseudonyms import PREFIX, is_pseudonym, is_theirs, pseudonym
from storage.db import Database
from storage.models import AuditEntry

OLD, NEW = Fernet.generate_key(), Fernet.generate_key()


@asynccontextmanager
async def session_with(database_url: str, keys: Sequence[bytes]) -> AsyncIterator[AsyncSession]:
    db = Database(database_url, keys=keys)
    try:
        async with db.session() as session:
            yield session
    finally:
        await db.engine.dispose()


def of(session: AsyncSession, person_id: str, target_id: str, school_id: str = "oakfield") -> str:
    return pseudonym(
        session,
        school_id=school_id,
        person_id=person_id,
        target_type="evidence",
        target_id=target_id,
    )


def entry(actor_id: str, target_id: str) -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 11, 21, tzinfo=UTC),
        school_id="oakfield",
        actor_id=actor_id,
        action="evidence.receive",
        target_type="evidence",
        target_id=target_id,
    )


async def test_one_person_and_one_record_have_one_pseudonym_and_nothing_else_shares_it(
    database_url: str,
) -> None:
    async with session_with(database_url, [NEW]) as session:
        given = of(session, "sam", "e1")
        assert is_pseudonym(given)
        assert len(given) == len(PREFIX) + 16
        assert of(session, "sam", "e1") == given
        others = {of(session, "sam", "e2"), of(session, "jo", "e1"), of(session, "sam", "e1", "x")}
        assert given not in others
        assert len(others) == 3
        assert "sam" not in given


async def test_only_the_key_tells_whose_a_pseudonym_is(database_url: str) -> None:
    async with session_with(database_url, [NEW]) as session:
        sams = entry(of(session, "sam", "e1"), "e1")
        assert is_theirs(session, sams, "sam")
        assert not is_theirs(session, sams, "jo")
        assert not is_theirs(session, entry(sams.actor_id, "e2"), "sam")
        assert not is_theirs(session, entry("sam", "e1"), "sam")  # a name, not a pseudonym
    async with session_with(database_url, [Fernet.generate_key()]) as session:
        assert not is_theirs(session, sams, "sam")


async def test_a_pseudonym_from_before_a_rotation_is_resolved_while_its_key_is_kept(
    database_url: str,
) -> None:
    async with session_with(database_url, [OLD]) as session:
        before = entry(of(session, "sam", "e1"), "e1")
    async with session_with(database_url, [NEW, OLD]) as session:
        assert of(session, "sam", "e1") != before.actor_id  # new ones under the new key
        assert is_theirs(session, before, "sam")
    async with session_with(database_url, [NEW]) as session:
        assert not is_theirs(session, before, "sam")


async def test_without_a_key_a_pseudonym_is_random_and_nobody_can_resolve_it(
    database_url: str,
) -> None:
    async with session_with(database_url, []) as session:
        first, second = of(session, "sam", "e1"), of(session, "sam", "e1")
        assert is_pseudonym(first)
        assert first != second
        assert not is_theirs(session, entry(first, "e1"), "sam")
