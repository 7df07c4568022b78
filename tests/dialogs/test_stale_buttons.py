"""Buttons know their question: a button left on an old question never answers a new one.

A button can stay on screen after its question was answered by typing, asked again, cancelled
or left behind. Pressed later, it must not answer whatever is being asked now: the press is
refused kindly, nothing changes, and the current question is shown again.
"""

from __future__ import annotations

from bot.runtime import Runtime
from dialogs.inbox import Input
from dialogs.services.messages import Message, MessageKind, UserInput
from tests.support import Person, last_prompt, text_of

PUPILS = "Do any pupils appear in the photos, or are any named in the post?"
DANGER = "Is anyone in immediate danger right now?"


async def pupils_question(sam: Person) -> Message:
    await sam.say("post")
    await sam.say("1")
    await sam.say("Year 4 had a wonderful trip to the science museum today!")
    asked = last_prompt(await sam.say("skip"))
    assert asked.text == PUPILS
    return asked


async def test_a_stale_yes_from_a_post_does_not_answer_immediate_danger(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    pupils = await pupils_question(sam)
    await sam.say("cancel")
    await sam.say("yes")
    await sam.say("report")
    danger = last_prompt(await sam.say("me"))
    assert danger.text == DANGER

    replies = await sam.press_on(pupils, "Yes")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert "moved on" in replies[0].text
    assert not [m for m in replies if m.kind is MessageKind.URGENT]
    assert "999" not in text_of(replies)
    assert last_prompt(replies).text == DANGER
    for lead in ("dana", "lee"):
        assert await Person(runtime, person_id=lead).inbox() == []
    # The question asked now still answers, with its own buttons.
    answered = await sam.press_on(last_prompt(replies), "No")
    assert "Where did it happen" in text_of(answered)


async def test_a_button_of_a_question_answered_by_typing_no_longer_answers(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    pupils = await pupils_question(sam)
    await sam.say("no")  # typed, so the Yes and No buttons are still on screen

    replies = await sam.press_on(pupils, "Yes")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert last_prompt(replies).text == "When should it go out?"
    assert "Who? Type each pupil" not in text_of(replies)


async def test_an_old_skip_does_not_skip_a_later_question(runtime: Runtime) -> None:
    sam = Person(runtime)
    await sam.say("report")
    name = last_prompt(await sam.say("a pupil"))
    assert name.text.startswith("What is their name?")
    await sam.say("Alex")  # typed: the Skip button stays on the name question

    replies = await sam.press_on(name, "Skip")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert last_prompt(replies).text == DANGER


async def test_a_question_asked_again_makes_its_first_buttons_stale(runtime: Runtime) -> None:
    sam = Person(runtime)
    await sam.say("report")
    first = last_prompt(await sam.say("a pupil"))
    again = last_prompt(await sam.say("help"))
    assert again.question != first.question

    assert (await sam.press_on(first, "Skip"))[0].kind is MessageKind.MOVED_ON
    skipped = await sam.press_on(again, "Skip")
    assert last_prompt(skipped).text == DANGER


async def test_a_button_of_a_cancelled_report_is_refused_when_nothing_is_asked(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    asked = last_prompt(await sam.say("me"))
    await sam.say("cancel")
    await sam.say("yes")

    replies = await sam.press_on(asked, "Yes")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert replies[-1].kind is MessageKind.MENU
    assert await Person(runtime, person_id="dana").inbox() == []


async def test_the_summary_and_the_cancel_question_know_their_asking_too(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    await sam.say("me")
    sure = last_prompt(await sam.say("cancel"))
    await sam.say("no")  # typed: carry on

    replies = await sam.press_on(sure, "Yes")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert last_prompt(replies).text == DANGER
    assert "Cancelled" not in text_of(replies)


def test_the_question_a_press_answers_is_kept_in_the_inbound_journal() -> None:
    pressed = Input(
        school_id="oakfield",
        person_id="sam",
        given=UserInput(value="yes", question="0123abcd-3"),
    )
    assert Input.from_payload(pressed.to_payload()).given.question == "0123abcd-3"


async def test_an_old_menu_button_does_not_answer_the_question_asked_now(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    [menu] = await sam.open()
    await sam.say("report")
    await sam.say("me")
    asked = last_prompt(await sam.say("no"))
    assert asked.text.startswith("Where did it happen?")

    replies = await sam.press_on(menu, "See my reports")

    assert "Where did it happen?" in last_prompt(replies).text
    assert "You're in the middle of a report of online abuse" in text_of(replies)
    assert "Is there a link" not in text_of(replies)


async def test_a_press_that_names_no_question_does_not_answer_immediate_danger(
    runtime: Runtime,
) -> None:
    """A card shown before buttons named their question: its Yes could be from anything."""
    sam = Person(runtime)
    await sam.say("report")
    await sam.say("me")

    replies = await sam.press("yes")

    assert replies[0].kind is MessageKind.MOVED_ON
    assert not [m for m in replies if m.kind is MessageKind.URGENT]
    assert last_prompt(replies).text == DANGER
    assert await Person(runtime, person_id="dana").inbox() == []
    # Typing still answers, and so does the button shown now.
    assert "Call 999 now" in text_of(await sam.say("yes"))
