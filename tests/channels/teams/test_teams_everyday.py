"""The everyday processes in Teams: asked for in a personal chat, the right person told."""

from __future__ import annotations

from typing import Any

from bot.jobs.accounts import run_account_checks
from tests.channels.teams.harness import (
    DANA,
    JO,
    LEE,
    MORGAN,
    SAM,
    TeamsHarness,
    TeamsUser,
    text_of,
)


async def say(teams: TeamsHarness, user: TeamsUser, text: str) -> list[dict[str, Any]]:
    return await teams.replies(user, teams.say(user, text))


async def test_a_journalist_contact_gets_advice_and_reaches_the_headteachers_chat(
    teams: TeamsHarness,
) -> None:
    await say(teams, DANA, "hello")
    started = await say(teams, SAM, "a journalist emailed me")
    assert "I'm not able to comment" in text_of(started)
    for answer in ["Alex Reed, Oakfield Gazette", "2", "Our Ofsted report", "today 9am", "no"]:
        await say(teams, SAM, answer)
    done = await say(teams, SAM, "submit")
    assert "The Headteacher has been told" in text_of(done)
    before = len(teams.sent_to(DANA.chat))
    assert (await teams.deliver()).failed == 0
    told = text_of(teams.sent_to(DANA.chat)[before:])
    assert "A journalist has contacted a member of staff" in told
    assert "Our Ofsted report" in told


async def test_a_new_account_request_is_rejected_with_a_reason_from_the_leaders_chat(
    teams: TeamsHarness,
) -> None:
    await say(teams, DANA, "hello")
    for answer in [
        "new account",
        "Instagram",
        "Oakfield Year 6 Blog",
        "Share Year 6's learning with families",
        "Year 6 parents and carers",
        "In the newsletter",
        "1, 2",
        "2",
    ]:
        await say(teams, SAM, answer)
    assert "Sent to the senior leaders: AR-2026-0001" in text_of(await say(teams, SAM, "submit"))
    assert (await teams.deliver()).failed == 0
    asked = await teams.press(DANA, "Reject")
    assert asked is not None
    assert "Why not?" in text_of(teams.sent_to(DANA.chat)[-1:])
    await say(teams, DANA, "The school's own Instagram can share this.")
    await teams.deliver()
    assert "The school's own Instagram can share this." in text_of(teams.sent_to(SAM.chat))


async def test_it_answers_a_website_report_with_a_reason_the_reporter_is_told(
    teams: TeamsHarness,
) -> None:
    await say(teams, MORGAN, "hello")
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip"]:
        await say(teams, SAM, answer)
    assert "IT has been asked to block it: WB-2026-0001" in text_of(await say(teams, SAM, "submit"))
    assert (await teams.deliver()).failed == 0
    told = text_of(teams.sent_to(MORGAN.chat))
    assert "badsite[.]example" in told
    assert "https://badsite.example" not in told
    await teams.press(MORGAN, "Not blocking it")
    assert "Why not block it?" in text_of(teams.sent_to(MORGAN.chat)[-1:])
    await say(teams, MORGAN, "It is a museum site; the page has gone.")
    await teams.deliver()
    assert "has not blocked it: It is a museum site" in text_of(teams.sent_to(SAM.chat))


async def test_an_owner_who_no_longer_runs_an_account_says_so_and_the_leaders_hear(
    teams: TeamsHarness,
) -> None:
    for user in (JO, LEE):
        await say(teams, user, "hello")
    await run_account_checks(teams.runtime)
    assert (await teams.deliver()).failed == 0
    assert "Do you still run" in text_of(teams.sent_to(JO.chat))
    await teams.press(JO, "I don't run it any more")
    said = text_of(teams.sent_to(JO.chat)[-1:])
    assert "you're no longer listed as running" in said
    await teams.deliver()
    assert "Official account needs attention" in text_of(teams.sent_to(LEE.chat))


async def test_a_colleagues_misuse_starts_the_confidential_report(teams: TeamsHarness) -> None:
    started = await say(teams, SAM, "I need to report a colleague")
    assert "Report a colleague's misuse" in text_of(started)
    assert "Who is being targeted?" in text_of(started)
