"""The retention of reports and of the evidence sent with them (privacy.retention runs these).

A closed report past the school's `case_days` is anonymised: what people wrote, their names
and its evidence go, and the bare record (reference, dates, kind of abuse, outcome status)
stays so the school can still count what happened. A report on legal hold is kept whatever its
age, and an open report is never touched. Evidence can be removed sooner than its report, after
`evidence_days`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.cases.vocabulary import Status
from dialogs.services.privacy.retention import REMOVED, Swept
from dialogs.services.school.schools import School
from storage.models import Case, CaseEvent, Evidence

# Who an anonymised report reads as made by.
RETIRED_REPORTER = "retention"


async def anonymise_closed_reports(
    session: AsyncSession, school: School, *, now: datetime, dry_run: bool, swept: Swept
) -> None:
    before = now - timedelta(days=school.retention.case_days)
    result = await session.execute(
        select(Case).where(
            Case.school_id == school.id,
            Case.status == Status.CLOSED.value,
            col(Case.closed_at) < before,
            col(Case.anonymised_at).is_(None),
        )
    )
    for case in result.scalars().all():
        if case.legal_hold:
            swept.kept_on_hold += 1
            continue
        swept.anonymised_cases += 1
        if dry_run:
            continue
        for record in await _evidence_of(session, case.id):
            swept.files.append(record.stored_name)
            swept.evidence += 1
            await session.delete(record)
        events = await session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id))
        for event in events.scalars().all():
            event.text = REMOVED if event.text else ""
        case.description = REMOVED
        case.affected_name = None
        case.responsible_name = None
        case.link = None
        case.outcome = REMOVED if case.outcome else None
        case.reporter_id = RETIRED_REPORTER
        case.assigned_to = None
        case.excluded = []
        case.anonymised_at = now


async def remove_old_evidence(
    session: AsyncSession, school: School, *, now: datetime, dry_run: bool, swept: Swept
) -> None:
    """Evidence of closed reports past its own (possibly shorter) period; what the reports'
    anonymisation already removed in this sweep is not counted twice."""
    before = now - timedelta(days=school.retention.evidence_days)
    result = await session.execute(
        select(Evidence)
        .join(Case, col(Case.id) == col(Evidence.case_id))
        .where(
            Case.school_id == school.id,
            Case.status == Status.CLOSED.value,
            col(Case.closed_at) < before,
            Case.legal_hold == False,  # noqa: E712 - SQL, not Python, comparison
        )
    )
    for record in result.scalars().all():
        if record.stored_name in swept.files:
            continue
        swept.evidence += 1
        if not dry_run:
            swept.files.append(record.stored_name)
            await session.delete(record)


async def _evidence_of(session: AsyncSession, case_id: str) -> Sequence[Evidence]:
    result = await session.execute(select(Evidence).where(col(Evidence.case_id) == case_id))
    return result.scalars().all()
