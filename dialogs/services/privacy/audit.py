"""The audit log: who created, viewed, changed or exported what, and when.

Entries name records by id and describe actions in a few words; they never copy what a person
wrote, so the log can be read by an auditor without exposing a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.school.permissions import RecordsAction, require
from storage.models import AuditEntry

if TYPE_CHECKING:
    from dialogs.services.school.schools import Person

SYSTEM_ACTOR = "policybot"  # what scheduled work is recorded as doing


class Referenced(Protocol):
    """A record people know by its reference (CB-2026-0001), kept per school."""

    @property
    def id(self) -> str: ...
    @property
    def school_id(self) -> str: ...
    @property
    def reference(self) -> str: ...


class AuditAction(StrEnum):
    CASE_CREATE = "case.create"
    CASE_VIEW = "case.view"
    CASE_LIST = "case.list"
    CASE_ACKNOWLEDGE = "case.acknowledge"
    CASE_ASSIGN = "case.assign"
    CASE_NOTE = "case.note"
    CASE_STATUS = "case.status"
    CASE_EXPORT = "case.export"
    CASE_ALERT = "case.alert"
    CASE_QUESTION = "case.question"
    CASE_ANSWER = "case.answer"
    CASE_HOLD = "case.hold"
    RETENTION_APPLY = "retention.apply"
    SAR_EXPORT = "sar.export"
    SAR_ERASE = "sar.erase"
    EVIDENCE_RECEIVE = "evidence.receive"
    EVIDENCE_DISCARD = "evidence.discard"
    DRAFT_EXPIRE = "draft.expire"
    ACCESS_REFUSED = "access.refused"
    POLICY_IMPORT = "policy.import"
    POLICY_ANSWER = "policy.answer"
    # A worry about a child was answered with the safeguarding reply instead of the policy.
    POLICY_SAFEGUARDING = "policy.safeguarding"
    CONSENT_IMPORT = "consent.import"
    POST_SUBMIT = "post.submit"
    POST_DECIDE = "post.decide"
    POST_PUBLISH = "post.publish"
    POST_EXPIRE = "post.expire"
    POST_VIEW = "post.view"
    POST_MEDIA_VIEW = "post.media_view"
    COMMENT_RECEIVE = "comment.receive"
    COMMENT_ACT = "comment.act"
    COMMENT_NUDGE = "comment.nudge"
    CALENDAR_IMPORT = "calendar.import"
    MEDIA_ENQUIRY = "media.enquiry"
    WEBSITE_BLOCK = "website.block"
    ACCOUNT_REQUEST = "account.request"
    ACCOUNT_DECIDE = "account.decide"
    ACCOUNT_RECORD = "account.record"
    ACCOUNT_UPDATE = "account.update"
    ACCOUNT_CHECK = "account.check"
    ACCOUNT_ANSWER = "account.answer"
    ACCOUNT_FLAG = "account.flag"
    WEBSITE_BLOCKED = "website.blocked"
    AUDIT_PRUNE = "audit.prune"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    KEYS_ROTATE = "keys.rotate"
    # A backup was taken of the whole installation, or one was restored into it.
    BACKUP_TAKE = "backup.take"
    BACKUP_RESTORE = "backup.restore"
    # Who is staff (staff_directory): learned from a platform, moved to another school of
    # theirs, gone (or back), and accounts refused as not staff.
    STAFF_LEARN = "staff.learn"
    STAFF_MOVE = "staff.move"
    STAFF_LEFT = "staff.left"
    STAFF_REFUSED = "staff.refused"


class AuditLog:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    def record(
        self,
        *,
        school_id: str,
        actor_id: str,
        action: AuditAction,
        target_type: str,
        target_id: str,
        detail: str = "",
    ) -> None:
        """Add an entry to the current transaction: it lands exactly when the change lands."""
        self._session.add(
            AuditEntry(
                at=self._now,
                school_id=school_id,
                actor_id=actor_id,
                action=action.value,
                target_type=target_type,
                target_id=target_id,
                detail=detail[:255],
            )
        )

    def about(
        self,
        target: Referenced,
        target_type: str,
        *,
        actor_id: str | None,
        action: AuditAction,
        detail: str = "",
    ) -> None:
        """An entry about one record, named by its reference and a few words of what was done
        (never what anyone wrote); no actor means the bot's own scheduled work."""
        self.record(
            school_id=target.school_id,
            actor_id=actor_id or SYSTEM_ACTOR,
            action=action,
            target_type=target_type,
            target_id=target.id,
            detail=f"{target.reference} {detail}".rstrip(),
        )

    async def read(
        self,
        *,
        school_id: str,
        actor: Person,
        target_type: str | None = None,
        target_id: str | None = None,
        limit: int | None = 200,
        export: bool = False,
    ) -> list[AuditEntry]:
        """The school's entries, newest first, for the DPO or Headteacher (exporting all of
        them: the DPO); reading the log is itself recorded."""
        require(
            actor,
            RecordsAction.EXPORT_AUDIT if export else RecordsAction.VIEW_AUDIT,
            school_id=school_id,
        )
        query = select(AuditEntry).where(AuditEntry.school_id == school_id)
        if target_type:
            query = query.where(AuditEntry.target_type == target_type)
        if target_id:
            query = query.where(AuditEntry.target_id == target_id)
        query = query.order_by(col(AuditEntry.id).desc())
        if limit is not None:
            query = query.limit(limit)
        entries = list((await self._session.execute(query)).scalars().all())
        self.record(
            school_id=school_id,
            actor_id=actor.id,
            action=AuditAction.AUDIT_EXPORT if export else AuditAction.AUDIT_VIEW,
            target_type="audit_log",
            target_id=f"{target_type or '*'}:{target_id or '*'}"[:64],
            detail=f"{len(entries)} entries",
        )
        return entries

    async def for_target(self, target_type: str, target_id: str) -> Sequence[AuditEntry]:
        result = await self._session.execute(
            select(AuditEntry)
            .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
            .order_by(col(AuditEntry.id))
        )
        return result.scalars().all()
