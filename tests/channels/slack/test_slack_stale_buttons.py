"""Buttons know their question, in Slack: a button left on an old message answers nothing new.

Each press goes through the real Bolt app as Slack sends it (value, action_id and block_id of
the rendered button), and what Sam and the leads see is read from the fake Web API.
"""

from __future__ import annotations

from sqlmodel import select

from storage.models import Notification
from tests.channels.slack.harness import SlackHarness, dm, text_of_calls
from tests.channels.slack.test_slack_interactions import SAM, expect
from tests.fakes.slack_api import Call

PUPILS = "Do any pupils appear"
DANGER = "Is anyone in immediate danger"


def asking(posts: list[Call], needle: str) -> Call:
    return next(p for p in reversed(posts) if needle in text_of_calls([p]))


async def urgent_alerts(slack: SlackHarness) -> list[Notification]:
    async with slack.runtime.db.session() as session:
        found = await session.execute(
            select(Notification).where(Notification.kind == "case.urgent")
        )
        return list(found.scalars().all())


async def test_a_stale_yes_from_a_post_card_does_not_answer_immediate_danger(
    slack: SlackHarness,
) -> None:
    await expect(slack, slack.say(SAM, "post"), "Which official account")
    await expect(slack, slack.say(SAM, "1"), "What should the post say?")
    await expect(slack, slack.say(SAM, "Year 4 had a wonderful trip today!"), "photos or videos")
    pupils = asking(await expect(slack, slack.say(SAM, "skip"), PUPILS), PUPILS)
    await expect(slack, slack.say(SAM, "cancel"), "Are you sure")
    await expect(slack, slack.say(SAM, "yes"), "Cancelled")
    targeted = await expect(slack, slack.say(SAM, "report"), "Who is being targeted?")
    await expect(slack, slack.press(SAM, asking(targeted, "targeted"), "Me"), DANGER)

    updates = len(slack.fake.calls_to("chat.update"))
    seen = await expect(slack, slack.press(SAM, pupils, "Yes", ts="1700000009.000100"), DANGER)

    assert "moved on" in text_of_calls(seen)
    assert "999" not in text_of_calls(seen)
    assert await urgent_alerts(slack) == []
    (update,) = slack.fake.calls_to("chat.update")[updates:]
    assert (update.body["channel"], update.body["ts"]) == (dm(SAM), "1700000009.000100")
    assert "This question has moved on" in text_of_calls([update])
    assert "You chose" not in text_of_calls([update])
    assert not any(b["type"] == "actions" for b in update.body["blocks"])


async def test_an_old_skip_does_not_skip_the_question_asked_now(slack: SlackHarness) -> None:
    await expect(slack, slack.say(SAM, "report"), "Who is being targeted?")
    named = await expect(slack, slack.say(SAM, "a pupil"), "What is their name?")
    await expect(slack, slack.say(SAM, "Alex"), DANGER)  # typed: Skip stays on the name

    seen = await expect(slack, slack.press(SAM, asking(named, "their name"), "Skip"), DANGER)

    assert "moved on" in text_of_calls(seen)
    assert "Where did it happen" not in text_of_calls(seen)
    # The question shown again answers with its own buttons.
    await expect(slack, slack.press(SAM, asking(seen, DANGER), "No"), "Where did it happen?")


async def test_an_old_skip_beside_checkboxes_does_not_skip_the_question_asked_again(
    slack: SlackHarness,
) -> None:
    """Skip sits in the checkboxes' block, whose Done button names the question."""
    await expect(slack, slack.say(SAM, "report"), "Who is being targeted?")
    await expect(slack, slack.press_newest(SAM, "Me"), DANGER)
    await expect(slack, slack.press_newest(SAM, "No"), "Where did it happen?")
    for typed, next_question in [
        ("Facebook", "Is there a link"),
        ("skip", "When did it happen?"),
        ("yesterday 4pm", "In your own words"),
        ("A parent posted racist abuse about me.", "screenshots"),
        ("skip", "Who is responsible"),
        ("parent", "their name"),
        ("skip", "What kind of content"),
    ]:
        await expect(slack, slack.say(SAM, typed), next_question)
    first = asking(await expect(slack, slack.say(SAM, "3"), "What is the hate about?"), "hate")
    await expect(slack, slack.say(SAM, "back"), "What kind of content")
    await expect(slack, slack.say(SAM, "1, 3"), "What is the hate about?")

    seen = await expect(slack, slack.press(SAM, first, "Skip"), "What is the hate about?")

    assert "moved on" in text_of_calls(seen)
    assert "before it is sent" not in text_of_calls(seen)
