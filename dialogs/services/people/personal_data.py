"""What the staff directory learned about a person from Slack or Teams, for a subject access
request (privacy.subject_access). Nothing is erased on request: it is how the bot knows who is
staff, and who has left.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from dialogs.services.privacy.subject_access import StoredPersonalData, Subject, when
from dialogs.services.school.schools import School
from storage.models import StaffMember


class DirectoryPersonalData(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        found = await self._session.execute(
            select(StaffMember).where(
                StaffMember.school_id == school.id, StaffMember.person_id == subject.person_id
            )
        )
        return {
            # What Slack or Teams told the bot of them, when they were learned from there.
            "learned_from_platforms": [
                {
                    "learned_at": when(m.learned_at),
                    "checked_at": when(m.checked_at),
                    "left_at": when(m.left_at),
                    "email": m.email,
                    "slack_user_id": m.slack_user_id,
                    "teams_user_id": m.teams_user_id,
                }
                for m in found.scalars().all()
            ]
        }
