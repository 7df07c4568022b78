"""The everyday processes in Slack: asked for in the DM, the right person told in theirs."""

from __future__ import annotations

from tests.channels.slack.harness import SlackHarness, dm, text_of_calls

SAM, MORGAN = "U0SAM", "U0MORGAN"


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
