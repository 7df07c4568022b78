"""A member of staff reports abuse in Teams; the lead handles it from the safeguarding channel.

Everything goes through the real app: signed activities are posted to /api/messages, botbuilder
checks the tokens against the fake issuer, and every reply, proactive message, card update and
file download reaches the fake Bot Connector, where the tests look at what people would see.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import SQLModel, select

from bot.channels.teams import cards
from bot.channels.teams.files import CONSENT, FILE_INFO
from bot.config import Settings
from dialogs.services.cases.vocabulary import Status
from dialogs.services.school.schools import Directory
from storage.models import (
    Case,
    CaseEvent,
    Conversation,
    Evidence,
    Notification,
    PlatformAddress,
)
from tests.channels.teams.harness import (
    DANA,
    JO,
    SAFEGUARDING,
    SAM,
    STRANGER,
    TeamsHarness,
    TeamsUser,
    UploadTarget,
    action_titled,
    actions,
    card_of,
    channel_data,
    runs,
    teams_harness,
    text_of,
)
from tests.conftest import Clock
from tests.fakes.botframework import (
    APP_ID,
    BOT_NAME,
    CLOCK_LEEWAY_SECONDS,
    FakeBotFramework,
)
from tests.support import png

REFERENCE = "CB-2026-0001"  # the clock fixture's year
DESCRIPTION = "A parent posted that I am useless and should be sacked, with my photo."
HOSTILE = "[click](https://evil.example) **bold** <at>everyone</at>"
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"

Row = TypeVar("Row", bound=SQLModel)


async def rows(teams: TeamsHarness, model: type[Row]) -> list[Row]:
    async with teams.runtime.db.session() as session:
        return list((await session.execute(select(model))).scalars().all())


def no_actions(invoke_body: Any) -> str:
    """The card an answered question is replaced with: it must have nothing left to press."""
    assert invoke_body["statusCode"] == 200
    assert invoke_body["type"] == "application/vnd.microsoft.card.adaptive"
    card = invoke_body["value"]
    assert actions(card) == []
    assert "Action.Submit" not in json.dumps(card)
    return "\n".join(runs(card))


async def answer_up_to_evidence(teams: TeamsHarness, description: str = DESCRIPTION) -> None:
    await teams.say(SAM, "report")
    assert "You chose: Me" in no_actions(await teams.press(SAM, "Me"))
    assert "You chose: No" in no_actions(await teams.press(SAM, "No"))
    assert "You chose: Facebook" in no_actions(await teams.press(SAM, "Facebook"))
    await teams.say(SAM, "https://facebook.com/groups/123/posts/456")
    await teams.say(SAM, "yesterday 4pm")
    await teams.say(SAM, description)


async def answer_after_evidence(teams: TeamsHarness) -> None:
    assert "You chose: A parent or carer" in no_actions(await teams.press(SAM, "A parent or carer"))
    await teams.say(SAM, "Pat Jones")
    no_actions(await teams.tick(SAM, "threatening", "sexist"))


async def file_a_report(
    teams: TeamsHarness, *, shots: Sequence[bytes] = (), description: str = DESCRIPTION
) -> list[dict[str, Any]]:
    """Sam reports in his 1:1 chat, up to the summary; returns that summary's activity. Each
    screenshot is sent as a Teams file, except the second, which is pasted into the message."""
    await answer_up_to_evidence(teams, description)
    for number, data in enumerate(shots, 1):
        attachments: list[dict[str, Any]]
        if number == 2:
            url = teams.fake.add_file("image.png", data, "image/png", require_auth=True)
            attachment = {"contentType": "image/png", "contentUrl": url}
            # Teams adds an HTML copy of a message with a pasted image; it is not a file.
            html = {"contentType": "text/html", "content": f'<div><img src="{url}"></div>'}
            attachments = [attachment, html]
        else:
            url = teams.fake.add_file(f"shot{number}.png", data, "image/png")
            attachments = [
                {
                    "contentType": FILE_DOWNLOAD_INFO,
                    "name": f"shot{number}.png",
                    "contentUrl": f"https://oakfield.sharepoint.com/personal/sam/shot{number}.png",
                    "content": {"downloadUrl": url, "uniqueId": f"u{number}", "fileType": "png"},
                }
            ]
        kept = await teams.replies(SAM, teams.say(SAM, "", attachments=attachments))
        assert "is saved as evidence" in text_of(kept)
    if shots:
        no_actions(await teams.press(SAM, "Done"))
    else:
        no_actions(await teams.press(SAM, "Skip"))
    return await teams.replies(SAM, answer_after_evidence(teams))


async def submit(teams: TeamsHarness) -> str:
    done = await teams.replies(SAM, teams.press(SAM, "Send it"))
    assert f"Report sent: {REFERENCE}" in text_of(done)
    return text_of(done)


async def say_hello(teams: TeamsHarness, *people: TeamsUser) -> None:
    """People who have talked to the bot, so that it can reach them later."""
    for person in people:
        greeting = await teams.replies(person, teams.say(person, "hello"))
        assert greeting


async def reported_and_posted(teams: TeamsHarness) -> tuple[str, dict[str, Any]]:
    """The bot is in the team, Dana and Jo have talked to it, Sam has reported, the outbox has
    been delivered; returns the case card's id and activity in the channel."""
    await say_hello(teams, DANA, JO)
    assert await teams.install_in_team() == 201
    await file_a_report(teams)
    await submit(teams)
    result = await teams.deliver()
    assert result.failed == 0
    [(card_id, card)] = teams.posts(SAFEGUARDING)
    return card_id, card


# -- 1. who may post to /api/messages ------------------------------------------------------------


async def test_a_valid_token_gets_the_first_question(teams: TeamsHarness) -> None:
    status, _ = await teams.post(teams.message(SAM, "report"))
    assert status == 201
    sent = teams.sent_to(SAM.chat)
    assert "Who is being targeted?" in text_of(sent)
    assert [a["title"] for a in actions(card_of(sent[-1]))] == [
        "Me",
        "A colleague",
        "A pupil",
        "The school",
    ]
    # The reply was sent with the token the bot got from the (fake) Entra ID login.
    assert teams.fake.calls[-1].authorization == f"Bearer {teams.fake.issued_tokens[-1]}"
    assert len(await rows(teams, Conversation)) == 1


BAD_TOKENS: list[tuple[str, dict[str, Any]]] = [
    ("expired", {"expires_in": -CLOCK_LEEWAY_SECONDS - 60}),
    ("wrong audience", {"audience": "00000000-0000-0000-0000-000000000000"}),
    ("wrong issuer", {"issuer": "https://sts.windows.net/attacker/"}),
    ("unsigned", {"unsigned": True}),
    ("wrong key", {"wrong_key": True}),
    ("other service url", {"service_url": "https://smba.trafficmanager.net/amer/"}),
    ("missing header", {}),
    ("not a jwt", {}),
]


@pytest.mark.parametrize(("case", "mint"), BAD_TOKENS, ids=[case for case, _ in BAD_TOKENS])
async def test_a_bad_token_is_401_and_nothing_happens(
    teams: TeamsHarness, case: str, mint: dict[str, Any]
) -> None:
    headers = None
    if case == "missing header":
        headers = {"Content-Type": "application/json"}
    elif case == "not a jwt":
        headers = {"Authorization": "Bearer not-a-jwt", "Content-Type": "application/json"}
    status, body = await teams.post(teams.message(SAM, "report"), headers=headers, **mint)
    assert status == 401
    assert body == {"error": "unauthorized"}
    assert teams.fake.calls == []
    assert teams.fake.token_requests() == []
    assert await rows(teams, Conversation) == []
    assert await rows(teams, PlatformAddress) == []


async def test_a_body_that_is_not_a_json_activity_is_refused(teams: TeamsHarness) -> None:
    body = teams.message(SAM, "report")
    headers = teams.fake.headers_for(body, app_id=APP_ID)
    wrong_type = {**headers, "Content-Type": "text/plain"}
    response = await teams.client.post("/api/messages", data=json.dumps(body), headers=wrong_type)
    assert response.status == 415
    response = await teams.client.post("/api/messages", data="{not json", headers=headers)
    assert response.status == 400
    response = await teams.client.post("/api/messages", data="[1, 2]", headers=headers)
    assert response.status == 400
    # JSON that botbuilder cannot read as an activity, from a caller with no token at all.
    for broken in ({**body, "from": 5}, {**body, "timestamp": "yesterday"}):
        response = await teams.client.post(
            "/api/messages", json=broken, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
    assert teams.fake.calls == []
    assert await rows(teams, Conversation) == []


# -- 2. a whole report -----------------------------------------------------------------------


async def test_a_complete_report_with_a_file_and_a_pasted_image(teams: TeamsHarness) -> None:
    shared, pasted = png("shared"), png("pasted")
    summary = await file_a_report(teams, shots=[shared, pasted])
    summary_text = text_of(summary)
    assert "Check your report" in summary_text
    assert DESCRIPTION in summary_text
    assert "shot1.png" in summary_text
    # The checkbox question is replaced by what was ticked, not by the Done button's label.
    ticked = no_actions(teams.invoke_answers[-1])
    assert ticked.endswith("You chose: Threatening or intimidating, Sexist"), ticked

    done = await submit(teams)
    assert "Reference: " in done

    # The shared file's pre-authenticated link was fetched as it is; the pasted image sits behind
    # the connector and was fetched with the bot's own token, from the fake login.
    shared_download, pasted_download = teams.fake.downloads
    assert (shared_download.authorization, shared_download.status) == (None, 200)
    assert pasted_download.status == 200
    assert pasted_download.authorization is not None
    assert pasted_download.authorization.removeprefix("Bearer ") in teams.fake.issued_tokens

    [case] = await rows(teams, Case)
    assert (case.reference, case.origin_channel, case.description) == (
        REFERENCE,
        "teams",
        DESCRIPTION,
    )
    kept = await rows(teams, Evidence)
    assert sorted(e.sha256 for e in kept) == sorted(
        hashlib.sha256(data).hexdigest() for data in (shared, pasted)
    )
    assert {e.case_id for e in kept} == {case.id}


async def test_older_clients_answer_through_the_action_submit_fallback(
    teams: TeamsHarness,
) -> None:
    await teams.say(SAM, "report")
    me = action_titled(teams.latest_card_with(SAM, "Me"), "Me")
    assert me["fallback"]["type"] == "Action.Submit"
    # Action.Submit arrives as a message whose value is the button's data.
    replies = await teams.replies(
        SAM, teams.post(teams.message(SAM, "", value=me["fallback"]["data"]))
    )
    assert "Is anyone in immediate danger right now?" in text_of(replies)


# -- 3. the lead's side ----------------------------------------------------------------------


async def test_the_case_card_reaches_the_channel_and_the_lead_acknowledges_it(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)
    card_text = text_of([card])
    assert f"Report {REFERENCE}" in card_text
    assert "useless" not in card_text  # no description in the channel
    titles = [a["title"] for a in actions(card_of(card))]
    assert titles[0] == "Acknowledge"
    alert = text_of(teams.sent_to(DANA.chat)[-1:])
    assert f"New report of online abuse: {REFERENCE}" in alert

    before = len(teams.sent_to(DANA.chat))
    answer = await teams.press_in_channel(DANA, card_of(card), "Acknowledge", card_id=card_id)
    assert answer == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Done",
    }
    told = text_of(teams.sent_to(DANA.chat)[before:])
    assert f"You acknowledged {REFERENCE}" in told
    assert len(teams.posts(SAFEGUARDING)) == 1  # nothing new in the channel

    result = await teams.deliver()
    assert result.failed == 0
    [update] = teams.fake.updates(SAFEGUARDING)
    assert update["id"] == card_id
    assert "Acknowledged" in text_of([update])
    assert "Acknowledge" not in [a["title"] for a in actions(card_of(update))]
    assert len(teams.posts(SAFEGUARDING)) == 1
    update_for_sam = text_of(teams.sent_to(SAM.chat)[-1:])
    assert f"Update on your report {REFERENCE}" in update_for_sam
    assert "Seen by the safeguarding lead" in update_for_sam
    [case] = await rows(teams, Case)
    assert case.status == Status.ACKNOWLEDGED


async def test_a_second_case_is_a_new_post_not_a_reply_in_the_first_cards_thread(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)
    # Acting on the card comes from the card's thread ("19:…;messageid=<card>").
    await teams.press_in_channel(DANA, card_of(card), "Assign to me", card_id=card_id)
    await teams.deliver()
    await file_a_report(teams)
    await teams.replies(SAM, teams.press(SAM, "Send it"))
    await teams.deliver()

    posts = [post for _, post in teams.posts(SAFEGUARDING)]
    assert len(posts) == 2
    assert "Report CB-2026-0002" in text_of(posts[1:])
    assert teams.calls_about(f"{SAFEGUARDING};messageid=") == []


# -- 4. only leads act on cases --------------------------------------------------------------


async def test_someone_who_is_not_a_lead_is_refused_privately(teams: TeamsHarness) -> None:
    card_id, card = await reported_and_posted(teams)
    events_before = len(await rows(teams, CaseEvent))
    channel_calls = teams.calls_about(SAFEGUARDING)
    titles = [a["title"] for a in actions(card_of(card))]
    assert len(titles) == 7
    for title in titles:
        before = len(teams.sent_to(JO.chat))
        await teams.press_in_channel(JO, card_of(card), title, card_id=card_id)
        [refusal] = teams.sent_to(JO.chat)[before:]
        assert "Nothing has been changed" in text_of([refusal])

    assert teams.calls_about(SAFEGUARDING) == channel_calls

    # When Teams refuses the private reply, the refusal still never goes to the channel.
    teams.fake.fail_next(JO.chat, status=403)
    answer = await teams.press_in_channel(JO, card_of(card), "Acknowledge", card_id=card_id)
    assert answer["value"] == "Done"
    assert teams.calls_about(SAFEGUARDING) == channel_calls
    [case] = await rows(teams, Case)
    assert (case.status, case.assigned_to) == (Status.NEW, None)
    assert len(await rows(teams, CaseEvent)) == events_before
    result = await teams.deliver()
    assert result.delivered == 0
    assert list(teams.settings.data_dir.glob("files-awaiting-consent/*")) == []


# -- 5. forms ----------------------------------------------------------------------------------


async def submit_form(
    teams: TeamsHarness, *, reply_to: str | None = None, **fields: str
) -> list[dict[str, Any]]:
    """The form submitted as Dana; `reply_to`: the id of the form's message, which Teams sends
    with the press."""
    data = {"pb": "case_form", "reference": REFERENCE, **fields}
    before = len(teams.sent_to(DANA.chat))
    pressed_on: dict[str, Any] = {"replyToId": reply_to} if reply_to else {}
    answer = await teams.invoke(DANA, cards.CASE_FORM, data, **pressed_on)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    return teams.sent_to(DANA.chat)[before:]


async def test_the_lead_adds_a_note_and_changes_the_status_through_forms(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)

    before = len(teams.sent_to(DANA.chat))
    await teams.press_in_channel(DANA, card_of(card), "Add note", card_id=card_id)
    form = teams.sent_to(DANA.chat)[before:]
    assert f"Add a note to {REFERENCE}" in text_of(form)
    [submit_button] = actions(card_of(form[0]))
    assert submit_button["data"] == {"pb": "case_form", "verb": "note", "reference": REFERENCE}
    told = await submit_form(teams, verb="note", text="Called Sam; the post is being reported.")
    assert f"Your note was added to {REFERENCE}" in text_of(told)
    notes = [e for e in await rows(teams, CaseEvent) if e.kind == "note"]
    assert [(n.actor_id, n.text) for n in notes] == [
        ("dana", "Called Sam; the post is being reported.")
    ]

    before = len(teams.sent_to(DANA.chat))
    await teams.press_in_channel(DANA, card_of(card), "Change status", card_id=card_id)
    form = teams.sent_to(DANA.chat)[before:]
    assert f"Change the status of {REFERENCE}" in text_of(form)
    [status_choices] = [e for e in card_of(form[0])["body"] if e.get("id") == "status"]
    assert "closed" in [choice["value"] for choice in status_choices["choices"]]
    events_before = len(await rows(teams, CaseEvent))

    form_id, _ = teams.posts(DANA.chat)[-1]
    refused = await submit_form(
        teams,
        reply_to=form_id,
        verb="status",
        status="closed",
        text="The post was removed.",
        outcome="",
    )
    assert "Closing a report needs its outcome." in text_of(refused)
    # The form itself says so too, beside the outcome, and keeps what Dana typed.
    [shown] = [u for u in teams.fake.updates(DANA.chat) if u["id"] == form_id]
    body = card_of(shown)["body"]
    at = next(i for i, e in enumerate(body) if e.get("id") == "outcome")
    assert "Closing a report needs its outcome." in json.dumps(body[at + 1])
    assert [e.get("value") for e in body if e.get("id") in ("status", "text")] == [
        "closed",
        "The post was removed.",
    ]
    [case] = await rows(teams, Case)
    assert (case.status, case.outcome) == (Status.NEW, None)
    assert len(await rows(teams, CaseEvent)) == events_before

    closed = await submit_form(
        teams,
        verb="status",
        status="closed",
        text="The post was removed.",
        outcome="Parent spoken to by the head; post taken down.",
    )
    assert f"{REFERENCE} is now closed" in text_of(closed)
    [case] = await rows(teams, Case)
    assert (case.status, case.outcome) == (
        Status.CLOSED,
        "Parent spoken to by the head; post taken down.",
    )
    await teams.deliver()
    assert "Closed" in text_of(teams.sent_to(SAM.chat)[-1:])


# -- 6. exporting ------------------------------------------------------------------------------


async def export(teams: TeamsHarness, card_id: str, card: dict[str, Any]) -> dict[str, Any]:
    """Dana asks for the pack; returns the consent card's attachment from her chat."""
    before = len(teams.sent_to(DANA.chat))
    await teams.press_in_channel(DANA, card_of(card), "Export evidence pack", card_id=card_id)
    [offer] = teams.sent_to(DANA.chat)[before:]
    [attachment] = offer["attachments"]
    assert attachment["contentType"] == CONSENT
    return dict(attachment)


async def consent(teams: TeamsHarness, action: str, context: Any, upload: dict[str, Any]) -> int:
    return await teams.answer_file_offer(DANA, action, context, upload)


def waiting(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "files-awaiting-consent").glob("*"))


async def test_the_lead_exports_the_evidence_pack_through_file_consent(
    teams: TeamsHarness, upload_target: UploadTarget
) -> None:
    first, second = png("first"), png("second")
    await say_hello(teams, DANA)
    assert await teams.install_in_team() == 201
    await file_a_report(teams, shots=[first, second])
    await submit(teams)
    await teams.deliver()
    [(card_id, card)] = teams.posts(SAFEGUARDING)

    offer = await export(teams, card_id, card)
    assert offer["name"] == f"{REFERENCE}-evidence-pack.zip"
    assert len(waiting(teams.settings)) == 1
    name = offer["name"]
    upload = {
        "uploadUrl": upload_target.url(name),
        "name": name,
        "contentUrl": f"https://oakfield-my.sharepoint.com/personal/dana/Documents/{name}",
        "uniqueId": "1e2f3a4b-0000-4000-8000-000000000001",
        "fileType": "zip",
    }
    before = len(teams.sent_to(DANA.chat))
    assert await consent(teams, "accept", offer["content"]["acceptContext"], upload) == 200

    [(path, data, headers)] = upload_target.uploads
    assert path == f"/upload/{name}"
    assert headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert offer["content"]["sizeInBytes"] == len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        manifest = json.loads(pack.read(f"{REFERENCE}/manifest.json"))
    assert sorted(e["sha256_recorded"] for e in manifest["evidence"]) == sorted(
        hashlib.sha256(d).hexdigest() for d in (first, second)
    )
    assert all(e["verified"] for e in manifest["evidence"])
    [shown] = teams.sent_to(DANA.chat)[before:]
    [info] = shown["attachments"]
    assert info["contentType"] == FILE_INFO
    assert (info["name"], info["contentUrl"]) == (name, upload["contentUrl"])
    assert info["content"] == {"uniqueId": upload["uniqueId"], "fileType": "zip"}
    assert waiting(teams.settings) == []

    # Declined: the waiting copy goes, and nothing is uploaded or shown.
    offer = await export(teams, card_id, card)
    assert len(waiting(teams.settings)) == 1
    before = len(teams.sent_to(DANA.chat))
    assert await consent(teams, "decline", offer["content"]["declineContext"], {}) == 200
    assert waiting(teams.settings) == []
    assert len(upload_target.uploads) == 1
    assert teams.sent_to(DANA.chat)[before:] == []


async def test_a_failed_upload_discards_the_pack_and_says_to_export_again(
    teams: TeamsHarness,
) -> None:
    async def refuse(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500)

    app = web.Application()
    app.router.add_put("/upload", refuse)
    async with TestServer(app) as onedrive:
        await say_hello(teams, DANA)
        await file_a_report(teams, shots=[png()])
        await submit(teams)
        await teams.deliver()
        [(card_id, card)] = teams.posts(SAFEGUARDING)
        offer = await export(teams, card_id, card)
        before = len(teams.sent_to(DANA.chat))
        upload = {"uploadUrl": str(onedrive.make_url("/upload")), "name": offer["name"]}
        assert await consent(teams, "accept", offer["content"]["acceptContext"], upload) == 200
    told = text_of(teams.sent_to(DANA.chat)[before:])
    assert "Please press “Export evidence pack” on the case card again." in told
    assert "went wrong" not in told
    assert waiting(teams.settings) == []


# -- 7. after a restart ------------------------------------------------------------------------


async def test_after_a_restart_the_reporter_is_still_told(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> None:
    async with teams_harness(settings, clock, fake_teams) as before_restart:
        await file_a_report(before_restart)
        await submit(before_restart)
        await before_restart.deliver()
        sam_messages = len(before_restart.sent_to(SAM.chat))

    async with teams_harness(settings, clock, fake_teams) as after_restart:
        runtime = after_restart.runtime
        school = runtime.settings.directory.school("oakfield")
        assert school is not None
        dana = school.person("dana")
        assert dana is not None
        clock.advance(hours=2)
        async with runtime.db.session() as session:
            services = runtime.services(session, clock())
            await services.cases.change_status(
                REFERENCE,
                school=school,
                actor=dana,
                status=Status.INVESTIGATING,
                reason="Looking into it.",
            )
        result = await after_restart.deliver()
        assert result.failed == 0
        told = after_restart.sent_to(SAM.chat)[sam_messages:]
        assert f"Update on your report {REFERENCE}" in text_of(told)
        assert "Being looked into" in text_of(told)


# -- 8. Teams pushing back ---------------------------------------------------------------------


async def test_throttled_and_failed_sends_are_retried(teams: TeamsHarness) -> None:
    teams.fake.fail_next("/activities", status=429, retry_after=1)
    teams.fake.fail_next("/activities", status=502)
    await teams.say(SAM, "report")
    assert [call.status for call in teams.fake.calls[:3]] == [429, 502, 201]
    assert teams.fake.calls[0].body == teams.fake.calls[2].body
    assert "Who is being targeted?" in text_of(teams.sent_to(SAM.chat))
    assert "went wrong" not in text_of(teams.sent_to(SAM.chat))


async def test_a_proactive_message_teams_refuses_is_kept_and_sent_later(
    teams: TeamsHarness, clock: Clock
) -> None:
    await say_hello(teams, DANA)
    await file_a_report(teams)
    await submit(teams)
    before = len(teams.sent_to(DANA.chat))
    teams.fake.fail_next(DANA.chat, status=403)
    result = await teams.deliver()
    assert result.failed == 1
    assert teams.sent_to(DANA.chat)[before:] == []  # no apology for a turn she never took
    [alert] = [n for n in await rows(teams, Notification) if n.person_id == "dana"]
    assert alert.delivered_at is None

    clock.advance(minutes=5)  # past the back-off
    result = await teams.deliver()
    assert result.delivered >= 1
    assert f"New report of online abuse: {REFERENCE}" in text_of(teams.sent_to(DANA.chat))


# -- 9. people and places the bot does not serve -----------------------------------------------


async def test_an_unknown_teams_user_is_sent_to_their_it_administrator(
    teams: TeamsHarness,
) -> None:
    replies = await teams.replies(STRANGER, teams.say(STRANGER, "report"))
    assert "ask your IT administrator" in text_of(replies)
    assert "Who is being targeted?" not in text_of(replies)
    assert await rows(teams, Conversation) == []


async def test_a_message_in_a_channel_is_answered_with_a_pointer_to_private_chat(
    teams: TeamsHarness,
) -> None:
    thread = f"{SAFEGUARDING};messageid=1763724599000"
    body = teams.fake.activity(
        text=f"<at>{BOT_NAME}</at> report",
        entities=[
            {
                "type": "mention",
                "mentioned": {"id": f"28:{APP_ID}", "name": BOT_NAME},
                "text": f"<at>{BOT_NAME}</at>",
            }
        ],
        **{
            "from": SAM.account,
            "conversation": {"id": thread, "conversationType": "channel", "isGroup": True},
            "channelData": channel_data(),
        },
    )
    status, _ = await teams.post(body)
    assert status == 201
    [answer] = teams.fake.sent_activities(thread)
    assert "Please talk to me in a private chat" in text_of([answer])
    assert teams.sent_to(SAM.chat) == []
    assert await rows(teams, Conversation) == []


async def test_a_mention_of_the_bot_is_not_part_of_what_was_said(teams: TeamsHarness) -> None:
    body = teams.message(
        SAM,
        f"<at>{BOT_NAME}</at> report",
        entities=[
            {
                "type": "mention",
                "mentioned": {"id": f"28:{APP_ID}", "name": BOT_NAME},
                "text": f"<at>{BOT_NAME}</at>",
            }
        ],
    )
    assert (await teams.post(body))[0] == 201
    assert "Who is being targeted?" in text_of(teams.sent_to(SAM.chat))


# -- 10. a person's words stay words -------------------------------------------------------------


def strings_with(node: Any, needle: str, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Where in a card's JSON a string containing `needle` occurs (as key paths, each ending in
    the type of the element that holds it and the key)."""
    found: list[tuple[str, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and needle in value:
                found.append((*path, str(node.get("type")), key))
            else:
                found.extend(strings_with(value, needle, (*path, key)))
    elif isinstance(node, list):
        for item in node:
            found.extend(strings_with(item, needle, path))
    return found


async def test_markdown_and_mentions_in_a_description_stay_plain_text(
    teams: TeamsHarness,
) -> None:
    summary = await file_a_report(teams, description=HOSTILE)
    card = card_of(summary[-1])
    assert HOSTILE in runs(card)  # exactly as typed, as a run of its own
    # The hostile text is nowhere else: only ever the text of a TextRun.
    for needle in ("evil.example", "**bold**", "<at>everyone</at>"):
        places = strings_with(summary[-1], needle)
        assert places
        assert all(place[-2:] == ("TextRun", "text") for place in places), places
    kinds = json.dumps(card)
    assert '"TextBlock"' not in kinds
    assert '"FactSet"' not in kinds
    assert "msteams" not in card  # no mention entities that could make <at> a mention
    assert not summary[-1].get("entities")
    [draft] = await rows(teams, Conversation)
    assert draft.state is not None
    assert draft.state["answers"]["description"] == HOSTILE

    await submit(teams)
    [case] = await rows(teams, Case)
    assert case.description == HOSTILE


async def test_the_lead_asks_the_reporter_through_a_form_and_the_answer_comes_back(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)
    before = len(teams.sent_to(DANA.chat))
    await teams.press_in_channel(DANA, card_of(card), "Ask the reporter", card_id=card_id)
    form = teams.sent_to(DANA.chat)[before:]
    assert f"Ask the reporter of {REFERENCE}" in text_of(form)
    told = await submit_form(teams, verb="ask", text="Do you still have the original post?")
    assert f"Your question was sent to the reporter of {REFERENCE}" in text_of(told)
    await teams.deliver()
    assert "Do you still have the original post?" in text_of(teams.sent_to(SAM.chat))
    await teams.press(SAM, "Answer")
    thanked = await teams.replies(SAM, teams.say(SAM, "Yes, and a screenshot of it."))
    assert "has been passed on" in text_of(thanked)
    await teams.deliver()
    assert "Yes, and a screenshot of it." in text_of(teams.sent_to(DANA.chat))


# Joiners that carry meaning: a family emoji is three people joined by U+200D, and Persian
# writes "I want" as one word whose parts are kept apart by U+200C (a zero-width non-joiner).
JOINED = "Comment: 👨‍👩‍👧 and «می‌خواهم» under my photo, then 🏳️‍🌈 and 👩🏽‍💻 mocked."


async def test_emoji_and_persian_joiners_are_kept_as_typed(teams: TeamsHarness) -> None:
    assert "\u200d" in JOINED
    assert "\u200c" in JOINED
    await answer_up_to_evidence(teams, JOINED)
    [conversation] = await rows(teams, Conversation)
    assert (conversation.state or {})["answers"]["description"] == JOINED
    # A joiner between letters that never join still goes: it could only hide a difference.
    await teams.press(SAM, "Skip")
    await teams.press(SAM, "A parent or carer")
    await teams.say(SAM, "Pat\u200d Jo\u200cnes")
    [conversation] = await rows(teams, Conversation)
    assert (conversation.state or {})["answers"]["responsible_name"] == "Pat Jones"


async def test_thirteen_files_sent_at_once_get_one_answer_and_are_all_kept(
    teams: TeamsHarness,
) -> None:
    """Screenshots are often sent many at a time: the person gets one message that lists what
    was kept (and explains what was not), not one message per file."""
    await answer_up_to_evidence(teams)
    attachments: list[dict[str, Any]] = []
    for n in range(1, 15):
        name, data = (f"shot{n}.png", png(f"shot {n}")) if n < 14 else ("program.png", b"MZ\x90")
        url = teams.fake.add_file(name, data, "image/png")
        attachments.append(
            {
                "contentType": FILE_DOWNLOAD_INFO,
                "name": name,
                "contentUrl": f"https://oakfield.sharepoint.com/personal/sam/{name}",
                "content": {"downloadUrl": url, "uniqueId": f"u{n}", "fileType": "png"},
            }
        )

    kept = await teams.replies(SAM, teams.say(SAM, "", attachments=attachments))

    assert len(kept) == 1, text_of(kept)
    told = text_of(kept)
    assert "Got 13 files" in told
    for n in range(1, 14):
        assert f"shot{n}.png" in told
    assert "program.png" in told  # refused, and said so in the same message
    assert "13 files so far" in told
    stored = await rows(teams, Evidence)
    assert sorted(e.original_name for e in stored) == sorted(f"shot{n}.png" for n in range(1, 14))


# A private channel's id, as Teams gives it: the same shape as a standard channel's.
PRIVATE = "19:8a3e0c2f5b7d4e1a9c6f3b2d1e0a4c7b@thread.tacv2"


@pytest.mark.parametrize("added_to_channel", [True, False], ids=["added", "not-heard-from"])
async def test_the_case_card_is_posted_in_a_private_safeguarding_channel(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework, added_to_channel: bool
) -> None:
    """The README asks for a private safeguarding channel; the manifest lets the app into one
    (supportedChannelTypes), and the card goes to that channel's own conversation, whether the
    bot has heard from the channel yet or only from people's personal chats."""
    school = settings.directory.school("oakfield")
    assert school is not None
    safeguarding = school.channels.safeguarding.model_copy(update={"teams": PRIVATE})
    channels = school.channels.model_copy(update={"safeguarding": safeguarding})
    private = dataclasses.replace(
        settings,
        directory=Directory(schools=(school.model_copy(update={"channels": channels}),)),
    )
    async with teams_harness(private, clock, fake_teams) as teams:
        await say_hello(teams, DANA, JO)
        if added_to_channel:
            added = teams.fake.conversation_update_added(
                members_added=[{"id": f"28:{APP_ID}"}],
                **{
                    "from": DANA.account,
                    "conversation": {"id": PRIVATE, "conversationType": "channel", "isGroup": True},
                    "channelData": {**channel_data(PRIVATE), "eventType": "teamMemberAdded"},
                },
            )
            status, _ = await teams.post(added)
            assert status in (200, 201)
        await file_a_report(teams)
        await submit(teams)
        assert (await teams.deliver()).failed == 0

        [(_, card)] = teams.posts(PRIVATE)
        assert REFERENCE in text_of([card])
        assert teams.posts(SAFEGUARDING) == []
        # The channel's own conversation: the id as configured, not a thread in it.
        [posted] = teams.calls_about(PRIVATE)
        assert posted.startswith(f"POST /emea/v3/conversations/{PRIVATE}/activities")
