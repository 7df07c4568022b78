"""A message in a direct message is taken without Bolt (SlackChannel._direct_message).

It is most of what Slack sends, so it skips Bolt's dispatch; everything else still goes through
Bolt. These check that the short way keeps every promise of the long one: only Slack's signed
requests are read, the person is answered, the bot's own messages and edits are not answers, a
failure is a 500 Slack sends again, and a message Slack sends twice is taken once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app import SLACK
from bot.channels.slack.app import SlackChannel
from tests.channels.slack.harness import SlackHarness, dm, text_of_calls
from tests.fakes.slack_api import signed_headers

SAM = "U0SAM"


def channel_of(slack: SlackHarness) -> SlackChannel:
    assert slack.runtime_app is not None
    return slack.runtime_app[SLACK]


@pytest.fixture
def bolt_calls(slack: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request that reached Bolt's dispatch, by its type."""
    app = channel_of(slack).app
    dispatch = app.async_dispatch
    reached: list[str] = []

    async def counted(request: Any) -> Any:
        reached.append(str(request.body.get("type")))
        return await dispatch(request)

    monkeypatch.setattr(app, "async_dispatch", counted)
    return reached


async def test_a_direct_message_is_answered_without_bolt(
    slack: SlackHarness, bolt_calls: list[str]
) -> None:
    replies = await slack.reply_to(SAM, slack.say(SAM, "report"))

    assert "report" in text_of_calls(replies).lower()
    assert bolt_calls == []


async def test_anything_else_still_goes_through_bolt(
    slack: SlackHarness, bolt_calls: list[str]
) -> None:
    await slack.open_home(SAM)
    assert bolt_calls == ["event_callback"]


async def test_a_direct_message_not_signed_by_slack_is_refused_unread(
    slack: SlackHarness, bolt_calls: list[str]
) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "EvFORGED",
            "event": {"type": "message", "channel_type": "im", "user": SAM, "text": "report"},
        }
    )
    headers = signed_headers(body, "not-the-signing-secret")

    assert await slack.post(body, headers=headers) == 401
    await slack.runtime.runner.settled()
    assert slack.posts_to(dm(SAM)) == []
    assert slack.runtime.journal is not None
    assert slack.runtime.journal.pending() == []


async def test_the_bots_own_messages_and_edits_are_not_answers(
    slack: SlackHarness, bolt_calls: list[str]
) -> None:
    own = {"type": "message", "channel": dm(SAM), "channel_type": "im", "bot_id": "B0BOT"}
    edit = {**own, "bot_id": None, "user": SAM, "subtype": "message_changed", "text": "x"}
    assert await slack.event({**own, "text": "Hello"}) == 200
    assert await slack.event(edit) == 200
    await slack.runtime.runner.settled()
    assert slack.posts_to(dm(SAM)) == []


async def test_a_message_that_fails_is_a_500_and_slacks_retry_is_taken_once(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = slack.runtime.runner
    admit = runner.admit
    failures = [RuntimeError("the disk went away")]

    async def failing_once(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await admit(*args, **kwargs)

    monkeypatch.setattr(runner, "admit", failing_once)

    assert await slack.say(SAM, "report", event_id="EvRETRY") == 500
    replies = await slack.reply_to(SAM, slack.say(SAM, "report", event_id="EvRETRY"))
    assert await slack.say(SAM, "report", event_id="EvRETRY") == 200  # Slack's second retry
    await runner.settled()

    assert "Report online abuse" in text_of_calls(replies)
    assert slack.posts_to(dm(SAM)) == replies  # the first try and the last added nothing
