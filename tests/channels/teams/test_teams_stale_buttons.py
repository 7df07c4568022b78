"""Buttons know their question, in Teams: a button left on an old card answers nothing new.

Presses are Action.Execute invokes through the real adapter, with the data the card was sent
with; what Sam sees, and whether the leads were alerted, is read from the fake connector and
the database.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.models import Notification
from tests.channels.teams.harness import SAM, TeamsHarness, actions, runs, text_of

PUPILS = "Do any pupils appear"
DANGER = "Is anyone in immediate danger right now?"


def replaced_with(invoke_body: Any) -> str:
    """The card that replaces the pressed one: nothing left to press on it."""
    assert invoke_body["type"] == "application/vnd.microsoft.card.adaptive"
    assert actions(invoke_body["value"]) == []
    return "\n".join(runs(invoke_body["value"]))


async def urgent_alerts(teams: TeamsHarness) -> list[Notification]:
    async with teams.runtime.db.session() as session:
        found = await session.execute(
            select(Notification).where(Notification.kind == "case.urgent")
        )
        return list(found.scalars().all())


async def test_a_stale_yes_from_a_post_card_does_not_answer_immediate_danger(
    teams: TeamsHarness,
) -> None:
    await teams.say(SAM, "post")
    await teams.say(SAM, "1")
    await teams.say(SAM, "Year 4 had a wonderful trip today!")
    await teams.say(SAM, "skip")
    pupils = teams.latest_card_with(SAM, "Yes")
    assert PUPILS in "\n".join(runs(pupils))
    await teams.say(SAM, "cancel")
    await teams.say(SAM, "yes")
    await teams.say(SAM, "report")
    assert "You chose: Me" in replaced_with(await teams.press(SAM, "Me"))
    before = len(teams.sent_to(SAM.chat))

    answer = await teams.press_on(SAM, pupils, "Yes")

    assert "This question has moved on" in replaced_with(answer)
    assert "You chose" not in replaced_with(answer)
    seen = text_of(teams.sent_to(SAM.chat)[before:])
    assert "moved on" in seen
    assert DANGER in seen
    assert "999" not in seen
    assert await urgent_alerts(teams) == []
    # The question shown again still answers.
    assert "You chose: No" in replaced_with(await teams.press(SAM, "No"))
    assert "Where did it happen" in text_of(teams.sent_to(SAM.chat))


async def test_an_old_skip_does_not_skip_the_question_asked_now(teams: TeamsHarness) -> None:
    await teams.say(SAM, "report")
    await teams.press(SAM, "A pupil")
    name = teams.latest_card_with(SAM, "Skip")
    await teams.say(SAM, "Alex")  # typed: the Skip button stays on the name question
    before = len(teams.sent_to(SAM.chat))

    answer = await teams.press_on(SAM, name, "Skip")

    assert "This question has moved on" in replaced_with(answer)
    seen = text_of(teams.sent_to(SAM.chat)[before:])
    assert DANGER in seen
    assert "Where did it happen" not in seen
