"""Answering from a school's stored policy without starting the runtime: `policybot ask
--school ID`, which only reads.

The runtime (the database layer, every table model, the services) is what the server and the
other commands need, and it took most of the second `ask --school` used to take. When the
version in force can be read with the database's driver alone (storage.policy_in_force), this
answers exactly as PolicyService.consult would; when it cannot (a first start, nothing imported
yet, a schema behind the code, a database out of reach), it says None and the caller asks the
service.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from dialogs.services.policy.answer import PolicyAnswer
from dialogs.services.policy.stored import policy_from_json
from dialogs.services.safeguarding.concern import may_concern_a_child, safeguarding_concern
from storage.policy_in_force import read_in_force

if TYPE_CHECKING:
    from dialogs.services.school.schools import School


def consult_stored(
    database_url: str, school: School, question: str, *, k: int, now: datetime
) -> PolicyAnswer | None:
    """PolicyService.consult's answer from the version in force at `now`, or None when the
    database cannot be read without the runtime (see storage.policy_in_force)."""
    stored = read_in_force(database_url, school.id, now.astimezone(school.tz).date())
    if stored is None:
        return None
    if safeguarding_concern(question) is not None:  # never searched, as in consult
        return PolicyAnswer(
            question=question,
            confident=False,
            passages=(),
            child_safety=may_concern_a_child(question),
        )
    from dialogs.services.policy.search import PolicySearch  # its tables load when asked

    policy = policy_from_json(stored.title, stored.sections, stored.dropped)
    return PolicySearch(policy).answer(question, k=k)
