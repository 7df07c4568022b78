"""How services reach people without knowing any platform.

Services call a Notifier; the one wired in by default writes each message to the outbox table in
the same transaction as the change it announces, and channels deliver from there. So an alert
is never lost because Slack or Teams was down, or the process died, at the wrong moment.

A session that queued something is marked (`mark_queued`), and the composition root wakes the
delivery worker when such a session commits (storage.db.Database.after_commit): the worker
runs for what was queued, not after every turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.messages import Message
from storage.models import Notification


class Notifier(Protocol):
    def notify(
        self,
        *,
        school_id: str,
        person_id: str,
        kind: str,
        message: Message,
        on_behalf_of: str | None = None,
    ) -> None:
        """Send to a person privately. `on_behalf_of` is whoever is waiting on the message (the
        reporter of an urgent alert): they are told if it cannot be delivered."""

    def notify_channel(
        self, *, school_id: str, purpose: str, subject: str, kind: str, message: Message
    ) -> None:
        """Post to a school's channel (e.g. "safeguarding"); a later message with the same
        subject replaces the earlier post."""


_QUEUED = "policybot.outbox.queued"


def mark_queued(session: AsyncSession) -> None:
    """This unit of work leaves something for the delivery worker once it commits."""
    session.info[_QUEUED] = True


def queued(info: dict[str, Any]) -> bool:
    """Whether a committed unit of work (its session's `info`) left anything to deliver."""
    return bool(info.get(_QUEUED))


class OutboxNotifier:
    """A Notifier that queues messages durably for channels to deliver."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    def _add(self, row: Notification) -> None:
        self._session.add(row)
        mark_queued(self._session)

    def notify(
        self,
        *,
        school_id: str,
        person_id: str,
        kind: str,
        message: Message,
        on_behalf_of: str | None = None,
    ) -> None:
        self._add(
            Notification(
                school_id=school_id,
                person_id=person_id,
                kind=kind,
                message=message.model_dump(mode="json"),
                created_at=self._now,
                on_behalf_of=on_behalf_of,
            )
        )

    def reply(self, *, school_id: str, person_id: str, platform: str, message: Message) -> None:
        """A turn's reply that could not be sent at once: for the person's conversation on
        that platform, never another (its buttons answer that conversation's question)."""
        self._add(
            Notification(
                school_id=school_id,
                person_id=person_id,
                kind="reply",
                platform=platform,
                message=message.model_dump(mode="json"),
                created_at=self._now,
            )
        )

    def notify_channel(
        self, *, school_id: str, purpose: str, subject: str, kind: str, message: Message
    ) -> None:
        self._add(
            Notification(
                school_id=school_id,
                channel_purpose=purpose,
                subject=subject,
                kind=kind,
                message=message.model_dump(mode="json"),
                created_at=self._now,
            )
        )


async def take_undelivered(
    session: AsyncSession, *, school_id: str, person_id: str, via: str, now: datetime
) -> Sequence[Message]:
    """Claim a person's waiting messages for one channel and mark them delivered.

    The caller shows them in the same transaction, so a crash before commit leaves them waiting.
    """
    result = await session.execute(
        select(Notification)
        .where(
            Notification.school_id == school_id,
            Notification.person_id == person_id,
            col(Notification.delivered_at).is_(None),
            col(Notification.platform).is_(None) | (col(Notification.platform) == via),
        )
        .order_by(col(Notification.id))
        .with_for_update(skip_locked=True)
    )
    rows = result.scalars().all()
    for row in rows:
        row.delivered_at = now
        row.delivered_via = via
    return [Message.model_validate(row.message) for row in rows]
