"""Comments on official accounts: stored once, answered on time, and nobody forgets one.

A comment's deadline is counted in the school's working (or school) days. The moderators see
each new comment in their channel, are nudged before its deadline and again when it passes,
and the senior leaders are told when it is still unanswered after a grace period. Each nudge
is queued in the same transaction that records it was sent, so a restart, a long outage or a
second process can neither lose one nor send one twice; after an outage only the latest nudge
due is sent.
"""

from __future__ import annotations

import logging
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Unpack

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dialogs.services.accounts.register import AccountRegister
from dialogs.services.comments.card import (
    RESPONSES,
    RESULTS,
    STATUS_LABELS,
    STILL_OPEN,
    CommentStatus,
    CommentVerb,
    account_text,
    comment_buttons,
    comment_card,
    comment_subject,
    local,
)
from dialogs.services.comments.incoming import (
    MAX_AUTHOR_CHARS,
    MAX_COMMENT_CHARS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_LINK_CHARS,
    IncomingComment,
)
from dialogs.services.comments.working_time import Closure, WorkingCalendar
from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.messages import Fact, InputKind, Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Notifying, NotifyingService
from dialogs.services.school.permissions import CommentAction, require
from dialogs.services.school.references import school_reference
from dialogs.services.school.schools import OfficialAccount, Person, Role, School
from dialogs.services.school.text import clean_text
from storage.db import lock_for_writing, only_one_at_a_time
from storage.models import Comment, DigestSent, SchoolClosure

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "CM"
MAX_REASON_CHARS = 1000
# One sweep at a time across every process sharing a PostgreSQL database.
SWEEP_LOCK_KEY = 0x706F6C_636D  # "pol" "cm"


@dataclass(frozen=True)
class Received:
    comment: Comment
    created: bool  # False: the same comment had been delivered before


@dataclass(frozen=True)
class Handled:
    comment: Comment
    message: str  # what the person who acted is told


@dataclass(frozen=True)
class CommentSweep:
    nudged: int = 0
    overdue: int = 0
    escalated: int = 0
    skipped: bool = False  # another process was sweeping
    full: bool = False  # the batch was full, so more may be due


@dataclass(frozen=True)
class NudgePoint:
    kind: str  # "nudge", "due" or "escalate"
    at: datetime


class CommentService(NotifyingService):
    def __init__(
        self, *, schools: Sequence[School], register: AccountRegister, **work: Unpack[Notifying]
    ) -> None:
        super().__init__(**work)
        self._register = register
        self._schools = {s.id: s for s in schools}
        self._calendars: dict[str, WorkingCalendar] = {}

    # -- the calendar ----------------------------------------------------------------------

    async def calendar_for(self, school: School) -> WorkingCalendar:
        """Working days, or school days: working days without the school's closures (from
        its configuration and any imported term dates)."""
        if school.id not in self._calendars:
            closures: list[Closure] = []
            if school.comments.calendar == "school_days":
                closures = [Closure(c.first, c.last, c.name) for c in school.comments.closures]
                imported = await self.imported_closures(school)
                closures += [Closure(r.first, r.last, r.name) for r in imported]
            self._calendars[school.id] = WorkingCalendar(
                tz=school.tz, bank_holidays=school.comments.bank_holidays, closures=closures
            )
        return self._calendars[school.id]

    async def imported_closures(self, school: School) -> list[SchoolClosure]:
        result = await self._session.execute(
            select(SchoolClosure)
            .where(SchoolClosure.school_id == school.id)
            .order_by(col(SchoolClosure.first))
        )
        return list(result.scalars().all())

    async def replace_closures(
        self, school: School, closures: Sequence[Closure], *, source: str, actor_id: str
    ) -> int:
        """Imported term dates replace the earlier import (the TOML file's closures stay)."""
        await self._session.execute(
            delete(SchoolClosure).where(col(SchoolClosure.school_id) == school.id)
        )
        for closure in closures:
            self._session.add(
                SchoolClosure(
                    school_id=school.id,
                    first=closure.first,
                    last=closure.last,
                    name=closure.name,
                    source=source[:200],
                    imported_at=self._now,
                    imported_by=actor_id,
                )
            )
        self._calendars.pop(school.id, None)
        self._audit.record(
            school_id=school.id,
            actor_id=actor_id,
            action=AuditAction.CALENDAR_IMPORT,
            target_type="school",
            target_id=school.id,
            detail=f"{len(closures)} closures",
        )
        return len(closures)

    async def nudge_points(self, comment: Comment, school: School) -> list[NudgePoint]:
        if comment.due_at is None or comment.deadline_minutes is None:
            return []
        calendar = await self.calendar_for(school)
        within = timedelta(minutes=comment.deadline_minutes)
        rules = school.comments
        points = [
            NudgePoint("nudge", calendar.at_fraction(comment.received_at, within, fraction))
            for fraction in rules.nudge_at
        ]
        points.append(NudgePoint("due", comment.due_at))
        grace = timedelta(hours=rules.escalate_after_hours)
        escalate_at = calendar.due(comment.due_at, grace) if grace else comment.due_at
        points.append(NudgePoint("escalate", escalate_at))
        return points

    # -- intake ------------------------------------------------------------------------------

    def account_for(self, school: School, incoming: IncomingComment) -> OfficialAccount:
        if incoming.account_id is not None:
            account = school.account(incoming.account_id)
        else:
            account = next(
                (a for a in school.accounts if a.facebook_page_id == incoming.platform_account),
                None,
            )
        if account is None:
            raise NotFound(f"{school.name} has no official account {incoming.account_id!r}.")
        return account

    async def receive(
        self, school: School, incoming: IncomingComment, *, logged_by: Person | None = None
    ) -> Received:
        """Store a comment once, however many times it is delivered, and show it to the
        moderators with its deadline."""
        _check_lengths(incoming)
        school = await self._register.school(school)
        account = self.account_for(school, incoming)
        existing = await self._existing(school, incoming)
        if existing is not None:
            return Received(existing, created=False)
        comment = await self._new_comment(school, account, incoming, logged_by)
        try:
            async with self._session.begin_nested():
                self._session.add(comment)
        except IntegrityError:
            # Delivered twice at the same moment: the other delivery stored it.
            existing = await self._existing(school, incoming)
            if existing is None:
                raise
            return Received(existing, created=False)
        self._show(comment, school)
        self._audit.about(
            comment,
            "comment",
            actor_id=logged_by.id if logged_by else None,
            action=AuditAction.COMMENT_RECEIVE,
            detail=incoming.source.value,
        )
        return Received(comment, created=True)

    async def _existing(self, school: School, incoming: IncomingComment) -> Comment | None:
        result = await self._session.execute(
            select(Comment).where(
                Comment.school_id == school.id,
                Comment.source == incoming.source.value,
                Comment.external_id == incoming.external_id,
            )
        )
        return result.scalars().first()

    async def _new_comment(
        self,
        school: School,
        account: OfficialAccount,
        incoming: IncomingComment,
        logged_by: Person | None,
    ) -> Comment:
        received = min(incoming.received_at, self._now)
        comment = Comment(
            id=uuid.uuid4().hex,
            school_id=school.id,
            reference=await school_reference(self._session, school, REFERENCE_PREFIX, received),
            account_id=account.id,
            source=incoming.source.value,
            external_id=incoming.external_id,
            author=incoming.author,
            text=incoming.text,
            link=incoming.link,
            received_at=received,
            logged_at=self._now,
            logged_by=logged_by.id if logged_by else None,
            clock_start=received,
            status=CommentStatus.OPEN.value,
        )
        if account.comment_deadlines:
            calendar = await self.calendar_for(school)
            within = timedelta(
                hours=account.comment_deadline_hours or school.comments.deadline_hours
            )
            comment.deadline_minutes = round(within.total_seconds() / 60)
            comment.clock_start = calendar.clock_start(received)
            comment.due_at = calendar.due(received, within)
            # A comment logged late may be past its early nudges already: the sweep then
            # sends only the latest one due, at once.
            points = await self.nudge_points(comment, school)
            comment.next_nudge_at = points[0].at
        return comment

    # -- answering ---------------------------------------------------------------------------

    async def for_action(
        self, reference: str, *, school: School, actor: Person, verb: CommentVerb
    ) -> Comment:
        """The comment, if `actor` may do `verb` to it now: checked before the public reason
        for hiding it is asked for, and again when it is given."""
        comment = await self.get(reference, school=school, actor=actor, action=CommentAction.ACT)
        status = CommentStatus(comment.status)
        if status not in STILL_OPEN:
            who = school.display_name(comment.handled_by or "")
            raise InvalidRequest(
                f"{comment.reference} is already {STATUS_LABELS[status].lower()} (by {who})."
            )
        if status is CommentStatus.ACKNOWLEDGED and verb in (
            CommentVerb.ACKNOWLEDGE,
            CommentVerb.NOT_NEEDED,
        ):
            raise InvalidRequest(f"{comment.reference} has already been acknowledged.")
        return comment

    async def act(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        verb: CommentVerb,
        reason: str | None = None,
    ) -> Handled:
        school = await self._register.school(school)
        comment = await self.for_action(reference, school=school, actor=actor, verb=verb)
        if verb is CommentVerb.ESCALATE:
            if comment.reported_by is not None:
                who = school.display_name(comment.reported_by)
                raise InvalidRequest(f"{comment.reference} has already been reported by {who}.")
            comment.reported_by = actor.id
            self._show(comment, school)
            self._audit.about(
                comment,
                "comment",
                actor_id=actor.id if actor else None,
                action=AuditAction.COMMENT_ACT,
                detail=verb.value,
            )
            return Handled(comment, _told(comment, verb))
        if verb is CommentVerb.HIDE:
            reason = " ".join((reason or "").split())
            if len(reason) < 3:
                raise InvalidRequest("Please give the reason you will state publicly.")
            comment.reason = reason[:MAX_REASON_CHARS]
        comment.status = RESULTS[verb].value
        comment.handled_at, comment.handled_by = self._now, actor.id
        if verb in RESPONSES and comment.first_response_at is None:
            comment.first_response_at = self._now
            comment.breached = comment.due_at is not None and self._now > comment.due_at
        if CommentStatus(comment.status) not in STILL_OPEN or comment.first_response_at:
            comment.next_nudge_at = None
        self._show(comment, school)
        self._audit.about(
            comment,
            "comment",
            actor_id=actor.id if actor else None,
            action=AuditAction.COMMENT_ACT,
            detail=verb.value,
        )
        return Handled(comment, _told(comment, verb))

    # -- reading -----------------------------------------------------------------------------

    async def get(
        self,
        reference: str,
        *,
        school: School,
        actor: Person | None,
        action: CommentAction = CommentAction.VIEW,
    ) -> Comment:
        """A comment for a moderator or senior leader to see (or act on); None is the command
        line, run by whoever administers the server. Anyone else is refused whether or not the
        comment exists, so references cannot be probed."""
        result = await self._session.execute(
            select(Comment).where(
                Comment.school_id == school.id,
                Comment.reference == reference.strip().upper()[:32],
            )
        )
        comment = result.scalars().first()
        if actor is not None:
            require(actor, action, comment, school)
        if comment is None:
            # Cleaned, so terminal escapes and direction marks typed in are never echoed.
            shown = " ".join(clean_text(reference).upper().split())[:32]
            raise NotFound(f"I can't find a comment {shown}.")
        return comment

    async def list_for(
        self, *, school: School, actor: Person | None, open_only: bool = False
    ) -> Sequence[Comment]:
        if actor is not None:
            require(actor, CommentAction.VIEW, school=school)
        query = select(Comment).where(Comment.school_id == school.id)
        if open_only:
            query = query.where(col(Comment.status).in_([s.value for s in STILL_OPEN]))
        result = await self._session.execute(query.order_by(col(Comment.received_at)))
        return result.scalars().all()

    # -- the sweep ---------------------------------------------------------------------------

    async def sweep(self, *, limit: int = 500) -> CommentSweep:
        """Send every nudge that is due, once. Only comments due now are read (an index on
        `next_nudge_at`), and each is claimed so that two processes never both send it."""
        if not await only_one_at_a_time(self._session, SWEEP_LOCK_KEY):
            return CommentSweep(skipped=True)
        result = await self._session.execute(
            select(Comment)
            .where(col(Comment.next_nudge_at) <= self._now)
            .order_by(col(Comment.next_nudge_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        counts = {"nudge": 0, "due": 0, "escalate": 0}
        rows = result.scalars().all()
        for comment in rows:
            configured = self._schools.get(comment.school_id)
            if configured is None:
                comment.next_nudge_at = None  # the school was removed from the configuration
                continue
            school = await self._register.school(configured)
            try:
                async with self._session.begin_nested():
                    kind = await self._nudge(comment, school)
            except Exception:
                # One bad row never stops the sweep; it is looked at again later.
                log.exception("comment %s: nudge failed", comment.id)
                comment.next_nudge_at = self._now + timedelta(minutes=10)
                continue
            if kind:
                counts[kind] += 1
        return CommentSweep(
            counts["nudge"], counts["due"], counts["escalate"], full=len(rows) == limit
        )

    async def _nudge(self, comment: Comment, school: School) -> str | None:
        if CommentStatus(comment.status) not in STILL_OPEN or comment.first_response_at:
            comment.next_nudge_at = None
            return None
        points = await self.nudge_points(comment, school)
        due_now = [i for i, p in enumerate(points) if p.at <= self._now]
        latest = due_now[-1] if due_now else None
        if latest is None or latest < comment.nudge_stage:
            comment.next_nudge_at = (
                points[comment.nudge_stage].at if comment.nudge_stage < len(points) else None
            )
            return None
        point = points[latest]
        comment.nudge_stage = latest + 1
        comment.next_nudge_at = points[latest + 1].at if latest + 1 < len(points) else None
        if point.kind != "nudge":
            comment.breached = True
        self._send(comment, school, point, stage=latest)
        return point.kind

    def _send(self, comment: Comment, school: School, point: NudgePoint, *, stage: int) -> None:
        assert comment.due_at is not None
        where = account_text(comment, school)
        due = local(comment.due_at, school)
        if point.kind == "nudge":
            left = _duration(comment.due_at - self._now)
            text_ = (
                f"{comment.reference} on {where} needs an answer by {due} ({left} left). "
                "Even a short acknowledgement stops the clock."
            )
        elif point.kind == "due":
            text_ = (
                f"{comment.reference} on {where} was due an answer by {due} and has none yet. "
                "Please answer it now, even if only to acknowledge it."
            )
        else:
            leads = self._leads(school)
            names = ", ".join(p.name for p in leads) or "the senior leaders"
            text_ = f"{comment.reference} on {where} is still unanswered; I've told {names}."
            for person in leads:
                self._notifier.notify(
                    school_id=school.id,
                    person_id=person.id,
                    kind="comment_escalated",
                    message=Message(
                        kind=MessageKind.NOTIFICATION,
                        title=f"Unanswered comment: {comment.reference}",
                        text=f"A comment on {where} was due an answer by {due} and the "
                        f"moderators have not answered it ({_duration(self._now - comment.due_at)}"
                        " overdue). Please make sure someone does.",
                        facts=(
                            Fact(label="From", value=comment.author),
                            Fact(label="Comment", value=comment.text[:500]),
                        ),
                    ),
                )
        buttons = comment_buttons(comment)
        self._notifier.notify_channel(
            school_id=school.id,
            purpose="moderators",
            subject=f"{comment_subject(comment)}:nudge:{stage}",
            kind=f"comment_{point.kind}",
            message=Message(
                kind=MessageKind.REMINDER,
                title=f"Comment {comment.reference}: "
                + ("due soon" if point.kind == "nudge" else "overdue"),
                text=text_,
                buttons=buttons,
                expects=InputKind.CHOICE if buttons else InputKind.NONE,
                # Posted to a channel, a message alerts only the people it mentions.
                alert=tuple(p.id for p in school.with_role(Role.MODERATOR)),
            ),
        )
        if point.kind == "due":
            self._show(comment, school)  # the card now says "overdue"
        self._audit.about(
            comment, "comment", actor_id=None, action=AuditAction.COMMENT_NUDGE, detail=point.kind
        )

    def _leads(self, school: School) -> list[Person]:
        named = [school.person(p) for p in school.comments.escalate_to]
        chosen = [p for p in named if p is not None]
        return chosen or [p for p in school.people if Role.SENIOR_LEADER in p.roles]

    # -- the weekly digest --------------------------------------------------------------------

    async def send_weekly_digest(self, school: School) -> bool:
        """Tell the senior leaders how last week's comments were answered, once per week.

        Due on Monday from 07:00 in the school's time; the row recording it is written in the
        same transaction as the messages, so a restart or a second process never repeats it.
        """
        local_now = self._now.astimezone(school.tz)
        if local_now.weekday() != 0 or local_now.hour < 7:
            return False
        await lock_for_writing(self._session)
        monday = local_now.date()
        start_day = monday - timedelta(days=7)
        year, week, _ = start_day.isocalendar()
        period = f"{year}-W{week:02d}"
        if await self._session.get(DigestSent, (school.id, "comments", period)) is not None:
            return False
        try:
            async with self._session.begin_nested():
                self._session.add(
                    DigestSent(
                        school_id=school.id, kind="comments", period=period, sent_at=self._now
                    )
                )
        except IntegrityError:
            return False  # another process has just sent it
        school = await self._register.school(school)
        start = datetime.combine(start_day, time(0), school.tz).astimezone(UTC)
        end = datetime.combine(monday, time(0), school.tz).astimezone(UTC)
        message = await self._digest(school, start, end, start_day)
        for person in self._leads(school):
            self._notifier.notify(
                school_id=school.id, person_id=person.id, kind="comment_digest", message=message
            )
        return True

    async def _digest(
        self, school: School, start: datetime, end: datetime, first_day: date
    ) -> Message:
        result = await self._session.execute(
            select(Comment).where(
                Comment.school_id == school.id,
                col(Comment.received_at) >= start,
                col(Comment.received_at) < end,
            )
        )
        received = list(result.scalars().all())
        calendar = await self.calendar_for(school)
        title = f"Comments on the official accounts, week of {first_day:%d %B %Y}".replace(
            " 0", " "
        )
        if not received:
            return Message(
                kind=MessageKind.NOTIFICATION,
                title=title,
                text="No comments were received on the official accounts last week.",
            )
        facts = [_digest_line("All accounts", received, calendar, self._now)]
        for account_id in sorted({c.account_id for c in received}):
            mine = [c for c in received if c.account_id == account_id]
            facts.append(_digest_line(account_text(mine[0], school), mine, calendar, self._now))
        return Message(
            kind=MessageKind.NOTIFICATION,
            title=title,
            text="How last week's comments were answered. Response times count working time, "
            "as the deadlines do.",
            facts=tuple(facts),
        )

    # -- internals ---------------------------------------------------------------------------

    def _show(self, comment: Comment, school: School) -> None:
        self._notifier.notify_channel(
            school_id=school.id,
            purpose="moderators",
            subject=comment_subject(comment),
            kind="comment_card",
            message=comment_card(comment, school, now=self._now),
        )


def _check_lengths(incoming: IncomingComment) -> None:
    if not incoming.text.strip() or len(incoming.text) > MAX_COMMENT_CHARS:
        raise InvalidRequest(f"A comment's text must be 1 to {MAX_COMMENT_CHARS} characters.")
    if not incoming.author.strip() or len(incoming.author) > MAX_AUTHOR_CHARS:
        raise InvalidRequest(f"The commenter's name must be 1 to {MAX_AUTHOR_CHARS} characters.")
    if not incoming.external_id or len(incoming.external_id) > MAX_EXTERNAL_ID_CHARS:
        raise InvalidRequest("The comment's id is missing or too long.")
    if incoming.link is not None and (
        not incoming.link.startswith("https://") or len(incoming.link) > MAX_LINK_CHARS
    ):
        raise InvalidRequest("A link to a comment must start with https://.")
    if incoming.received_at.tzinfo is None:
        raise InvalidRequest("When the comment was made must include its time zone.")


def _digest_line(
    label: str, comments: Sequence[Comment], calendar: WorkingCalendar, now: datetime
) -> Fact:
    with_deadline = [c for c in comments if c.due_at is not None]
    on_time = [
        c
        for c in with_deadline
        if c.first_response_at is not None
        and c.due_at is not None
        and c.first_response_at <= c.due_at
    ]
    missed = [
        c
        for c in with_deadline
        if c.breached or (c.first_response_at is None and c.due_at is not None and c.due_at < now)
    ]
    times = sorted(
        calendar.elapsed(c.received_at, c.first_response_at)
        for c in comments
        if c.first_response_at is not None
    )
    median = _duration(statistics.median_low(times)) if times else "none answered yet"
    return Fact(
        label=label,
        value=f"{len(comments)} received; {len(on_time)} of {len(with_deadline)} with a deadline "
        f"answered on time; {len(missed)} missed; median first response {median}",
    )


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{round(hours / 24)} days"


def _told(comment: Comment, verb: CommentVerb) -> str:
    late = ""
    if verb in RESPONSES and comment.breached:
        late = " It was answered after its deadline; that is recorded."
    done = {
        CommentVerb.ACKNOWLEDGE: "marked as acknowledged. Mark it as replied when you have",
        CommentVerb.REPLIED: "marked as replied",
        CommentVerb.HIDE: "marked as hidden or removed, with the reason to give publicly",
        CommentVerb.ESCALATE: "being reported as abuse. It still needs an answer in public: "
        "hide or remove it with the reason, or reply",
        CommentVerb.NOT_NEEDED: "marked as needing no answer",
    }[verb]
    return f"{comment.reference} is {done}.{late}"
