"""Messages from someone not yet known as staff, kept until they are (storage.models.HeldMessage).

Why: a member of staff whose email the configuration does not cover yet, or who writes while
Slack or Teams cannot say who they are, may be writing about abuse they are suffering. What
they wrote is kept, encrypted, and taken in order as their first messages once they are known,
so they never have to write it again. Someone refused for good (a guest, a bot, a leaver,
another organisation) is told so, and nothing of theirs is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import HeldMessage


async def hold(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    conversation: str,
    text: str,
    files: list[dict[str, Any]] | None,
    delivery_id: str | None,
    now: datetime,
) -> bool:
    """Keep a message; False if this delivery is already kept (the platform sent it again)."""
    from storage.models import HeldMessage

    row = HeldMessage(
        platform=platform,
        user_id=user_id,
        conversation=conversation,
        delivery_id=delivery_id,
        text=text,
        files=files or None,
        received_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def held_for(session: AsyncSession, platform: str, user_id: str) -> list[HeldMessage]:
    """What this account wrote before it was known, oldest first."""
    from sqlmodel import select

    from storage.models import HeldMessage

    result = await session.execute(
        select(HeldMessage)
        .where(HeldMessage.platform == platform, HeldMessage.user_id == user_id)
        .order_by(HeldMessage.received_at, HeldMessage.id)  # type: ignore[arg-type]
    )
    return list(result.scalars().all())


async def let_go(session: AsyncSession, held_id: int) -> None:
    """Forget one held message: taken as a turn (journaled first), or not to be kept."""
    from sqlalchemy import delete

    from storage.models import HeldMessage

    await session.execute(delete(HeldMessage).where(HeldMessage.id == held_id))  # type: ignore[arg-type]
