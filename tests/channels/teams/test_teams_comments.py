"""Comments in Microsoft Teams: logged in a personal chat, shown in the moderators' channel with
their deadline, answered from the card there with the follow-up in the moderator's own chat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.jobs.comments import run_comment_sweep
from tests.channels.teams.harness import (
    JO,
    SAM,
    TeamsHarness,
    TeamsUser,
    actions,
    card_of,
    text_of,
)
from tests.conftest import Clock

MODERATORS = "19:moderators@thread.tacv2"
TEXT = "Is the school open on Friday? The website says two different things."


async def say(teams: TeamsHarness, user: TeamsUser, text: str) -> list[dict[str, Any]]:
    return await teams.replies(user, teams.say(user, text))


async def logged(teams: TeamsHarness) -> tuple[str, dict[str, Any]]:
    clock = teams.runtime.clock
    assert isinstance(clock, Clock)
    clock.now = datetime(2026, 11, 23, 10, 20, tzinfo=UTC)
    for person in (JO, SAM):
        await say(teams, person, "hello")
    assert await teams.install_in_team() == 201
    for answer in ["comment", "2", "A Parent", TEXT, "skip", "today 10am"]:
        await say(teams, JO, answer)
    assert "Comment logged: CM-2026-0001" in text_of(await say(teams, JO, "submit"))
    assert (await teams.deliver()).failed == 0
    [(card_id, card)] = teams.posts(MODERATORS)
    return card_id, card


async def test_the_card_in_the_moderators_channel_shows_the_deadline_and_the_buttons(
    teams: TeamsHarness,
) -> None:
    _, card = await logged(teams)
    shown = text_of([card])
    assert TEXT in shown
    assert "Tue 24/11/2026 10:00" in shown
    assert [a["title"] for a in actions(card_of(card))] == [
        "Acknowledged",
        "Replied",
        "Hide or remove",
        "Report as abuse",
        "No answer needed",
    ]


async def test_acknowledging_in_the_channel_answers_privately_and_updates_the_card(
    teams: TeamsHarness,
) -> None:
    card_id, card = await logged(teams)
    before = len(teams.sent_to(JO.chat))
    await teams.press_in_channel(
        JO, card_of(card), "Acknowledged", card_id=card_id, channel=MODERATORS
    )
    assert "CM-2026-0001 is marked as acknowledged" in text_of(teams.sent_to(JO.chat)[before:])
    assert len(teams.posts(MODERATORS)) == 1  # nothing new in the channel
    await teams.deliver()
    updated = [c for c in teams.fake.calls if c.method == "PUT" and MODERATORS in c.path]
    assert "Acknowledged by Jo Williams" in str(updated[-1].body)


async def test_staff_who_are_not_moderators_are_refused_privately(teams: TeamsHarness) -> None:
    card_id, card = await logged(teams)
    before = len(teams.sent_to(SAM.chat))
    await teams.press_in_channel(
        SAM, card_of(card), "No answer needed", card_id=card_id, channel=MODERATORS
    )
    told = text_of(teams.sent_to(SAM.chat)[before:])
    assert "Only the school's moderators can see and answer comments" in told
    await teams.deliver()
    assert [c for c in teams.fake.calls if c.method == "PUT" and MODERATORS in c.path] == []


async def test_reporting_as_abuse_from_the_channel_starts_a_report_in_the_personal_chat(
    teams: TeamsHarness,
) -> None:
    card_id, card = await logged(teams)
    before = len(teams.sent_to(JO.chat))
    await teams.press_in_channel(
        JO, card_of(card), "Report as abuse", card_id=card_id, channel=MODERATORS
    )
    told = text_of(teams.sent_to(JO.chat)[before:])
    assert "CM-2026-0001 is being reported as abuse" in told
    assert "I've saved the message you flagged as evidence" in told
    assert "Who is being targeted?" in told  # the report's first question
    await teams.deliver()
    updated = [c for c in teams.fake.calls if c.method == "PUT" and MODERATORS in c.path]
    assert "Reported as abuse" in str(updated[-1].body)


async def test_a_deadline_nudge_mentions_the_moderators_so_teams_alerts_them(
    teams: TeamsHarness,
) -> None:
    """A Teams channel post alerts only the people it @mentions: the nudge mentions everyone
    with the moderator role, with the mention entity Teams needs to make it one."""
    await logged(teams)
    clock = teams.runtime.clock
    assert isinstance(clock, Clock)
    clock.now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert (await run_comment_sweep(teams.runtime)).nudged == 1
    assert (await teams.deliver()).failed == 0
    [_, (_, nudge)] = teams.posts(MODERATORS)
    card = card_of(nudge)
    assert "needs an answer by" in text_of([nudge])
    [entity] = card["msteams"]["entities"]
    assert entity == {
        "type": "mention",
        "text": "<at>Jo Williams</at>",
        "mentioned": {"id": JO.aad_object_id, "name": "Jo Williams"},
    }
    blocks = [e for e in card["body"] if e.get("type") == "TextBlock"]
    assert [b["text"] for b in blocks] == ["<at>Jo Williams</at>"]
    assert SAM.name not in str(card)
    # The card itself announces the comment; only the nudges ask for someone's attention.
    [(_, first), _] = teams.posts(MODERATORS)
    assert "msteams" not in card_of(first)
