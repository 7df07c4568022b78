"""Teams refuses, retries and repeats; people must not notice.

When the Bot Connector is down for longer than the bot's own retries, the person's answer is
already saved and the reply waits in the outbox until Teams takes it. When Teams sends the same
invoke again (it does, after a slow answer), a lead's press or form is acted on once: one evidence
pack offered, one note in the record; while a deliberate second press, a new activity, is acted
on as usual.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from bot.app import TEAMS
from bot.channels.teams import cards
from bot.channels.teams.delivery import with_retries
from dialogs.services.cases.vocabulary import Status
from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Conversation,
    Notification,
    PlatformAddress,
)
from tests.channels.teams.harness import (
    DANA,
    SAFEGUARDING,
    SAM,
    TeamsHarness,
    action_titled,
    card_of,
    channel_data,
    text_of,
)
from tests.channels.teams.test_teams_report import (
    REFERENCE,
    answer_up_to_evidence,
    reported_and_posted,
    rows,
)
from tests.conftest import Clock

# Two deliveries race for the same row: the database's locking is what is under test.
pytestmark = pytest.mark.both_databases

DANGER = "Is anyone in immediate danger right now?"
WHERE = "Where did it happen?"


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> int:
    """The bot's retries wait for real (0.5 s, doubling); the waiting is not what is tested
    here, how many attempts it makes is; that number is returned, so the failures outlast it."""
    assert with_retries.__kwdefaults__ is not None
    monkeypatch.setitem(with_retries.__kwdefaults__, "base_delay", 0.0)
    attempts = with_retries.__kwdefaults__["attempts"]
    assert isinstance(attempts, int)
    return attempts


async def queued_replies(teams: TeamsHarness) -> list[Notification]:
    """Replies handed to the delivery worker (those a turn sent itself have a sender until
    the worker's next round forgets them)."""
    return [n for n in await rows(teams, Notification) if n.kind == "reply" and n.sender is None]


# -- the connector is down for longer than the retries ---------------------------------------


async def test_a_reply_teams_refuses_after_every_retry_is_queued_and_sent_later(
    teams: TeamsHarness, no_backoff: int
) -> None:
    await teams.replies(SAM, teams.say(SAM, "report"))
    before = len(teams.sent_to(SAM.chat))
    teams.fake.fail_next("/activities", status=502, times=no_backoff)

    await teams.say(SAM, "me")
    await teams.app[TEAMS].settled()
    refused = [c for c in teams.fake.calls if c.status == 502]
    assert len(refused) == no_backoff  # every retry was made, and every one was refused
    assert teams.sent_to(SAM.chat)[before:] == []  # Sam has seen nothing yet, not even an apology
    [queued] = await queued_replies(teams)
    assert (queued.person_id, queued.delivered_at) == ("sam", None)
    assert teams.runtime.journal.pending() == []  # the turn was saved; nothing left to replay

    result = await teams.deliver()  # Teams is back
    assert result.delivered == 1
    assert result.failed == 0
    sent = teams.sent_to(SAM.chat)[before:]
    assert DANGER in text_of(sent)
    assert "went wrong" not in text_of(sent)
    assert [n.delivered_at is not None for n in await queued_replies(teams)] == [True]

    # Sam's answer ("me") was kept when it arrived: the report carries on from the next question.
    where = await teams.replies(SAM, teams.press(SAM, "No"))
    assert WHERE in text_of(where)
    # And the delivered reply is not sent a second time.
    await teams.deliver()
    assert text_of(teams.sent_to(SAM.chat)[before:]).count(DANGER) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_a_reply_teams_cannot_take_for_a_moment_is_tried_again_and_sent_once(
    teams: TeamsHarness, no_backoff: int, status: int
) -> None:
    """The connector client sends with aiohttp, which retries nothing itself: a 5xx in a run
    shorter than the retries is waited out by the bot, and Sam sees the question once."""
    await teams.replies(SAM, teams.say(SAM, "report"))
    before = len(teams.sent_to(SAM.chat))
    teams.fake.fail_next("/activities", status=status, times=no_backoff - 1)

    await teams.say(SAM, "me")
    await teams.app[TEAMS].settled()
    assert len([c for c in teams.fake.calls if c.status == status]) == no_backoff - 1
    assert text_of(teams.sent_to(SAM.chat)[before:]).count(DANGER) == 1
    assert await queued_replies(teams) == []


async def test_a_dropped_connection_is_tried_again() -> None:
    attempts: list[int] = []

    async def send() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise aiohttp.ServerDisconnectedError()
        return "sent"

    assert await with_retries(send, base_delay=0.0) == "sent"
    assert len(attempts) == 3


async def test_the_bot_framework_is_called_without_requests_threads(
    teams: TeamsHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies go out on the server's own aiohttp session: `requests`, in the event loop's
    thread pool, is never used for them (bot/channels/teams/connector_http.py), and each call
    carries the bot's token, which the fake Bot Framework checks. (Token and key fetches are
    botframework's and MSAL's own, and may still use `requests`.)"""
    original = requests.Session.request

    def only_elsewhere(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        if "/v3/conversations" in url:
            raise AssertionError("a Bot Connector call went through requests")
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", only_elsewhere)
    replies = await teams.replies(SAM, teams.say(SAM, "report"))
    assert text_of(replies)
    sent = [c for c in teams.fake.calls if "/activities" in c.path and c.method == "POST"]
    assert sent
    assert all((c.authorization or "").startswith("Bearer ") for c in sent)


# -- the same invoke delivered again ---------------------------------------------------------


def case_press(
    teams: TeamsHarness, card: dict[str, Any], title: str, card_id: str
) -> dict[str, Any]:
    """One press on the case card in the channel, as Teams sends it: posting this same body
    again is a redelivery (same activity id); building another is a new press."""
    action = action_titled(card_of(card), title)
    return teams.fake.invoke_action(
        str(action["verb"]),
        action["data"],
        **{
            "from": DANA.account,
            "conversation": {
                "id": f"{SAFEGUARDING};messageid={card_id}",
                "conversationType": "channel",
                "isGroup": True,
            },
        },
        channelData=channel_data(SAFEGUARDING),
        replyToId=card_id,
    )


async def deliver_invoke(teams: TeamsHarness, body: dict[str, Any]) -> None:
    status, answer = await teams.post(body)
    assert status == 200
    assert answer["value"] == "Done"  # Teams is answered either way, so it stops retrying


def waiting_packs(teams: TeamsHarness) -> list[Path]:
    return sorted((teams.settings.data_dir / "files-awaiting-consent").glob("*"))


async def audited(teams: TeamsHarness, action: str) -> list[AuditEntry]:
    return [a for a in await rows(teams, AuditEntry) if a.action == action]


def offers(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """File consent cards: each is an evidence pack offered to the lead."""
    return [
        a
        for activity in activities
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.teams.card.file.consent"
    ]


async def test_an_export_sent_twice_offers_one_pack_and_a_new_press_offers_another(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)
    before = len(teams.sent_to(DANA.chat))
    press = case_press(teams, card, "Export evidence pack", card_id)

    await deliver_invoke(teams, press)
    await deliver_invoke(teams, press)
    assert len(offers(teams.sent_to(DANA.chat)[before:])) == 1
    assert len(teams.sent_to(DANA.chat)[before:]) == 1
    assert len(waiting_packs(teams)) == 1
    assert [(a.actor_id, a.target_type) for a in await audited(teams, "case.export")] == [
        ("dana", "case")
    ]
    assert len([e for e in await rows(teams, CaseEvent) if e.kind == "exported"]) == 1

    await deliver_invoke(teams, case_press(teams, card, "Export evidence pack", card_id))
    assert len(offers(teams.sent_to(DANA.chat)[before:])) == 2
    assert len(await audited(teams, "case.export")) == 2


async def test_an_export_sent_twice_at_once_offers_one_pack(teams: TeamsHarness) -> None:
    card_id, card = await reported_and_posted(teams)
    before = len(teams.sent_to(DANA.chat))
    press = case_press(teams, card, "Export evidence pack", card_id)

    await asyncio.gather(deliver_invoke(teams, press), deliver_invoke(teams, press))
    told = teams.sent_to(DANA.chat)[before:]
    assert len(offers(told)) == 1
    assert len(told) == 1, text_of(told)
    assert len(await audited(teams, "case.export")) == 1


async def test_an_acknowledge_sent_twice_is_acknowledged_once(teams: TeamsHarness) -> None:
    card_id, card = await reported_and_posted(teams)
    before = len(teams.sent_to(DANA.chat))
    press = case_press(teams, card, "Acknowledge", card_id)

    await deliver_invoke(teams, press)
    await deliver_invoke(teams, press)
    told = teams.sent_to(DANA.chat)[before:]
    assert len(told) == 1
    assert f"You acknowledged {REFERENCE}" in text_of(told)
    assert "already acknowledged" not in text_of(told)
    status_events = [e for e in await rows(teams, CaseEvent) if e.kind == "status"]
    assert [e.to_status for e in status_events] == [Status.ACKNOWLEDGED]
    sam_before = len(teams.sent_to(SAM.chat))
    await teams.deliver()
    updates = [
        a
        for a in teams.sent_to(SAM.chat)[sam_before:]
        if f"Update on your report {REFERENCE}" in text_of([a])
    ]
    assert len(updates) == 1  # the reporter is told once

    # Pressed again by Dana: a new activity, acted on, and she is told it was already done.
    before = len(teams.sent_to(DANA.chat))
    await deliver_invoke(teams, case_press(teams, card, "Acknowledge", card_id))
    assert f"{REFERENCE} was already acknowledged" in text_of(teams.sent_to(DANA.chat)[before:])


# -- a form sent again --------------------------------------------------------------------------


def note_form(teams: TeamsHarness, text: str) -> dict[str, Any]:
    """Dana's Add note form, submitted from her private chat."""
    data = {"pb": "case_form", "verb": "note", "reference": REFERENCE, "text": text}
    return teams.fake.invoke_action(
        cards.CASE_FORM, data, **{"from": DANA.account, "conversation": {"id": DANA.chat}}
    )


async def notes(teams: TeamsHarness) -> list[tuple[str, str]]:
    return [(e.actor_id, e.text) for e in await rows(teams, CaseEvent) if e.kind == "note"]


async def test_a_note_form_sent_twice_adds_the_note_once(teams: TeamsHarness) -> None:
    await reported_and_posted(teams)
    before = len(teams.sent_to(DANA.chat))
    form = note_form(teams, "Called Sam; the post is being reported.")

    await deliver_invoke(teams, form)
    await deliver_invoke(teams, form)
    told = teams.sent_to(DANA.chat)[before:]
    assert text_of(told).count(f"Your note was added to {REFERENCE}") == 1
    assert await notes(teams) == [("dana", "Called Sam; the post is being reported.")]
    assert len(await audited(teams, "case.note")) == 1

    # The same words submitted again by Dana are a new form, and a second note.
    await deliver_invoke(teams, note_form(teams, "Called Sam; the post is being reported."))
    assert len(await notes(teams)) == 2


async def test_a_refused_form_sent_again_is_refused_again_not_ignored(
    teams: TeamsHarness,
) -> None:
    """A refused form changes nothing, so its delivery is not used up: Teams sending it again
    gets the same explanation rather than silence."""
    await reported_and_posted(teams)
    data = {"pb": "case_form", "verb": "status", "reference": REFERENCE, "status": "closed"}
    form = teams.fake.invoke_action(
        cards.CASE_FORM, data, **{"from": DANA.account, "conversation": {"id": DANA.chat}}
    )
    before = len(teams.sent_to(DANA.chat))
    await deliver_invoke(teams, form)
    await deliver_invoke(teams, form)
    told = text_of(teams.sent_to(DANA.chat)[before:])
    assert told.count("Please give the reason for this decision") == 2
    [case] = await rows(teams, Case)
    assert case.status == Status.NEW


async def test_an_unchanged_address_is_not_written_again_for_every_message(
    teams: TeamsHarness, clock: Clock
) -> None:
    """Sam's address is kept when Sam first writes; later messages from the same chat do not
    rewrite it (a transaction per message), but a changed one (a new service URL) is kept."""
    await teams.say(SAM, "hello")
    [first] = [a for a in await rows(teams, PlatformAddress) if a.kind == "person"][:1]
    stored_at = first.updated_at

    clock.advance(minutes=5)
    await teams.say(SAM, "report")
    [again] = [a for a in await rows(teams, PlatformAddress) if a.key == first.key]
    assert again.updated_at == stored_at

    moved = teams.message(SAM, "me", serviceUrl=teams.fake.url + "/moved/")
    status, _ = await teams.post(moved)
    assert status == 201
    [changed] = [a for a in await rows(teams, PlatformAddress) if a.key == first.key]
    assert changed.updated_at > stored_at
    assert changed.reference["serviceUrl"].endswith("/moved/")


async def test_one_connector_client_serves_every_activity_from_a_service(
    teams: TeamsHarness,
) -> None:
    """botbuilder would build a connector client (and a token client) for every activity, at a
    cost of milliseconds each; policybot builds them once per service URL and reuses them: one
    for the request Teams sent, and one for the replies sent after it was answered."""
    authentication = teams.app[TEAMS].adapter.bot_framework_authentication
    await teams.say(SAM, "report")
    built, tokens = len(authentication._connectors), len(authentication._token_clients)
    assert (built, tokens) == (2, 2)
    await teams.say(SAM, "me")
    await teams.say(DANA, "hello")
    assert len(authentication._connectors) == built
    assert len(authentication._token_clients) == tokens
    assert "Is anyone in immediate danger" in text_of(teams.sent_to(SAM.chat))

    other = teams.message(SAM, "no", serviceUrl=teams.fake.url + "/elsewhere/")
    status, _ = await teams.post(other)
    assert status == 201
    assert len(authentication._connectors) == built + 2


# -- text Teams cannot have meant -------------------------------------------------------------


async def test_a_lone_surrogate_is_kept_as_a_replacement_character_and_the_answer_is_taken(
    teams: TeamsHarness,
) -> None:
    """JSON may carry half of an emoji ("\\ud83d" alone), which no encoding can write: it is
    taken as U+FFFD, journaled and answered, and Sam is not asked to send it again."""
    await answer_up_to_evidence(teams)
    await teams.press(SAM, "Skip")
    await teams.press(SAM, "A parent or carer")
    told = text_of(await teams.replies(SAM, teams.say(SAM, "Pat \ud83d Jones")))

    assert "send it again" not in told
    assert "What kind of content is it?" in told
    [conversation] = await rows(teams, Conversation)
    assert (conversation.state or {})["answers"]["responsible_name"] == "Pat \ufffd Jones"
    journal = teams.runtime.journal
    assert journal.pending() == []
    assert journal.failed() == []
