"""A report that speaks of sexual images is never asked for screenshots of them.

A sexual image of a child may not be copied or passed on, not even to report it, and an intimate
image of an adult should not be copied either: so when what happened (as the reporter wrote it)
is about such images, the report leaves the screenshots question out, says why, points to the
designated safeguarding lead, and keeps no file sent anyway. Every other report still asks.
"""

from __future__ import annotations

from sqlmodel import select

from bot.runtime import Runtime
from dialogs.services.messages import InputKind
from storage.models import Evidence
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, last_prompt, png, text_of

NUDES = (
    "A girl in my year 9 form has been sending nudes to an older man she met on snapchat and "
    "now he says he will share them"
)


async def test_a_report_about_nudes_of_a_pupil_never_asks_for_screenshots(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    for answer in ["report", "pupil", "Jess", "no", *HAPPY_PATH[3:6]]:
        await sam.say(answer)
    told = await sam.say(NUDES)

    asked = last_prompt(told)
    assert asked.expects is not InputKind.ATTACHMENTS
    assert "screenshots" not in asked.text.lower()
    said = text_of(told)
    assert "don't send me" in said.lower()
    assert "Dana" in said  # the lead, by name

    # A picture sent anyway is not kept.
    await sam.say("", file("nudes.png", png("a picture")))
    async with runtime.db.session() as session:
        assert (await session.execute(select(Evidence))).scalars().all() == []

    for answer in AFTER_EVIDENCE[:2]:
        await sam.say(answer)
    summary = await sam.say("2")  # nature: sexual content, whatever the number
    assert "Screenshots" not in [f.label for f in last_prompt(summary).facts]


async def test_any_other_report_still_asks_for_screenshots(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:-1]:
        await sam.say(answer)
    told = await sam.say(HAPPY_PATH[-1])
    assert last_prompt(told).expects is InputKind.ATTACHMENTS
