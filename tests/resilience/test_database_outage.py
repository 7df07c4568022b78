"""The database goes away in the middle of people's conversations, and comes back.

Nothing anyone sent while it was away is lost or taken out of order: each message is kept in
the inbound journal, the person is told so (not asked to send it again), and when the database
is back the messages are taken in the order they came, with the replies the person would have
had. Both platforms, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.config import Settings
from storage.models import CaseEvent, Conversation, Evidence, Notification
from tests.channels.slack.harness import SlackHarness, dm, slack_harness, text_of_calls
from tests.channels.slack.test_slack_interactions import (
    DANA,
    events_of,
    open_case,
    press,
    typed,
)
from tests.channels.teams.harness import SAM as TEAMS_SAM
from tests.channels.teams.harness import TeamsHarness, teams_harness, text_of
from tests.channels.teams.test_teams_report import reported_and_posted, rows, submit_form
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.slack_api import FakeSlack
from tests.resilience.conftest import Outage
from tests.support import png

SAM = "U0SAM"
KEPT = "I've kept it safely"


@pytest.fixture
async def slack(
    settings_through_outage: Settings, clock: Clock, outage: Outage
) -> AsyncIterator[SlackHarness]:
    async with FakeSlack() as fake, slack_harness(settings_through_outage, clock, fake) as harness:
        await outage.prepare(harness.runtime)
        yield harness


@pytest.fixture
async def teams(
    settings_through_outage: Settings, clock: Clock, outage: Outage
) -> AsyncIterator[TeamsHarness]:
    async with (
        FakeBotFramework() as fake,
        teams_harness(settings_through_outage, clock, fake) as harness,
    ):
        await outage.prepare(harness.runtime)
        yield harness


async def answers_of(runtime_db: object, channel: str) -> dict[str, object]:
    from storage.db import Database

    assert isinstance(runtime_db, Database)
    async with runtime_db.session() as session:
        [row] = (
            await session.execute(select(Conversation).where(Conversation.channel == channel))
        ).scalars()
        assert row.state is not None
        answers: dict[str, object] = row.state["answers"]
        return answers


# -- Slack --------------------------------------------------------------------------------------


async def test_slack_answers_sent_while_the_database_is_away_are_taken_when_it_is_back(
    slack: SlackHarness, outage: Outage, clock: Clock
) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))

    await outage.cut()
    posts = await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    assert KEPT in text_of_calls(posts)
    assert "no need to send it again" in text_of_calls(posts)
    assert "Is anyone in immediate danger" not in text_of_calls(posts)
    # No danger question was shown to press No on, so the answer is typed.
    posts = await slack.reply_to(SAM, slack.say(SAM, "no"))
    assert KEPT in text_of_calls(posts)

    # A minute passes; the delivery loop keeps trying, and keeps everything while it fails.
    for _ in range(3):
        clock.advance(seconds=20)
        replayed = await slack.runtime.runner.replay_journal()
        assert (replayed.taken, replayed.waiting, replayed.set_aside) == (0, 2, 0)
    assert len(slack.runtime.journal.pending()) == 2

    await outage.restore()
    before = len(slack.posts_to(dm(SAM)))
    await slack.deliver()  # what the loop does every few seconds
    told = text_of_calls(slack.posts_to(dm(SAM))[before:])
    # Both answers were taken, in order: the replies are the questions that follow each.
    assert told.index("Is anyone in immediate danger") < told.index("Where did it happen?")
    assert slack.runtime.journal.pending() == []
    answers = await answers_of(slack.runtime.db, "slack")
    assert (answers["affected"], answers["immediate_danger"]) == ("me", False)

    # And the conversation simply carries on.
    posts = await slack.reply_to(SAM, slack.click(SAM, "Facebook", label="Facebook"))
    assert "link" in text_of_calls(posts).lower()


async def test_slack_a_message_after_the_outage_waits_for_the_ones_before_it(
    slack: SlackHarness, outage: Outage
) -> None:
    """The person writes again as soon as the database is back, before the loop has run: what
    they sent during the outage is taken first, and its reply comes first."""
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await outage.cut()
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await outage.restore()

    posts = await slack.reply_to(SAM, slack.say(SAM, "no"))  # typed: not shown the question yet
    told = text_of_calls(posts)
    assert told.index("Is anyone in immediate danger") < told.index("Where did it happen?")
    assert slack.runtime.journal.pending() == []


async def test_slack_a_screenshot_sent_during_the_outage_is_kept_as_evidence(
    slack: SlackHarness, outage: Outage
) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    await slack.reply_to(SAM, slack.click(SAM, "Facebook", label="Facebook"))
    await slack.reply_to(SAM, slack.say(SAM, "https://facebook.com/posts/1"))
    await slack.reply_to(SAM, slack.say(SAM, "yesterday 4pm"))
    posts = await slack.reply_to(SAM, slack.say(SAM, "A parent called me useless."))
    assert "screenshot" in text_of_calls(posts).lower()

    image = png()
    shared = slack.fake.add_file("FOUT", name="shot.png", data=image, mimetype="image/png")
    await outage.cut()
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    assert KEPT in text_of_calls(posts)
    await outage.restore()

    before = len(slack.posts_to(dm(SAM)))
    await slack.deliver()
    assert "is saved as evidence" in text_of_calls(slack.posts_to(dm(SAM))[before:])
    async with slack.runtime.db.session() as session:
        [evidence] = (await session.execute(select(Evidence))).scalars()
    assert evidence.size == len(image)


# -- Teams --------------------------------------------------------------------------------------


async def test_teams_answers_sent_while_the_database_is_away_are_taken_when_it_is_back(
    teams: TeamsHarness, outage: Outage
) -> None:
    await teams.replies(TEAMS_SAM, teams.say(TEAMS_SAM, "report"))

    await outage.cut()
    told = await teams.replies(TEAMS_SAM, teams.say(TEAMS_SAM, "me"))
    assert KEPT in text_of(told)
    assert "went wrong" not in text_of(told)
    told = await teams.replies(TEAMS_SAM, teams.say(TEAMS_SAM, "no"))
    assert KEPT in text_of(told)
    assert len(teams.runtime.journal.pending()) == 2

    await outage.restore()
    before = len(teams.sent_to(TEAMS_SAM.chat))
    await teams.deliver()
    told_after = text_of(teams.sent_to(TEAMS_SAM.chat)[before:])
    assert told_after.index("Is anyone in immediate danger") < told_after.index(
        "Where did it happen?"
    )
    assert teams.runtime.journal.pending() == []
    async with teams.runtime.db.session() as session:
        replies = [
            n for n in (await session.execute(select(Notification))).scalars() if n.kind == "reply"
        ]
    assert replies
    assert all(n.delivered_at is not None for n in replies)


async def test_slack_a_note_typed_while_the_database_is_away_stays_in_its_form(
    slack: SlackHarness, outage: Outage
) -> None:
    """A handler's note is not journaled: the modal stays open with what they typed, and they
    are told to press again; pressing again once the database is back saves it once."""
    card = await open_case(slack)
    await press(slack, DANA, card, "Add note")
    (opened,) = await slack.fake.wait_for("views.open")
    view = opened.body["view"]

    await outage.cut()
    status, body = await slack.submit_view(DANA, view, {"text": typed("Called the parent.")})
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"  # the modal stays open, with the note in it
    assert "can't reach my records" in answer["errors"]["text"]
    await outage.restore()
    assert await events_of(slack, "note") == []

    status, body = await slack.submit_view(DANA, view, {"text": typed("Called the parent.")})
    assert (status, body) == (200, "")
    assert [n.text for n in await events_of(slack, "note")] == ["Called the parent."]


async def test_teams_a_note_sent_while_the_database_is_away_is_not_lost(
    teams: TeamsHarness, outage: Outage
) -> None:
    await reported_and_posted(teams)

    await outage.cut()
    told = await submit_form(teams, verb="note", text="Called Sam; the post is being reported.")
    assert "can't reach my records" in text_of(told)
    assert "still in the form" in text_of(told)
    await outage.restore()
    assert [e for e in await rows(teams, CaseEvent) if e.kind == "note"] == []

    told = await submit_form(teams, verb="note", text="Called Sam; the post is being reported.")
    assert "Your note was added" in text_of(told)
    assert [e.text for e in await rows(teams, CaseEvent) if e.kind == "note"] == [
        "Called Sam; the post is being reported."
    ]


async def test_slack_the_first_turn_after_the_outage_wakes_the_replay_of_the_others(
    slack: SlackHarness, outage: Outage
) -> None:
    """The delivery worker no longer runs after every turn; so that what waited in the
    journal is not left until its next timer, the first turn saved once the database is back
    wakes it, and only that one."""
    woken: list[str] = []
    slack.runtime.runner.wake_for_backlog(lambda: woken.append("woken"))
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    assert woken == []  # nothing was waiting

    await outage.cut()
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await outage.restore()
    await slack.reply_to(DANA, slack.say(DANA, "hello"))  # someone else's turn goes through
    assert woken == ["woken"]
    await slack.reply_to(DANA, slack.say(DANA, "help"))
    assert woken == ["woken"]
