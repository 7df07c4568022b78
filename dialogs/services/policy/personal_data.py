"""What policy answers hold about a person, for a subject access request
(privacy.subject_access): the questions they asked, with the answers and their feedback. On
request they are erased: the school does not need them to show what it decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import select

from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PlannedErasure,
    StoredPersonalData,
    Subject,
    when,
)
from dialogs.services.school.schools import School
from storage.models import PolicyQuestion


class QuestionsPersonalData(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        return {
            "policy_questions": [
                {
                    "asked_at": when(q.asked_at),
                    "question": q.question,
                    "answer": q.answer,
                    "feedback": q.feedback,
                }
                for q in await self._questions(school, subject)
            ]
        }

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        questions = await self._questions(school, subject)

        async def erase() -> list[str]:
            for question in questions:
                await self._session.delete(question)
            return []

        line = ErasureLine("Policy questions asked", len(questions), True, "no longer needed")
        return [PlannedErasure(line, erase)]

    async def _questions(self, school: School, subject: Subject) -> list[PolicyQuestion]:
        found = await self._session.execute(
            select(PolicyQuestion).where(
                PolicyQuestion.school_id == school.id,
                PolicyQuestion.person_id == subject.person_id,
            )
        )
        return list(found.scalars().all())
