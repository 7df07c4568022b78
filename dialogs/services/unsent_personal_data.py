"""What the conversation layer and the outbox hold about a person, for a subject access
request (privacy.subject_access): conversations they have not finished, and messages to them
not yet delivered. Both are held only for their convenience, so on request they are erased.

They sit at this root, not in a context: the conversations (`dialogs.conversations`) and the
outbox (`outbox`) are the layer above the contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from dialogs.services.privacy.subject_access import (
    ErasureLine,
    PlannedErasure,
    StoredPersonalData,
    Subject,
    when,
)
from dialogs.services.school.schools import School
from storage.models import Conversation, Notification


class UnfinishedConversations(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        return {
            "conversations_in_progress": [
                {
                    "channel": c.channel,
                    "dialog": c.dialog,
                    "answers": (c.state or {}).get("answers"),
                }
                for c in await self._drafts(school, subject)
                if c.state
            ]
        }

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        drafts = await self._drafts(school, subject)

        async def erase() -> list[str]:
            for row in drafts:
                await self._session.delete(row)
            return []

        line = ErasureLine(
            "Unfinished conversations", len(drafts), True, "held only to resume them"
        )
        return [PlannedErasure(line, erase)]

    async def _drafts(self, school: School, subject: Subject) -> list[Conversation]:
        found = await self._session.execute(
            select(Conversation).where(
                Conversation.school_id == school.id, Conversation.person_id == subject.person_id
            )
        )
        return list(found.scalars().all())


class UndeliveredMessages(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        return {
            "messages_waiting": [
                {"kind": n.kind, "created_at": when(n.created_at), "message": n.message}
                for n in await self._waiting(school, subject)
            ]
        }

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        waiting = await self._waiting(school, subject)

        async def erase() -> list[str]:
            ids = [n.id for n in waiting if n.id is not None]
            if ids:
                await self._session.execute(
                    delete(Notification).where(col(Notification.id).in_(ids))
                )
            return []

        line = ErasureLine("Messages not yet delivered", len(waiting), True, "not yet read")
        return [PlannedErasure(line, erase)]

    async def _waiting(self, school: School, subject: Subject) -> list[Notification]:
        found = await self._session.execute(
            select(Notification).where(
                Notification.school_id == school.id,
                Notification.person_id == subject.person_id,
                col(Notification.delivered_at).is_(None),
            )
        )
        return list(found.scalars().all())
