"""Who may do what, as one matrix of role and action, from dialogs.services.school.permissions.

Each role is given to one person on its own (with staff, as everyone has), so a cell says what
that role alone allows. The rows below are the policy a data protection officer signs off:
change one and a test fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dialogs.services.errors import NotFound, NotPermitted
from dialogs.services.school.permissions import (
    AccountAction,
    AccountInCheck,
    Action,
    CaseAction,
    CommentAction,
    ImportAction,
    PostAction,
    QuestionAction,
    RecordsAction,
    Target,
    WebsiteAction,
    case_handlers,
    may,
    require,
)
from dialogs.services.school.schools import Person, Role, School
from storage.models import AccountRequest, Case, PolicyQuestion, PostRequest, WebsiteReport

ROLES = [r for r in Role if r is not Role.STAFF]
PEOPLE = [
    Person(id="reporter", name="Rita Reporter", roles=frozenset({Role.STAFF})),
    Person(id="author", name="Alex Author", roles=frozenset({Role.STAFF})),
    Person(id="staff", name="Sam Staff", roles=frozenset({Role.STAFF})),
    *(
        Person(id=r.value.replace("_", "-"), name=f"Someone {i}", roles=frozenset({Role.STAFF, r}))
        for i, r in enumerate(ROLES)
    ),
]
SCHOOL = School(id="oak", name="Oak", people=tuple(PEOPLE))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

LEADS = {Role.SAFEGUARDING_LEAD, Role.DEPUTY_SAFEGUARDING_LEAD}
OVERSEERS = {Role.APPROVER, Role.MODERATOR, Role.HEADTEACHER, Role.SENIOR_LEADER, Role.IT_ADMIN}
MODERATORS = {Role.MODERATOR, Role.SENIOR_LEADER, Role.HEADTEACHER}

# Someone else's record: which roles may do each thing. STAFF alone may do none of them.
MATRIX: dict[Action, set[Role]] = {
    CaseAction.HANDLE: LEADS | {Role.TRUST_SAFEGUARDING_LEAD},  # any report: the card's buttons
    CaseAction.ANSWER: set(),  # only its reporter answers the lead's questions
    CaseAction.VIEW_STATUS: LEADS,
    CaseAction.VIEW: LEADS,
    CaseAction.LIST_ALL: LEADS | {Role.TRUST_SAFEGUARDING_LEAD},
    CaseAction.ACKNOWLEDGE: LEADS,
    CaseAction.ASSIGN: LEADS,
    CaseAction.NOTE: LEADS,
    CaseAction.CHANGE_STATUS: LEADS,
    CaseAction.EXPORT: LEADS,
    CaseAction.VIEW_EVIDENCE: LEADS,
    CaseAction.ASK_REPORTER: LEADS,
    CaseAction.SEE_REPORTER: LEADS,
    CaseAction.HOLD: LEADS,
    PostAction.VIEW: OVERSEERS,
    PostAction.VIEW_MEDIA: OVERSEERS,
    PostAction.LIST_ALL: OVERSEERS,
    PostAction.DECIDE: {Role.APPROVER},
    PostAction.PUBLISH: {Role.APPROVER, Role.MODERATOR},
    PostAction.CHANGE: set(),
    CommentAction.VIEW: MODERATORS,
    CommentAction.ACT: MODERATORS,
    CommentAction.LOG: MODERATORS,
    RecordsAction.VIEW_AUDIT: {Role.DATA_PROTECTION_OFFICER, Role.HEADTEACHER},
    RecordsAction.EXPORT_AUDIT: {Role.DATA_PROTECTION_OFFICER},
    RecordsAction.SUBJECT_ACCESS: {Role.DATA_PROTECTION_OFFICER, Role.HEADTEACHER},
    RecordsAction.ERASE: {Role.DATA_PROTECTION_OFFICER},
    AccountAction.VIEW: {Role.SENIOR_LEADER, Role.HEADTEACHER, Role.IT_ADMIN},
    AccountAction.DECIDE: {Role.SENIOR_LEADER, Role.HEADTEACHER},
    AccountAction.RECORD: {Role.IT_ADMIN},
    AccountAction.CHANGE_REGISTER: {Role.IT_ADMIN, Role.SENIOR_LEADER, Role.HEADTEACHER},
    AccountAction.CONFIRM: set(),  # only the people asked, and those who run it now
    WebsiteAction.ANSWER: {Role.IT_ADMIN},  # or the senior leaders, where nobody is in IT
    QuestionAction.ANSWER: {Role.POLICY_OWNER},  # or the headteacher, where no owner is named
    QuestionAction.LIST: {Role.POLICY_OWNER, Role.HEADTEACHER, Role.IT_ADMIN},
    QuestionAction.FOLLOW_UP: set(),  # only whoever asked it
    ImportAction.POLICY: {Role.POLICY_OWNER, Role.HEADTEACHER, Role.IT_ADMIN},
    ImportAction.CONSENT: {
        Role.IT_ADMIN,
        Role.HEADTEACHER,
        Role.SENIOR_LEADER,
        Role.SAFEGUARDING_LEAD,
    },
}


def person(role: Role | str) -> Person:
    key = role.value.replace("_", "-") if isinstance(role, Role) else role
    found = SCHOOL.person(key)
    assert found is not None
    return found


def case(**changes: Any) -> Case:
    fields: dict[str, Any] = {
        "id": "c1",
        "school_id": "oak",
        "reference": "CB-2026-0001",
        "reporter_id": "reporter",
        "origin_channel": "terminal",
        "status": "new",
        "urgency": "normal",
        "affected": "me",
        "platform": "Facebook",
        "occurred_at": NOW,
        "description": "Something happened.",
        "responsible": "parent",
        "excluded": [],
        "reporter_visibility": "named",
    }
    fields.update(changes)
    return Case(**fields)


def post() -> PostRequest:
    return PostRequest(
        id="p1",
        school_id="oak",
        reference="PR-2026-0001",
        author_id="author",
        origin_channel="terminal",
        status="submitted",
        text="Our trip.",
        planned_at=NOW,
    )


def account_request() -> AccountRequest:
    return AccountRequest(
        id="a1",
        school_id="oak",
        reference="AR-2026-0001",
        requester_id="reporter",
        status="submitted",
        name="Year 6 blog",
        platform="instagram",
        aim="Share learning",
        audience="Parents",
        promotion="Newsletter",
        runners=["staff", "author"],
        visibility="private",
    )


def website_report() -> WebsiteReport:
    return WebsiteReport(
        id="w1",
        school_id="oak",
        reference="WB-2026-0001",
        reporter_id="reporter",
        address="badsite.example",
        seen_at=NOW,
        status="open",
    )


def question() -> PolicyQuestion:
    return PolicyQuestion(
        id=7, school_id="oak", person_id="reporter", channel="terminal", question="Can I?"
    )


def target(action: Action) -> Target | None:
    if isinstance(action, CaseAction):
        return None if action is CaseAction.LIST_ALL else case()
    if isinstance(action, PostAction):
        return None if action is PostAction.LIST_ALL else post()
    if action is AccountAction.CONFIRM:
        return AccountInCheck(
            school_id="oak",
            account_id="website",
            name="Oak website",
            asked=frozenset({"reporter"}),
            owners=frozenset({"reporter", "author"}),
        )
    if isinstance(action, AccountAction):
        return account_request() if action in (AccountAction.VIEW, AccountAction.DECIDE) else None
    if isinstance(action, WebsiteAction):
        return website_report()
    if isinstance(action, QuestionAction):
        return None if action is QuestionAction.LIST else question()
    return None


CELLS = [(action, role) for action in MATRIX for role in [Role.STAFF, *ROLES]]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a.value}-{r.value}" for a, r in CELLS])
def test_each_role_may_do_exactly_what_the_matrix_says(action: Action, role: Role) -> None:
    who = SCHOOL.person("staff") if role is Role.STAFF else person(role)
    assert who is not None
    assert may(who, action, target(action), SCHOOL) is (role in MATRIX[action])


def test_every_action_is_in_the_matrix() -> None:
    every: list[Action] = [
        *CaseAction,
        *PostAction,
        *CommentAction,
        *RecordsAction,
        *AccountAction,
        *WebsiteAction,
        *QuestionAction,
        *ImportAction,
    ]
    assert set(every) == set(MATRIX)


def test_the_reporter_sees_only_the_status_of_their_own_report() -> None:
    reporter = person("reporter")
    allowed = {a for a in CaseAction if may(reporter, a, case(), SCHOOL)}
    assert allowed == {CaseAction.VIEW_STATUS, CaseAction.ANSWER}


def test_an_author_sees_and_changes_their_own_post_but_never_decides_on_it() -> None:
    author = person("author")
    allowed = {a for a in PostAction if may(author, a, post(), SCHOOL)}
    assert allowed == {
        PostAction.VIEW,
        PostAction.VIEW_MEDIA,
        PostAction.PUBLISH,
        PostAction.CHANGE,
    }
    approving_author = Person(
        id="author", name="Alex Author", roles=frozenset({Role.STAFF, Role.APPROVER})
    )
    with pytest.raises(NotPermitted, match="another approver must"):
        require(approving_author, PostAction.DECIDE, post(), SCHOOL)


def test_a_lead_named_in_a_report_cannot_tell_it_exists() -> None:
    lead = person(Role.SAFEGUARDING_LEAD)
    conflicted = case(excluded=[lead.id])
    # Handling reports at all is their role; every action on this one is refused.
    assert not any(may(lead, a, conflicted, SCHOOL) for a in CaseAction if a != CaseAction.HANDLE)
    with pytest.raises(NotFound, match="CB-2026-0001"):
        require(lead, CaseAction.VIEW, conflicted, SCHOOL)
    assert may(person(Role.DEPUTY_SAFEGUARDING_LEAD), CaseAction.VIEW, conflicted, SCHOOL)


def test_when_every_school_lead_is_named_the_trusts_lead_handles_it() -> None:
    both = case(excluded=["safeguarding-lead", "deputy-safeguarding-lead"])
    assert [p.id for p in case_handlers(SCHOOL, both)] == ["trust-safeguarding-lead"]
    trust = person(Role.TRUST_SAFEGUARDING_LEAD)
    assert may(trust, CaseAction.VIEW, both, SCHOOL)
    assert may(trust, CaseAction.SEE_REPORTER, both, SCHOOL)
    assert not may(trust, CaseAction.VIEW, case(), SCHOOL)  # not while the school's own can


@pytest.mark.parametrize(
    ("visibility", "who_may_know"),
    [
        ("named", {Role.SAFEGUARDING_LEAD, Role.DEPUTY_SAFEGUARDING_LEAD}),
        ("lead_only", {Role.SAFEGUARDING_LEAD}),
        ("anonymous", set()),
    ],
)
def test_who_may_know_who_reported_follows_the_reporters_choice(
    visibility: str, who_may_know: set[Role]
) -> None:
    chosen = case(reporter_visibility=visibility)
    knows = {r for r in ROLES if may(person(r), CaseAction.SEE_REPORTER, chosen, SCHOOL)}
    assert knows == who_may_know
    # Everything else about handling it is the same whatever the reporter chose.
    assert may(person(Role.DEPUTY_SAFEGUARDING_LEAD), CaseAction.ASK_REPORTER, chosen, SCHOOL)
