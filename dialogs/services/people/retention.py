"""The retention of held messages (privacy.retention runs this, in every school's sweep).

A message from someone who never became staff (`held_messages`) belongs to no school and no
report: it is kept `HELD_MESSAGE_DAYS` for them to be added, then removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.privacy.retention import Swept
from dialogs.services.school.schools import School
from storage.models import HeldMessage

HELD_MESSAGE_DAYS = 30


async def remove_unclaimed_held_messages(
    session: AsyncSession, school: School, *, now: datetime, dry_run: bool, swept: Swept
) -> None:
    old = col(HeldMessage.received_at) < now - timedelta(days=HELD_MESSAGE_DAYS)
    found = await session.execute(select(HeldMessage.id).where(old))
    swept.held_messages = len(found.all())
    if not dry_run and swept.held_messages:
        await session.execute(delete(HeldMessage).where(old))
