"""Urgent alerts in Teams reach the leads, or someone is told that they have not.

A safeguarding lead who has never messaged the bot still gets an urgent alert: the app is
installed in the school's team, so the bot opens the 1:1 chat itself (createConversation with
their Entra id and the tenant) and keeps its address. When Teams will not open it, the
safeguarding channel is told that an alert waits for them (and nothing of what it says), the
reporter is told the truth, the log says so without any of the report, and after a bounded
number of attempts the bot stops trying and escalates.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dialogs.services.outbox import ESCALATE_AFTER
from storage.models import Notification, PlatformAddress
from tests.channels.teams.harness import (
    DANA,
    LEE,
    SAFEGUARDING,
    SAM,
    TeamsHarness,
    TeamsUser,
    card_of,
    runs,
    text_of,
)
from tests.channels.teams.test_teams_policy import FRIEND_REQUEST, press
from tests.channels.teams.test_teams_report import (
    DESCRIPTION,
    REFERENCE,
    answer_after_evidence,
    answer_up_to_evidence,
    no_actions,
    rows,
    submit,
)
from tests.conftest import Clock
from tests.fakes.botframework import TENANT_ID

URGENT = "URGENT: someone may be in immediate danger"


async def report_immediate_danger(teams: TeamsHarness) -> str:
    """Sam starts a report and says someone is in immediate danger; returns what he was told."""
    await teams.say(SAM, "report")
    no_actions(await teams.press(SAM, "Me"))
    told = await teams.replies(SAM, teams.press(SAM, "Yes"))
    return text_of(told)


async def finish_the_report(teams: TeamsHarness) -> str:
    no_actions(await teams.press(SAM, "Facebook"))
    await teams.say(SAM, "https://facebook.com/groups/123/posts/456")
    await teams.say(SAM, "yesterday 4pm")
    await teams.say(SAM, DESCRIPTION)
    no_actions(await teams.press(SAM, "Skip"))
    await answer_after_evidence(teams)
    return text_of(await teams.replies(SAM, teams.press(SAM, "Send it")))


def chats_opened_with(teams: TeamsHarness, user: TeamsUser) -> list[dict[str, Any]]:
    return [
        created
        for created in teams.fake.created_conversations()
        if [m["id"] for m in created["members"]] == [user.aad_object_id]
    ]


def attempts_to_open(teams: TeamsHarness, user: TeamsUser) -> int:
    return sum(
        1
        for call in teams.fake.calls
        if call.method == "POST"
        and call.path.endswith("/v3/conversations")
        and user.aad_object_id in str(call.body)
    )


def channel_cards(teams: TeamsHarness) -> list[str]:
    """The text of every card posted or updated in the safeguarding channel, oldest first."""
    posted = [card_of(activity) for _, activity in teams.posts(SAFEGUARDING)]
    updated = [card_of(activity) for activity in teams.fake.updates(SAFEGUARDING)]
    return ["\n".join(runs(card)) for card in posted + updated]


# -- 1. a lead who has never messaged the bot ---------------------------------------------------


async def test_a_lead_who_never_messaged_the_bot_gets_the_urgent_alert_in_a_new_chat(
    teams: TeamsHarness,
) -> None:
    assert await teams.install_in_team() == 201  # the app is in the school's team; nothing else
    told = await report_immediate_danger(teams)
    assert "call 999 now" in told
    assert "I have alerted" not in told  # nothing has reached anyone yet
    assert "I am sending an urgent alert to the designated safeguarding lead" in told

    result = await teams.deliver()
    assert result.failed == 0
    assert result.unreachable == 0

    for lead in (DANA, LEE):
        [chat] = chats_opened_with(teams, lead)
        assert chat["isGroup"] is False
        assert chat["channelData"] == {"tenant": {"id": TENANT_ID}}  # how Teams reads it
        assert URGENT in text_of(teams.sent_to(chat["id"]))
    assert channel_cards(teams) == []  # nothing needed the channel

    # The chat's address is kept: the report that follows goes to the same chat, not a new one.
    addresses = {a.key for a in await rows(teams, PlatformAddress) if a.kind == "person"}
    assert {DANA.aad_object_id, LEE.aad_object_id} <= addresses
    done = await finish_the_report(teams)
    assert f"Report sent: {REFERENCE}" in done
    assert "has been told" not in done
    await teams.deliver()
    [chat] = chats_opened_with(teams, DANA)
    assert f"New report of online abuse: {REFERENCE}" in text_of(teams.sent_to(chat["id"]))
    assert attempts_to_open(teams, DANA) == 1


# -- 2. Teams will not open the chat ----------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404])
async def test_an_alert_teams_will_not_deliver_goes_to_the_channel_without_details(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    assert await teams.install_in_team() == 201
    teams.fake.refuse_personal_chat(LEE.aad_object_id, status=status)
    caplog.set_level(logging.INFO)
    await report_immediate_danger(teams)
    await finish_the_report(teams)
    before = len(teams.sent_to(SAM.chat))

    await teams.deliver()

    [chat] = chats_opened_with(teams, DANA)  # Dana is reached as usual
    assert URGENT in text_of(teams.sent_to(chat["id"]))
    assert chats_opened_with(teams, LEE) == []

    # The safeguarding channel hears that an alert waits for Lee, and nothing more.
    cards = channel_cards(teams)
    [fallback] = [c for c in cards if "Lee Brown" in c]
    assert "An alert is waiting" in fallback
    assert "Lee Brown (deputy safeguarding lead)" in fallback
    for detail in ("Sam", "Patel", "Pat Jones", DESCRIPTION, "danger", "Facebook", "parent"):
        assert detail not in fallback, detail

    # Sam is told the truth, with the 999 advice.
    told = text_of(teams.sent_to(SAM.chat)[before:])
    assert "could not deliver your alert to Lee Brown privately" in told
    assert "call 999" in told

    # The log says it happened, with none of the report.
    assert "not reachable privately" in caplog.text
    for detail in ("Sam Patel", "Pat Jones", DESCRIPTION, "immediate danger"):
        assert detail not in caplog.text, detail


async def test_retries_end_in_an_escalation_and_the_reporter_hears_it(
    teams: TeamsHarness, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    assert await teams.install_in_team() == 201
    teams.fake.refuse_personal_chat(LEE.aad_object_id)
    await report_immediate_danger(teams)
    await teams.deliver()
    before = len(teams.sent_to(SAM.chat))

    for _ in range(ESCALATE_AFTER + 3):
        clock.advance(hours=1)
        await teams.deliver()

    assert attempts_to_open(teams, LEE) == ESCALATE_AFTER  # bounded, not for ever
    [alert] = [n for n in await rows(teams, Notification) if n.person_id == "lee"]
    assert alert.delivered_at is None
    assert alert.escalated_at is not None
    assert alert.attempts == ESCALATE_AFTER

    # The channel's card now asks for action; still no details.
    final = channel_cards(teams)[-1]
    assert "please act" in final
    assert "stopped trying" in final
    assert "Sam" not in final
    assert "danger" not in final

    told = text_of(teams.sent_to(SAM.chat)[before:])
    assert "I still could not deliver your alert to Lee Brown" in told
    assert "call 999" in told
    assert "escalated after" in caplog.text

    # Monitoring sees it too, while the server stays ready.
    ready = await teams.client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ready",
        "undelivered": {"retrying": 0, "escalated": 1},
    }


async def test_a_lead_who_opens_a_chat_later_gets_the_alert_and_the_channel_hears(
    teams: TeamsHarness, clock: Clock
) -> None:
    assert await teams.install_in_team() == 201
    teams.fake.refuse_personal_chat(LEE.aad_object_id)
    await report_immediate_danger(teams)
    await teams.deliver()
    assert "An alert is waiting" in channel_cards(teams)[-1]

    await teams.say(LEE, "hello")  # Lee sees the channel and says hello to the bot
    clock.advance(hours=1)
    await teams.deliver()

    assert URGENT in text_of(teams.sent_to(LEE.chat))
    assert "has now reached them" in channel_cards(teams)[-1]


# -- 3. a question for the policy owner -----------------------------------------------------


async def test_a_question_the_owner_cannot_be_sent_is_flagged_and_the_asker_told(
    teams: TeamsHarness,
) -> None:
    assert await teams.install_in_team() == 201
    teams.fake.refuse_personal_chat(DANA.aad_object_id, status=404)  # Dana has left the tenant
    await teams.say(SAM, FRIEND_REQUEST)
    await teams.press(SAM, "No, it didn't")
    passed = text_of(await press(teams, SAM, "Yes, pass it on"))
    assert "I'm sending your question to Dana Okafor" in passed
    before = len(teams.sent_to(SAM.chat))

    await teams.deliver()

    [fallback] = channel_cards(teams)
    assert "A question about the social media policy for Dana Okafor (policy owner)" in fallback
    assert FRIEND_REQUEST not in fallback
    assert "Sam" not in fallback
    told = text_of(teams.sent_to(SAM.chat)[before:])
    assert "could not deliver your question to Dana Okafor privately" in told


# -- 4. a report naming the lead ------------------------------------------------------------


async def test_a_report_naming_the_lead_that_cannot_reach_the_deputy_names_no_case(
    teams: TeamsHarness,
) -> None:
    """The report names Dana, so only Lee may see it, and the channel Dana sits in must not learn
    of it: the card there says an alert waits for Lee, with no reference and no names."""
    assert await teams.install_in_team() == 201
    teams.fake.refuse_personal_chat(LEE.aad_object_id)
    about_dana = "Dana Okafor shared my photo in a parents' group with a nasty caption."
    await answer_up_to_evidence(teams, about_dana)
    no_actions(await teams.press(SAM, "Skip"))
    await answer_after_evidence(teams)
    done = await submit(teams)
    assert "I am sending it to the designated safeguarding lead now" in done
    before = len(teams.sent_to(SAM.chat))

    await teams.deliver()

    [fallback] = channel_cards(teams)  # no case card in the channel, only this
    assert "Lee Brown (deputy safeguarding lead)" in fallback
    for detail in (REFERENCE, "Dana", "Okafor", "Sam", "photo", "report of"):
        assert detail not in fallback, detail
    assert chats_opened_with(teams, DANA) == []  # Dana is never sent this report
    told = text_of(teams.sent_to(SAM.chat)[before:])
    assert "could not deliver your report to Lee Brown privately" in told
