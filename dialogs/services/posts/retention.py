"""The retention of post requests (privacy.retention runs this).

A request that can no longer change (published, rejected, expired or withdrawn) whose planned
time is past the school's `approval_days` is deleted with its decisions and its files; one still
waiting or approved is kept, however old, until it finishes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.posts.card import PostStatus
from dialogs.services.privacy.retention import Swept
from dialogs.services.school.schools import School
from storage.models import Evidence, PostDecision, PostRequest

# Post requests that can no longer change: only these are ever removed.
_FINISHED_POSTS = [
    s.value
    for s in (PostStatus.PUBLISHED, PostStatus.REJECTED, PostStatus.EXPIRED, PostStatus.WITHDRAWN)
]


async def remove_finished_requests(
    session: AsyncSession, school: School, *, now: datetime, dry_run: bool, swept: Swept
) -> None:
    before = now - timedelta(days=school.retention.approval_days)
    result = await session.execute(
        select(PostRequest).where(
            PostRequest.school_id == school.id,
            col(PostRequest.planned_at) < before,
            col(PostRequest.status).in_(_FINISHED_POSTS),
        )
    )
    for request in result.scalars().all():
        swept.approvals += 1
        if dry_run:
            continue
        files = await session.execute(
            select(Evidence).where(col(Evidence.post_request_id) == request.id)
        )
        for record in files.scalars().all():
            swept.files.append(record.stored_name)
            await session.delete(record)
        await session.execute(
            delete(PostDecision).where(col(PostDecision.request_id) == request.id)
        )
        await session.delete(request)
