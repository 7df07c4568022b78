"""What a person types out of the blue is understood: a report that names its platform starts
with it filled in, and a question about posting is answered from the policy with an offer to
ask for approval."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.account_request import AccountRequestDialog
from dialogs.comment_dialogs import LogComment
from dialogs.engine import Dialog
from dialogs.home import REQUEST_POST
from dialogs.other_processes import MediaEnquiry, WebsiteBlock
from dialogs.policy_question import AskPolicy
from dialogs.post_approval import RequestPost
from dialogs.report_abuse import ReportAbuse
from dialogs.services.messages import MessageKind
from dialogs.services.school.text import clean_text
from storage.models import Conversation
from tests.support import Person as Chat
from tests.support import last_prompt, text_of


async def test_someone_bullying_me_on_tiktok_starts_the_report_with_tiktok_filled_in(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    started = await sam.say("someone is bullying me on TikTok")
    assert last_prompt(started).text == "Who is being targeted?"
    await sam.say("1")  # me
    after_danger = await sam.say("no")
    assert "Where did it happen" not in text_of(after_danger)
    assert "link" in last_prompt(after_danger).text.casefold()


async def test_a_report_naming_two_platforms_asks_where_it_happened(runtime: Runtime) -> None:
    sam = Chat(runtime)
    await sam.say("a parent is harassing me on facebook and instagram")
    await sam.say("1")
    asked = await sam.say("no")
    assert "Where did it happen" in last_prompt(asked).text


async def test_can_i_post_a_photo_of_my_class_answers_and_offers_post_approval(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    replies = await sam.say("can I post a photo of my class?")
    assert replies[0].kind is MessageKind.ANSWER
    offer = replies[-1]
    assert [b.value for b in offer.buttons] == [REQUEST_POST]
    started = await sam.press(REQUEST_POST)
    assert "Which official account" in last_prompt(started).text


async def test_a_question_that_is_not_about_posting_gets_no_offer(runtime: Runtime) -> None:
    sam = Chat(runtime)
    replies = await sam.say("can I be friends with parents on Facebook?")
    assert all(REQUEST_POST not in [b.value for b in m.buttons] for m in replies)


@pytest.mark.parametrize(
    ("person_id", "dialog"),
    [
        ("sam", ReportAbuse),
        ("sam", RequestPost),
        ("jo", LogComment),
        ("sam", MediaEnquiry),
        ("sam", WebsiteBlock),
        ("sam", AccountRequestDialog),
        ("sam", AskPolicy),
    ],
)
async def test_the_word_given_after_cancelling_starts_that_conversation_again(
    runtime: Runtime, person_id: str, dialog: type[Dialog]
) -> None:
    person = Chat(runtime, person_id=person_id)
    await person.say(dialog.start_word)
    async with runtime.db.session() as session:
        [row] = (await session.execute(select(Conversation))).scalars().all()
    assert row.dialog == dialog.name


async def test_cancelling_a_reason_says_to_press_the_button_again(runtime: Runtime) -> None:
    sam = Chat(runtime)
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip", "submit"]:
        await sam.say(answer)
    morgan = Chat(runtime, person_id="morgan")
    [card] = await morgan.inbox()
    await morgan.press(card.buttons[-1].value)  # Not blocking it
    await morgan.say("cancel")
    cancelled = await morgan.say("yes")
    assert "press Not blocking it on the report again" in text_of(cancelled)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("👨‍👩‍👧", "👨‍👩‍👧"),  # a family: three people joined by U+200D
        ("🏳️‍🌈 👩🏽‍💻 ❤️‍🔥", "🏳️‍🌈 👩🏽‍💻 ❤️‍🔥"),  # after a selector or a skin tone
        ("می‌خواهم", "می‌خواهم"),  # Persian: U+200C keeps the prefix apart
        ("क्‍ष", "क्‍ष"),  # Devanagari: U+200D picks the half form
        ("Pat\u200dJones", "PatJones"),  # between Latin letters it can only hide a difference
        ("CB\u200c-2026", "CB-2026"),
        ("\u200d👨 done\u200d", "👨 done"),  # joining nothing
        ("a\u200d👩", "a👩"),  # a letter does not start an emoji sequence
    ],
)
def test_joiners_are_kept_only_where_they_are_part_of_the_writing(typed: str, kept: str) -> None:
    assert clean_text(typed) == kept
