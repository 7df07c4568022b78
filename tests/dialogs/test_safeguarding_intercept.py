"""A worry about a child, typed to the bot, reaches the safeguarding lead's door, not the policy.

Through the real runner, as a member of staff would type it: asked as a question, after "ask",
from the menu's *Ask about the social media policy*, or just said. Every test runs on SQLite
and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind
from storage.models import AuditEntry, Conversation, PolicyQuestion
from tests.support import Person as Chat
from tests.support import file, last_prompt, png, text_of

# The case that was found: a pupil's disclosure, passed on in a message, was answered with a
# confident quote of the clause about threatening or sexual content and the police.
REPORTED = "a pupil messaged me on instagram to say she is being abused, what do I do?"
ONLINE_ABUSE = "a year 7 boy is getting nasty messages from other kids on whatsapp"
NUDES = "one of my yr 10s told me her nudes are being shared round a group chat"
STATEMENT = "kid in my form sent me a msg saying she wants to end it"
NEAR_MISS = "can I message a pupil about homework?"
ABOUT_AN_ADULT = "a year 10 girl showed me messages a teacher sent her on snapchat at midnight"


def quoted(messages: list[Message]) -> list[Message]:
    """Anything that reads as an answer from the policy: a quote or a citation."""
    return [
        m
        for m in messages
        if m.kind is MessageKind.ANSWER
        or "\u201c" in m.text
        or any(f.label in ("Where", "Policy") for f in m.facts)
    ]


async def questions(runtime: Runtime) -> list[PolicyQuestion]:
    async with runtime.db.session() as session:
        result = await session.execute(select(PolicyQuestion).order_by(col(PolicyQuestion.id)))
        return list(result.scalars().all())


async def audit(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        result = await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))
        return list(result.scalars().all())


def assert_sent_to_the_lead(replies: list[Message]) -> str:
    """The intercept's reply, whatever the concern: the lead and deputy named with how to reach
    them, 999, what not to do, and that it is not the policy speaking."""
    assert quoted(replies) == [], f"a policy answer was given: {text_of(quoted(replies))}"
    said = text_of(replies)
    assert replies[0].kind is MessageKind.URGENT
    assert "designated safeguarding lead" in said
    assert "Dana Okafor" in said  # the lead, by name
    assert "01632 960001" in said  # ...with how to reach them
    assert "Lee Brown" in said  # the deputy, if the lead can't be found
    assert "999" in said
    assert "today" in said
    assert "in person" in said
    assert "secret" in said  # don't promise secrecy
    assert "own words" in said  # write down what was said
    assert "date and time" in said
    assert "not an answer from the policy" in said
    return said


async def test_the_reported_disclosure_goes_to_the_lead_not_to_a_clause(runtime: Runtime) -> None:
    sam = Chat(runtime)
    replies = await sam.say(REPORTED)
    said = assert_sent_to_the_lead(replies)
    assert "question the child" in said  # don't investigate
    # Nothing of what Sam wrote is kept for the policy owner, and nothing is searched for.
    assert await questions(runtime) == []
    entries = [a for a in await audit(runtime) if a.action == "policy.safeguarding"]
    assert [(a.actor_id, a.target_type, a.target_id) for a in entries] == [("sam", "person", "sam")]
    assert all("abused" not in a.detail and "instagram" not in a.detail for a in entries)


@pytest.mark.parametrize(
    "how",
    ["typed question", "after ask", "from the menu"],
)
async def test_every_way_of_asking_is_intercepted(runtime: Runtime, how: str) -> None:
    sam = Chat(runtime)
    if how == "typed question":
        replies = await sam.say(REPORTED)
    elif how == "after ask":
        replies = await sam.say("ask " + REPORTED)
    else:
        await sam.press("ask_policy")
        replies = await sam.say(REPORTED)
    assert_sent_to_the_lead(replies)
    assert await questions(runtime) == []


async def test_a_disclosure_said_rather_than_asked_gets_the_lead_not_the_menu(
    runtime: Runtime,
) -> None:
    replies = await Chat(runtime).say(STATEMENT)
    assert_sent_to_the_lead(replies)
    assert all(m.kind is not MessageKind.MENU for m in replies)


async def test_a_sexual_image_of_a_child_is_never_asked_for(runtime: Runtime) -> None:
    sam = Chat(runtime)
    # "report" would start the report, whose next questions ask for screenshots.
    replies = await sam.say("I need to report this: " + NUDES)
    said = assert_sent_to_the_lead(replies)
    assert "screenshot" in said  # ...says not to take one, and why
    assert "offence" in said
    assert all(not m.buttons for m in replies), "no report is offered for a child's image"
    async with runtime.db.session() as session:
        drafts = (await session.execute(select(Conversation))).scalars().all()
    assert all(d.state is None or d.state.get("dialog") != "report_abuse" for d in drafts)
    # The same said with a picture attached: the picture is not kept, and the person is told.
    with_file = await sam.say(NUDES, file("IMG_0001.png", png("photo")))
    said = assert_sent_to_the_lead(with_file)
    assert "haven't kept" in said
    assert "Start a report first" not in said


async def test_online_abuse_of_a_pupil_offers_the_report_as_well(runtime: Runtime) -> None:
    sam = Chat(runtime)
    replies = await sam.say(ONLINE_ABUSE)
    assert_sent_to_the_lead(replies)
    offers = [b for m in replies for b in m.buttons]
    assert [b.value for b in offers] == ["report_abuse"]
    started = await sam.press("report_abuse")
    assert "Report of online abuse" in (last_prompt(started).title or "")


async def test_the_lead_asking_is_pointed_to_the_deputy(runtime: Runtime) -> None:
    replies = await Chat(runtime, person_id="dana").say(REPORTED)
    said = text_of(replies)
    assert quoted(replies) == []
    assert "Lee Brown" in said
    assert "999" in said


async def test_a_worry_about_an_adult_goes_to_the_headteacher(runtime: Runtime) -> None:
    replies = await Chat(runtime).say(ABOUT_AN_ADULT)
    assert quoted(replies) == []
    assert replies[0].kind is MessageKind.URGENT
    assert replies[0].title == "Please tell the headteacher now"
    said = text_of(replies)
    assert "Dana Okafor" in said  # the headteacher (and lead) at the demo school
    assert "chair of governors" in said
    assert "adult concerned" in said
    assert all(not m.buttons for m in replies)
    assert await questions(runtime) == []


async def test_a_near_miss_still_gets_the_policy(runtime: Runtime) -> None:
    sam = Chat(runtime)
    replies = await sam.say(NEAR_MISS)
    assert replies[0].kind is MessageKind.ANSWER
    assert [q.question for q in await questions(runtime)] == [NEAR_MISS]
    assert [a for a in await audit(runtime) if a.action == "policy.safeguarding"] == []


async def test_yes_after_the_intercept_does_not_act_on_an_earlier_question(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    await sam.say("What is the dress code for the staff Christmas party?")  # "pass it on?"
    await sam.say(REPORTED)
    replies = await sam.say("yes")
    assert "sending your question" not in text_of(replies)
    [row] = await questions(runtime)
    assert row.referred_at is None
