"""Conflicts of interest: who must not see a report, because of who it is about.

A report that names someone in the safeguarding team (as the person targeted, as the one
responsible, or in what happened) must not be handled, or even seen, by them; nor by anyone the
school has configured as conflicted with someone it names (a partner, a relative). Names are
matched as a person would write them: the full name, or a title and surname ("Mrs Okafor"),
whatever the case; a miss is not silent, as the report still reaches the other handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dialogs.services.school.schools import CASE_HANDLER_ROLES, Person, Role, School
from storage.models import Case

_TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "sir", "madam")


def _patterns(name: str) -> list[re.Pattern[str]]:
    words = name.split()
    forms = [r"\s+".join(re.escape(w) for w in words)]
    if len(words) > 1 and len(words[-1]) >= 2:
        surname = re.escape(words[-1])
        forms += [rf"{title}\.?\s+{surname}" for title in _TITLES]
    return [re.compile(rf"(?<!\w){form}(?!\w)", re.IGNORECASE) for form in forms]


def _named(person_or_name: str, school: School) -> list[str]:
    person = school.person(person_or_name)
    return [person.name] if person is not None else [person_or_name]


def names_in(text: str, names: Iterable[str]) -> bool:
    return any(p.search(text) for name in names for p in _patterns(name))


def conflicted(school: School, case: Case) -> list[str]:
    """The ids of handlers who must not see this report."""
    text = " \n".join(t for t in (case.affected_name, case.responsible_name, case.description) if t)
    handlers: list[Person] = school.with_role(*CASE_HANDLER_ROLES, Role.TRUST_SAFEGUARDING_LEAD)
    excluded = []
    for person in handlers:
        about_them = case.reporter_id == person.id and case.affected == "me"
        others = [n for c in person.conflicts for n in _named(c, school)]
        if about_them or names_in(text, [person.name]) or names_in(text, others):
            excluded.append(person.id)
    return excluded
