"""A press on a case card that Slack delivers more than once is acted on once.

Slack can deliver the same interaction again (a retry after a slow answer, a reconnecting Socket
Mode client, a proxy repeating a request). For a lead that must not mean a second evidence pack
in their DM and a second export in the audit log, or a confusing "already acknowledged" for a
press they made once; yet a second, deliberate press (a new trigger) is always acted on.

That a reply Slack refuses after its retries is queued and sent later is already proven by
test_slack_report.test_when_slack_refuses_a_reply_the_answer_is_kept_and_the_reply_sent_later.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from bot.app import SLACK
from storage.models import AuditEntry, CaseEvent
from tests.channels.slack.harness import SAFEGUARDING, SlackHarness, button_press, dm
from tests.channels.slack.test_slack_interactions import (
    DANA,
    REFERENCE,
    SAM,
    button_value,
    open_case,
    texts,
)
from tests.fakes.slack_api import Call
from tests.support import png

# Two deliveries race for the same row: the database's locking is what is under test.
pytestmark = pytest.mark.both_databases

CARD = {"ts": "1700000001.000100", "text": "", "blocks": []}


def press_on_card(card: Call, label: str, user: str = DANA) -> dict[str, Any]:
    """One press as Slack sends it: its own trigger_id and action_ts, so sending this same
    payload again is a redelivery, and building another is a new press."""
    return button_press(
        user, button_value(card, label), label=label, channel=SAFEGUARDING, message=CARD
    )


async def quiet(slack: SlackHarness, seconds: float = 0.5) -> None:
    """Bolt acts after answering Slack, so a redelivery's effects (if any) come later: wait
    until no call has reached Slack for a while."""
    seen = -1
    while seen != len(slack.fake.calls):
        seen = len(slack.fake.calls)
        await asyncio.sleep(seconds)


async def audited(slack: SlackHarness, action: str) -> list[AuditEntry]:
    async with slack.runtime.db.session() as session:
        found = await session.execute(select(AuditEntry).where(AuditEntry.action == action))
        return list(found.scalars().all())


async def case_events(slack: SlackHarness, kind: str) -> list[CaseEvent]:
    async with slack.runtime.db.session() as session:
        found = await session.execute(select(CaseEvent).where(CaseEvent.kind == kind))
        return list(found.scalars().all())


def ephemerals_to(slack: SlackHarness, user: str) -> list[str]:
    return [texts(c) for c in slack.fake.calls_to("chat.postEphemeral") if c.body["user"] == user]


def packs_sent(slack: SlackHarness) -> int:
    """Evidence packs that reached a DM: Slack's upload is finished by this call."""
    return len(slack.fake.calls_to("files.completeUploadExternal"))


async def test_an_export_delivered_twice_sends_one_pack_and_a_new_press_sends_another(
    slack: SlackHarness,
) -> None:
    card = await open_case(slack, png())
    press = press_on_card(card, "Export evidence pack")

    assert await slack.interact(press) == 200
    await slack.fake.wait_for("files.completeUploadExternal", count=1)
    await slack.fake.wait_for("chat.postEphemeral", count=1)
    # The same interaction again: answered (so Slack stops retrying), and nothing happens.
    assert await slack.interact(press) == 200
    await quiet(slack)

    assert packs_sent(slack) == 1
    assert len(slack.fake.uploads) == 1
    assert len(slack.fake.calls_to("files.getUploadURLExternal")) == 1
    told = ephemerals_to(slack, DANA)
    assert len(told) == 1
    assert "sent the evidence pack to you in a direct message" in told[0]
    assert [(a.actor_id, a.target_type) for a in await audited(slack, "case.export")] == [
        ("dana", "case")
    ]
    assert len(await case_events(slack, "exported")) == 1

    # Dana presses Export again herself: that is a new press, and she gets a second pack.
    assert await slack.interact(press_on_card(card, "Export evidence pack")) == 200
    await slack.fake.wait_for("files.completeUploadExternal", count=2)
    await quiet(slack)
    assert packs_sent(slack) == 2
    assert len(ephemerals_to(slack, DANA)) == 2
    assert len(await audited(slack, "case.export")) == 2


async def test_an_export_delivered_twice_at_once_sends_one_pack(slack: SlackHarness) -> None:
    """A redelivery can arrive while the first delivery is still being acted on."""
    card = await open_case(slack, png())
    press = press_on_card(card, "Export evidence pack")

    assert list(await asyncio.gather(slack.interact(press), slack.interact(press))) == [200, 200]
    await slack.fake.wait_for("files.completeUploadExternal", count=1)
    await quiet(slack)

    assert packs_sent(slack) == 1
    told = ephemerals_to(slack, DANA)
    assert len(told) == 1, told
    assert "sent the evidence pack to you in a direct message" in told[0]
    assert not any("went wrong" in t for t in told)
    assert len(await audited(slack, "case.export")) == 1


async def test_an_acknowledge_delivered_twice_is_acknowledged_once(slack: SlackHarness) -> None:
    card = await open_case(slack)
    press = press_on_card(card, "Acknowledge")

    assert await slack.interact(press) == 200
    await slack.fake.wait_for("chat.postEphemeral", count=1)
    assert await slack.interact(press) == 200
    await quiet(slack)

    # Dana is told once that she acknowledged it, and never that it "was already acknowledged".
    assert ephemerals_to(slack, DANA) == [
        next(t for t in ephemerals_to(slack, DANA) if f"You acknowledged {REFERENCE}" in t)
    ]
    assert len(await audited(slack, "case.acknowledge")) == 1
    assert [e.to_status for e in await case_events(slack, "status")] == ["acknowledged"]
    # The reporter hears about it once.
    await slack.deliver()
    updates = [p for p in slack.posts_to(dm(SAM)) if "Update on your report" in texts(p)]
    assert len(updates) == 1
    assert "Seen by the safeguarding lead" in texts(updates[0])

    # A new press is acted on: the case is no longer new, and Dana is told so.
    assert await slack.interact(press_on_card(card, "Acknowledge")) == 200
    await slack.fake.wait_for("chat.postEphemeral", count=2)
    assert f"{REFERENCE} was already acknowledged" in ephemerals_to(slack, DANA)[1]


async def test_replies_share_one_connection_pool(slack: SlackHarness) -> None:
    """The Slack SDK opens a new HTTP session (a new TCP and TLS connection) for every call
    unless given one; the server gives it one at start-up, used for every reply."""
    assert slack.runtime_app is not None
    client = slack.runtime_app[SLACK].client
    pool = client.session
    assert pool is not None
    assert not pool.closed
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.say(SAM, "me"))
    assert client.session is pool
