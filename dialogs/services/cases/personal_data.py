"""What reports hold about a person, for a subject access request (privacy.subject_access).

The reports they made (with the files they sent, which go in the package as received), the
reports that name them, and what they did on reports. None of it is erased on request: these
are safeguarding records, kept for the school's retention period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from dialogs.services.cases.conflicts import names_in
from dialogs.services.evidence.service import EvidenceService
from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PackageFile,
    PersonalData,
    PlannedErasure,
    Subject,
    when,
)
from dialogs.services.school.schools import School
from storage.models import Case, CaseEvent


class ReportsPersonalData(PersonalData):
    def __init__(self, *, session: AsyncSession, evidence: EvidenceService) -> None:
        self._session = session
        self._evidence = evidence

    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        pid = subject.person_id
        found = await self._session.execute(select(Case).where(Case.school_id == school.id))
        cases = list(found.scalars().all())
        made = [c for c in cases if c.reporter_id == pid]
        about = [c for c in cases if c.reporter_id != pid and _names(c, subject)]
        events = await self._session.execute(select(CaseEvent).where(CaseEvent.actor_id == pid))
        references = {c.id: c.reference for c in cases}
        return {
            "reports_made": [await self._case(c, with_files=True) for c in made],
            "reports_naming_them": [await self._case(c, with_files=False) for c in about],
            "actions_on_reports": [
                {
                    "report": references.get(e.case_id, e.case_id),
                    "at": when(e.at),
                    "kind": e.kind,
                    "text": e.text,
                }
                for e in events.scalars().all()
                if e.case_id in references
            ],
        }

    async def package(self, school: School, subject: Subject) -> list[PackageFile]:
        """The files they sent as evidence, byte for byte."""
        files: list[PackageFile] = []
        made = await self._session.execute(
            select(Case).where(Case.school_id == school.id, Case.reporter_id == subject.person_id)
        )
        for case in made.scalars().all():
            for record in await self._evidence.for_case(case.id):
                read = await self._evidence.read(record)
                name = f"files/{case.reference}/{record.id}{record.extension}"
                files.append(PackageFile(name, read.content))
        return files

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        return [
            PlannedErasure(
                ErasureLine(
                    "Reports they made",
                    len(gathered["reports_made"]),
                    False,
                    "safeguarding records, kept for the school's retention period "
                    "(legal obligation)",
                )
            ),
            PlannedErasure(
                ErasureLine(
                    "Reports that name them",
                    len(gathered["reports_naming_them"]),
                    False,
                    "safeguarding records about others too, kept for the retention period",
                )
            ),
        ]

    async def _case(self, case: Case, *, with_files: bool) -> dict[str, Any]:
        files = await self._evidence.for_case(case.id)
        return {
            "reference": case.reference,
            "created_at": when(case.created_at),
            "status": case.status,
            "who_may_know_who_reported": case.reporter_visibility,
            "platform": case.platform,
            "occurred_at": when(case.occurred_at),
            "what_happened": case.description,
            "person_affected": case.affected_name,
            "person_responsible": case.responsible_name,
            "link": case.link,
            "evidence": [
                {
                    "name": f.original_name,
                    "sha256": f.sha256,
                    "received_at": when(f.received_at),
                    "in_package_as": f"files/{case.reference}/{f.id}{f.extension}"
                    if with_files
                    else None,
                }
                for f in files
            ],
        }


def _names(case: Case, subject: Subject) -> bool:
    text = " \n".join(t for t in (case.affected_name, case.responsible_name, case.description) if t)
    return names_in(text, subject.names)
