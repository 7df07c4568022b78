"""Post requests as approvers and authors live them: who may decide, how many must, what each
is told, and what happens when the planned time passes.

Each test calls the services the way the channels and the command line do (one session per
action, committed when it ends) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.services.container import Services
from dialogs.services.errors import InvalidRequest, NotFound, NotPermitted
from dialogs.services.messages import Message
from dialogs.services.posts.card import PostButtonValue, PostStatus, PostVerb
from dialogs.services.posts.service import NewPost
from dialogs.services.school.schools import ApprovalRules, Person, School
from storage.models import AuditEntry, Notification, PostDecision, PostRequest
from tests.conftest import Clock

T = TypeVar("T")
PLANNED = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)


def school_of(runtime: Runtime, approvals: int = 1) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school.model_copy(update={"approvals": ApprovalRules(required=approvals)})


def person(school: School, person_id: str) -> Person:
    found = school.person(person_id)
    assert found is not None
    return found


async def act(runtime: Runtime, clock: Clock, work: Callable[[Services], Awaitable[T]]) -> T:
    async with runtime.db.session() as session:
        return await work(runtime.services(session, clock()))


def new_post(text: str = "Year 4 had a wonderful trip to the science museum today!") -> NewPost:
    return NewPost(
        accounts=["facebook", "website"],
        text=text,
        pupils_pictured=False,
        pupils=[],
        planned_at=PLANNED,
        confirmed=["Nothing identifies a child", "Photos taken on a school device"],
        warnings=[],
        draft_key="draft-1",
        origin_channel="test",
    )


async def submitted(runtime: Runtime, clock: Clock, school: School, author: str = "sam") -> str:
    request = await act(
        runtime,
        clock,
        lambda s: s.posts.submit(new_post(), school=school, author=person(school, author)),
    )
    return request.reference


async def decide(
    runtime: Runtime,
    clock: Clock,
    school: School,
    who: str,
    reference: str,
    verb: PostVerb,
    reason: str = "",
) -> str:
    decided = await act(
        runtime,
        clock,
        lambda s: s.posts.decide(
            reference, school=school, actor=person(school, who), verb=verb, reason=reason
        ),
    )
    return decided.message


async def status_of(runtime: Runtime, reference: str) -> PostRequest:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(PostRequest).where(PostRequest.reference == reference)
        )
        return result.scalars().one()


async def messages_for(runtime: Runtime, person_id: str) -> list[Message]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(Notification)
            .where(Notification.person_id == person_id)
            .order_by(col(Notification.id))
        )
        return [Message.model_validate(n.message) for n in result.scalars().all()]


async def cards(runtime: Runtime) -> list[Message]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(Notification)
            .where(Notification.channel_purpose == "approvals")
            .order_by(col(Notification.id))
        )
        return [Message.model_validate(n.message) for n in result.scalars().all()]


async def test_a_request_gets_a_reference_and_a_card_for_the_approvers(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    reference = await submitted(runtime, clock, school)
    assert reference == "PR-2026-0001"
    [card] = await cards(runtime)
    assert card.title == "Post for approval: PR-2026-0001"
    assert card.text == new_post().text
    facts = {f.label: f.value for f in card.facts}
    assert facts["Requested by"] == "Sam Patel"
    assert "Oakfield Primary on Facebook (Facebook)" in facts["Accounts"]
    assert facts["Planned for"] == "Fri 27/11/2026 15:30"
    assert [b.label for b in card.buttons] == ["Approve", "Request changes", "Reject"]
    # A decision names the version the card shows, so it is never applied to a later one.
    assert PostButtonValue.decode(card.buttons[0].value) == PostButtonValue(
        PostVerb.APPROVE, reference, version=1
    )


async def test_only_approvers_decide_and_never_on_their_own_post(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    own = await submitted(runtime, clock, school, author="priya")
    with pytest.raises(NotPermitted, match="another approver must"):
        await decide(runtime, clock, school, "priya", own, PostVerb.APPROVE)
    with pytest.raises(NotPermitted, match="Only approvers"):
        await decide(runtime, clock, school, "jo", own, PostVerb.APPROVE)
    assert (await status_of(runtime, own)).status == PostStatus.SUBMITTED.value

    said = await decide(runtime, clock, school, "dana", own, PostVerb.APPROVE)
    assert "The author has been told" in said
    request = await status_of(runtime, own)
    assert request.status == PostStatus.APPROVED.value
    [told] = await messages_for(runtime, "priya")
    assert "is approved" in told.text
    with pytest.raises(InvalidRequest, match="already approved"):
        await decide(runtime, clock, school, "dana", own, PostVerb.REJECT, "too late")


async def test_a_two_approver_school_needs_two_different_approvers(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime, approvals=2)
    reference = await submitted(runtime, clock, school)
    said = await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    assert "needs 1 more approval" in said
    assert (await status_of(runtime, reference)).status == PostStatus.SUBMITTED.value
    assert "(1 of 2 approvals)" in ((await cards(runtime))[-1].title or "")
    with pytest.raises(InvalidRequest, match="already approved"):
        await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    await decide(runtime, clock, school, "dana", reference, PostVerb.APPROVE)
    assert (await status_of(runtime, reference)).status == PostStatus.APPROVED.value


async def test_changes_requested_then_resubmitted_starts_the_approvals_again(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime, approvals=2)
    reference = await submitted(runtime, clock, school)
    await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    with pytest.raises(InvalidRequest, match="give a reason"):
        await decide(runtime, clock, school, "dana", reference, PostVerb.REQUEST_CHANGES)
    await decide(
        runtime, clock, school, "dana", reference, PostVerb.REQUEST_CHANGES, "Say which year."
    )
    [told] = await messages_for(runtime, "sam")
    assert "Say which year." in told.text
    [button] = told.buttons
    assert PostButtonValue.decode(button.value) == PostButtonValue(PostVerb.RESUBMIT, reference)

    sam = person(school, "sam")
    with pytest.raises(NotPermitted):
        await act(
            runtime,
            clock,
            lambda s: s.posts.resubmit(
                reference, school=school, author=person(school, "jo"), changes=new_post()
            ),
        )
    edited = new_post("Year 4B had a wonderful trip to the science museum today!")
    request = await act(
        runtime,
        clock,
        lambda s: s.posts.resubmit(reference, school=school, author=sam, changes=edited),
    )
    assert (request.revision, request.status, request.reference) == (2, "submitted", reference)
    assert (await cards(runtime))[
        -1
    ].title == f"Post for approval: {reference}, version 2 (0 of 2 approvals)"
    # Priya's approval was of version 1: version 2 needs two approvals of its own.
    await decide(runtime, clock, school, "dana", reference, PostVerb.APPROVE)
    assert (await status_of(runtime, reference)).status == PostStatus.SUBMITTED.value
    await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    assert (await status_of(runtime, reference)).status == PostStatus.APPROVED.value


async def test_a_rejection_tells_the_author_why_and_is_final(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    reference = await submitted(runtime, clock, school)
    await decide(runtime, clock, school, "priya", reference, PostVerb.REJECT, "Not our news.")
    [told] = await messages_for(runtime, "sam")
    assert "Priya Shah said: Not our news." in told.text
    assert told.buttons == ()
    with pytest.raises(InvalidRequest):
        await act(
            runtime,
            clock,
            lambda s: s.posts.resubmit(
                reference, school=school, author=person(school, "sam"), changes=new_post()
            ),
        )
    async with runtime.db.session() as session:
        decisions = (await session.execute(select(PostDecision))).scalars().all()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(d.actor_id, d.action, d.reason) for d in decisions] == [
        ("sam", "submit", ""),
        ("priya", "reject", "Not our news."),
    ]
    assert all("Not our news" not in a.detail for a in audit)


async def test_publishing_needs_an_approval_and_a_link(runtime: Runtime, clock: Clock) -> None:
    school = school_of(runtime)
    reference = await submitted(runtime, clock, school)

    async def publish(who: str, link: str) -> str:
        return (
            await act(
                runtime,
                clock,
                lambda s: s.posts.publish(
                    reference, school=school, actor=person(school, who), link=link
                ),
            )
        ).message

    with pytest.raises(InvalidRequest, match="only an approved post"):
        await publish("jo", "https://facebook.com/posts/1")
    await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    with pytest.raises(InvalidRequest, match="link"):
        await publish("jo", "the facebook page")
    with pytest.raises(NotPermitted):
        await publish("lee", "https://facebook.com/posts/1")
    assert "marked as published" in await publish("jo", "https://facebook.com/posts/1")
    request = await status_of(runtime, reference)
    assert (request.status, request.published_by) == ("published", "jo")
    assert "https://facebook.com/posts/1" in (await messages_for(runtime, "sam"))[-1].text


async def test_an_unpublished_approval_is_reminded_about_then_lapses(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    reference = await submitted(runtime, clock, school)
    await decide(runtime, clock, school, "priya", reference, PostVerb.APPROVE)
    swept = await act(runtime, clock, lambda s: s.posts.sweep(school))
    assert (swept.reminded, swept.expired) == (0, 0)  # its time has not come

    clock.now = PLANNED + timedelta(minutes=5)
    swept = await act(runtime, clock, lambda s: s.posts.sweep(school))
    assert (swept.reminded, swept.expired) == (1, 0)
    reminder = (await messages_for(runtime, "sam"))[-1]
    assert "isn't marked as published yet" in reminder.text
    assert [b.label for b in reminder.buttons] == ["Mark as published"]
    [moderator] = await messages_for(runtime, "jo")  # Jo runs the accounts
    assert moderator.title == f"Not published yet: {reference}"
    assert [b.label for b in moderator.buttons] == ["Mark as published"]
    swept = await act(runtime, clock, lambda s: s.posts.sweep(school))
    assert (swept.reminded, swept.expired) == (0, 0)  # once

    clock.now = PLANNED + timedelta(hours=24, minutes=1)
    swept = await act(runtime, clock, lambda s: s.posts.sweep(school))
    assert (swept.reminded, swept.expired) == (0, 1)
    assert (await status_of(runtime, reference)).status == PostStatus.EXPIRED.value
    assert "has lapsed" in (await messages_for(runtime, "sam"))[-1].text
    assert (await cards(runtime))[-1].buttons == ()


async def test_a_request_is_seen_by_its_author_and_overseers_only(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    reference = await submitted(runtime, clock, school, author="jo")
    for who in ("jo", "priya", "dana", "lee", "morgan"):
        viewer = person(school, who)

        async def look(s: Services, viewer: Person = viewer) -> PostRequest:
            return await s.posts.get(reference, school=school, actor=viewer)

        found = await act(runtime, clock, look)
        assert found.reference == reference
    with pytest.raises(NotFound):
        await act(
            runtime,
            clock,
            lambda s: s.posts.get(reference, school=school, actor=person(school, "sam")),
        )
    mine = await act(
        runtime, clock, lambda s: s.posts.list_for(school=school, actor=person(school, "sam"))
    )
    assert list(mine) == []


async def test_a_request_for_an_account_the_school_does_not_have_is_refused(
    runtime: Runtime, clock: Clock
) -> None:
    school = school_of(runtime)
    elsewhere = NewPost(**{**new_post().__dict__, "accounts": ["tiktok"]})
    with pytest.raises(InvalidRequest, match="no official account"):
        await act(
            runtime,
            clock,
            lambda s: s.posts.submit(elsewhere, school=school, author=person(school, "sam")),
        )
    assert await cards(runtime) == []
