"""The everyday processes in Slack: asked for in the DM, the right person told in theirs."""

from __future__ import annotations

from bot.jobs.accounts import run_account_checks
from tests.channels.slack.harness import SlackHarness, buttons_of, dm, text_of_calls

SAM, MORGAN, DANA, JO = "U0SAM", "U0MORGAN", "U0DANA", "U0JO"


async def test_a_website_to_block_reaches_it_in_their_dm_as_plain_text(
    slack: SlackHarness,
) -> None:
    for answer in ["please block a website", "badsite.example/page", "today 9am", "skip"]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    await slack.reply_to(SAM, slack.say(SAM, "skip"))
    done = await slack.reply_to(SAM, slack.say(SAM, "submit"))
    assert "IT has been asked to block it" in text_of_calls(done)
    assert (await slack.deliver()).failed == 0
    told = text_of_calls(slack.posts_to(dm(MORGAN)))
    assert "Please block a website on school equipment" in told
    assert "https[:]//badsite[.]example/page" in told
    assert "https://badsite.example" not in told
    [card] = slack.posts_to(dm(MORGAN))
    blocked = next(e["value"] for e in buttons_of(card) if e["text"]["text"] == "Blocked")
    said = await slack.reply_to(
        MORGAN, slack.click(MORGAN, blocked, channel=dm(MORGAN), label="Blocked")
    )
    assert "WB-2026-0001 is marked as blocked" in text_of_calls(said)
    await slack.deliver()
    assert "is blocked on school equipment" in text_of_calls(slack.posts_to(dm(SAM)))


async def test_a_new_account_request_is_approved_from_the_senior_leaders_dm(
    slack: SlackHarness,
) -> None:
    answers = [
        "new account",
        "Instagram",
        "Oakfield Year 6 Blog",
        "Share Year 6's learning with families",
        "Year 6 parents and carers",
        "In the newsletter",
        "1, 2",
        "2",
        "submit",
    ]
    for answer in answers:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    assert "Sent to the senior leaders: AR-2026-0001" in text_of_calls(slack.posts_to(dm(SAM)))
    assert (await slack.deliver()).failed == 0
    [card] = slack.posts_to(dm(DANA))
    approve = next(e["value"] for e in buttons_of(card) if e["text"]["text"] == "Approve")
    said = await slack.reply_to(DANA, slack.click(DANA, approve, channel=dm(DANA), label="Approve"))
    assert "You approved AR-2026-0001" in text_of_calls(said)
    await slack.deliver()
    assert "approved your request AR-2026-0001" in text_of_calls(slack.posts_to(dm(SAM)))


async def test_an_owner_confirms_an_account_from_their_dm(slack: SlackHarness) -> None:
    await run_account_checks(slack.runtime)
    assert (await slack.deliver()).failed == 0
    cards = [
        c for c in slack.posts_to(dm(JO)) if "Do you still run Oakfield Primary website" in str(c)
    ]
    confirm = next(
        e["value"]
        for e in buttons_of(cards[0])
        if e["text"]["text"] == "Yes, and its password is safe"
    )
    said = await slack.reply_to(JO, slack.click(JO, confirm, channel=dm(JO), label="Yes"))
    assert "Oakfield Primary website is confirmed for this year" in text_of_calls(said)


async def test_a_journalist_contact_reaches_the_headteachers_dm(slack: SlackHarness) -> None:
    started = await slack.reply_to(SAM, slack.say(SAM, "a journalist rang me"))
    assert "I'm not able to comment" in text_of_calls(started)
    for answer in ["Alex Reed, Oakfield Gazette", "1", "The sports day photos", "today 9am", "no"]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    done = await slack.reply_to(SAM, slack.say(SAM, "submit"))
    assert "The Headteacher has been told" in text_of_calls(done)
    assert (await slack.deliver()).failed == 0
    told = text_of_calls(slack.posts_to(dm(DANA)))
    assert "A journalist has contacted a member of staff" in told
    assert "The sports day photos" in told


async def test_a_colleagues_misuse_starts_the_confidential_report(slack: SlackHarness) -> None:
    started = await slack.reply_to(SAM, slack.say(SAM, "I need to report a colleague"))
    assert "Report a colleague's misuse" in text_of_calls(started)
    assert "Who is being targeted?" in text_of_calls(started)
