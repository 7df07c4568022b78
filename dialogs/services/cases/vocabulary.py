"""The words of a case: statuses, categories and how a case reads to people.

Kept apart from the case service so cards, dialogs and exports can share them without
depending on the database code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dialogs.services.school.schools import School
from storage.models import Case, CaseEvent


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    REFERRED = "referred"
    CLOSED = "closed"


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    HIGH = "high"
    NORMAL = "normal"


# What a reporter is told about where their report has got to.
STATUS_FOR_REPORTER = {
    Status.NEW: "Received; on its way to the safeguarding lead",
    Status.ACKNOWLEDGED: "Seen by the safeguarding lead",
    Status.INVESTIGATING: "Being looked into",
    Status.REFERRED: "Passed to another agency (for example the police) by the safeguarding lead",
    Status.CLOSED: "Closed; the safeguarding lead will talk to you about the outcome",
}

NEXT_STATUSES: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.REFERRED, Status.CLOSED}
    ),
    Status.ACKNOWLEDGED: frozenset({Status.INVESTIGATING, Status.REFERRED, Status.CLOSED}),
    Status.INVESTIGATING: frozenset({Status.REFERRED, Status.CLOSED}),
    Status.REFERRED: frozenset({Status.INVESTIGATING, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.INVESTIGATING}),
}

AFFECTED = {
    "me": "Me",
    "colleague": "A colleague",
    "pupil": "A pupil",
    "school": "The school",
}
RESPONSIBLE = {
    "pupil": "A pupil",
    "parent": "A parent or carer",
    "staff": "A member of staff",
    "public": "A member of the public",
    "unknown": "Not known",
}
NATURE = {
    "threatening": "Threatening or intimidating",
    "sexual": "Sexual",
    "hate": "Hate about a protected characteristic",
    "sexist": "Sexist",
    "personal_info": "Personal information shared",
    "impersonation": "Impersonation or a fake account",
    "other": "Something else (abusive, insulting, untrue)",
}
HATE = {
    "race": "Race or ethnicity",
    "religion": "Religion or belief",
    "disability": "Disability",
    "sexual_orientation": "Sexual orientation",
    "transgender": "Transgender identity",
    "other": "Another characteristic",
}
# The policies ask the school to consider the police for these kinds of content.
POLICE_NATURES = frozenset({"threatening", "sexual", "hate", "sexist"})


EVENT_LABELS = {
    "submitted": "Report submitted",
    "status": "Status changed",
    "assigned": "Assigned",
    "note": "Note",
    "exported": "Evidence pack exported",
    "question": "Question to the reporter",
    "answer": "The reporter's answer",
    "hold": "Hold",
}

# Who may know who made a report, as the reporter chooses it.
VISIBILITY = {
    "named": "The safeguarding lead and deputy",
    "lead_only": "Only the designated safeguarding lead",
    "anonymous": "Nobody: it is anonymous",
}


def event_text(event: CaseEvent) -> str:
    """A chronology line's words, with the status change spelled out where there was one."""
    if event.from_status and event.to_status:
        return f"{event.from_status} → {event.to_status}. {event.text}"
    return event.text


def answers_for_display(case: Case, school: School) -> list[tuple[str, str]]:
    """The report as the reporter gave it, in words, in the school's timezone."""
    tz = school.tz
    rows: list[tuple[str, str]] = [
        ("Who is affected", AFFECTED.get(case.affected, case.affected)),
    ]
    if case.affected_name:
        rows.append(("Name of the person affected", case.affected_name))
    rows += [
        ("Immediate danger", "Yes" if case.immediate_danger else "No"),
        ("Where it happened", case.platform),
        ("Link", case.link or "Not given"),
        ("When it happened", case.occurred_at.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")),
        ("What happened", case.description),
        ("Who is responsible", RESPONSIBLE.get(case.responsible, case.responsible)),
    ]
    if case.responsible_name:
        rows.append(("Name of who is responsible", case.responsible_name))
    rows.append(("Nature of the content", ", ".join(NATURE.get(n, n) for n in case.nature)))
    if case.hate_characteristics:
        rows.append(
            (
                "Protected characteristic",
                ", ".join(HATE.get(h, h) for h in case.hate_characteristics),
            )
        )
    return rows


def case_summary_json(case: Case, school: School) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "status": case.status,
        "status_for_reporter": STATUS_FOR_REPORTER[Status(case.status)],
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }
