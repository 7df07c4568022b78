"""Urgent alerts in Slack: when Slack will not open a DM with a lead, someone is told.

Slack refuses conversations.open for an account that is deactivated (user_disabled), gone
(user_not_found) or a bot's (cannot_dm_bot). Retrying will not change that, so the alert is
treated as undeliverable there: the safeguarding channel hears that one waits (nothing of what
it says), the reporter is told the truth, and after a bounded number of attempts it escalates.
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from dialogs.services.outbox import ESCALATE_AFTER
from storage.models import Notification
from tests.channels.slack.harness import SAFEGUARDING, SlackHarness, dm, text_of_calls
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack

SAM, DANA, LEE = "U0SAM", "U0DANA", "U0LEE"
URGENT = "URGENT: someone may be in immediate danger"


async def report_immediate_danger(slack: SlackHarness) -> str:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    return text_of_calls(await slack.reply_to(SAM, slack.press_newest(SAM, "Yes")))


def refuse_dms_with(fake: FakeSlack, user: str, error: str) -> None:
    if error == "user_disabled":
        fake.add_user(user, deleted=True)
    elif error == "user_not_found":
        fake.remove_user(user)
    else:
        fake.add_user(user, is_bot=True)


def opens_with(slack: SlackHarness, user: str) -> int:
    return sum(1 for c in slack.fake.calls_to("conversations.open") if c.body.get("users") == user)


@pytest.mark.parametrize("error", ["user_disabled", "user_not_found", "cannot_dm_bot"])
async def test_an_alert_slack_will_not_deliver_goes_to_the_channel_without_details(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    refuse_dms_with(slack.fake, LEE, error)
    caplog.set_level(logging.INFO)
    told = await report_immediate_danger(slack)
    assert "call 999 now" in told
    assert "I have alerted" not in told
    before = len(slack.posts_to(dm(SAM)))

    result = await slack.deliver()
    assert result.failed == 0

    assert URGENT in text_of_calls(slack.posts_to(dm(DANA)))  # Dana is reached as usual
    [fallback] = slack.posts_to(SAFEGUARDING)
    shown = text_of_calls([fallback]) + str(fallback.body.get("text"))
    assert "An alert is waiting" in shown
    assert "Lee Brown (deputy safeguarding lead)" in shown
    for detail in ("Sam", "Patel", "danger", "U0SAM"):
        assert detail not in shown, detail

    said = text_of_calls(slack.posts_to(dm(SAM))[before:])
    assert "could not deliver your alert to Lee Brown privately" in said
    assert "call 999" in said
    assert "not reachable privately" in caplog.text
    assert "Sam Patel" not in caplog.text


async def test_slack_retries_end_in_an_escalation(slack: SlackHarness, clock: Clock) -> None:
    refuse_dms_with(slack.fake, LEE, "user_disabled")
    await report_immediate_danger(slack)
    await slack.deliver()
    for _ in range(ESCALATE_AFTER + 3):
        clock.advance(hours=1)
        await slack.deliver()

    assert opens_with(slack, LEE) == ESCALATE_AFTER
    async with slack.runtime.db.session() as session:
        [alert] = (
            (await session.execute(select(Notification).where(Notification.person_id == "lee")))
            .scalars()
            .all()
        )
    assert alert.escalated_at is not None
    assert alert.delivered_at is None
    [update] = [
        c for c in slack.fake.calls_to("chat.update") if c.body.get("channel") == SAFEGUARDING
    ]
    assert "please act" in text_of_calls([update])
    assert "I still could not deliver your alert to Lee Brown" in text_of_calls(
        slack.posts_to(dm(SAM))
    )
