"""A turn's replies: kept with the turn, sent in order, one conversation at a time.

Slack and Teams refuse messages in runs (429 with Retry-After, then 5xx), and their clients wait
and try again. A reply that lives only in memory while those retries wait is lost if the process
stops: the person's answer is saved, but they never see the next question. So every reply a
turn makes on a chat platform is written to the outbox in the turn's own transaction, held back
from the delivery worker for `LIVE_GRACE` while the turn sends it itself, and removed once the
platform has it. If the platform still refuses, the rest is released to the worker at once; if
the process stops, the worker sends it when the grace has passed.

A person must see replies in the order their turns made them, so a conversation is a lane: its
replies go out one at a time, and none is sent while an earlier one of the same conversation is
still waiting. The turn that finds earlier replies waiting sends them first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.keyed_locks import KeyedLocks
from dialogs.messages import Message
from dialogs.services.notifier import OutboxNotifier
from storage.models import Notification
from storage.processes import this_process, was_stopped

__all__ = [
    "LIVE_GRACE",
    "REPLY",
    "Lane",
    "Lanes",
    "forget",
    "keep",
    "lane_of",
    "owed",
    "release_orphans",
    "settle",
    "waits_behind",
]

REPLY = "reply"
# Longer than a platform client's own retries can take (Slack waits out at most three
# Retry-After periods, Teams four tries with waits capped at a minute), so the worker never sends
# a reply that its turn is still trying to send.
LIVE_GRACE = timedelta(minutes=5)

Post = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Lane:
    """One person's conversation on one platform: its replies go out one at a time, in order."""

    school_id: str
    person_id: str
    platform: str


class Lanes(KeyedLocks[Lane]):
    """Held while a lane's replies are sent, by its turn or by the delivery worker."""


def _in_lane(lane: Lane) -> ColumnElement[bool]:
    """The lane's replies still to deliver (one the worker gave up on holds up nothing)."""
    return and_(
        col(Notification.kind) == REPLY,
        col(Notification.school_id) == lane.school_id,
        col(Notification.person_id) == lane.person_id,
        col(Notification.platform) == lane.platform,
        col(Notification.delivered_at).is_(None),
        col(Notification.escalated_at).is_(None),
    )


def _kept(lane: Lane, message: Message, now: datetime) -> Notification:
    """A reply's outbox row, held back while its turn sends it."""
    return Notification(
        school_id=lane.school_id,
        person_id=lane.person_id,
        kind=REPLY,
        platform=lane.platform,
        message=message.model_dump(mode="json"),
        created_at=now,
        next_attempt_at=now + LIVE_GRACE,
        sender=this_process(),
    )


async def keep(
    session: AsyncSession, lane: Lane, messages: Sequence[Message], now: datetime
) -> list[Message]:
    """Write a live turn's replies to the outbox, held back for the turn to send; returns them
    marked with their rows."""
    rows = [_kept(lane, message, now) for message in messages]
    session.add_all(rows)
    await session.flush()
    return [m.model_copy(update={"ledger": r.id}) for m, r in zip(messages, rows, strict=True)]


async def owed(session: AsyncSession, lane: Lane, up_to: int | None) -> list[Message]:
    """The lane's replies not yet delivered, up to row `up_to`, oldest first: those of earlier
    turns (a failed send, a stopped process) go before a turn's own."""
    query = select(Notification).where(_in_lane(lane)).order_by(col(Notification.id))
    if up_to is not None:
        query = query.where(col(Notification.id) <= up_to)
    rows = (await session.execute(query)).scalars().all()
    return [Message.model_validate(r.message).model_copy(update={"ledger": r.id}) for r in rows]


async def forget(session: AsyncSession, rows: Sequence[int]) -> None:
    """Drop kept replies: delivered, or about to be queued again in another order."""
    if rows:
        await session.execute(delete(Notification).where(col(Notification.id).in_(rows)))


async def settle(
    session: AsyncSession,
    lane: Lane,
    *,
    sent: Sequence[int],
    unsent: Sequence[Message],
    now: datetime,
) -> None:
    """After a send: forget what the platform has (nothing of a reply is kept once it is shown)
    and hand what it refused to the delivery worker now, in order."""
    await forget(session, sent)
    kept = [m.ledger for m in unsent if m.ledger is not None]
    if kept:
        await session.execute(
            update(Notification)
            .where(col(Notification.id).in_(kept))
            .values(next_attempt_at=now, sender=None)
        )
    outbox = OutboxNotifier(session, now)
    for message in unsent:
        if message.ledger is None:  # made where the outbox could not be written
            outbox.reply(
                school_id=lane.school_id,
                person_id=lane.person_id,
                platform=lane.platform,
                message=message,
            )


async def release_orphans(session: AsyncSession, now: datetime) -> int:
    """Hand the delivery worker, now, the replies that a stopped process on this machine was
    sending (it was killed or restarted mid-send); returns how many. A reply held by a process
    on another host waits out its grace instead, since that process cannot be seen from here."""
    held = await session.execute(
        select(Notification.id, Notification.sender).where(
            col(Notification.kind) == REPLY,
            col(Notification.delivered_at).is_(None),
            col(Notification.sender).is_not(None),
            col(Notification.next_attempt_at) > now,
        )
    )
    orphans = [row_id for row_id, sender in held.all() if sender and was_stopped(sender)]
    if orphans:
        await session.execute(
            update(Notification)
            .where(col(Notification.id).in_(orphans))
            .values(next_attempt_at=now, sender=None)
        )
    return len(orphans)


async def waits_behind(session: AsyncSession, row: Notification) -> bool:
    """A reply with an earlier one of its conversation still undelivered must wait for it."""
    lane = lane_of(row.kind, row.school_id, row.person_id, row.platform)
    if lane is None:
        return False
    earlier = await session.execute(
        select(Notification.id).where(_in_lane(lane), col(Notification.id) < (row.id or 0))
    )
    return earlier.first() is not None


def lane_of(kind: str, school_id: str, person_id: str | None, platform: str | None) -> Lane | None:
    """The lane of an outbox row, None for anything but a turn's reply (alerts, channel cards)."""
    if kind != REPLY or platform is None or person_id is None:
        return None
    return Lane(school_id, person_id, platform)
