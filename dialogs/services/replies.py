"""A turn's replies: kept with the turn, sent in order, one conversation at a time.

Slack and Teams refuse messages in runs (429 with Retry-After, then 5xx), and their clients wait
and try again. A reply that lives only in memory while those retries wait is lost if the process
stops: the person's answer is saved, but they never see the next question. So every reply a
turn makes on a chat platform is written to the outbox in the turn's own transaction, held back
from the delivery worker for `LIVE_GRACE` while the turn sends it itself, and removed once the
platform has it. If the platform still refuses, the rest is released to the worker at once; if
the process stops, another process on its machine releases it at once (`release_orphans`),
and one elsewhere when the grace has passed.

A person must see replies in the order their turns made them, so a conversation is a lane: its
replies go out one at a time, and a turn that finds earlier replies of its lane still waiting
(refused, or left by a stopped process) sends them first.

What is cheap on the way: the earlier replies are read in the turn's own transaction, and a
sent reply's row is deleted a moment later together with those of the other replies sent
meanwhile (dialogs.conversations), rather than in a transaction of its own. Until then `Lanes`
remembers it, so nothing in this process sends it again; if the process stops first, it may be
sent once more. Delivery is at least once, never lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.keyed_locks import KeyedLocks
from dialogs.services.messages import Message
from dialogs.services.notifier import OutboxNotifier, mark_queued
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
    "release",
    "release_orphans",
    "waits_behind",
]

REPLY = "reply"
# Longer than a platform client's own retries can take (Slack waits out at most three
# Retry-After periods, Teams four tries with waits capped at a minute), so the worker never sends
# a reply that its turn is still trying to send.
LIVE_GRACE = timedelta(minutes=5)
_REMEMBERED = 4096  # sent replies remembered, so a turn that read one as owed does not resend

Post = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Lane:
    """One person's conversation on one platform: its replies go out one at a time, in order."""

    school_id: str
    person_id: str
    platform: str


class Lanes(KeyedLocks[Lane]):
    """Held while a lane's replies are sent, by its turn or by the delivery worker; remembers
    which replies this process has sent: every one whose row is still to be deleted (or being
    deleted), and the last few thousand besides. A sent reply whose row is still in the outbox
    is never taken as owed, however many replies were sent since."""

    def __init__(self) -> None:
        super().__init__()
        self._unforgotten: set[int] = set()
        self._forgetting: set[int] = set()
        self._recent: deque[int] = deque(maxlen=_REMEMBERED)
        self._recent_set: set[int] = set()

    def sent(self, row: int) -> None:
        self._unforgotten.add(row)
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(row)
        self._recent_set.add(row)

    def was_sent(self, row: int) -> bool:
        return row in self._recent_set or row in self._unforgotten or row in self._forgetting

    def unforgotten(self) -> bool:
        """Whether sent replies' rows are still to be deleted."""
        return bool(self._unforgotten)

    @asynccontextmanager
    async def forgetting(self) -> AsyncIterator[list[int]]:
        """The sent replies whose rows are to be deleted now, inside this block: once it ends,
        (the deletion committed) they are forgotten; if it fails, they are still to delete."""
        rows = sorted(self._unforgotten)
        self._unforgotten.clear()
        self._forgetting.update(rows)
        try:
            yield rows
        except BaseException:
            self._unforgotten.update(rows)
            raise
        finally:
            self._forgetting.difference_update(rows)


# What every turn with replies runs, built once (with the lane and the rest bound at execution),
# on the table rather than the mapped class: building these again each turn, and the ORM's bulk
# insert around the insert, cost more than running them.
_outbox = cast(Table, Notification.__table__)  # type: ignore[attr-defined]
_KEEP = insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True)
# A lane's replies still to deliver (one the worker gave up on holds up nothing), the lane
# bound at execution (`_lane`).
_IN_LANE = and_(
    _outbox.c.kind == REPLY,
    _outbox.c.school_id == bindparam("lane_school_id"),
    _outbox.c.person_id == bindparam("lane_person_id"),
    _outbox.c.platform == bindparam("lane_platform"),
    _outbox.c.delivered_at.is_(None),
    _outbox.c.escalated_at.is_(None),
)
_EARLIER = (
    sa_select(_outbox.c.id, _outbox.c.message)
    .where(
        _IN_LANE,
        _outbox.c.id < bindparam("first_own"),
        or_(_outbox.c.sender.is_(None), _outbox.c.sender == bindparam("this_process")),
    )
    .order_by(_outbox.c.id)
)


def _lane(lane: Lane) -> dict[str, str]:
    return {
        "lane_school_id": lane.school_id,
        "lane_person_id": lane.person_id,
        "lane_platform": lane.platform,
    }


def _kept(lane: Lane, message: Message, now: datetime) -> dict[str, Any]:
    """A reply's outbox row, held back while its turn sends it."""
    return {
        "school_id": lane.school_id,
        "person_id": lane.person_id,
        "kind": REPLY,
        "platform": lane.platform,
        "message": message.model_dump(mode="json"),
        "created_at": now,
        "next_attempt_at": now + LIVE_GRACE,
        "sender": this_process(),
    }


async def keep(
    session: AsyncSession, lane: Lane, messages: Sequence[Message], now: datetime, lanes: Lanes
) -> list[Message]:
    """Write a live turn's replies to the outbox, held back for the turn to send, and return
    what the turn is to send: its lane's earlier replies still waiting, then its own, each
    marked with its row. Earlier replies that another process is sending are left to it.

    The turn's own replies are marked from the ids the insert returns, not read back: only
    the earlier ones (almost always none) are read and decoded. No other row of the lane can
    come between the turn's own, since the turn holds its conversation's row."""
    if not messages:
        return []
    inserted = await session.execute(_KEEP, [_kept(lane, message, now) for message in messages])
    ids = [row_id for row_id in inserted.scalars() if row_id is not None]
    earlier = await session.execute(
        _EARLIER,
        {**_lane(lane), "first_own": min(ids), "this_process": this_process()},
    )
    waiting = [
        Message.model_validate(message).model_copy(update={"ledger": row_id})
        for row_id, message in earlier.all()
        if not lanes.was_sent(row_id)
    ]
    own = [m.model_copy(update={"ledger": i}) for m, i in zip(messages, ids, strict=True)]
    return [*waiting, *own]


async def forget(session: AsyncSession, rows: Sequence[int]) -> None:
    """Drop kept replies: delivered, or about to be queued again in another order."""
    if rows:
        await session.execute(delete(Notification).where(col(Notification.id).in_(rows)))


async def release(
    session: AsyncSession, lane: Lane, unsent: Sequence[Message], now: datetime
) -> None:
    """Hand what the platform refused to the delivery worker, now and in order."""
    kept = [m.ledger for m in unsent if m.ledger is not None]
    mark_queued(session)
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


async def waits_behind(session: AsyncSession, row: Notification, lanes: Lanes) -> bool:
    """A reply with an earlier one of its conversation still undelivered must wait for it (one
    this process has sent, whose row is still to be deleted, is delivered)."""
    lane = lane_of(row.kind, row.school_id, row.person_id, row.platform)
    if lane is None:
        return False
    earlier = await session.execute(
        sa_select(_outbox.c.id).where(_IN_LANE, _outbox.c.id < (row.id or 0)), _lane(lane)
    )
    return any(not lanes.was_sent(row_id) for (row_id,) in earlier.all())


def lane_of(kind: str, school_id: str, person_id: str | None, platform: str | None) -> Lane | None:
    """The lane of an outbox row, None for anything but a turn's reply (alerts, channel cards)."""
    if kind != REPLY or platform is None or person_id is None:
        return None
    return Lane(school_id, person_id, platform)
