"""When Slack is failing: runs of 429 and 5xx answered as Slack's edge answers them.

Slack's rate limits come in runs with Retry-After, and its edge answers an outage with a plain
text body rather than the API's JSON (the fake does both). A person's press and answers must
survive that: nothing thrown away, replies in the order the turns made them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import select

from storage.models import Notification
from tests.channels.slack.harness import SlackHarness, dm, text_of_calls
from tests.channels.slack.test_slack_report import SAM
from tests.fakes.slack_api import Call


async def test_a_press_is_taken_when_slack_cannot_mark_the_old_question(
    slack: SlackHarness,
) -> None:
    posts = await slack.reply_to(SAM, slack.say(SAM, "report"))
    question = {"ts": posts[-1].body.get("ts") or "1.1", "text": "Who is being targeted?"}
    # Every try at taking the buttons off the answered question fails, as in an outage.
    slack.fake.fail_next("chat.update", status=500, times=3)
    posts = await slack.reply_to(SAM, slack.click(SAM, "me", label="Me", message=question))
    assert "Is anyone in immediate danger" in text_of_calls(posts)
    assert len(slack.fake.calls_to("chat.update")) == 3


async def test_a_slash_command_is_answered_when_slack_cannot_open_the_dm(
    slack: SlackHarness,
) -> None:
    slack.fake.fail_next("conversations.open", status=503, times=3)
    status, body = await slack.command(SAM, "report")
    assert status == 200
    assert "I've replied in our direct messages." in body
    # The DM could not be opened this time; nothing was half-done, and the next try works.
    status, body = await slack.command(SAM, "report")
    posts = await slack.wait_posts(dm(SAM), 2)
    assert "Who is being targeted?" in text_of_calls(posts)


def position(posts: list[Call], words: str) -> int:
    return next(i for i, post in enumerate(posts) if words in text_of_calls([post]))


async def test_replies_keep_their_order_through_a_run_of_rate_limits(
    slack: SlackHarness,
) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    # A run of 429s longer than the client's retries: the next question is refused for now.
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1, times=4)
    await slack.say(SAM, "me")
    await released(slack)
    assert "Is anyone in immediate danger" not in text_of_calls(slack.posts_to(dm(SAM)))

    # Sam, who knows the questions, types the next answer before the bot's question arrives:
    # the question they answered is shown first, then the one after it.
    await slack.reply_to(SAM, slack.say(SAM, "no"))
    posts = await slack.wait_posts(dm(SAM), 4)
    assert position(posts, "Is anyone in immediate danger") < position(posts, "Where did it")
    # Nothing is left for the delivery worker to send again.
    assert (await slack.deliver()).delivered == 0
    assert [p for p in slack.posts_to(dm(SAM)) if "immediate danger" in text_of_calls([p])]
    assert len(slack.posts_to(dm(SAM))) == len(posts)


async def released(slack: SlackHarness) -> list[Notification]:
    """Wait until the turn has handed its refused replies to the delivery worker."""
    for _ in range(400):
        async with slack.runtime.db.session() as session:
            rows = (await session.execute(select(Notification))).scalars().all()
        waiting = [r for r in rows if r.kind == "reply" and r.sender is None]
        if waiting:
            return waiting
        await asyncio.sleep(0.025)
    raise AssertionError("no reply was left for the delivery worker")


async def test_a_refused_reply_is_sent_by_the_worker_and_then_the_conversation_goes_on(
    slack: SlackHarness,
) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    slack.fake.fail_next("chat.postMessage", status=503, times=3)
    await slack.say(SAM, "me")
    await released(slack)
    result = await slack.deliver()
    assert result.delivered == 1
    posts = await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    assert "Where did it happen?" in text_of_calls(posts)
    assert "Is anyone in immediate danger" not in text_of_calls(posts)  # not sent twice


async def test_slack_is_answered_only_once_a_message_or_press_is_journaled(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack never sends a message again once it has its 200: if the process died after that
    answer and before the journal write, the message would be lost. So the answer waits for the
    write (a slow disk here), and not for anything else."""
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    happened: list[str] = []
    journal = slack.runtime.journal
    write = journal.write

    def slow_write(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        written = write(*args, **kwargs)
        happened.append("journaled")
        return written

    monkeypatch.setattr(journal, "write", slow_write)
    assert await slack.say(SAM, "me") == 200
    happened.append("answered")
    assert happened == ["journaled", "answered"]
    await slack.wait_posts(dm(SAM), 3)

    happened.clear()
    assert await slack.press_newest(SAM, "No") == 200
    happened.append("answered")
    assert happened == ["journaled", "answered"]
    posts = await slack.wait_posts(dm(SAM), 4)
    assert "Where did it happen?" in text_of_calls(posts[-1:])


async def test_slack_is_answered_without_waiting_for_slow_replies(slack: SlackHarness) -> None:
    """Slack is slow to take messages: Sam's next answers are still acknowledged at once (Slack
    allows 3 seconds), and the replies arrive in order once Slack takes them."""
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    before = len(slack.posts_to(dm(SAM)))
    slow = slack.fake.hold("chat.postMessage")
    assert await slack.say(SAM, "me") == 200
    assert await slack.say(SAM, "no") == 200
    # Answered while Slack holds the replies. The fake records a call when it arrives, and the
    # first reply may already be waiting there, but never the second: a conversation's replies
    # go one at a time, in order.
    assert len(slack.posts_to(dm(SAM))) <= before + 1
    slow.set()
    posts = await slack.wait_posts(dm(SAM), before + 2, timeout=10)
    assert position(posts, "Is anyone in immediate danger") < position(posts, "Where did it")
