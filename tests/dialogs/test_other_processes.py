"""The policy's other everyday processes as short conversations, through the real runner: a
journalist got in touch, a website to block, and a colleague's misuse reported confidentially."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.home import COLLEAGUE_MISUSE, MEDIA_ENQUIRY, WEBSITE_BLOCK
from dialogs.services.accounts.website_reports import WebsiteButtonValue, WebsiteVerb
from dialogs.services.messages import Message, MessageKind
from storage.models import AuditEntry, WebsiteReport
from tests.support import Person as Chat
from tests.support import last_prompt, text_of

T = TypeVar("T")


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def test_a_journalist_contact_gets_advice_and_the_headteacher_is_told(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    started = await sam.say("a journalist from the Gazette rang me")
    assert started[0].kind is MessageKind.REMINDER
    assert "I'm not able to comment" in started[0].text
    for answer in ["Alex Reed, Oakfield Gazette", "1", "The sports day photos", "today 9am"]:
        await sam.say(answer)
    summary = await sam.say("no")
    assert "Check your contact from a journalist" in text_of(summary)
    done = await sam.say("submit")
    assert done[-1].title == "The Headteacher has been told"
    assert "Dana Okafor" in done[-1].text
    [told] = await Chat(runtime, person_id="dana").inbox()
    facts = {f.label: f.value for f in told.facts}
    assert (facts["Journalist"], facts["How"], facts["About"]) == (
        "Alex Reed, Oakfield Gazette",
        "By phone",
        "The sports day photos",
    )
    [entry] = await rows(runtime, AuditEntry, col(AuditEntry.action) == "media.enquiry")
    assert "Gazette" not in entry.detail


async def test_a_website_to_block_goes_to_it_without_being_a_link(runtime: Runtime) -> None:
    sam = Chat(runtime)
    started = await sam.say("please block a website")
    assert "web address" in last_prompt(started).text
    refused = await sam.say("the one with the games")
    assert refused[0].kind is MessageKind.HINT
    for answer in ["badsite.example/page?x=1", "today 9am", "Library laptop 4", "skip"]:
        await sam.say(answer)
    done = await sam.say("submit")
    assert done[-1].title == "IT has been asked to block it: WB-2026-0001"
    assert "Morgan" in done[-1].text
    [told] = await Chat(runtime, person_id="morgan").inbox()
    facts = {f.label: f.value for f in told.facts}
    assert facts["Address"] == "https[:]//badsite[.]example/page?x=1"
    assert facts["Equipment"] == "Library laptop 4"
    assert await rows(runtime, AuditEntry, col(AuditEntry.action) == "website.block")


async def website_reported(runtime: Runtime) -> Message:
    sam = Chat(runtime)
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip", "submit"]:
        await sam.say(answer)
    [card] = await Chat(runtime, person_id="morgan").inbox()
    return card


def website_button(card: Message, verb: WebsiteVerb) -> str:
    for b in card.buttons:
        decoded = WebsiteButtonValue.decode(b.value)
        if decoded is not None and decoded.verb is verb:
            return b.value
    raise AssertionError(f"no {verb} button on {card.title}")


async def test_it_says_the_website_is_blocked_and_the_reporter_is_told(runtime: Runtime) -> None:
    card = await website_reported(runtime)
    assert card.title == "Please block a website on school equipment: WB-2026-0001"
    assert [b.label for b in card.buttons] == ["Blocked", "Was already blocked", "Not blocking it"]
    refused = await Chat(runtime).press(website_button(card, WebsiteVerb.BLOCKED))
    assert "Only the school's IT administrators answer website reports." in text_of(refused)
    morgan = Chat(runtime, person_id="morgan")
    said = await morgan.press(website_button(card, WebsiteVerb.BLOCKED))
    assert "WB-2026-0001 is marked as blocked" in text_of(said)
    [told] = await Chat(runtime).inbox()
    assert "is blocked on school equipment" in told.text
    again = await morgan.press(website_button(card, WebsiteVerb.ALREADY_BLOCKED))
    assert "WB-2026-0001 has already been blocked by Morgan Ellis" in text_of(again)
    [report] = await rows(runtime, WebsiteReport)
    assert (report.status, report.handled_by) == ("blocked", "morgan")
    entries = await rows(runtime, AuditEntry, col(AuditEntry.target_type) == "website_report")
    assert sorted((e.action, e.actor_id) for e in entries) == [
        ("access.refused", "sam"),  # Sam's press, refused
        ("website.block", "sam"),
        ("website.blocked", "morgan"),
    ]
    assert all("badsite" not in e.detail for e in entries)


async def test_it_not_blocking_a_website_gives_the_reporter_the_reason(runtime: Runtime) -> None:
    card = await website_reported(runtime)
    morgan = Chat(runtime, person_id="morgan")
    asked = await morgan.press(website_button(card, WebsiteVerb.NOT_BLOCKING))
    assert "Why not block it?" in last_prompt(asked).text
    said = await morgan.say("It is the museum's own site; the page has been taken down.")
    assert "WB-2026-0001 is closed" in text_of(said)
    [told] = await Chat(runtime).inbox()
    assert "has not blocked it: It is the museum's own site" in told.text
    [report] = await rows(runtime, WebsiteReport)
    assert report.status == "not_blocked"


async def test_a_colleagues_misuse_goes_the_confidential_report_route(runtime: Runtime) -> None:
    sam = Chat(runtime)
    started = await sam.say("I need to report a colleague")
    assert started[0].title == "Report a colleague's misuse"
    assert "your colleague is not told who reported it" in started[0].text
    assert last_prompt(started).text == "Who is being targeted?"


async def test_the_menu_lists_the_everyday_processes(runtime: Runtime) -> None:
    menu = (await Chat(runtime).say("help"))[-1]
    values = [b.value for b in menu.buttons]
    assert {COLLEAGUE_MISUSE, MEDIA_ENQUIRY, WEBSITE_BLOCK} <= set(values)


async def test_a_question_about_the_press_is_answered_from_the_policy(runtime: Runtime) -> None:
    replies = await Chat(runtime).say("can I talk to a journalist about my job?")
    assert replies[0].kind is MessageKind.ANSWER


async def test_every_menu_button_starts_what_it_says(runtime: Runtime) -> None:
    """Pressing each button of a moderator's menu starts its own conversation or list."""
    jo = Chat(runtime, person_id="jo")
    menu = (await jo.say("help"))[-1]
    for button in menu.buttons:
        replies = await jo.press(button.value)
        assert replies[0].kind is not MessageKind.MENU, f"{button.label} showed the menu again"
        await jo.say("cancel")
        await jo.say("yes")
