"""Delivering the outbox: notifications to people and case cards to channels.

Each notification is sent in its own transaction with its row locked (SKIP LOCKED), so several
processes can deliver side by side without sending anything twice, and one failing message
never holds up the rest. A failure is retried later with growing back-off, a bounded number of
times; then it is escalated (logged, listed by `policybot deliveries`) rather than tried forever.

An urgent alert for someone the bot cannot reach privately (they have no private chat on any
platform and one cannot be opened) is not left waiting in silence: the school's safeguarding
channel is told that an alert for them is waiting, without any detail of it, and whoever the
alert is on behalf of (the reporter) is told the truth. Both happen again at escalation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from dialogs.services.messages import Message, MessageKind
from dialogs.services.replies import (
    Lanes,
    forget,
    lane_of,
    release_orphans,
    waits_behind,
)
from dialogs.services.school.schools import ChannelRef, Directory, Person, Role, School
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
    escalated: int = 0


# Attempts before a message is escalated instead of tried again: with the back-off below the
# last one is about an hour after the first.
ESCALATE_AFTER = 8
# Private alerts that must not wait unseen when their recipient cannot be reached: the
# safeguarding channel is told (without details), and so is whoever they are on behalf of.
URGENT_KINDS = frozenset({"case.urgent", "case.new", "case.card", "policy_question"})
UNREACHABLE = "not reachable privately on any platform"
CHANNEL_UNREACHABLE = "channel not reachable on any platform yet"
FALLBACK_KIND = "delivery.fallback"
UNDELIVERED_KIND = "delivery.undelivered"

_ROLE_NAMES = (
    (Role.SAFEGUARDING_LEAD, "designated safeguarding lead"),
    (Role.DEPUTY_SAFEGUARDING_LEAD, "deputy safeguarding lead"),
    (Role.TRUST_SAFEGUARDING_LEAD, "trust safeguarding lead"),
    (Role.POLICY_OWNER, "policy owner"),
    (Role.HEADTEACHER, "headteacher"),
)


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
    total = DeliveryResult()
    # A second pass sends at once what the first queued for the safeguarding channel about an
    # alert that could not be delivered privately: it is urgent too.
    for tidy in (True, False):
        result = await _deliver_round(db, directory, transports, now, limit, lanes, tidy=tidy)
        total = DeliveryResult(
            delivered=total.delivered + result.delivered,
            failed=total.failed + result.failed,
            unreachable=total.unreachable + result.unreachable,
            escalated=total.escalated + result.escalated,
        )
        if not result.queued:
            break
    return total


@dataclass(frozen=True)
class _Round(DeliveryResult):
    queued: int = 0


async def _deliver_round(
    db: Database,
    directory: Directory,
    transports: Sequence[Transport],
    now: datetime,
    limit: int,
    lanes: Lanes,
    *,
    tidy: bool,
) -> _Round:
    async with contextlib.AsyncExitStack() as stack:
        # Replies this process's turns have sent are forgotten, and those a stopped process was
        # sending are released, before the due ones are chosen, in the same transaction; the
        # sent ones count as sent until it has committed (Lanes.forgetting).
        sent = await stack.enter_async_context(lanes.forgetting()) if tidy else []
        session = await stack.enter_async_context(db.session())
        if tidy:
            await forget(session, sent)
            orphans = await release_orphans(session, now)
            if orphans:
                log.info("%d replies left by a stopped process are sent now", orphans)
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
                col(Notification.escalated_at).is_(None),
                (col(Notification.next_attempt_at).is_(None))
                | (col(Notification.next_attempt_at) <= now),
            )
            .order_by(col(Notification.id))
            .limit(limit)
        )
        due = [(row[0], lane_of(*row[1:])) for row in result.all() if row[0] is not None]
    delivered = failed = unreachable = escalated = queued = 0
    for notification_id, lane in due:
        if lane is None:
            outcome, escalating, queuing = await _deliver_one(
                db, directory, transports, notification_id, now, lanes
            )
        else:
            async with lanes.hold(lane):
                outcome, escalating, queuing = await _deliver_one(
                    db, directory, transports, notification_id, now, lanes
                )
        delivered += outcome == "delivered"
        failed += outcome == "failed"
        unreachable += outcome == "unreachable"
        escalated += escalating
        queued += queuing
    return _Round(
        delivered=delivered,
        failed=failed,
        unreachable=unreachable,
        escalated=escalated,
        queued=queued,
    )


async def _deliver_one(
    db: Database,
    directory: Directory,
    transports: Sequence[Transport],
    notification_id: int,
    now: datetime,
    lanes: Lanes,
) -> tuple[str, bool, int]:
    """Try one message; returns its outcome, whether it was escalated, and how many messages
    were queued about it (for the safeguarding channel, or whoever waits on it)."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(Notification)
                .where(col(Notification.id) == notification_id)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None or row.delivered_at is not None or row.escalated_at is not None:
            return "skipped", False, 0  # another process has it, or it was settled meanwhile
        if await waits_behind(session, row, lanes):
            return "skipped", False, 0  # its conversation's earlier reply goes first
        school = directory.school(row.school_id)
        if school is None:
            row.next_attempt_at, row.last_error = now + timedelta(days=1), "school not configured"
            return "unreachable", False, 0
        message = Message.model_validate(row.message)
        try:
            if row.channel_purpose:
                if await _superseded(session, row):
                    row.delivered_at, row.delivered_via = now, "superseded"
                    return "delivered", False, 0
                try:
                    sent = await _post_to_channels(session, row, school, message, transports, now)
                except PartialDelivery as partial:
                    # The posts that worked stay recorded (no rollback); retry the rest.
                    log.warning("notification %s partly delivered: %s", row.id, partial)
                    return "failed", *_try_again(session, row, school, str(partial), now)
            else:
                sent = await _send_to_person(row, school, message, transports)
        except Exception as exc:  # any platform failure: keep it and retry later
            log.warning(
                "notification %s not delivered (attempt %d): %s",
                row.id,
                row.attempts + 1,
                type(exc).__name__,
            )
            return "failed", *_try_again(session, row, school, type(exc).__name__, now)
        if sent is None:
            # Nobody can be reached on any platform: looked at again later in case the person
            # links an account or opens a chat with the bot, and meanwhile someone is told.
            first = row.last_error != UNREACHABLE
            error = UNREACHABLE if row.person_id else CHANNEL_UNREACHABLE
            escalating, queued = _try_again(session, row, school, error, now)
            if first and not escalating and _urgent(row):
                log.warning(
                    "notification %s (%s) for %s: %s; the safeguarding channel is told",
                    row.id,
                    row.kind,
                    addressee(row),
                    UNREACHABLE,
                )
                queued += _tell_others(session, row, school, now, escalated=False)
            return "unreachable", escalating, queued
        if row.attempts and row.last_error == UNREACHABLE and _urgent(row):
            # It was reported as stuck in the channel: say it has arrived after all.
            _fallback(session, row, school, now, arrived=sent)
            queued = 1
        else:
            queued = 0
        row.delivered_at, row.delivered_via = now, sent
        return "delivered", False, queued


# Messages for whoever made a report: their question from the lead, news of its progress.
TO_REPORTER_KINDS = frozenset({"case.question", "case.status"})


def addressee(row: Notification) -> str:
    """Who a message is for, as the log and `policybot deliveries` may say it: a reporter's
    messages name nobody, since saying whom they are for would say who reported (an
    anonymous reporter chose that nobody may know)."""
    if row.person_id is None:
        return f"#{row.channel_purpose}"
    if row.kind in TO_REPORTER_KINDS:
        return "a reporter"
    return row.person_id


def _urgent(row: Notification) -> bool:
    return row.person_id is not None and row.kind in URGENT_KINDS


def _try_again(
    session: AsyncSession, row: Notification, school: School, error: str, now: datetime
) -> tuple[bool, int]:
    """Count the failed attempt and schedule the next, or escalate after the last; returns
    whether it escalated and how many messages that queued."""
    row.attempts += 1
    row.last_error = error[:255]
    if row.attempts < ESCALATE_AFTER:
        row.next_attempt_at = now + _backoff(row.attempts)
        return False, 0
    row.escalated_at, row.next_attempt_at = now, None
    log.error(
        "notification %s (%s) for %s escalated after %d attempts: %s",
        row.id,
        row.kind,
        addressee(row),
        row.attempts,
        row.last_error,
    )
    if not _urgent(row):
        return True, 0
    return True, _tell_others(session, row, school, now, escalated=True)


def _tell_others(
    session: AsyncSession, row: Notification, school: School, now: datetime, *, escalated: bool
) -> int:
    """An urgent alert is stuck: the safeguarding channel hears that one waits (and for whom,
    nothing more), and whoever it is on behalf of hears that it has not arrived."""
    _fallback(session, row, school, now, arrived=None, escalated=escalated)
    queued = 1
    waiting = school.person(row.on_behalf_of) if row.on_behalf_of else None
    person = school.person(row.person_id or "")
    if waiting is not None and person is not None and waiting.id != person.id:
        session.add(
            Notification(
                school_id=school.id,
                person_id=waiting.id,
                kind=UNDELIVERED_KIND,
                message=_undelivered(row, person, escalated=escalated).model_dump(mode="json"),
                created_at=now,
            )
        )
        queued += 1
    return queued


def _role_of(person: Person, kind: str) -> str:
    """The role the alert is for: a headteacher who owns the policy gets its questions as its
    owner, and reports as the safeguarding lead."""
    owner = kind == "policy_question" and Role.POLICY_OWNER in person.roles
    if owner:
        return "policy owner"
    for role, name in _ROLE_NAMES:
        if role in person.roles:
            return name
    return "member of staff"


def _what(row: Notification) -> str:
    if row.kind == "policy_question":
        return "A question about the social media policy"
    return "An urgent safeguarding alert"


def _fallback(
    session: AsyncSession,
    row: Notification,
    school: School,
    now: datetime,
    *,
    arrived: str | None,
    escalated: bool = False,
) -> None:
    """The channel's card about someone's undelivered alerts: who must look, never what it
    says, who reported or who is affected."""
    person = school.person(row.person_id or "")
    who = f"{person.name} ({_role_of(person, row.kind)})" if person else "someone"
    name = person.name if person else "they"
    if arrived is not None:
        message = Message(
            kind=MessageKind.INFO,
            title="A waiting alert has now been delivered",
            text=f"{_what(row)} for {who} has now reached them privately. Thank you.",
        )
    elif escalated:
        message = Message(
            kind=MessageKind.URGENT,
            title="An alert could not be delivered: please act",
            text=f"{_what(row)} for {who} still could not be delivered to them privately after "
            f"{row.attempts} attempts, and policybot has stopped trying. Please contact {name} "
            "another way now (by phone if it is urgent) and ask them to open a private chat with "
            "policybot. No details are shown here, to protect the people involved.",
        )
    else:
        message = Message(
            kind=MessageKind.URGENT,
            title="An alert is waiting: please check",
            text=f"{_what(row)} for {who} could not be delivered to them privately: policybot "
            f"cannot reach them in a private chat. {name}: please open a private chat with "
            f"policybot so it can be delivered. Everyone else: please let {name} know another "
            "way. No details are shown here, to protect the people involved.",
        )
    session.add(
        Notification(
            school_id=school.id,
            channel_purpose="safeguarding",
            subject=_fallback_subject(school, row.person_id or ""),
            kind=FALLBACK_KIND,
            message=message.model_dump(mode="json"),
            created_at=now,
        )
    )


def _fallback_subject(school: School, person_id: str) -> str:
    """One card per person whose alerts are stuck, updated in place as things change."""
    digest = hashlib.sha256(f"{school.id}|{person_id}".encode()).hexdigest()[:24]
    return f"undelivered:{digest}"


def _undelivered(row: Notification, person: Person, *, escalated: bool) -> Message:
    """What the person waiting on an alert is told when it has not reached its recipient."""
    if row.kind == "policy_question":
        what, then = "your question", "You can also ask them directly."
    else:
        what = "your alert" if row.kind == "case.urgent" else "your report"
        then = (
            "If anyone is in immediate danger, call 999 now. You can also contact them or "
            "another senior leader directly."
        )
    if escalated:
        text = (
            f"I still could not deliver {what} to {person.name} privately, and I have stopped "
            "trying. The safeguarding team's channel has been asked to contact them another way. "
        )
    else:
        text = (
            f"I could not deliver {what} to {person.name} privately yet. I have asked the "
            "safeguarding team's channel to let them know (without any details), and I will "
            "keep trying. "
        )
    return Message(
        kind=MessageKind.URGENT if row.kind == "case.urgent" else MessageKind.NOTIFICATION,
        title=f"Not delivered yet: {what}" if not escalated else f"Not delivered: {what}",
        text=text + then,
    )


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
    failures: list[Exception] = []
    for transport in transports:
        if row.platform is not None and transport.name != row.platform:
            continue  # a reply belongs to its own conversation (see Notification.platform)
        if not transport.reaches(person):
            continue
        try:
            if await transport.send_to_person(person, message):
                return transport.name
        except Exception as exc:  # one platform failing must not keep the others from trying
            failures.append(exc)
    if failures:
        raise failures[0]
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


@dataclass(frozen=True)
class Stuck:
    """How many messages are not delivered after failing: still retried, or escalated."""

    retrying: int
    escalated: int


@dataclass(frozen=True)
class Waiting:
    """The outbox's depth, for monitoring: messages queued for the delivery worker (and when
    the oldest of them was queued), and turns' replies their own turn holds while it sends them
    (dialogs.services.replies; deleted once sent, at the worker's next round)."""

    queued: int
    sending: int
    oldest_queued: datetime | None


async def waiting(db: Database) -> Waiting:
    held = col(Notification.sender).is_not(None)
    async with db.session() as session:
        rows = await session.execute(
            sa_select(held, func.count(), func.min(col(Notification.created_at)))
            .where(
                col(Notification.delivered_at).is_(None),
                col(Notification.escalated_at).is_(None),
            )
            .group_by(held)
        )
        found = {bool(is_held): (int(count), oldest) for is_held, count, oldest in rows.all()}
    queued, oldest = found.get(False, (0, None))
    return Waiting(queued=queued, sending=found.get(True, (0, None))[0], oldest_queued=oldest)


async def stuck(db: Database) -> Stuck:
    async with db.session() as session:
        rows = await session.execute(
            select(col(Notification.escalated_at).is_(None), func.count())
            .where(col(Notification.delivered_at).is_(None), Notification.attempts > 0)
            .group_by(col(Notification.escalated_at).is_(None))
        )
        counts = {bool(waiting): int(count) for waiting, count in rows.all()}
    return Stuck(retrying=counts.get(True, 0), escalated=counts.get(False, 0))


async def retry_escalated(db: Database, *, now: datetime) -> int:
    """Put escalated messages back in line, with their attempts counted afresh (once what
    stopped them is fixed: the bot added to the team, the person's account linked)."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Notification)
                .where(
                    col(Notification.delivered_at).is_(None),
                    col(Notification.escalated_at).is_not(None),
                )
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        count = 0
        for row in rows:
            row.escalated_at, row.attempts, row.next_attempt_at = None, 0, now
            count += 1
    return count
