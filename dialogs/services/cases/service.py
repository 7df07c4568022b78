"""Cases: a report of online abuse, from submission through handling to closure.

Every operation checks the actor's role (permissions.require), writes the audit log and, where
the reporter should know, queues a notification, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Unpack

from sqlmodel import col, select

from dialogs.services.cases import evidence_pack as pack
from dialogs.services.cases.card import (
    ReporterButtonValue,
    ReporterVerb,
    actor_name,
    case_card,
    case_subject,
    reporter_name,
)
from dialogs.services.cases.conflicts import conflicted
from dialogs.services.cases.vocabulary import (
    AFFECTED,
    EVENT_LABELS,
    HATE,
    NATURE,
    NEXT_STATUSES,
    POLICE_NATURES,
    RESPONSIBLE,
    STATUS_FOR_REPORTER,
    Status,
    Urgency,
    answers_for_display,
    case_summary_json,
    event_text,
)
from dialogs.services.errors import FormField, InvalidRequest, NotFound
from dialogs.services.evidence.service import EvidenceService
from dialogs.services.messages import Fact, InputKind, Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Notifying, NotifyingService
from dialogs.services.privacy.pseudonyms import pseudonym
from dialogs.services.school.permissions import CaseAction, case_handlers, may, require
from dialogs.services.school.references import school_reference
from dialogs.services.school.schools import CASE_HANDLER_ROLES, Person, School
from dialogs.services.school.text import clean_text
from storage.models import Case, CaseEvent


def needs_police_consideration(nature: Sequence[str], immediate_danger: bool) -> bool:
    return immediate_danger or bool(POLICE_NATURES.intersection(nature))


def urgency_for(nature: Sequence[str], immediate_danger: bool) -> Urgency:
    if immediate_danger:
        return Urgency.IMMEDIATE
    return Urgency.HIGH if needs_police_consideration(nature, False) else Urgency.NORMAL


@dataclass(frozen=True)
class NewReport:
    affected: str
    affected_name: str | None
    platform: str
    link: str | None
    occurred_at: datetime
    description: str
    responsible: str
    responsible_name: str | None
    nature: list[str]
    hate_characteristics: list[str]
    immediate_danger: bool
    draft_key: str
    origin_channel: str
    reporter_visibility: str = "named"


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    events: list[CaseEvent]


class CaseService(NotifyingService):
    def __init__(self, *, evidence: EvidenceService, **work: Unpack[Notifying]) -> None:
        super().__init__(**work)
        self._evidence = evidence

    # -- creating ------------------------------------------------------------------------

    async def submit(self, report: NewReport, *, school: School, reporter: Person) -> Case:
        reference = await school_reference(self._session, school, school.case_prefix, self._now)
        case = Case(
            id=uuid.uuid4().hex,
            school_id=school.id,
            reference=reference,
            reporter_id=reporter.id,
            origin_channel=report.origin_channel,
            created_at=self._now,
            updated_at=self._now,
            status=Status.NEW.value,
            urgency=urgency_for(report.nature, report.immediate_danger).value,
            police_consideration=needs_police_consideration(report.nature, report.immediate_danger),
            immediate_danger=report.immediate_danger,
            affected=report.affected,
            affected_name=report.affected_name,
            platform=report.platform,
            link=report.link,
            occurred_at=report.occurred_at,
            description=report.description,
            responsible=report.responsible,
            responsible_name=report.responsible_name,
            nature=list(report.nature),
            hate_characteristics=list(report.hate_characteristics),
            reporter_visibility=report.reporter_visibility,
        )
        case.excluded = conflicted(school, case)
        self._session.add(case)
        await self._session.flush()
        files = await self._evidence.attach_draft_to_case(
            draft_key=report.draft_key, case_id=case.id
        )
        self._event(
            case, reporter, "submitted", f"Report submitted with {len(files)} evidence file(s)."
        )
        self._record(
            case,
            reporter,
            AuditAction.CASE_CREATE,
            f"{reference}, {len(files)} evidence file(s), urgency {case.urgency}"
            + (", conflict of interest" if case.excluded else ""),
        )
        for handler in case_handlers(school, case):
            self._notifier.notify(
                school_id=school.id,
                person_id=handler.id,
                kind="case.new",
                message=self._new_case_alert(case, school, handler),
                on_behalf_of=reporter.id,
            )
        self._announce(case, school)
        return case

    def _new_case_alert(self, case: Case, school: School, handler: Person) -> Message:
        facts = [
            Fact(label="Reference", value=case.reference),
            Fact(label="Reported by", value=reporter_name(case, school, handler)),
            Fact(label="Urgency", value=case.urgency.title()),
            Fact(label="Consider police", value="Yes" if case.police_consideration else "No"),
        ]
        return Message(
            kind=MessageKind.NOTIFICATION,
            title=f"New report of online abuse: {case.reference}",
            text="A member of staff has reported online abuse. Please acknowledge it and make an "
            "initial assessment."
            + (
                " It names someone in the safeguarding team, who cannot see it; it has come to "
                "you instead."
                if case.excluded
                else ""
            ),
            facts=tuple(facts),
        )

    def alert_immediate_danger(
        self, *, school: School, reporter: Person, affected: str, draft_key: str
    ) -> None:
        """Tell the leads at once, before the report is finished: someone may be at risk now."""
        message = Message(
            kind=MessageKind.URGENT,
            title="URGENT: someone may be in immediate danger",
            text=f"{reporter.name} is reporting online abuse and says someone is in immediate "
            "danger. They have been told to call 999. Please contact them now; their full report "
            "will follow.",
            facts=(Fact(label="Who is affected", value=AFFECTED.get(affected, affected)),),
        )
        for handler in school.with_role(*CASE_HANDLER_ROLES):
            self._notifier.notify(
                school_id=school.id,
                person_id=handler.id,
                kind="case.urgent",
                message=message,
                on_behalf_of=reporter.id,
            )
        self._audit.record(
            school_id=school.id,
            actor_id=reporter.id,
            action=AuditAction.CASE_ALERT,
            target_type="draft",
            target_id=draft_key,
            detail="immediate danger alert queued for the safeguarding leads",
        )

    # -- finding -------------------------------------------------------------------------

    async def _lookup(self, reference: str, school: School) -> Case | None:
        wanted = reference.strip().upper()
        result = await self._session.execute(
            select(Case).where(Case.school_id == school.id, Case.reference == wanted)
        )
        return result.scalar_one_or_none()

    async def _find(self, reference: str, school: School) -> Case:
        # Echo the reference exactly as a refused lookup of an existing case would
        # (permissions.require), so the reply never tells whether a reference exists.
        wanted = reference.strip().upper()
        case = await self._lookup(reference, school)
        if case is None:
            # Cleaned, so terminal escapes and direction marks typed in are never echoed.
            shown = " ".join(clean_text(wanted).split())[:40]
            raise NotFound(f"I can't find a report {shown} that you can see.")
        return case

    async def get(self, reference: str, *, school: School, actor: Person) -> CaseRecord:
        """A case as the actor may see it; handlers' views are audited, reporters see status."""
        case = await self._find(reference, school)
        require(actor, CaseAction.VIEW_STATUS, case, school)
        if not may(actor, CaseAction.VIEW, case, school):
            return CaseRecord(case=case, events=[])
        self._record(case, actor, AuditAction.CASE_VIEW)
        return CaseRecord(case=case, events=await self.events(case))

    async def for_action(
        self, reference: str, *, school: School, actor: Person, action: CaseAction
    ) -> Case:
        """The case, if `actor` may do `action` to it, checked before a form asks them for
        anything; not recorded as a view, because nothing of the case is shown. A case card's
        button: anyone who does not handle reports at all is refused first (handlers_only)."""
        await self.handlers_only(reference, school=school, actor=actor)
        case = await self._find(reference, school)
        require(actor, action, case, school)
        return case

    async def handlers_only(self, reference: str, *, school: School, actor: Person) -> None:
        """Refuse a press on a case card by anyone who does not handle reports, in the same
        words whether or not the report exists; the report, when it does, is named in the
        audit log's record of the refusal."""
        if not may(actor, CaseAction.HANDLE):
            require(actor, CaseAction.HANDLE, await self._lookup(reference, school), school)

    async def events(self, case: Case) -> list[CaseEvent]:
        result = await self._session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        )
        return list(result.scalars().all())

    async def list_for(
        self,
        *,
        school: School,
        actor: Person,
        status: Status | None = None,
        mine_only: bool = False,
    ) -> list[Case]:
        """Handlers see every case of the school; anyone else sees only their own reports."""
        query = select(Case).where(Case.school_id == school.id)
        handling = may(actor, CaseAction.LIST_ALL) and not mine_only
        if handling:
            self._audit.record(
                school_id=school.id,
                actor_id=actor.id,
                action=AuditAction.CASE_LIST,
                target_type="school",
                target_id=school.id,
                detail=f"status={status.value if status else 'any'}",
            )
        else:
            query = query.where(Case.reporter_id == actor.id)
        if status is not None:
            query = query.where(Case.status == status.value)
        result = await self._session.execute(query.order_by(col(Case.created_at).desc()))
        cases = list(result.scalars().all())
        if handling:
            # A handler never sees a report they have a conflict of interest in.
            cases = [c for c in cases if may(actor, CaseAction.VIEW, c, school)]
        return cases

    # -- handling ------------------------------------------------------------------------

    def _event(
        self,
        case: Case,
        actor: Person,
        kind: str,
        text: str = "",
        *,
        from_status: str | None = None,
        to_status: str | None = None,
    ) -> None:
        self._session.add(
            CaseEvent(
                case_id=case.id,
                at=self._now,
                actor_id=actor.id,
                kind=kind,
                text=text,
                from_status=from_status,
                to_status=to_status,
            )
        )
        case.updated_at = self._now

    def _record(self, case: Case, actor: Person, action: AuditAction, detail: str = "") -> None:
        """A reporter who chose that nobody, or only the lead, may know it was them is named
        in the audit log (read by the DPO and the Headteacher) by a pseudonym for them and this
        case: the same on their every entry about it, and on no other record's."""
        hidden = case.reporter_visibility != "named" and actor.id == case.reporter_id
        self._audit.record(
            school_id=case.school_id,
            actor_id=self._reporter_pseudonym(case) if hidden else actor.id,
            action=action,
            target_type="case",
            target_id=case.id,
            detail=detail,
        )

    def _reporter_pseudonym(self, case: Case) -> str:
        return pseudonym(
            self._session,
            school_id=case.school_id,
            person_id=case.reporter_id,
            target_type="case",
            target_id=case.id,
        )

    def _announce(self, case: Case, school: School) -> None:
        """Post, or update in place, the case's card in the safeguarding channel; a report with
        a conflict of interest never goes there (the person it names may be in the channel),
        so its handlers get the card in their own chats instead."""
        if case.excluded:
            for handler in case_handlers(school, case):
                self._notifier.notify(
                    school_id=school.id,
                    person_id=handler.id,
                    kind="case.card",
                    message=case_card(case, school),
                )
            return
        self._notifier.notify_channel(
            school_id=school.id,
            purpose="safeguarding",
            subject=case_subject(case),
            kind="case.card",
            message=case_card(case, school),
        )

    def _tell_reporter(self, case: Case, school: School) -> None:
        status = Status(case.status)
        self._notifier.notify(
            school_id=school.id,
            person_id=case.reporter_id,
            kind="case.status",
            message=Message(
                kind=MessageKind.NOTIFICATION,
                title=f"Update on your report {case.reference}",
                text=f"Your report {case.reference} is now: {STATUS_FOR_REPORTER[status]}.",
                facts=(Fact(label="Status", value=status.value.title()),),
            ),
        )

    async def acknowledge(self, reference: str, *, school: School, actor: Person) -> Case:
        case = await self._find(reference, school)
        require(actor, CaseAction.ACKNOWLEDGE, case, school)
        if case.status != Status.NEW:
            raise InvalidRequest(
                f"{case.reference} was already acknowledged (it is {case.status})."
            )
        self._move(case, school, actor, Status.ACKNOWLEDGED, "Acknowledged.")
        self._record(case, actor, AuditAction.CASE_ACKNOWLEDGE)
        return case

    async def assign(
        self, reference: str, *, school: School, actor: Person, to_person: str | None = None
    ) -> Case:
        case = await self._find(reference, school)
        require(actor, CaseAction.ASSIGN, case, school)
        assignee = school.person(to_person) if to_person else actor
        if assignee is None or assignee not in case_handlers(school, case):
            raise InvalidRequest(
                "A report can only be assigned to the safeguarding lead or a deputy; "
                f"{(to_person or '')[:40]} is not one at {school.name}."
            )
        if case.assigned_to == assignee.id:
            raise InvalidRequest(f"{case.reference} is already assigned to {assignee.name}.")
        previous = school.display_name(case.assigned_to)
        case.assigned_to = assignee.id
        self._event(case, actor, "assigned", f"Assigned to {assignee.name} (was {previous}).")
        self._record(case, actor, AuditAction.CASE_ASSIGN, f"to {assignee.id}")
        self._announce(case, school)
        if assignee.id != actor.id:
            self._notifier.notify(
                school_id=school.id,
                person_id=assignee.id,
                kind="case.assigned",
                message=Message(
                    kind=MessageKind.NOTIFICATION,
                    title=f"{case.reference} has been assigned to you",
                    text=f"{actor.name} assigned report {case.reference} to you.",
                ),
            )
        return case

    async def add_note(self, reference: str, *, school: School, actor: Person, text: str) -> Case:
        case = await self._find(reference, school)
        require(actor, CaseAction.NOTE, case, school)
        text = text.strip()
        if not text:
            raise InvalidRequest("A note needs some text.", field=FormField.NOTE)
        if len(text) > 10_000:
            raise InvalidRequest("A note can be at most 10,000 characters.", field=FormField.NOTE)
        self._event(case, actor, "note", text)
        self._record(case, actor, AuditAction.CASE_NOTE)
        return case

    async def change_status(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        status: Status,
        reason: str,
        outcome: str | None = None,
    ) -> Case:
        case = await self._find(reference, school)
        require(actor, CaseAction.CHANGE_STATUS, case, school)
        current = Status(case.status)
        if status not in NEXT_STATUSES[current]:
            allowed = ", ".join(sorted(s.value for s in NEXT_STATUSES[current]))
            raise InvalidRequest(
                f"{case.reference} is {current.value}; from there it can move to: {allowed}."
            )
        if not reason.strip():
            raise InvalidRequest(
                "Please give the reason for this decision; it goes in the record.",
                field=FormField.REASON,
            )
        if status is Status.CLOSED:
            if not (outcome and outcome.strip()):
                raise InvalidRequest("Closing a report needs its outcome.", field=FormField.OUTCOME)
            case.outcome = outcome.strip()
            case.closed_at = self._now
        elif current is Status.CLOSED:
            case.outcome, case.closed_at = None, None
        text = reason.strip() + (f"\nOutcome: {case.outcome}" if status is Status.CLOSED else "")
        self._move(case, school, actor, status, text)
        self._record(case, actor, AuditAction.CASE_STATUS, f"{current.value} -> {status.value}")
        return case

    def _move(self, case: Case, school: School, actor: Person, status: Status, text: str) -> None:
        previous = case.status
        case.status = status.value
        self._event(case, actor, "status", text, from_status=previous, to_status=status.value)
        self._tell_reporter(case, school)
        self._announce(case, school)

    # -- questions to the reporter, who may be anonymous ----------------------------------

    async def ask_reporter(
        self, reference: str, *, school: School, actor: Person, question: str
    ) -> Case:
        """Relay a handler's question: the reporter is asked in their own chat, and never
        learns more about the handling than the question says; an anonymous reporter stays
        anonymous, since only the bot knows whom it asked."""
        case = await self._find(reference, school)
        require(actor, CaseAction.ASK_REPORTER, case, school)
        question = " ".join(question.split())
        if len(question) < 3:
            raise InvalidRequest(
                "Please type the question for the reporter.", field=FormField.QUESTION
            )
        if len(question) > 2000:
            raise InvalidRequest(
                "A question can be at most 2,000 characters.", field=FormField.QUESTION
            )
        self._event(case, actor, "question", question)
        self._record(case, actor, AuditAction.CASE_QUESTION)
        self._notifier.notify(
            school_id=school.id,
            person_id=case.reporter_id,
            kind="case.question",
            message=Message(
                kind=MessageKind.NOTIFICATION,
                title=f"A question about your report {case.reference}",
                text=f"The safeguarding lead handling your report asks: “{question}”",
                buttons=(
                    ReporterButtonValue(ReporterVerb.ANSWER, case.reference).button(
                        "Answer", "primary"
                    ),
                ),
                expects=InputKind.CHOICE,
            ),
        )
        return case

    async def for_answer(self, reference: str, *, school: School, actor: Person) -> Case:
        """The report whose reporter is answering a question about it, checked before they are
        asked for the answer; anyone else is told it cannot be found."""
        case = await self._find(reference, school)
        require(actor, CaseAction.ANSWER, case, school)
        return case

    async def answer_from_reporter(
        self, reference: str, *, school: School, actor: Person, answer: str
    ) -> Case:
        case = await self.for_answer(reference, school=school, actor=actor)
        answer = answer.strip()
        if len(answer) < 1:
            raise InvalidRequest("Please type your answer.")
        if len(answer) > 8000:
            raise InvalidRequest("An answer can be at most 8,000 characters.")
        events = await self.events(case)
        asked = [e for e in events if e.kind == "question"]
        if not asked:
            raise InvalidRequest(f"Nobody has asked you a question about {case.reference}.")
        self._event(case, actor, "answer", answer)
        self._record(case, actor, AuditAction.CASE_ANSWER)
        handlers = case_handlers(school, case)
        asker = next((p for p in handlers if p.id == asked[-1].actor_id), None)
        for handler in [asker] if asker else handlers:
            self._notifier.notify(
                school_id=school.id,
                person_id=handler.id,
                kind="case.answer",
                message=Message(
                    kind=MessageKind.NOTIFICATION,
                    title=f"The reporter answered: {case.reference}",
                    text=answer,
                    facts=(
                        Fact(label="Your question", value=asked[-1].text),
                        Fact(label="From", value=reporter_name(case, school, handler)),
                    ),
                ),
            )
        return case

    async def hold(
        self, reference: str, *, school: School, actor: Person, reason: str | None
    ) -> Case:
        """Put a report on legal hold (kept past its retention period), or lift it (None)."""
        case = await self._find(reference, school)
        require(actor, CaseAction.HOLD, case, school)
        if reason is not None and len(reason.strip()) < 3:
            raise InvalidRequest("Please give the reason for the hold; it goes in the record.")
        case.legal_hold = reason is not None
        case.hold_reason = reason.strip() if reason else None
        text = f"Legal hold: {case.hold_reason}" if reason else "Legal hold lifted."
        self._event(case, actor, "hold", text)
        self._record(case, actor, AuditAction.CASE_HOLD, "on" if reason else "off")
        return case

    # -- exporting -----------------------------------------------------------------------

    async def export(
        self, reference: str, *, school: School, actor: Person, out: Path
    ) -> pack.WrittenPack:
        """Write the evidence pack; the export itself goes into the chronology and the audit."""
        case = await self._find(reference, school)
        require(actor, CaseAction.EXPORT, case, school)
        self._event(case, actor, "exported", f"Evidence pack exported to {out.name}.")
        events = await self.events(case)
        files = [await self._evidence.read(r) for r in await self._evidence.for_case(case.id)]
        written = pack.write_evidence_pack(
            pack.PackCase(
                reference=case.reference,
                school_name=school.name,
                timezone=school.timezone,
                status=case.status,
                outcome=case.outcome,
                urgency=case.urgency,
                police_consideration=case.police_consideration,
                reporter=reporter_name(case, school, actor),
                assigned_to=school.display_name(case.assigned_to) if case.assigned_to else None,
                created_at=case.created_at,
                answers=answers_for_display(case, school),
                events=[
                    pack.PackEvent(
                        at=e.at,
                        actor=actor_name(case, e.actor_id, school, actor),
                        kind=EVENT_LABELS.get(e.kind, e.kind),
                        text=event_text(e),
                    )
                    for e in events
                ],
                evidence=[
                    pack.PackEvidence(
                        evidence_id=f.record.id,
                        original_name=f.record.original_name,
                        media_type=f.record.media_type,
                        extension=f.record.extension,
                        size=f.record.size,
                        sha256=f.record.sha256,
                        received_at=f.record.received_at,
                        received_from=actor_name(case, f.record.uploaded_by, school, actor),
                        content=f.content,
                    )
                    for f in files
                ],
                exported_by=actor.name,
                exported_at=self._now,
            ),
            out,
        )
        self._record(
            case,
            actor,
            AuditAction.CASE_EXPORT,
            f"pack sha256 {written.sha256}; intact: {written.all_evidence_verified}",
        )
        return written


__all__ = [
    "AFFECTED",
    "EVENT_LABELS",
    "HATE",
    "NATURE",
    "NEXT_STATUSES",
    "POLICE_NATURES",
    "RESPONSIBLE",
    "STATUS_FOR_REPORTER",
    "CaseRecord",
    "CaseService",
    "NewReport",
    "Status",
    "Urgency",
    "answers_for_display",
    "case_summary_json",
    "event_text",
    "needs_police_consideration",
    "urgency_for",
]
