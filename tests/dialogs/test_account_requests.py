"""Asking for a new official account, through the real runner: the business case, the senior
leaders' decision (never on their own request), and the register once IT records it."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.home import REQUEST_ACCOUNT
from dialogs.services.accounts.requests import AccountButtonValue, AccountVerb
from dialogs.services.errors import InvalidRequest, NotPermitted
from dialogs.services.messages import Message
from storage.models import AccountRequest, AuditEntry
from tests.support import Person as Chat
from tests.support import last_prompt, text_of

T = TypeVar("T")


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


def button(messages: list[Message], verb: AccountVerb) -> str:
    for message in reversed(messages):
        for b in message.buttons:
            decoded = AccountButtonValue.decode(b.value)
            if decoded is not None and decoded.verb is verb:
                return b.value
    raise AssertionError(f"no {verb} button in {text_of(messages)}")


async def requested(runtime: Runtime, person_id: str = "sam") -> Chat:
    asker = Chat(runtime, person_id=person_id)
    started = await asker.press(REQUEST_ACCOUNT)
    assert last_prompt(started).text == "Which platform is it on?"
    for answer in [
        "Instagram",
        "Oakfield Year 6 Blog",
        "Share Year 6's learning with families",
        "Year 6 parents and carers",
        "In the newsletter and on the website",
    ]:
        await asker.say(answer)
    only_one = await asker.say("1")
    assert "at least two people" in text_of(only_one)
    await asker.say("1, 2")  # Sam and Jo
    await asker.say("2")  # private
    done = await asker.say("submit")
    assert done[-1].title == "Sent to the senior leaders: AR-2026-0001"
    return asker


async def test_the_business_case_reaches_the_senior_leaders_who_approve_it(
    runtime: Runtime,
) -> None:
    sam = await requested(runtime)
    dana = Chat(runtime, person_id="dana")
    [card] = await dana.inbox()
    facts = {f.label: f.value for f in card.facts}
    assert facts["Run by"] == "Sam Patel, Jo Williams"
    assert facts["Open or private"] == "Private"
    said = await dana.press(button([card], AccountVerb.APPROVE))
    assert "You approved AR-2026-0001" in text_of(said)
    [told] = await sam.inbox()
    assert "approved your request AR-2026-0001" in told.text
    [to_record] = await Chat(runtime, person_id="morgan").inbox()
    assert "policybot accounts record AR-2026-0001" in to_record.text
    [request] = await rows(runtime, AccountRequest)
    assert (request.status, request.decided_by) == ("approved", "dana")
    entries = await rows(runtime, AuditEntry, col(AuditEntry.target_type) == "account_request")
    assert [e.action for e in entries] == ["account.request", "account.decide"]


async def test_a_rejection_needs_a_reason_which_the_asker_is_told(runtime: Runtime) -> None:
    sam = await requested(runtime)
    lee = Chat(runtime, person_id="lee")
    [card] = await lee.inbox()
    asked = await lee.press(button([card], AccountVerb.REJECT))
    assert "Why not?" in last_prompt(asked).text
    await lee.say("The school's own Instagram can share this.")
    [told] = await sam.inbox()
    assert "The school's own Instagram can share this." in told.text
    [request] = await rows(runtime, AccountRequest)
    assert request.status == "rejected"


async def test_nobody_decides_on_their_own_request_and_staff_cannot_decide(
    runtime: Runtime,
) -> None:
    await requested(runtime, person_id="lee")  # a senior leader asking
    approve = AccountButtonValue(AccountVerb.APPROVE, "AR-2026-0001").encode()
    own = await Chat(runtime, person_id="lee").press(approve)
    assert "another senior leader must decide" in text_of(own)
    staff = await Chat(runtime, person_id="jo").press(approve)
    assert "can't find an account request" in text_of(staff)
    [request] = await rows(runtime, AccountRequest)
    assert request.status == "submitted"


async def test_once_recorded_by_it_the_account_is_in_the_register(runtime: Runtime) -> None:
    await requested(runtime)
    dana = Chat(runtime, person_id="dana")
    [card] = await dana.inbox()
    await dana.press(button([card], AccountVerb.APPROVE))
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        sam = school.person("sam")
        assert sam is not None
        with pytest.raises(NotPermitted):
            await services.accounts.record(
                "AR-2026-0001",
                school=school,
                actor=sam,
                account_id="year6-blog",
                handle="@oakfieldy6",
                link="https://instagram.com/oakfieldy6",
                credentials_stored=True,
            )
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        morgan = school.person("morgan")
        assert morgan is not None
        with pytest.raises(InvalidRequest):
            await services.accounts.record(
                "AR-2026-0001",
                school=school,
                actor=morgan,
                account_id="instagram",  # already the school's account
                handle="@x",
                link="https://instagram.com/x",
                credentials_stored=True,
            )
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        morgan = school.person("morgan")
        assert morgan is not None
        await services.accounts.record(
            "AR-2026-0001",
            school=school,
            actor=morgan,
            account_id="year6-blog",
            handle="@oakfieldy6",
            link="https://instagram.com/oakfieldy6",
            credentials_stored=True,
        )
        register = await services.register.entries(school)
    [added] = [r for r in register if r["source"] == "register"]
    assert (added["id"], added["owners"], added["visibility"]) == (
        "year6-blog",
        ["sam", "jo"],
        "private",
    )
    [request] = await rows(runtime, AccountRequest)
    assert request.status == "recorded"


async def test_reject_pressed_mid_conversation_keeps_it_and_says_how_to_come_back(
    runtime: Runtime,
) -> None:
    await requested(runtime)
    dana = Chat(runtime, person_id="dana")
    [card] = await dana.inbox()
    await dana.say("report")
    busy = await dana.press(button([card], AccountVerb.REJECT))
    assert "You're in the middle of a" in text_of(busy)
    assert "then press Reject on the request again" in text_of(busy)
    assert last_prompt(busy).text == "Who is being targeted?"
    [request] = await rows(runtime, AccountRequest)
    assert request.status == "submitted"


async def test_a_senior_leader_finds_a_request_again_under_approvals_until_it_is_decided(
    runtime: Runtime,
) -> None:
    await requested(runtime)
    lee = Chat(runtime, person_id="lee")
    await lee.inbox()  # shown once, and gone from the screen

    waiting = await lee.say("approvals")
    assert "New official account requested: AR-2026-0001" in text_of(waiting)
    said = await lee.press(button(waiting, AccountVerb.APPROVE))
    assert "You approved AR-2026-0001" in text_of(said)
    assert "AR-2026-0001" not in text_of(await lee.say("approvals"))
    assert "AR-2026-0001" not in text_of(await Chat(runtime).say("approvals"))
