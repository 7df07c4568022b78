"""The services for one unit of work, sharing one transaction and one notion of "now".

Each service is built, and its module imported, when a unit of work first uses it: one that
only answers from the policy (`policybot ask --school ID`) imports neither the evidence checks
(Pillow, pypdf) nor the comment deadlines (the holiday calendars), which took a quarter of
that command's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from dialogs.services.notifier import Notifier, OutboxNotifier
from dialogs.services.observer import Observer, Observers
from dialogs.services.policy.service import PolicySearches, PolicyService
from dialogs.services.privacy.audit import AuditLog
from dialogs.services.privacy.audited import Audited, Notifying

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from dialogs.services.accounts.checks import AccountCheckService
    from dialogs.services.accounts.register import AccountRegister
    from dialogs.services.accounts.requests import AccountRequestService
    from dialogs.services.accounts.website_reports import WebsiteReportService
    from dialogs.services.cases.service import CaseService
    from dialogs.services.comments.service import CommentService
    from dialogs.services.evidence.service import DraftAttachments, EvidenceService
    from dialogs.services.evidence.upload_limits import UploadLimits
    from dialogs.services.posts.consent import ConsentRegister
    from dialogs.services.posts.service import PostRequestService
    from dialogs.services.privacy.retention import RetentionService
    from dialogs.services.privacy.subject_access import SubjectAccessService
    from dialogs.services.school.schools import Directory, Person, School
    from storage.blobstore import BlobStore


@dataclass
class Services:
    session: AsyncSession
    directory: Directory
    blobs: BlobStore
    limits: UploadLimits
    now: datetime
    notifier_override: Notifier | None = field(default=None)
    # Shared by every unit of work in a process, so a policy is indexed once, not per message.
    policy_searches: PolicySearches = field(default_factory=PolicySearches)
    # Who is told how sure each policy answer was (the server's metrics; nobody by default).
    observer: Observer = field(default_factory=Observers)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.session, self.now)

    @cached_property
    def notifier(self) -> Notifier:
        return self.notifier_override or OutboxNotifier(self.session, self.now)

    @cached_property
    def audited(self) -> Audited:
        """What every service of this unit of work shares (privacy.audited)."""
        return Audited(session=self.session, audit=self.audit, now=self.now)

    @cached_property
    def notifying(self) -> Notifying:
        return Notifying(**self.audited, notifier=self.notifier)

    @cached_property
    def evidence(self) -> EvidenceService:
        from dialogs.services.evidence.service import EvidenceService

        return EvidenceService(blobs=self.blobs, limits=self.limits, **self.audited)

    @cached_property
    def cases(self) -> CaseService:
        from dialogs.services.cases.service import CaseService

        return CaseService(evidence=self.evidence, **self.notifying)

    @cached_property
    def consent(self) -> ConsentRegister:
        from dialogs.services.posts.consent import ConsentRegister

        return ConsentRegister(**self.audited)

    @cached_property
    def register(self) -> AccountRegister:
        from dialogs.services.accounts.register import AccountRegister

        return AccountRegister(**self.audited)

    @cached_property
    def account_checks(self) -> AccountCheckService:
        from dialogs.services.accounts.checks import AccountCheckService

        return AccountCheckService(register=self.register, activity=self.posts, **self.notifying)

    @cached_property
    def posts(self) -> PostRequestService:
        from dialogs.services.posts.service import PostRequestService

        return PostRequestService(register=self.register, **self.notifying)

    @cached_property
    def accounts(self) -> AccountRequestService:
        from dialogs.services.accounts.requests import AccountRequestService

        return AccountRequestService(register=self.register, **self.notifying)

    @cached_property
    def comments(self) -> CommentService:
        from dialogs.services.comments.service import CommentService

        schools = self.directory.schools
        return CommentService(schools=schools, register=self.register, **self.notifying)

    @cached_property
    def subject_access(self) -> SubjectAccessService:
        from dialogs.services.privacy.subject_access import SubjectAccessService
        from dialogs.services.privacy_composition import subject_access_parts

        parts = subject_access_parts(session=self.session, evidence=self.evidence)
        return SubjectAccessService(parts=parts, **self.audited)

    @cached_property
    def retention(self) -> RetentionService:
        from dialogs.services.privacy.retention import RetentionService
        from dialogs.services.privacy_composition import RETENTION_RULES

        return RetentionService(rules=RETENTION_RULES, **self.audited)

    @cached_property
    def websites(self) -> WebsiteReportService:
        from dialogs.services.accounts.website_reports import WebsiteReportService

        return WebsiteReportService(**self.notifying)

    @cached_property
    def policies(self) -> PolicyService:
        return PolicyService(
            searches=self.policy_searches, observer=self.observer, **self.notifying
        )

    def attachments_for(self, person: Person, school: School, *, draft_id: str) -> DraftAttachments:
        from dialogs.services.evidence.service import DraftAttachments

        return DraftAttachments(
            service=self.evidence,
            school_id=school.id,
            person_id=person.id,
            draft_key=draft_id,
        )
