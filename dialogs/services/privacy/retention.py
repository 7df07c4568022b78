"""Retention: what is past its period is removed, or anonymised, and that it was done recorded.

Each school sets a period per kind of record (`[schools.retention]`). A closed report past its
period is anonymised: what people wrote, their names and its evidence go, and the bare record
(reference, dates, kind of abuse, outcome status) stays so the school can still count what
happened. A report on legal hold is kept whatever its age, and an open report is never
touched. Evidence can be removed sooner than its report. Comments and post requests past their
periods are deleted with their files. Every run records an audit entry with its counts.

Files are deleted only after the transaction that forgets them commits (`Swept.files`), so a
crash never leaves a record pointing at a file that is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.cases.vocabulary import Status
from dialogs.services.comments.card import CommentStatus
from dialogs.services.posts.card import PostStatus
from dialogs.services.privacy.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from dialogs.services.school.schools import School
from storage.models import (
    Case,
    CaseEvent,
    Comment,
    Evidence,
    HeldMessage,
    PostDecision,
    PostRequest,
)

REMOVED = "[removed under the school's retention policy]"
# A message from someone who never became staff (dialogs.services.people.held_messages) is kept this
# long for them to be added, then removed: it belongs to no school and no report.
HELD_MESSAGE_DAYS = 30
RETIRED_REPORTER = "retention"
# Post requests that can no longer change: only these are ever removed.
_FINISHED_POSTS = [
    s.value
    for s in (PostStatus.PUBLISHED, PostStatus.REJECTED, PostStatus.EXPIRED, PostStatus.WITHDRAWN)
]
# A comment nobody has answered is kept, however old, until someone does.
_OPEN_COMMENTS = [CommentStatus.OPEN.value]


@dataclass
class Swept:
    anonymised_cases: int = 0
    kept_on_hold: int = 0
    evidence: int = 0
    comments: int = 0
    approvals: int = 0
    held_messages: int = 0
    # Stored file names to delete once this unit of work has committed.
    files: list[str] = field(default_factory=list)

    def counts(self) -> str:
        return (
            f"cases anonymised {self.anonymised_cases}, kept on hold {self.kept_on_hold}, "
            f"evidence {self.evidence}, comments {self.comments}, approvals {self.approvals}, "
            f"held messages {self.held_messages}"
        )


class RetentionService:
    def __init__(self, *, session: AsyncSession, audit: AuditLog, now: datetime) -> None:
        self._session = session
        self._audit = audit
        self._now = now

    def _before(self, days: int) -> datetime:
        return self._now - timedelta(days=days)

    async def sweep(self, school: School, *, dry_run: bool = False) -> Swept:
        """Remove or anonymise what is past retention at one school; `dry_run` only counts."""
        rules = school.retention
        swept = Swept()
        await self._cases(school, self._before(rules.case_days), swept, dry_run)
        await self._evidence(school, self._before(rules.evidence_days), swept, dry_run)
        await self._comments(school, self._before(rules.comment_days), swept, dry_run)
        await self._approvals(school, self._before(rules.approval_days), swept, dry_run)
        await self._held(self._before(HELD_MESSAGE_DAYS), swept, dry_run)
        if not dry_run:
            self._audit.record(
                school_id=school.id,
                actor_id=SYSTEM_ACTOR,
                action=AuditAction.RETENTION_APPLY,
                target_type="school",
                target_id=school.id,
                detail=swept.counts(),
            )
        return swept

    async def _cases(self, school: School, before: datetime, swept: Swept, dry: bool) -> None:
        result = await self._session.execute(
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
            if dry:
                continue
            for record in await self._files_of(col(Evidence.case_id) == case.id):
                swept.files.append(record.stored_name)
                swept.evidence += 1
                await self._session.delete(record)
            events = await self._session.execute(
                select(CaseEvent).where(CaseEvent.case_id == case.id)
            )
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
            case.anonymised_at = self._now

    async def _evidence(self, school: School, before: datetime, swept: Swept, dry: bool) -> None:
        """Evidence of closed reports past its own (possibly shorter) period."""
        result = await self._session.execute(
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
            if not dry:
                swept.files.append(record.stored_name)
                await self._session.delete(record)

    async def _comments(self, school: School, before: datetime, swept: Swept, dry: bool) -> None:
        result = await self._session.execute(
            select(Comment).where(
                Comment.school_id == school.id,
                col(Comment.received_at) < before,
                col(Comment.status).not_in(_OPEN_COMMENTS),
            )
        )
        for comment in result.scalars().all():
            swept.comments += 1
            if not dry:
                await self._session.delete(comment)

    async def _approvals(self, school: School, before: datetime, swept: Swept, dry: bool) -> None:
        result = await self._session.execute(
            select(PostRequest).where(
                PostRequest.school_id == school.id,
                col(PostRequest.planned_at) < before,
                col(PostRequest.status).in_(_FINISHED_POSTS),
            )
        )
        for request in result.scalars().all():
            swept.approvals += 1
            if dry:
                continue
            for record in await self._files_of(col(Evidence.post_request_id) == request.id):
                swept.files.append(record.stored_name)
                await self._session.delete(record)
            await self._session.execute(
                delete(PostDecision).where(col(PostDecision.request_id) == request.id)
            )
            await self._session.delete(request)

    async def _held(self, before: datetime, swept: Swept, dry: bool) -> None:
        """Messages held for someone who was never taken as staff (any school's sweep)."""
        old = col(HeldMessage.received_at) < before
        found = await self._session.execute(select(HeldMessage.id).where(old))
        swept.held_messages = len(found.all())
        if not dry and swept.held_messages:
            await self._session.execute(delete(HeldMessage).where(old))

    async def _files_of(self, where: ColumnElement[bool]) -> Sequence[Evidence]:
        result = await self._session.execute(select(Evidence).where(where))
        return result.scalars().all()
