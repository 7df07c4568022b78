"""Files a person attached to drafts they never sent, for a subject access request
(privacy.subject_access). They are in no report or post request, so on request they are
erased with their stored bytes; a file that was sent belongs to its report or request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PlannedErasure,
    StoredPersonalData,
    Subject,
)
from dialogs.services.school.schools import School
from storage.models import Evidence


class DraftFilesPersonalData(StoredPersonalData):
    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        found = await self._session.execute(
            select(Evidence).where(
                Evidence.school_id == school.id,
                Evidence.uploaded_by == subject.person_id,
                col(Evidence.case_id).is_(None),
                col(Evidence.post_request_id).is_(None),
            )
        )
        draft_files = list(found.scalars().all())

        async def erase() -> list[str]:
            for record in draft_files:
                await self._session.delete(record)
            return [record.stored_name for record in draft_files]

        line = ErasureLine(
            "Files attached to unfinished drafts", len(draft_files), True, "never sent"
        )
        return [PlannedErasure(line, erase)]
