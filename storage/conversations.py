"""Where each conversation is up to, saved after every turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from storage.models import Conversation, RegisterVersion


@dataclass(frozen=True)
class ConversationKey:
    channel: str
    user_key: str
    conversation_key: str


class ConcurrentTurn(Exception):
    """Another turn of the same conversation saved first; reload and try again."""


# Where, in a session's info, the version of each school's register read with a conversation
# is kept for the register (dialogs.services.accounts.register): school id -> version, or None
# for a school that has never had an account recorded.
REGISTER_VERSIONS = "register_versions"

# A turn's two statements on its conversation, each built once (with its parameters bound at
# execution): building them again every turn cost more than running them. The load also reads
# the version of the school's register, in the same statement, so that a turn whose register
# has not changed does not read it again.
_REGISTER_VERSION = (
    select(RegisterVersion.version)
    .where(col(RegisterVersion.school_id) == bindparam("load_school_id"))
    .scalar_subquery()
)
_LOAD = (
    select(Conversation, _REGISTER_VERSION)
    .where(
        col(Conversation.channel) == bindparam("load_channel"),
        col(Conversation.user_key) == bindparam("load_user_key"),
        col(Conversation.conversation_key) == bindparam("load_conversation_key"),
    )
    .with_for_update()
)
_conversations = cast(Table, Conversation.__table__)  # type: ignore[attr-defined]
_SAVE = (
    update(_conversations)
    .where(
        _conversations.c.id == bindparam("save_id"),
        _conversations.c.version == bindparam("save_version"),
    )
    .values(
        dialog=bindparam("dialog"),
        state=bindparam("state"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
        reminded_at=bindparam("reminded_at"),
    )
)


async def load_or_create(
    session: AsyncSession, key: ConversationKey, *, school_id: str, person_id: str, now: datetime
) -> Conversation:
    found = await session.execute(
        _LOAD,
        {
            "load_channel": key.channel,
            "load_user_key": key.user_key,
            "load_conversation_key": key.conversation_key,
            "load_school_id": school_id,
        },
    )
    loaded = found.one_or_none()
    if loaded is not None:
        row, register_version = loaded
        session.info.setdefault(REGISTER_VERSIONS, {})[school_id] = register_version
        return cast(Conversation, row)
    row = Conversation(
        channel=key.channel,
        user_key=key.user_key,
        conversation_key=key.conversation_key,
        school_id=school_id,
        person_id=person_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def save_state(
    session: AsyncSession,
    row: Conversation,
    *,
    dialog: str | None,
    state: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Save only if nobody else saved since this turn read the row.

    The row in hand is given the saved values as they now are in the database, rather than
    read back: one statement a turn fewer."""
    assert row.id is not None
    saved: dict[str, Any] = {
        "dialog": dialog,
        "state": state,
        "version": row.version + 1,
        "updated_at": now,
        "reminded_at": None,
    }
    result = await session.execute(_SAVE, {"save_id": row.id, "save_version": row.version, **saved})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentTurn(row.id)
    for name, value in saved.items():
        set_committed_value(row, name, value)


async def idle_drafts(session: AsyncSession, *, idle_since: datetime) -> Sequence[Conversation]:
    """Conversations with an unfinished dialog untouched since `idle_since`."""
    result = await session.execute(
        select(Conversation)
        .where(col(Conversation.dialog).is_not(None), col(Conversation.updated_at) < idle_since)
        .order_by(col(Conversation.updated_at))
    )
    return result.scalars().all()


async def drafts_of(
    session: AsyncSession, *, person_id: str, school_id: str
) -> Sequence[Conversation]:
    """A person's conversations at one school with an unfinished dialog (in any chat)."""
    result = await session.execute(
        select(Conversation).where(
            Conversation.person_id == person_id,
            Conversation.school_id == school_id,
            col(Conversation.dialog).is_not(None),
        )
    )
    return result.scalars().all()


async def lock(session: AsyncSession, conversation_id: int) -> Conversation | None:
    result = await session.execute(
        select(Conversation).where(col(Conversation.id) == conversation_id).with_for_update()
    )
    return result.scalar_one_or_none()
