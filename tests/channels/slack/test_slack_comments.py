"""Comments in Slack: logged in the bot's DM, shown in the moderators' channel with their deadline,
and answered from the card there, with the follow-up in the moderator's own DM."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.config import Settings
from bot.jobs.comments import run_comment_sweep
from dialogs.services.school.schools import ChannelRef, Directory
from tests.channels.slack.harness import (
    SlackHarness,
    buttons_of,
    dm,
    slack_harness,
    text_of_calls,
)
from tests.conftest import Clock
from tests.fakes.slack_api import Call, FakeSlack

JO, SAM = "U0JO", "U0SAM"
MODERATORS = "C0MODERATORS"
TEXT = "Is the school open on Friday? The website says two different things."


def button_value(post: Call, label: str) -> str:
    for element in buttons_of(post):
        if element["text"]["text"] == label:
            return str(element["value"])
    raise AssertionError(f"no {label!r} button in {text_of_calls([post])}")


async def logged(slack: SlackHarness) -> Call:
    clock = slack.runtime.clock
    assert isinstance(clock, Clock)
    clock.now = datetime(2026, 11, 23, 10, 20, tzinfo=UTC)
    for answer in ["comment", "2", "A Parent", TEXT, "skip", "today 10am", "submit"]:
        await slack.reply_to(JO, slack.say(JO, answer))
    assert "Comment logged: CM-2026-0001" in text_of_calls(slack.posts_to(dm(JO)))
    assert (await slack.deliver()).failed == 0
    [card] = slack.posts_to(MODERATORS)
    return card


async def test_the_comment_card_shows_the_deadline_and_answering_it_updates_the_card(
    slack: SlackHarness,
) -> None:
    card = await logged(slack)
    shown = text_of_calls([card])
    assert TEXT in shown
    assert "Tue 24/11/2026 10:00" in shown
    replies = await slack.reply_to(
        JO, slack.click(JO, button_value(card, "Replied"), channel=MODERATORS, label="Replied")
    )
    assert "CM-2026-0001 is marked as replied" in text_of_calls(replies)
    await slack.deliver()
    updates = [c for c in slack.fake.calls_to("chat.update") if c.body["channel"] == MODERATORS]
    assert "Replied by Jo Williams" in text_of_calls(updates[-1:])
    assert buttons_of(updates[-1]) == []
    assert len(slack.posts_to(MODERATORS)) == 1


async def test_staff_who_are_not_moderators_are_refused_from_the_card(
    slack: SlackHarness,
) -> None:
    card = await logged(slack)
    replies = await slack.reply_to(
        SAM, slack.click(SAM, button_value(card, "No answer needed"), channel=MODERATORS)
    )
    assert "Only the school's moderators can see and answer comments" in text_of_calls(replies)
    await slack.deliver()
    assert [c for c in slack.fake.calls_to("chat.update") if c.body["channel"] == MODERATORS] == []


async def test_hiding_from_the_card_asks_the_public_reason_in_the_moderators_dm(
    slack: SlackHarness,
) -> None:
    card = await logged(slack)
    asked = await slack.reply_to(
        JO, slack.click(JO, button_value(card, "Hide or remove"), channel=MODERATORS)
    )
    assert "What reason will you give publicly" in text_of_calls(asked)
    said = await slack.reply_to(
        JO, slack.say(JO, "We removed a comment that named a member of staff.")
    )
    assert "CM-2026-0001 is marked as hidden or removed" in text_of_calls(said)
    await slack.deliver()
    updates = [c for c in slack.fake.calls_to("chat.update") if c.body["channel"] == MODERATORS]
    shown = text_of_calls(updates[-1:])
    assert "We removed a comment that named a member of staff." in shown
    assert "Hidden or removed by Jo Williams" in shown


async def nudged(slack: SlackHarness) -> Call:
    """The comment logged on Monday 10:20 is nudged early on Tuesday; returns that post."""
    await logged(slack)
    clock = slack.runtime.clock
    assert isinstance(clock, Clock)
    clock.now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert (await run_comment_sweep(slack.runtime)).nudged == 1
    assert (await slack.deliver()).failed == 0
    [_, nudge] = slack.posts_to(MODERATORS)
    return nudge


async def test_a_deadline_nudge_mentions_the_moderators_so_slack_alerts_them(
    slack: SlackHarness,
) -> None:
    """A channel post alerts only those it mentions (by default); the nudge is for the people
    with the moderator role, so it mentions them: in the notification text and in the blocks."""
    nudge = await nudged(slack)
    assert "needs an answer by" in text_of_calls([nudge])
    assert "<@U0JO>" in nudge.body["text"]
    assert "<@U0JO>" in text_of_calls([nudge])
    assert "<@U0SAM>" not in str(nudge.body)  # not a moderator
    # The card itself announces the comment; only the nudges ask for someone's attention.
    [card, _] = slack.posts_to(MODERATORS)
    assert "<@" not in str(card.body)


async def test_a_nudge_mentions_the_moderators_user_group_when_one_is_configured(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> None:
    school = settings.directory.school("oakfield")
    assert school is not None
    moderators = ChannelRef.model_validate(
        {**school.channels.moderators.model_dump(), "slack_group": "S0MODS"}
    )
    channels = school.channels.model_copy(update={"moderators": moderators})
    grouped = dataclasses.replace(
        settings,
        directory=Directory(schools=(school.model_copy(update={"channels": channels}),)),
    )
    async with slack_harness(grouped, clock, fake_slack) as slack:
        nudge = await nudged(slack)
    assert "<!subteam^S0MODS>" in nudge.body["text"]
    assert "<!subteam^S0MODS>" in text_of_calls([nudge])
    assert "<@U0JO>" not in str(nudge.body)
