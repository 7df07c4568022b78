"""The case card: how a case appears in the safeguarding channel, and the buttons on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.services.cases.vocabulary import (
    AFFECTED,
    EVENT_LABELS,
    NEXT_STATUSES,
    STATUS_FOR_REPORTER,
    Status,
    answers_for_display,
    event_text,
)
from dialogs.services.messages import Button, Fact, Message, MessageKind
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.permissions import CaseAction, may
from dialogs.services.school.schools import Person, School
from storage.models import Case, CaseEvent

REPORTER = "The reporter"


class CaseVerb(StrEnum):
    ACKNOWLEDGE = "ack"
    ASSIGN_TO_ME = "assign_me"
    NOTE = "note"
    STATUS = "status"
    VIEW = "view"
    EXPORT = "export"
    ASK = "ask"  # a question relayed to the reporter, who may be anonymous


# Verbs that need more from the handler (text, a status) before they can be performed.
NEEDS_FORM = frozenset({CaseVerb.NOTE, CaseVerb.STATUS, CaseVerb.ASK})


def reporter_name(case: Case, school: School, viewer: Person | None) -> str:
    """Who reported it, as `viewer` may know it; None is a channel, which anyone in it reads."""
    if viewer is not None and may(viewer, CaseAction.SEE_REPORTER, case, school):
        return school.display_name(case.reporter_id)
    if case.reporter_visibility == "anonymous":
        return "Anonymous"
    if case.reporter_visibility == "lead_only":
        return "Kept confidential (only the lead knows)"
    return school.display_name(case.reporter_id) if viewer is None else REPORTER


def actor_name(case: Case, actor_id: str, school: School, viewer: Person | None) -> str:
    """A chronology entry's author: the reporter's own entries show them as `viewer` may
    know them."""
    if actor_id == case.reporter_id:
        shown = reporter_name(case, school, viewer)
        return shown if shown == school.display_name(actor_id) else REPORTER
    return school.display_name(actor_id)


@dataclass(frozen=True)
class CaseButtonValue(VerbButton[CaseVerb]):
    PREFIX = "case"
    VERBS = CaseVerb


class ReporterVerb(StrEnum):
    ANSWER = "answer"


@dataclass(frozen=True)
class ReporterButtonValue(VerbButton[ReporterVerb]):
    """On a question relayed to the reporter, in their own chat."""

    PREFIX = "reply"
    VERBS = ReporterVerb


def case_subject(case: Case) -> str:
    return f"case:{case.id}"


def case_card(case: Case, school: School) -> Message:
    """The summary posted to the safeguarding channel: enough to act, nothing more.

    No description, names or screenshots: the channel's membership is managed in the
    platform, not by policybot, so details are shown only on request to a handler.
    """
    when = case.occurred_at.astimezone(school.tz).strftime("%a %d %b %Y %H:%M")
    facts = [
        Fact(label="Status", value=Status(case.status).value.title()),
        Fact(label="Urgency", value=case.urgency.title()),
        Fact(label="Consider police", value="Yes" if case.police_consideration else "No"),
        Fact(label="Reported by", value=reporter_name(case, school, None)),
        Fact(label="Who is affected", value=AFFECTED.get(case.affected, case.affected)),
        Fact(label="Where", value=case.platform),
        Fact(label="When it happened", value=when),
        Fact(label="Assigned to", value=school.display_name(case.assigned_to)),
    ]
    buttons = []
    if case.status == Status.NEW:
        buttons.append(_button(CaseVerb.ACKNOWLEDGE, case, "Acknowledge", "primary"))
    buttons += [
        _button(CaseVerb.ASSIGN_TO_ME, case, "Assign to me"),
        _button(CaseVerb.VIEW, case, "View details"),
        _button(CaseVerb.NOTE, case, "Add note"),
        _button(CaseVerb.STATUS, case, "Change status"),
        _button(CaseVerb.ASK, case, "Ask the reporter"),
        _button(CaseVerb.EXPORT, case, "Export evidence pack"),
    ]
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"Report {case.reference}",
        text="A report of online abuse. Details and evidence are shown only to the designated "
        "safeguarding lead and deputy, on request.",
        facts=tuple(facts),
        buttons=tuple(buttons),
    )


def _button(verb: CaseVerb, case: Case, label: str, style: str = "default") -> Button:
    return CaseButtonValue(verb, case.reference).button(
        label, "primary" if style == "primary" else "default"
    )


def next_statuses(case: Case) -> list[Status]:
    return sorted(NEXT_STATUSES[Status(case.status)], key=list(Status).index)


def details(case: Case, events: list[CaseEvent], school: School, viewer: Person) -> Message:
    """Everything about a case, for a handler who asked to see it (the view is audited)."""
    facts = [Fact(label="Reported by", value=reporter_name(case, school, viewer))]
    facts += [Fact(label=label, value=value) for label, value in answers_for_display(case, school)]
    facts.append(
        Fact(label="Status", value=f"{case.status} ({STATUS_FOR_REPORTER[Status(case.status)]})")
    )
    if case.outcome:
        facts.append(Fact(label="Outcome", value=case.outcome))
    for event in events[-10:]:
        at = event.at.astimezone(school.tz).strftime("%d/%m %H:%M")
        what = EVENT_LABELS.get(event.kind, event.kind)
        label = f"{at} {actor_name(case, event.actor_id, school, viewer)}: {what}"
        facts.append(Fact(label=label, value=event_text(event) or "-"))
    return Message(
        kind=MessageKind.INFO,
        title=f"Report {case.reference} (confidential)",
        text="Shown only to you. This view has been recorded in the audit log.",
        facts=tuple(facts),
    )
