"""What post requests hold about a person, for a subject access request (privacy.subject_access).

The requests they wrote and the decisions they took on others'. On request, the requests that
never went out (rejected, withdrawn, expired) are erased with their decisions and files; the
rest is the record of what the school published and who approved it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from dialogs.services.posts.card import PostStatus
from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PlannedErasure,
    StoredPersonalData,
    Subject,
    when,
)
from dialogs.services.school.schools import School
from storage.models import Evidence, PostDecision, PostRequest

_UNSENT_POSTS = [PostStatus.REJECTED.value, PostStatus.WITHDRAWN.value, PostStatus.EXPIRED.value]


class PostsPersonalData(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        pid = subject.person_id
        requests = await self._session.execute(
            select(PostRequest).where(
                PostRequest.school_id == school.id, PostRequest.author_id == pid
            )
        )
        decisions = await self._session.execute(
            select(PostDecision).where(PostDecision.actor_id == pid)
        )
        return {
            "post_requests": [
                {
                    "reference": r.reference,
                    "status": r.status,
                    "text": r.text,
                    "accounts": r.accounts,
                    "planned_at": when(r.planned_at),
                    "created_at": when(r.created_at),
                }
                for r in requests.scalars().all()
            ],
            "post_decisions": [
                {"request_id": d.request_id, "at": when(d.at), "action": d.action, "why": d.reason}
                for d in decisions.scalars().all()
            ],
        }

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        found = await self._session.execute(
            select(PostRequest).where(
                PostRequest.school_id == school.id,
                PostRequest.author_id == subject.person_id,
                col(PostRequest.status).in_(_UNSENT_POSTS),
            )
        )
        unsent = list(found.scalars().all())

        async def erase() -> list[str]:
            files: list[str] = []
            for request in unsent:
                await self._session.execute(
                    delete(PostDecision).where(col(PostDecision.request_id) == request.id)
                )
                attached = await self._session.execute(
                    select(Evidence).where(Evidence.post_request_id == request.id)
                )
                for record in attached.scalars().all():
                    files.append(record.stored_name)
                    await self._session.delete(record)
                await self._session.delete(request)
            return files

        line = ErasureLine("Post requests that never went out", len(unsent), True, "not published")
        return [PlannedErasure(line, erase)]
