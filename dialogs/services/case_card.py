"""The case card: how a case appears in the safeguarding channel, and the buttons on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.messages import Button, Fact, Message, MessageKind
from dialogs.services.button_values import VerbButton
from dialogs.services.case_vocabulary import (
    AFFECTED,
    EVENT_LABELS,
    NEXT_STATUSES,
    STATUS_FOR_REPORTER,
    Status,
    answers_for_display,
    event_text,
)
from dialogs.services.schools import School
from storage.models import Case, CaseEvent


class CaseVerb(StrEnum):
    ACKNOWLEDGE = "ack"
    ASSIGN_TO_ME = "assign_me"
    NOTE = "note"
    STATUS = "status"
    VIEW = "view"
    EXPORT = "export"


# Verbs that need more from the handler (text, a status) before they can be performed.
NEEDS_FORM = frozenset({CaseVerb.NOTE, CaseVerb.STATUS})


@dataclass(frozen=True)
class CaseButtonValue(VerbButton[CaseVerb]):
    PREFIX = "case"
    VERBS = CaseVerb


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
        Fact(label="Reported by", value=school.display_name(case.reporter_id)),
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


def details(case: Case, events: list[CaseEvent], school: School) -> Message:
    """Everything about a case, for a handler who asked to see it (the view is audited)."""
    facts = [Fact(label=label, value=value) for label, value in answers_for_display(case, school)]
    facts.append(
        Fact(label="Status", value=f"{case.status} ({STATUS_FOR_REPORTER[Status(case.status)]})")
    )
    if case.outcome:
        facts.append(Fact(label="Outcome", value=case.outcome))
    for event in events[-10:]:
        at = event.at.astimezone(school.tz).strftime("%d/%m %H:%M")
        what = EVENT_LABELS.get(event.kind, event.kind)
        label = f"{at} {school.display_name(event.actor_id)}: {what}"
        facts.append(Fact(label=label, value=event_text(event) or "-"))
    return Message(
        kind=MessageKind.INFO,
        title=f"Report {case.reference} (confidential)",
        text="Shown only to you. This view has been recorded in the audit log.",
        facts=tuple(facts),
    )
