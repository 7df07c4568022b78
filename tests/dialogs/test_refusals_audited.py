"""Refused attempts leave one entry in the audit log: who tried, what, on which record, and the
rule's reason, never what anyone wrote; and the person is answered exactly as before.

A refusal raised inside a unit of work rolls that unit back, so these tests refuse inside
`runtime.db.session()`, as every channel and command does, and then read the log from a new
session. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.jobs.accounts import run_account_checks
from bot.runtime import Runtime
from dialogs.home import LOG_COMMENT
from dialogs.services.accounts.checks import OwnerVerb
from dialogs.services.accounts.requests import AccountVerb
from dialogs.services.accounts.website_reports import WebsiteVerb
from dialogs.services.comments.card import CommentVerb
from dialogs.services.comments.incoming import CommentSource, IncomingComment
from dialogs.services.container import Services
from dialogs.services.errors import NotFound, NotPermitted, PolicybotError
from dialogs.services.policy.service import Feedback
from dialogs.services.posts.card import PostButtonValue, PostVerb
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.permissions import (
    AccountAction,
    AccountInCheck,
    Action,
    CaseAction,
    PostAction,
    QuestionAction,
    Target,
    require,
)
from dialogs.services.school.schools import Person, Role, School
from storage.models import AuditEntry, PolicyQuestion
from tests.dialogs.test_account_register import answer as owner_button
from tests.dialogs.test_account_register import card_for, sent_to
from tests.dialogs.test_account_requests import requested as account_requested
from tests.dialogs.test_case_handling import DESCRIPTION, TYPED_BY_REPORTER, file_report
from tests.dialogs.test_permissions import CELLS, LEADS, MATRIX, SCHOOL, case, target
from tests.support import Person as Chat
from tests.support import text_of

POST_TEXT = "Our choir sang beautifully at the town carol concert!"
REASON_TYPED = "Not something we would put on the website."


async def refusals(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == AuditAction.ACCESS_REFUSED.value)
            .order_by(col(AuditEntry.id))
        )
        return list(result.scalars().all())


async def everything_logged(runtime: Runtime) -> str:
    async with runtime.db.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    return "\n".join(f"{e.target_type} {e.target_id} {e.detail}" for e in entries)


async def in_unit_of_work(runtime: Runtime, work: Callable[[Services], Awaitable[object]]) -> None:
    """One unit of work, as a channel's turn or a command is: rolled back when it raises."""
    async with runtime.db.session() as session:
        await work(runtime.services(session, runtime.clock()))


async def require_in_unit_of_work(
    runtime: Runtime,
    person: Person,
    action: Action,
    record: Target | None,
    school: School = SCHOOL,
) -> None:
    async def work(_: Services) -> None:
        require(person, action, record, school)

    await in_unit_of_work(runtime, work)


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def staff(runtime: Runtime, person_id: str) -> Person:
    person = oakfield(runtime).person(person_id)
    assert person is not None
    return person


def reason_of(entry: AuditEntry) -> str:
    """The rule's reason: the entry's detail ends with it, in brackets."""
    assert entry.detail.endswith(")"), entry.detail
    return entry.detail.rsplit("(", 1)[1].rstrip(")")


def who_has(role: Role) -> Person:
    found = SCHOOL.person("staff" if role is Role.STAFF else role.value.replace("_", "-"))
    assert found is not None
    return found


def named(record: Target | None) -> tuple[str, str]:
    """How the audit log names a refused record: its id, and how people know it."""
    if record is None:
        return SCHOOL.id, ""
    if isinstance(record, PolicyQuestion):
        return str(record.id), f"Q-{record.id}"
    if isinstance(record, AccountInCheck):
        return record.account_id, record.account_id
    return record.id, record.reference


def expected_reason(action: Action, role: Role, answer: PolicybotError) -> str:
    """The reason each refused cell of the matrix is recorded with."""
    if action is CaseAction.ANSWER and role in LEADS:
        return "not_theirs"  # they handle the report, but only its reporter answers
    if action in (PostAction.CHANGE, QuestionAction.FOLLOW_UP, AccountAction.CONFIRM):
        return "not_theirs"
    if isinstance(answer, NotFound):
        return "not_visible"
    return "role"


# -- the permissions matrix, cell by cell ---------------------------------------------------


async def test_every_refused_cell_of_the_matrix_leaves_exactly_one_entry(
    runtime: Runtime,
) -> None:
    refused = [(action, role) for action, role in CELLS if role not in MATRIX[action]]
    assert refused
    answers: list[PolicybotError] = []
    for action, role in refused:
        with pytest.raises((NotFound, NotPermitted)) as caught:
            await require_in_unit_of_work(runtime, who_has(role), action, target(action))
        answers.append(caught.value)

    entries = await refusals(runtime)
    assert len(entries) == len(refused)
    for entry, (action, role), answer in zip(entries, refused, answers, strict=True):
        record = target(action)
        assert entry.school_id == SCHOOL.id
        assert entry.actor_id == who_has(role).id
        assert action.value in entry.detail
        target_id, reference = named(record)
        assert entry.target_id == target_id
        assert entry.detail.startswith(f"{reference} ".lstrip())
        assert reason_of(entry) == expected_reason(action, role, answer)


async def test_an_author_deciding_their_own_post_is_recorded_as_their_own_request(
    runtime: Runtime,
) -> None:
    approving_author = Person(
        id="author", name="Alex Author", roles=frozenset({Role.STAFF, Role.APPROVER})
    )
    post = target(PostAction.DECIDE)
    with pytest.raises(NotPermitted, match="another approver must"):
        await require_in_unit_of_work(runtime, approving_author, PostAction.DECIDE, post)
    [entry] = await refusals(runtime)
    assert reason_of(entry) == "own_request"


async def test_a_lead_named_in_a_report_is_recorded_without_saying_so(runtime: Runtime) -> None:
    """The audit log is read by the Headteacher, who may not know that a report names the lead:
    the reason is the one any other person who may not see the report gets."""
    lead = who_has(Role.SAFEGUARDING_LEAD)
    conflicted = case(excluded=[lead.id])
    with pytest.raises(NotFound):
        await require_in_unit_of_work(runtime, lead, CaseAction.VIEW, conflicted)
    [entry] = await refusals(runtime)
    assert reason_of(entry) == "not_visible"
    assert "conflict" not in entry.detail
    assert "excluded" not in entry.detail


async def test_a_refusal_that_passes_through_two_units_of_work_is_one_entry(
    runtime: Runtime,
) -> None:
    staff_member = who_has(Role.STAFF)

    async def inner(_: Services) -> None:
        await require_in_unit_of_work(runtime, staff_member, PostAction.LIST_ALL, None)

    with pytest.raises(NotPermitted):
        await in_unit_of_work(runtime, inner)
    assert len(await refusals(runtime)) == 1


async def test_a_refusal_checked_outside_any_unit_of_work_is_not_recorded(
    runtime: Runtime,
) -> None:
    """Only an attempt refused in a unit of work is recorded; a rule asked on its own (to
    decide what to show) is not an attempt."""
    with pytest.raises(NotPermitted):
        require(who_has(Role.STAFF), PostAction.LIST_ALL, None, SCHOOL)
    assert await refusals(runtime) == []


# -- the services, as the channels and commands call them -----------------------------------


async def request_post(runtime: Runtime, author: str = "sam") -> str:
    chat = Chat(runtime, person_id=author)
    for answer in ["post", "1", POST_TEXT, "skip", "no", "next Friday 3pm", "1, 2"]:
        await chat.say(answer)
    sent = await chat.say("submit")
    assert "Sent for approval: PR-2026-0001" in text_of(sent)
    return "PR-2026-0001"


async def test_a_moderator_rejecting_a_post_is_refused_as_before_and_recorded_once(
    runtime: Runtime,
) -> None:
    reference = await request_post(runtime)
    jo = staff(runtime, "jo")

    async def reject(services: Services) -> None:
        await services.posts.decide(
            reference, school=oakfield(runtime), actor=jo, verb=PostVerb.REJECT, reason=REASON_TYPED
        )

    with pytest.raises(NotPermitted, match="Only approvers can approve, reject"):
        await in_unit_of_work(runtime, reject)
    [entry] = await refusals(runtime)
    assert (entry.school_id, entry.actor_id) == ("oakfield", "jo")
    assert entry.target_type == "post_request"
    assert entry.detail == f"{reference} post.decide (role)"
    logged = await everything_logged(runtime)
    assert REASON_TYPED not in logged
    assert POST_TEXT not in logged


async def test_an_approver_deciding_their_own_post_is_recorded(runtime: Runtime) -> None:
    reference = await request_post(runtime, author="priya")
    priya = staff(runtime, "priya")

    async def approve(services: Services) -> None:
        await services.posts.decide(
            reference, school=oakfield(runtime), actor=priya, verb=PostVerb.APPROVE
        )

    with pytest.raises(NotPermitted, match="another approver must"):
        await in_unit_of_work(runtime, approve)
    [entry] = await refusals(runtime)
    assert entry.detail == f"{reference} post.decide (own_request)"


async def test_a_report_someone_may_not_see_is_not_found_and_recorded_without_its_contents(
    runtime: Runtime,
) -> None:
    reference = await file_report(runtime, shots=())
    school = oakfield(runtime)
    for who in ("jo", "priya"):
        person = staff(runtime, who)

        async def look(services: Services, person: Person = person) -> None:
            await services.cases.get(reference, school=school, actor=person)

        with pytest.raises(NotFound) as hidden:
            await in_unit_of_work(runtime, look)
        assert hidden.value.message == f"I can't find a report {reference} that you can see."
    entries = await refusals(runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("jo", "case", f"{reference} case.view_status (not_visible)"),
        ("priya", "case", f"{reference} case.view_status (not_visible)"),
    ]
    logged = await everything_logged(runtime)
    assert DESCRIPTION not in logged
    for typed in TYPED_BY_REPORTER:
        assert typed not in logged


async def test_a_reference_that_matches_nothing_is_not_a_refusal(runtime: Runtime) -> None:
    """Nothing was refused: there is no record. The answer is the same as for a hidden one."""
    jo = staff(runtime, "jo")

    async def look(services: Services) -> None:
        await services.cases.get("CB-2026-0999", school=oakfield(runtime), actor=jo)

    with pytest.raises(NotFound) as missing:
        await in_unit_of_work(runtime, look)
    assert missing.value.message == "I can't find a report CB-2026-0999 that you can see."
    assert await refusals(runtime) == []


async def test_the_reporter_acknowledging_their_own_report_is_recorded(runtime: Runtime) -> None:
    reference = await file_report(runtime, shots=())
    sam = staff(runtime, "sam")

    async def acknowledge(services: Services) -> None:
        await services.cases.acknowledge(reference, school=oakfield(runtime), actor=sam)

    with pytest.raises(NotPermitted, match="Only the designated safeguarding lead"):
        await in_unit_of_work(runtime, acknowledge)
    [entry] = await refusals(runtime)
    assert (entry.actor_id, entry.detail) == ("sam", f"{reference} case.acknowledge (role)")


async def test_staff_reading_comments_the_audit_log_or_someones_records_are_recorded(
    runtime: Runtime,
) -> None:
    school = oakfield(runtime)
    sam = staff(runtime, "sam")
    async with runtime.db.session() as session:
        received = await runtime.services(session, runtime.clock()).comments.receive(
            school,
            IncomingComment(
                source=CommentSource.WEBHOOK,
                external_id="fb-1",
                author="A parent",
                text="When is the next open day?",
                received_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
                account_id="facebook",
            ),
        )
    comment = received.comment

    async def answer_it(services: Services) -> None:
        await services.comments.act(
            comment.reference, school=school, actor=sam, verb=CommentVerb.REPLIED
        )

    async def read_the_log(services: Services) -> None:
        await services.audit.read(school_id=school.id, actor=sam)

    async def gather_records(services: Services) -> None:
        subject = services.subject_access.subject(school, "jo")
        await services.subject_access.gather(school, subject, actor=sam)

    for work in (answer_it, read_the_log, gather_records):
        with pytest.raises(NotPermitted):
            await in_unit_of_work(runtime, work)
    entries = await refusals(runtime)
    assert [(e.actor_id, e.school_id, e.target_type, e.detail) for e in entries] == [
        ("sam", "oakfield", "comment", f"{comment.reference} comment.act (role)"),
        ("sam", "oakfield", "school", "records.view_audit (role)"),
        ("sam", "oakfield", "school", "records.subject_access (role)"),
    ]
    assert "open day" not in await everything_logged(runtime)


# -- the rules about accounts, website reports, policy questions and logging comments --------


async def refused_in(runtime: Runtime, work: Callable[[Services], Awaitable[object]]) -> str:
    with pytest.raises((NotFound, NotPermitted)) as refused:
        await in_unit_of_work(runtime, work)
    return refused.value.message


async def test_refused_decisions_on_new_accounts_and_the_register_are_recorded(
    runtime: Runtime,
) -> None:
    await account_requested(runtime)  # Sam asks for AR-2026-0001
    school = oakfield(runtime)
    morgan, jo, sam = staff(runtime, "morgan"), staff(runtime, "jo"), staff(runtime, "sam")

    async def decide(services: Services) -> None:
        await services.accounts.decide(
            "AR-2026-0001", school=school, actor=morgan, verb=AccountVerb.REJECT, reason="No."
        )

    async def look(services: Services) -> None:
        await services.accounts.get("AR-2026-0001", school=school, actor=jo)

    async def record(services: Services) -> None:
        await services.accounts.record(
            "AR-2026-0001",
            school=school,
            actor=sam,
            account_id="blog",
            handle="@blog",
            link="https://instagram.com/blog",
            credentials_stored=True,
        )

    async def change_register(services: Services) -> None:
        await services.register.update(school, "blog", actor=sam, add_owners=["sam"])

    assert await refused_in(runtime, decide) == (
        "Only the senior leaders decide on new official accounts."
    )
    assert await refused_in(runtime, look) == "I can't find an account request AR-2026-0001."
    assert await refused_in(runtime, record) == (
        "Only the school's IT administrators record official accounts."
    )
    assert await refused_in(runtime, change_register) == (
        "Only the IT administrators and senior leaders change the register."
    )
    entries = await refusals(runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("morgan", "account_request", "AR-2026-0001 account.decide (role)"),
        ("jo", "account_request", "AR-2026-0001 account.view (not_visible)"),
        ("sam", "school", "account.record (role)"),
        ("sam", "school", "account.change_register (role)"),
    ]


async def test_refused_answers_to_website_reports_and_policy_questions_are_recorded(
    runtime: Runtime,
) -> None:
    sam_chat = Chat(runtime)
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip", "submit"]:
        await sam_chat.say(answer)
    await sam_chat.say("Is there a dress code for the staff Christmas party?")
    school = oakfield(runtime)
    jo, sam = staff(runtime, "jo"), staff(runtime, "sam")

    async def block(services: Services) -> None:
        await services.websites.answer(
            "WB-2026-0001", school=school, actor=jo, verb=WebsiteVerb.BLOCKED
        )

    async def answer_question(services: Services) -> None:
        await services.policies.reply(school, sam, 1, "Smart casual.")

    async def read_questions(services: Services) -> None:
        await services.policies.gaps(school, sam)

    async def rate_someone_elses(services: Services) -> None:
        await services.policies.feedback(school, jo, 1, Feedback.UNHELPFUL)

    assert await refused_in(runtime, block) == (
        "Only the school's IT administrators answer website reports."
    )
    assert (await refused_in(runtime, answer_question)).startswith("Only the policy owner (")
    assert (await refused_in(runtime, read_questions)).startswith("Only the policy owner, the")
    assert await refused_in(runtime, rate_someone_elses) == (
        "I can't find that question of yours any more."
    )
    entries = await refusals(runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("jo", "website_report", "WB-2026-0001 website.answer (role)"),
        ("sam", "policy_question", "Q-1 question.answer (role)"),
        ("sam", "school", "question.list (role)"),
        ("jo", "policy_question", "Q-1 question.follow_up (not_theirs)"),
    ]
    logged = await everything_logged(runtime)
    assert "dress code" not in logged
    assert "badsite" not in logged


async def test_staff_logging_a_comment_or_changing_someone_elses_post_are_recorded(
    runtime: Runtime,
) -> None:
    reference = await request_post(runtime)
    sam = Chat(runtime)
    refused = await sam.press(LOG_COMMENT)
    assert "Only the school's moderators log comments." in text_of(refused)
    resubmit = PostButtonValue(PostVerb.RESUBMIT, reference).encode()
    refused = await Chat(runtime, person_id="morgan").press(resubmit)
    assert "Only the person who asked for this post can change it." in text_of(refused)
    entries = await refusals(runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("sam", "school", "comment.log (role)"),
        ("morgan", "post_request", f"{reference} post.change (not_theirs)"),
    ]


async def test_answering_the_yearly_check_on_an_account_someone_does_not_run_is_recorded(
    runtime: Runtime,
) -> None:
    await run_account_checks(runtime)
    asked = await sent_to(runtime, "jo", "account_check")
    pressed = owner_button(card_for(asked, "Oakfield Primary website"), OwnerVerb.LEFT)
    said = await Chat(runtime).press(pressed)
    assert "Only the people who run Oakfield Primary website answer its yearly check." in (
        text_of(said)
    )
    [entry] = await refusals(runtime)
    assert (entry.actor_id, entry.target_type, entry.target_id) == ("sam", "account", "website")
    assert entry.detail == "website account.confirm (not_theirs)"
