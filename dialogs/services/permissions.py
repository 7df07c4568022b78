"""Who may do what to a case, decided in one place.

Every case operation asks here first. A person who may not even know a case exists is told it
cannot be found, exactly as if it did not exist, so references cannot be probed.
"""

from __future__ import annotations

from enum import StrEnum

from dialogs.errors import NotFound, NotPermitted
from dialogs.services.schools import CASE_HANDLER_ROLES, Person
from storage.models import Case


class CaseAction(StrEnum):
    VIEW_STATUS = "view_status"
    VIEW = "view"
    LIST_ALL = "list_all"
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    CHANGE_STATUS = "change_status"
    EXPORT = "export"


_VERB = {
    CaseAction.VIEW: "see the details of reports",
    CaseAction.LIST_ALL: "see every report",
    CaseAction.ACKNOWLEDGE: "acknowledge reports",
    CaseAction.ASSIGN: "assign reports",
    CaseAction.NOTE: "add notes to reports",
    CaseAction.CHANGE_STATUS: "change the status of reports",
    CaseAction.EXPORT: "export evidence packs",
}


def is_handler(person: Person) -> bool:
    return person.has_any(CASE_HANDLER_ROLES)


def may(person: Person, action: CaseAction, case: Case | None = None) -> bool:
    if is_handler(person):
        return True
    if action is CaseAction.VIEW_STATUS:
        return case is not None and case.reporter_id == person.id
    return False


def require(person: Person, action: CaseAction, case: Case | None = None) -> None:
    """Raise unless `person` may do `action`; say as little as possible about the case."""
    if may(person, action, case):
        return
    if case is not None and not may(person, CaseAction.VIEW_STATUS, case):
        raise NotFound(f"I can't find a report {case.reference} that you can see.")
    raise NotPermitted(
        f"Only the designated safeguarding lead or their deputy can {_VERB[action]}. "
        "Nothing has been changed."
    )
