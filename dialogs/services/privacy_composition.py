"""Which contexts take part in retention and subject access, and in what order.

privacy/ runs the rules and parts it is given and imports no context (every context imports its
audit log); this root, which may import every context, lists them. The order is part of what
the school sees: the sweep's counts, the sections of an export, the lines of an erasure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.services.accounts.personal_data import AccountsPersonalData
from dialogs.services.cases.personal_data import ReportsPersonalData
from dialogs.services.cases.retention import anonymise_closed_reports, remove_old_evidence
from dialogs.services.comments.personal_data import CommentsPersonalData
from dialogs.services.comments.retention import remove_answered_comments
from dialogs.services.evidence.personal_data import DraftFilesPersonalData
from dialogs.services.evidence.service import EvidenceService
from dialogs.services.people.personal_data import DirectoryPersonalData
from dialogs.services.people.retention import remove_unclaimed_held_messages
from dialogs.services.policy.personal_data import QuestionsPersonalData
from dialogs.services.posts.personal_data import PostsPersonalData
from dialogs.services.posts.retention import remove_finished_requests
from dialogs.services.privacy.retention import RetentionRule
from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PersonalData,
    PlannedErasure,
    Subject,
    SubjectAccessParts,
)
from dialogs.services.school.schools import School
from dialogs.services.unsent_personal_data import UndeliveredMessages, UnfinishedConversations

# Reports first, so their own evidence is counted with them and not again on its own.
RETENTION_RULES: tuple[RetentionRule, ...] = (
    anonymise_closed_reports,
    remove_old_evidence,
    remove_answered_comments,
    remove_finished_requests,
    remove_unclaimed_held_messages,
)


class RecordOfDecisions(PersonalData):
    """What they did on reports and on post requests, kept as one line of an erasure: it spans
    two contexts, so it is counted here from both their sections of the export."""

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        line = ErasureLine(
            "Their actions on reports, posts and comments",
            len(gathered["actions_on_reports"]) + len(gathered["post_decisions"]),
            False,
            "the record of decisions the school must be able to show",
        )
        return [PlannedErasure(line)]


def subject_access_parts(*, session: AsyncSession, evidence: EvidenceService) -> SubjectAccessParts:
    """The parts of a request for one unit of work: the export by context, and the erasure with
    what goes (drafts, draft files, unsent messages, questions, unsent posts) before what stays."""
    reports = ReportsPersonalData(session=session, evidence=evidence)
    posts = PostsPersonalData(session=session)
    questions = QuestionsPersonalData(session=session)
    conversations = UnfinishedConversations(session=session)
    undelivered = UndeliveredMessages(session=session)
    return SubjectAccessParts(
        export=(
            DirectoryPersonalData(session=session),
            reports,
            posts,
            CommentsPersonalData(session=session),
            AccountsPersonalData(session=session),
            questions,
            conversations,
            undelivered,
        ),
        erasure=(
            conversations,
            DraftFilesPersonalData(session=session),
            undelivered,
            questions,
            posts,
            reports,
            RecordOfDecisions(),
        ),
    )
