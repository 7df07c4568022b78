"""The register in use: a recorded account can be posted to and has its own comment rules, and
once a year its owners confirm it, with what needs attention flagged to the senior leaders.

The demo school has three accounts in its configuration (website: Jo and Dana; Facebook and
Instagram: Jo and Priya); its senior leaders are Dana and Lee.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.jobs.accounts import run_account_checks
from bot.runtime import Runtime, build_runtime
from dialogs.services.accounts.checks import OwnerButtonValue, OwnerVerb
from dialogs.services.accounts.requests import AccountVerb, NewAccount
from dialogs.services.errors import InvalidRequest, NotPermitted
from dialogs.services.messages import Message
from dialogs.services.posts.card import PostButtonValue, PostVerb
from dialogs.services.school.platforms import Platform
from dialogs.services.school.schools import School
from storage.models import AccountCheck, AuditEntry, Notification, RegisteredAccount
from tests.conftest import Clock
from tests.support import Person as Chat
from tests.support import last_prompt, text_of

T = TypeVar("T")
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def sent_to(runtime: Runtime, person_id: str, kind: str) -> list[Message]:
    found = await rows(
        runtime,
        Notification,
        col(Notification.person_id) == person_id,
        col(Notification.kind) == kind,
    )
    return [Message.model_validate(n.message) for n in sorted(found, key=lambda n: n.id or 0)]


async def test_an_account_is_recorded_only_once_its_password_is_kept_safely(
    runtime: Runtime,
) -> None:
    with pytest.raises(InvalidRequest, match="password store"):
        await record_blog(runtime, credentials_stored=False)
    assert await rows(runtime, RegisteredAccount) == []


async def record_blog(runtime: Runtime, **rules: Any) -> None:
    """Sam asks for a Year 6 blog on Instagram run by Sam and Jo; Dana approves; Morgan
    records it."""
    school = oakfield(runtime)
    people = {p.id: p for p in school.people}
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        request = await services.accounts.submit(
            NewAccount(
                name="Oakfield Year 6 Blog",
                platform=Platform.INSTAGRAM,
                aim="Share Year 6's learning",
                audience="Year 6 families",
                promotion="The newsletter",
                runners=["sam", "jo"],
                visibility="private",
            ),
            school=school,
            requester=people["sam"],
        )
        await services.accounts.decide(
            request.reference, school=school, actor=people["dana"], verb=AccountVerb.APPROVE
        )
        await services.accounts.record(
            request.reference,
            school=school,
            actor=people["morgan"],
            account_id="year6-blog",
            handle="@oakfieldy6",
            link="https://instagram.com/oakfieldy6",
            **{"credentials_stored": True, **rules},
        )


def answer(message: Message, verb: OwnerVerb) -> str:
    for b in message.buttons:
        decoded = OwnerButtonValue.decode(b.value)
        if decoded is not None and decoded.verb is verb:
            return b.value
    raise AssertionError(f"no {verb} button on {message.title}")


def card_for(messages: list[Message], account_name: str) -> Message:
    [card] = [m for m in messages if m.title == f"Do you still run {account_name}?"]
    return card


async def flags(runtime: Runtime) -> list[str]:
    entries = await rows(runtime, AuditEntry, col(AuditEntry.action) == "account.flag")
    return sorted(f"{e.target_id}:{e.detail}" for e in entries)


# -- the register in use --------------------------------------------------------------------


async def test_a_recorded_account_is_offered_for_posts_and_named_on_the_approvers_card(
    runtime: Runtime, clock: Clock
) -> None:
    await record_blog(runtime)
    sam = Chat(runtime)
    first = await sam.say("post")
    labels = [b.label for b in last_prompt(first).buttons]
    assert "Oakfield Year 6 Blog (Instagram)" in labels
    await sam.say(str(labels.index("Oakfield Year 6 Blog (Instagram)") + 1))
    await sam.say("Year 6 built a working water wheel this week!")
    await sam.say("skip")  # no photos
    await sam.say("no")  # no pupils named
    await sam.say("next Friday 3pm")
    await sam.say("1, 2")
    done = await sam.say("submit")
    assert done[-1].title == "Sent for approval: PR-2026-0001"
    waiting = await Chat(runtime, person_id="priya").say("approvals")
    facts = {f.label: f.value for f in waiting[-1].facts}
    assert facts["Accounts"] == "Oakfield Year 6 Blog (Instagram)"
    approve = next(
        b.value
        for b in waiting[-1].buttons
        if (v := PostButtonValue.decode(b.value)) and v.verb is PostVerb.APPROVE
    )
    said = await Chat(runtime, person_id="priya").press(approve)
    assert "You approved PR-2026-0001" in text_of(said)


async def test_comments_on_a_recorded_account_follow_its_own_deadline(
    runtime: Runtime, clock: Clock
) -> None:
    await record_blog(runtime, comment_deadline_hours=48)
    clock.now = MONDAY_10AM + timedelta(minutes=20)
    jo = Chat(runtime, person_id="jo")
    first = await jo.say("comment")
    labels = [b.label for b in last_prompt(first).buttons]
    choice = str(labels.index("Oakfield Year 6 Blog (Instagram)") + 1)
    for said in [choice, "A Parent", "Lovely work!", "skip", "today 10am"]:
        await jo.say(said)
    done = await jo.say("submit")
    assert "answered by Wed 25/11 10:00" in done[-1].text  # 48 working hours, not 24


async def test_a_recorded_account_can_be_one_whose_comments_are_not_answered(
    runtime: Runtime, clock: Clock
) -> None:
    await record_blog(runtime, comment_deadlines=False)
    clock.now = MONDAY_10AM + timedelta(minutes=20)
    jo = Chat(runtime, person_id="jo")
    first = await jo.say("comment")
    labels = [b.label for b in last_prompt(first).buttons]
    choice = str(labels.index("Oakfield Year 6 Blog (Instagram)") + 1)
    for said in [choice, "A Parent", "Lovely work!", "skip", "today 10am"]:
        await jo.say(said)
    done = await jo.say("submit")
    assert "This account has no deadline for answers." in done[-1].text


async def test_owners_and_rules_of_a_recorded_account_are_changed_by_it_or_leaders_only(
    runtime: Runtime,
) -> None:
    await record_blog(runtime)
    school = oakfield(runtime)
    people = {p.id: p for p in school.people}
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        with pytest.raises(NotPermitted):
            await services.register.update(
                school, "year6-blog", actor=people["sam"], add_owners=["priya"]
            )
        with pytest.raises(InvalidRequest, match="configuration"):
            await services.register.update(
                school, "facebook", actor=people["morgan"], add_owners=["sam"]
            )
        with pytest.raises(InvalidRequest, match="not one of the school's staff"):
            await services.register.update(
                school, "year6-blog", actor=people["morgan"], add_owners=["nobody"]
            )
        await services.register.update(
            school,
            "year6-blog",
            actor=people["morgan"],
            add_owners=["priya"],
            remove_owners=["sam"],
            comment_deadline_hours=12,
        )
    async with runtime.db.session() as session:
        [blog] = [
            e
            for e in await runtime.services(session, runtime.clock()).register.entries(school)
            if e["id"] == "year6-blog"
        ]
    assert (blog["owners"], blog["comment_deadline_hours"]) == (["jo", "priya"], 12)
    [entry] = await rows(runtime, AuditEntry, col(AuditEntry.action) == "account.update")
    assert (entry.actor_id, entry.target_id) == ("morgan", "year6-blog")


# -- the yearly check -----------------------------------------------------------------------


async def test_owners_are_asked_once_and_an_account_not_all_confirmed_is_flagged_once(
    runtime: Runtime, clock: Clock
) -> None:
    first = await run_account_checks(runtime)
    assert (first.asked, first.flagged) == (6, 0)
    assert (await run_account_checks(runtime)).asked == 0  # a round is started once
    jo, dana, priya = (Chat(runtime, person_id=p) for p in ("jo", "dana", "priya"))
    asked_jo = await sent_to(runtime, "jo", "account_check")
    assert len(asked_jo) == 3
    for name in ("Oakfield Primary website", "Oakfield Primary on Facebook"):
        said = await jo.press(answer(card_for(asked_jo, name), OwnerVerb.CONFIRM))
        assert f"{name} is confirmed for this year" in text_of(said)
    asked_dana = await sent_to(runtime, "dana", "account_check")
    await dana.press(answer(card_for(asked_dana, "Oakfield Primary website"), OwnerVerb.CONFIRM))
    asked_priya = await sent_to(runtime, "priya", "account_check")
    await priya.press(
        answer(card_for(asked_priya, "Oakfield Primary on Facebook"), OwnerVerb.CONFIRM)
    )

    clock.advance(days=29)
    assert (await run_account_checks(runtime)).flagged == 0
    clock.advance(days=2)
    assert (await run_account_checks(runtime)).flagged == 1
    assert (await run_account_checks(runtime)).flagged == 0  # once a round
    assert await flags(runtime) == ["instagram:unconfirmed"]
    for lead in ("dana", "lee"):
        [flag] = await sent_to(runtime, lead, "account_flag")
        assert flag.title == "Official account needs attention: Oakfield Primary on Instagram"
        assert "have not all confirmed" in flag.text
    audited = await rows(runtime, AuditEntry, col(AuditEntry.action) == "account.answer")
    assert sorted(e.actor_id for e in audited) == ["dana", "jo", "jo", "priya"]


async def test_an_owner_who_stops_leaves_too_few_and_the_leaders_hear_at_once(
    runtime: Runtime,
) -> None:
    await run_account_checks(runtime)
    asked = await sent_to(runtime, "priya", "account_check")
    said = await Chat(runtime, person_id="priya").press(
        answer(card_for(asked, "Oakfield Primary on Facebook"), OwnerVerb.LEFT)
    )
    assert "no longer listed as running Oakfield Primary on Facebook" in text_of(said)
    assert "fewer than two owners, so I've told Dana Okafor, Lee Brown" in text_of(said)
    [flag] = await sent_to(runtime, "lee", "account_flag")
    facts = {f.label: f.value for f in flag.facts}
    assert (facts["Run by"], facts["No longer running it"]) == ("Jo Williams", "Priya Shah")
    assert await flags(runtime) == ["facebook:few_owners"]
    assert (await run_account_checks(runtime)).flagged == 0  # already raised this round


async def test_a_password_that_needs_attention_is_raised_every_time_it_is_said(
    runtime: Runtime,
) -> None:
    await run_account_checks(runtime)
    asked = await sent_to(runtime, "jo", "account_check")
    unsafe = answer(card_for(asked, "Oakfield Primary website"), OwnerVerb.UNSAFE)
    said = await Chat(runtime, person_id="jo").press(unsafe)
    assert "I've told Dana Okafor, Lee Brown" in text_of(said)
    [flag] = await sent_to(runtime, "dana", "account_flag")
    assert "Jo Williams says its password needs attention" in flag.text
    assert await flags(runtime) == ["website:credentials"]


async def test_only_an_accounts_owners_answer_for_it(runtime: Runtime) -> None:
    await run_account_checks(runtime)
    asked = await sent_to(runtime, "jo", "account_check")
    pressed = answer(card_for(asked, "Oakfield Primary website"), OwnerVerb.LEFT)
    said = await Chat(runtime, person_id="sam").press(pressed)
    assert "Only the people who run Oakfield Primary website" in text_of(said)
    assert await rows(runtime, AuditEntry, col(AuditEntry.action) == "account.answer") == []


async def test_an_account_with_nothing_approved_for_months_is_flagged(
    runtime: Runtime, clock: Clock
) -> None:
    await run_account_checks(runtime)
    for person in ("jo", "dana", "priya"):
        for card in await sent_to(runtime, person, "account_check"):
            await Chat(runtime, person_id=person).press(answer(card, OwnerVerb.CONFIRM))
    clock.advance(days=181)
    await run_account_checks(runtime)
    assert await flags(runtime) == [
        "facebook:quiet",
        "instagram:quiet",
        "website:quiet",
    ]
    [flag, *_] = await sent_to(runtime, "lee", "account_flag")
    assert "Nothing has been approved for it since it joined" in flag.text


async def test_next_year_a_new_round_starts_and_last_years_buttons_are_refused(
    runtime: Runtime, clock: Clock
) -> None:
    await run_account_checks(runtime)
    [old, *_] = await sent_to(runtime, "jo", "account_check")
    clock.advance(days=365)
    assert (await run_account_checks(runtime)).asked == 6
    said = await Chat(runtime, person_id="jo").press(answer(old, OwnerVerb.CONFIRM))
    assert "replaced by a newer one" in text_of(said)


async def test_a_recorded_account_starts_confirmed_and_is_checked_a_year_later(
    runtime: Runtime, clock: Clock
) -> None:
    await record_blog(runtime)
    assert (await run_account_checks(runtime)).asked == 6  # the three configured accounts
    assert await sent_to(runtime, "sam", "account_check") == []
    clock.advance(days=366)
    await run_account_checks(runtime)
    [asked] = await sent_to(runtime, "sam", "account_check")
    assert asked.title == "Do you still run Oakfield Year 6 Blog?"


async def test_an_owner_who_has_left_the_school_no_longer_counts(runtime: Runtime) -> None:
    school = oakfield(runtime)
    without_priya = school.model_copy(
        update={"people": tuple(p for p in school.people if p.id != "priya")}
    )
    async with runtime.db.session() as session:
        result = await runtime.services(session, runtime.clock()).account_checks.run(without_priya)
    assert result.asked == 4  # Jo for all three and Dana for the website; never Priya
    assert await flags(runtime) == ["facebook:few_owners", "instagram:few_owners"]


async def test_two_servers_checking_at_once_ask_each_owner_once(
    settings: Settings, runtime: Runtime, clock: Clock
) -> None:
    """On PostgreSQL one checks and the other skips; on SQLite the second waits its turn and
    finds the rounds already started. Forty accounts give the two plenty of chances to
    interleave."""
    school = oakfield(runtime)
    [website, *_] = school.accounts
    many = school.model_copy(
        update={
            "accounts": tuple(
                website.model_copy(update={"id": f"site-{n}", "name": f"Site {n}"})
                for n in range(40)
            )
        }
    )
    other = build_runtime(settings, clock=clock)

    async def check(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            await runtime.services(session, clock()).account_checks.run(many)

    try:
        for _ in range(3):
            await asyncio.gather(check(runtime), check(other))
    finally:
        await other.close()
    asked = await rows(runtime, Notification, col(Notification.kind) == "account_check")
    assert len(asked) == 80  # Jo and Dana, once for each account
    assert len(await rows(runtime, AccountCheck)) == 40
