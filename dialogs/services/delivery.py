"""Delivering the outbox: notifications to people and case cards to channels.

Each notification is sent in its own transaction with its row locked (SKIP LOCKED), so several
processes can deliver side by side without sending anything twice, and one failing message
never holds up the rest. A failure is retried later with growing back-off; nothing is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.messages import Message
from dialogs.services.replies import Lanes, lane_of, waits_behind
from dialogs.services.schools import ChannelRef, Directory, Person, School
from storage.db import Database
from storage.models import ChannelPost, Notification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """Whom a channel post must alert (its message's `alert`, found in the school), and the
    channel it goes to, which may name a group to mention instead of each person."""

    people: tuple[Person, ...] = ()
    channel: ChannelRef = field(default_factory=ChannelRef)


NO_ALERT = Alert()


class Transport(Protocol):
    """One platform's way of reaching people and channels (implemented in bot/channels)."""

    name: str

    def reaches(self, person: Person) -> bool: ...

    def channel_for(self, school: School, purpose: str) -> str | None: ...

    async def send_to_person(self, person: Person, message: Message) -> bool:
        """Send, or return False when the person cannot be reached here yet (e.g. has never
        talked to the bot on this platform)."""
        ...

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str | None:
        """Post (or, given the earlier post's reference, update) and return the post's
        reference; None when the channel cannot be reached on this platform yet. `alert` names
        the people to mention, those this platform can reach."""
        ...


@dataclass(frozen=True)
class DeliveryResult:
    delivered: int = 0
    failed: int = 0
    unreachable: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


async def deliver_pending(
    *,
    db: Database,
    directory: Directory,
    transports: Sequence[Transport],
    now: datetime,
    limit: int = 200,
    lanes: Lanes | None = None,
) -> DeliveryResult:
    """Deliver what is due. A turn's reply is sent holding its conversation's lane (`lanes`,
    shared with the turns of this process) and only after that conversation's earlier replies,
    so a person never sees the next question before the one before it."""
    if not transports:
        return DeliveryResult()
    lanes = lanes or Lanes()
    async with db.session() as session:
        result = await session.execute(
            sa_select(
                col(Notification.id),
                col(Notification.kind),
                col(Notification.school_id),
                col(Notification.person_id),
                col(Notification.platform),
            )
            .where(
                col(Notification.delivered_at).is_(None),
                (col(Notification.next_attempt_at).is_(None))
                | (col(Notification.next_attempt_at) <= now),
            )
            .order_by(col(Notification.id))
            .limit(limit)
        )
        due = [(row[0], lane_of(*row[1:])) for row in result.all() if row[0] is not None]
    delivered = failed = unreachable = 0
    for notification_id, lane in due:
        if lane is None:
            outcome = await _deliver_one(db, directory, transports, notification_id, now)
        else:
            async with lanes.hold(lane):
                outcome = await _deliver_one(db, directory, transports, notification_id, now)
        delivered += outcome == "delivered"
        failed += outcome == "failed"
        unreachable += outcome == "unreachable"
    return DeliveryResult(delivered=delivered, failed=failed, unreachable=unreachable)


async def _deliver_one(
    db: Database,
    directory: Directory,
    transports: Sequence[Transport],
    notification_id: int,
    now: datetime,
) -> str:
    async with db.session() as session:
        row = (
            await session.execute(
                select(Notification)
                .where(col(Notification.id) == notification_id)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None or row.delivered_at is not None:
            return "skipped"  # another process has it, or it was delivered meanwhile
        if await waits_behind(session, row):
            return "skipped"  # its conversation's earlier reply goes first
        school = directory.school(row.school_id)
        if school is None:
            row.next_attempt_at, row.last_error = now + timedelta(days=1), "school not configured"
            return "unreachable"
        message = Message.model_validate(row.message)
        try:
            if row.channel_purpose:
                if await _superseded(session, row):
                    row.delivered_at, row.delivered_via = now, "superseded"
                    return "delivered"
                try:
                    sent = await _post_to_channels(session, row, school, message, transports, now)
                except PartialDelivery as partial:
                    # The posts that worked stay recorded (no rollback); retry the rest.
                    row.attempts += 1
                    row.next_attempt_at = now + _backoff(row.attempts)
                    row.last_error = str(partial)[:255]
                    log.warning("notification %s partly delivered: %s", row.id, partial)
                    return "failed"
            else:
                sent = await _send_to_person(row, school, message, transports)
        except Exception as exc:  # any platform failure: keep it and retry later
            row.attempts += 1
            row.next_attempt_at = now + _backoff(row.attempts)
            row.last_error = type(exc).__name__
            log.warning(
                "notification %s not delivered (attempt %d): %s",
                row.id,
                row.attempts,
                type(exc).__name__,
            )
            return "failed"
        if sent is None:
            # Nobody can be reached on any platform yet; the terminal shows it, and it is
            # looked at again later in case the person links an account.
            row.next_attempt_at = now + timedelta(hours=1)
            return "unreachable"
        row.delivered_at, row.delivered_via = now, sent
        return "delivered"


async def _superseded(session: AsyncSession, row: Notification) -> bool:
    """A newer card for the same subject is waiting, so this one need not be sent at all."""
    newer = await session.execute(
        select(Notification.id).where(
            Notification.subject == row.subject,
            Notification.channel_purpose == row.channel_purpose,
            col(Notification.id) > (row.id or 0),
        )
    )
    return newer.first() is not None


async def _send_to_person(
    row: Notification, school: School, message: Message, transports: Sequence[Transport]
) -> str | None:
    person = school.person(row.person_id or "")
    if person is None:
        return None
    for transport in transports:
        if row.platform is not None and transport.name != row.platform:
            continue  # a reply belongs to its own conversation (see Notification.platform)
        if transport.reaches(person) and await transport.send_to_person(person, message):
            return transport.name
    return None


async def _post_to_channels(
    session: AsyncSession,
    row: Notification,
    school: School,
    message: Message,
    transports: Sequence[Transport],
    now: datetime,
) -> str | None:
    assert row.channel_purpose is not None
    alert = Alert(
        people=tuple(p for i in message.alert if (p := school.person(i)) is not None),
        channel=getattr(school.channels, row.channel_purpose, None) or ChannelRef(),
    )
    sent_via: list[str] = []
    failures: list[str] = []
    for transport in transports:
        channel_ref = transport.channel_for(school, row.channel_purpose)
        if channel_ref is None:
            continue
        post = None
        if row.subject:
            post = (
                await session.execute(
                    select(ChannelPost).where(
                        ChannelPost.subject == row.subject,
                        ChannelPost.platform == transport.name,
                        ChannelPost.channel_ref == channel_ref,
                    )
                )
            ).scalar_one_or_none()
        try:
            reference = await transport.post_to_channel(
                channel_ref, message, replace=post.message_ref if post else None, alert=alert
            )
        except Exception as exc:
            # Keep what the other platforms posted (so a retry updates rather than repeats)
            # and try this one again later.
            failures.append(f"{transport.name}: {type(exc).__name__}")
            continue
        if reference is None:
            continue
        if post is not None:
            post.message_ref, post.updated_at = reference, now
        elif row.subject:
            session.add(
                ChannelPost(
                    subject=row.subject,
                    platform=transport.name,
                    channel_ref=channel_ref,
                    message_ref=reference,
                    updated_at=now,
                )
            )
        sent_via.append(transport.name)
    if failures:
        raise PartialDelivery("; ".join(failures))
    return ",".join(sent_via) or None


class PartialDelivery(Exception):
    """At least one platform failed; what the others posted is kept."""
