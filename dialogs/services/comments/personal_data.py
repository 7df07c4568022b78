"""What comments hold about a person, for a subject access request (privacy.subject_access):
the comments they logged, handled or reported. Nothing is erased on request; their actions on
comments are part of the record of decisions, and comments go with retention.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from dialogs.services.privacy.subject_access import StoredPersonalData, Subject, when
from dialogs.services.school.schools import School
from storage.models import Comment


class CommentsPersonalData(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        pid = subject.person_id
        found = await self._session.execute(
            select(Comment).where(
                Comment.school_id == school.id,
                or_(
                    col(Comment.logged_by) == pid,
                    col(Comment.handled_by) == pid,
                    col(Comment.reported_by) == pid,
                ),
            )
        )
        return {
            "comments_handled": [
                {
                    "reference": c.reference,
                    "received_at": when(c.received_at),
                    "status": c.status,
                    "logged_by_them": c.logged_by == pid,
                    "handled_by_them": c.handled_by == pid,
                    "reported_by_them": c.reported_by == pid,
                }
                for c in found.scalars().all()
            ]
        }
