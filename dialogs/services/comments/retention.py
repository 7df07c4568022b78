"""The retention of comments (privacy.retention runs this).

A comment received before the school's `comment_days` is deleted once someone has answered it;
one nobody has answered is kept, however old, until someone does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.comments.card import CommentStatus
from dialogs.services.privacy.retention import Swept
from dialogs.services.school.schools import School
from storage.models import Comment

_OPEN_COMMENTS = [CommentStatus.OPEN.value]


async def remove_answered_comments(
    session: AsyncSession, school: School, *, now: datetime, dry_run: bool, swept: Swept
) -> None:
    before = now - timedelta(days=school.retention.comment_days)
    result = await session.execute(
        select(Comment).where(
            Comment.school_id == school.id,
            col(Comment.received_at) < before,
            col(Comment.status).not_in(_OPEN_COMMENTS),
        )
    )
    for comment in result.scalars().all():
        swept.comments += 1
        if not dry_run:
            await session.delete(comment)
