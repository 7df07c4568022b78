"""Websites seen on school equipment that should be blocked, and IT's answer.

The report is kept until someone in IT answers it, so it is never lost in a chat; whoever
answers first is recorded, the member of staff is told the outcome, and every step is audited
by reference (never the address or what was seen, which stay in the report).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select

from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.messages import Fact, InputKind, Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import NotifyingService
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.permissions import WebsiteAction, blockers, may, require
from dialogs.services.school.references import school_reference
from dialogs.services.school.schools import Person, School
from storage.models import WebsiteReport

REFERENCE_PREFIX = "WB"
MAX_REASON_CHARS = 1000


class WebsiteStatus(StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    NOT_BLOCKED = "not_blocked"


class WebsiteVerb(StrEnum):
    BLOCKED = "blocked"
    ALREADY_BLOCKED = "already"
    NOT_BLOCKING = "not"  # asks IT for the reason first


@dataclass(frozen=True)
class WebsiteButtonValue(VerbButton[WebsiteVerb]):
    PREFIX = "website"
    VERBS = WebsiteVerb


@dataclass(frozen=True)
class NewWebsiteReport:
    address: str
    seen_at: datetime
    equipment: str | None
    what: str | None


def defang(address: str) -> str:
    """A web address written so chat apps do not turn it into a link: nobody should open an
    inappropriate site by clicking a message about blocking it."""
    return address.replace("://", "[:]//").replace(".", "[.]")


class WebsiteReportService(NotifyingService):
    async def submit(
        self, new: NewWebsiteReport, *, school: School, reporter: Person
    ) -> tuple[WebsiteReport, list[Person]]:
        report = WebsiteReport(
            id=uuid.uuid4().hex,
            school_id=school.id,
            reference=await school_reference(self._session, school, REFERENCE_PREFIX, self._now),
            reporter_id=reporter.id,
            created_at=self._now,
            address=new.address,
            seen_at=new.seen_at,
            equipment=new.equipment or None,
            what=new.what or None,
            status=WebsiteStatus.OPEN.value,
        )
        self._session.add(report)
        told = blockers(school)
        for person in told:
            self._notifier.notify(
                school_id=school.id,
                person_id=person.id,
                kind="website_block",
                message=website_card(report, school),
            )
        self._audit.about(
            report,
            "website_report",
            actor_id=reporter.id,
            action=AuditAction.WEBSITE_BLOCK,
            detail=f"told {len(told)}",
        )
        return report, told

    async def answer(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        verb: WebsiteVerb,
        reason: str = "",
    ) -> str:
        report = await self.for_answer(reference, school=school, actor=actor)
        reason = " ".join(reason.split())
        if verb is WebsiteVerb.NOT_BLOCKING and len(reason) < 3:
            raise InvalidRequest("Please give the reason: the member of staff is told it.")
        report.status = (
            WebsiteStatus.NOT_BLOCKED if verb is WebsiteVerb.NOT_BLOCKING else WebsiteStatus.BLOCKED
        ).value
        report.handled_by, report.handled_at = actor.id, self._now
        report.reason = reason[:MAX_REASON_CHARS] or None
        seen = f"{report.seen_at.astimezone(school.tz):%d/%m/%Y}"
        if verb is WebsiteVerb.NOT_BLOCKING:
            told = (
                f"{actor.name} looked at the website you reported on {seen} ({report.reference}) "
                f"and has not blocked it: {reason}"
            )
        else:
            now_or_before = "was already" if verb is WebsiteVerb.ALREADY_BLOCKED else "is"
            told = (
                f"The website you reported on {seen} ({report.reference}) {now_or_before} "
                "blocked on school equipment. Thank you for reporting it."
            )
        self._notifier.notify(
            school_id=school.id,
            person_id=report.reporter_id,
            kind="website_answered",
            message=Message(kind=MessageKind.NOTIFICATION, title=report.reference, text=told),
        )
        self._audit.about(
            report,
            "website_report",
            actor_id=actor.id,
            action=AuditAction.WEBSITE_BLOCKED,
            detail=verb.value,
        )
        if verb is WebsiteVerb.NOT_BLOCKING:
            return f"Thank you: {report.reference} is closed, and your reason has been passed on."
        return f"Thank you: {report.reference} is marked as blocked, and the reporter is told."

    async def for_answer(self, reference: str, *, school: School, actor: Person) -> WebsiteReport:
        """The report, if `actor` may answer it now: checked before a reason is asked for, and
        again when the answer is given."""
        report = await self.get(reference, school=school, actor=actor)
        if WebsiteStatus(report.status) is not WebsiteStatus.OPEN:
            by = school.display_name(report.handled_by)
            done = "blocked" if report.status == WebsiteStatus.BLOCKED else "answered"
            raise InvalidRequest(f"{report.reference} has already been {done} by {by}.")
        return report

    async def open_for(self, school: School, actor: Person) -> list[WebsiteReport]:
        """The reports still waiting for IT's answer, for IT (or whoever stands in for IT)."""
        if not may(actor, WebsiteAction.ANSWER, school=school):
            return []
        result = await self._session.execute(
            select(WebsiteReport)
            .where(
                WebsiteReport.school_id == school.id,
                WebsiteReport.status == WebsiteStatus.OPEN.value,
            )
            .order_by(col(WebsiteReport.created_at))
        )
        return list(result.scalars().all())

    async def get(self, reference: str, *, school: School, actor: Person) -> WebsiteReport:
        """A report for IT (or whoever stands in for IT) to answer; anyone else is told that
        only IT answers them."""
        wanted = reference.strip().upper()[:32]
        result = await self._session.execute(
            select(WebsiteReport).where(
                WebsiteReport.school_id == school.id, WebsiteReport.reference == wanted
            )
        )
        report = result.scalars().first()
        if report is None:
            raise NotFound(f"I can't find a website report {wanted}.")
        require(actor, WebsiteAction.ANSWER, report, school)
        return report


def website_card(report: WebsiteReport, school: School) -> Message:
    facts = [
        Fact(label="Address", value=defang(report.address)),
        Fact(label="Seen", value=f"{report.seen_at.astimezone(school.tz):%a %d/%m/%Y %H:%M}"),
        Fact(label="Reported by", value=school.display_name(report.reporter_id)),
    ]
    if report.equipment:
        facts.append(Fact(label="Equipment", value=report.equipment))
    if report.what:
        facts.append(Fact(label="What it showed", value=report.what))
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"Please block a website on school equipment: {report.reference}",
        text="A member of staff saw inappropriate content on school equipment. The address is "
        "written so it is not a link; please check and block it in the filtering system, then "
        "say what you did.",
        facts=tuple(facts),
        buttons=(
            WebsiteButtonValue(WebsiteVerb.BLOCKED, report.reference).button("Blocked", "primary"),
            WebsiteButtonValue(WebsiteVerb.ALREADY_BLOCKED, report.reference).button(
                "Was already blocked"
            ),
            WebsiteButtonValue(WebsiteVerb.NOT_BLOCKING, report.reference).button(
                "Not blocking it"
            ),
        ),
        expects=InputKind.CHOICE,
    )
