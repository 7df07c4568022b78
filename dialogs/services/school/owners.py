"""Who answers for a school's policy, as people are told it.

Apart from permissions, which reads the records it rules on (storage.models): saying who looks
after the policy under an answer (`policybot ask`) needs only the school's configuration.
"""

from __future__ import annotations

from dialogs.services.school.schools import Person, Role, School


def policy_owners(school: School) -> list[Person]:
    """Who answers for the policy; a school that names no owner has its headteacher do it."""
    return school.with_role(Role.POLICY_OWNER) or school.with_role(Role.HEADTEACHER)


def owner_names(school: School) -> str:
    names = [p.name for p in policy_owners(school)]
    if not names:
        return "your headteacher"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
