"""A button that needs words first (a reason, a link, an answer) asks for them only once the
person is known to be able to do what it does, on the record as it is now.

Before, someone who may not decide a post pressed Reject, was asked for the reason, and was
refused only when they gave it; the turn was rolled back, so the question was asked again and
every answer refused, until they thought to type "cancel". Each test presses a button as the
channels do (through the real runner) and checks that the refusal comes at once, in the words
the action itself would use, that no question waits for an answer, and that what the person
types next is not taken for one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.runtime import Runtime
from dialogs.services.accounts.requests import AccountButtonValue, AccountVerb
from dialogs.services.accounts.website_reports import WebsiteButtonValue, WebsiteVerb
from dialogs.services.cases.card import ReporterButtonValue, ReporterVerb
from dialogs.services.comments.card import CommentButtonValue, CommentVerb
from dialogs.services.comments.incoming import CommentSource, IncomingComment
from dialogs.services.messages import Message, MessageKind
from dialogs.services.posts.card import PostButtonValue, PostVerb
from storage.models import AccountRequest, Conversation, PostRequest
from tests.dialogs.test_account_requests import requested as account_requested
from tests.dialogs.test_case_handling import file_report
from tests.dialogs.test_refusals_audited import oakfield, request_post, staff
from tests.support import Person as Chat
from tests.support import text_of


async def waiting_dialog(runtime: Runtime, person_id: str) -> str | None:
    """The dialog waiting for this person's next message, if any."""
    async with runtime.db.session() as session:
        result = await session.execute(
            select(Conversation).where(Conversation.person_id == person_id)
        )
        return next((c.dialog for c in result.scalars().all() if c.dialog), None)


def asks_something(messages: list[Message]) -> bool:
    return any(m.kind is MessageKind.PROMPT for m in messages)


async def refused_at_once(runtime: Runtime, person_id: str, value: str, words: str) -> None:
    """Press the button: refused in `words`, nothing asked, nothing waiting; what is typed
    next is taken as a new message, not as the answer to a question."""
    chat = Chat(runtime, person_id=person_id)
    pressed = await chat.press(value)
    assert words in text_of(pressed)
    assert not asks_something(pressed), text_of(pressed)
    assert await waiting_dialog(runtime, person_id) is None
    after = await chat.say("Because I say so.")
    assert words not in text_of(after)


# -- posts ----------------------------------------------------------------------------------


async def test_reject_or_request_changes_by_someone_who_may_not_decide_is_refused_at_once(
    runtime: Runtime,
) -> None:
    reference = await request_post(runtime)
    for verb in (PostVerb.REJECT, PostVerb.REQUEST_CHANGES):
        value = PostButtonValue(verb, reference, 1).encode()
        await refused_at_once(runtime, "jo", value, "Only approvers can approve, reject")
    async with runtime.db.session() as session:
        assert (await session.execute(select(PostRequest))).scalar_one().status == "submitted"


async def test_reject_of_their_own_post_by_an_approver_is_refused_at_once(
    runtime: Runtime,
) -> None:
    reference = await request_post(runtime, author="priya")
    value = PostButtonValue(PostVerb.REJECT, reference, 1).encode()
    await refused_at_once(runtime, "priya", value, "another approver must")


async def test_reject_of_a_post_already_decided_is_refused_at_once(runtime: Runtime) -> None:
    reference = await request_post(runtime)
    dana = Chat(runtime, person_id="dana")
    assert "You approved" in text_of(
        await dana.press(PostButtonValue(PostVerb.APPROVE, reference, 1).encode())
    )
    value = PostButtonValue(PostVerb.REJECT, reference, 1).encode()
    await refused_at_once(runtime, "priya", value, f"{reference} is already approved")


async def test_publish_by_someone_who_may_not_or_before_approval_is_refused_at_once(
    runtime: Runtime,
) -> None:
    reference = await request_post(runtime)
    value = PostButtonValue(PostVerb.PUBLISH, reference, 1).encode()
    # Morgan (IT) oversees post requests but does not publish them.
    await refused_at_once(runtime, "morgan", value, "Only the author, a moderator or an approver")
    # Jo (a moderator) may publish, but not a post nobody has approved yet.
    await refused_at_once(runtime, "jo", value, "only an approved post can be marked as published")


# -- new accounts ---------------------------------------------------------------------------


async def test_reject_of_an_account_by_someone_who_may_not_decide_is_refused_at_once(
    runtime: Runtime,
) -> None:
    await account_requested(runtime, person_id="lee")  # a senior leader asking
    value = AccountButtonValue(AccountVerb.REJECT, "AR-2026-0001").encode()
    await refused_at_once(runtime, "lee", value, "another senior leader must decide")
    # Morgan (IT) sees the request, to record the account once approved, but does not decide.
    await refused_at_once(runtime, "morgan", value, "Only the senior leaders decide")
    async with runtime.db.session() as session:
        assert (await session.execute(select(AccountRequest))).scalar_one().status == "submitted"


async def test_reject_of_an_account_already_decided_is_refused_at_once(runtime: Runtime) -> None:
    await account_requested(runtime)
    approve = AccountButtonValue(AccountVerb.APPROVE, "AR-2026-0001").encode()
    assert "You approved" in text_of(await Chat(runtime, person_id="dana").press(approve))
    value = AccountButtonValue(AccountVerb.REJECT, "AR-2026-0001").encode()
    await refused_at_once(runtime, "lee", value, "AR-2026-0001 has already been decided")


# -- comments, websites, questions to the reporter -------------------------------------------


async def test_hiding_a_comment_already_answered_is_refused_at_once(runtime: Runtime) -> None:
    async with runtime.db.session() as session:
        received = await runtime.services(session, runtime.clock()).comments.receive(
            oakfield(runtime),
            IncomingComment(
                source=CommentSource.WEBHOOK,
                external_id="fb-1",
                author="A parent",
                text="When is the next open day?",
                received_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
                account_id="facebook",
            ),
        )
    reference = received.comment.reference
    replied = CommentButtonValue(CommentVerb.REPLIED, reference).encode()
    await Chat(runtime, person_id="jo").press(replied)
    hide = CommentButtonValue(CommentVerb.HIDE, reference).encode()
    await refused_at_once(runtime, "dana", hide, f"{reference} is already")
    # Staff who are not moderators are refused before anything too.
    await refused_at_once(runtime, "sam", hide, "Only the school's moderators")


async def test_not_blocking_a_website_already_answered_is_refused_at_once(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip", "submit"]:
        await sam.say(answer)
    blocked = WebsiteButtonValue(WebsiteVerb.BLOCKED, "WB-2026-0001").encode()
    assert "marked as blocked" in text_of(await Chat(runtime, person_id="morgan").press(blocked))
    not_blocking = WebsiteButtonValue(WebsiteVerb.NOT_BLOCKING, "WB-2026-0001").encode()
    await refused_at_once(runtime, "morgan", not_blocking, "WB-2026-0001 has already been")


async def test_answering_a_question_about_someone_elses_report_is_refused_at_once(
    runtime: Runtime,
) -> None:
    reference = await file_report(runtime, shots=())
    async with runtime.db.session() as session:
        await runtime.services(session, runtime.clock()).cases.ask_reporter(
            reference,
            school=oakfield(runtime),
            actor=staff(runtime, "dana"),
            question="Which day was it?",
        )
    value = ReporterButtonValue(ReporterVerb.ANSWER, reference).encode()
    # The deputy handles the report, but only its reporter answers the lead's question.
    await refused_at_once(runtime, "lee", value, f"I can't find a report {reference}")
