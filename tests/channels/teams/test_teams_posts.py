"""Post approval in Microsoft Teams: asked for in a personal chat, decided in the approvals
channel, with every follow-up in the approver's own chat and never in the channel.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.channels.teams.files import CONSENT
from bot.config import Settings
from dialogs.services.school.schools import ApprovalRules, Directory
from tests.channels.teams.harness import (
    APPROVALS,
    DANA,
    PRIYA,
    SAM,
    TeamsHarness,
    TeamsUser,
    UploadTarget,
    actions,
    card_of,
    runs,
    teams_harness,
    text_of,
)
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework
from tests.support import png

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
TEXT = "Our choir sang beautifully at the town carol concert!"


async def say(teams: TeamsHarness, user: TeamsUser, text: str) -> list[dict[str, Any]]:
    return await teams.replies(user, teams.say(user, text))


async def requested(teams: TeamsHarness, author: TeamsUser = SAM) -> tuple[str, dict[str, Any]]:
    """Priya and the author have talked to the bot, the bot is in the team, the author has asked
    for a text-only post on the website; returns the approvals card's id and activity."""
    for person in {PRIYA, author}:
        await say(teams, person, "hello")
    assert await teams.install_in_team() == 201
    for answer in ["post", "1", TEXT, "skip", "no", "next Friday 3pm", "1, 2"]:
        await say(teams, author, answer)
    sent = await say(teams, author, "submit")
    assert "Sent for approval: PR-2026-0001" in text_of(sent)
    result = await teams.deliver()
    assert result.failed == 0
    [(card_id, card)] = teams.posts(APPROVALS)
    return card_id, card


async def test_the_card_in_the_approvals_channel_shows_the_post_and_the_buttons(
    teams: TeamsHarness,
) -> None:
    _, card = await requested(teams)
    shown = text_of([card])
    assert TEXT in shown
    assert "Sam Patel" in shown
    assert [a["title"] for a in actions(card_of(card))] == ["Approve", "Request changes", "Reject"]


async def test_approving_in_the_channel_answers_privately_and_tells_the_author(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    before = len(teams.sent_to(PRIYA.chat))
    await teams.press_in_channel(
        PRIYA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
    )
    assert "You approved PR-2026-0001" in text_of(teams.sent_to(PRIYA.chat)[before:])
    assert len(teams.posts(APPROVALS)) == 1  # nothing new posted in the channel
    await teams.deliver()
    assert "is approved" in text_of(teams.sent_to(SAM.chat))
    updated = [c for c in teams.fake.calls if c.method == "PUT" and APPROVALS in c.path]
    assert updated  # the card was replaced in place
    assert "Mark as published" in str(updated[-1].body)


async def test_the_author_cannot_approve_their_own_post_from_the_channel(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams, author=PRIYA)
    before = len(teams.sent_to(PRIYA.chat))
    await teams.press_in_channel(
        PRIYA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
    )
    assert "another approver must" in text_of(teams.sent_to(PRIYA.chat)[before:])


async def test_a_rejection_asks_for_the_reason_in_the_approvers_own_chat(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    before = len(teams.sent_to(PRIYA.chat))
    await teams.press_in_channel(PRIYA, card_of(card), "Reject", card_id=card_id, channel=APPROVALS)
    assert "What is the reason" in text_of(teams.sent_to(PRIYA.chat)[before:])
    said = await say(teams, PRIYA, "It is not school news.")
    assert "You rejected PR-2026-0001" in text_of(said)
    await teams.deliver()
    assert "It is not school news." in text_of(teams.sent_to(SAM.chat))


async def test_someone_who_is_not_an_approver_is_refused_and_nothing_changes(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    before = len(teams.sent_to(SAM.chat))
    await teams.press_in_channel(SAM, card_of(card), "Approve", card_id=card_id, channel=APPROVALS)
    assert "Only approvers" in text_of(teams.sent_to(SAM.chat)[before:])
    await teams.deliver()
    assert "is approved" not in text_of(teams.sent_to(SAM.chat))


REGISTER = "Forename,Surname,Year,Website,Facebook,Instagram\nAmelia,Hart,4,Yes,No,No\n"


async def test_a_pupil_without_consent_blocks_the_request_in_the_personal_chat(
    teams: TeamsHarness,
) -> None:
    school = teams.settings.directory.school("oakfield")
    assert school is not None
    async with teams.runtime.db.session() as session:
        services = teams.runtime.services(session, teams.runtime.clock())
        await services.consent.import_csv(
            school, REGISTER.encode(), source_name="consent.csv", imported_by="morgan"
        )
    for answer in ["post", "2", TEXT, "skip", "yes"]:
        await say(teams, SAM, answer)
    blocked = text_of(await say(teams, SAM, "Amelia Hart"))
    assert "Amelia Hart" in blocked
    assert "Facebook" in blocked
    assert "Who?" in blocked  # asked again: nothing lost, nothing sent
    await teams.deliver()
    assert teams.posts(APPROVALS) == []


async def test_a_two_approver_school_needs_both_from_the_channel(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> None:
    school = settings.directory.school("oakfield")
    assert school is not None
    strict = school.model_copy(update={"approvals": ApprovalRules(required=2)})
    two = dataclasses.replace(settings, directory=Directory(schools=(strict,)))
    async with teams_harness(two, clock, fake_teams) as teams:
        await say(teams, DANA, "hello")
        card_id, card = await requested(teams)
        before = len(teams.sent_to(PRIYA.chat))
        await teams.press_in_channel(
            PRIYA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
        )
        assert "needs 1 more approval" in text_of(teams.sent_to(PRIYA.chat)[before:])
        before = len(teams.sent_to(DANA.chat))
        await teams.press_in_channel(
            DANA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
        )
        assert "The author has been told" in text_of(teams.sent_to(DANA.chat)[before:])
        await teams.deliver()
        assert "is approved" in text_of(teams.sent_to(SAM.chat))


async def test_request_changes_then_the_author_edits_and_resubmits_the_same_request(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    await teams.press_in_channel(
        PRIYA, card_of(card), "Request changes", card_id=card_id, channel=APPROVALS
    )
    await say(teams, PRIYA, "Please name the concert venue.")
    await teams.deliver()
    assert "Please name the concert venue." in text_of(teams.sent_to(SAM.chat))
    reopened = await teams.replies(SAM, teams.press(SAM, "Edit and resubmit"))
    assert "Check your request to publish a post" in text_of(reopened)
    await say(teams, SAM, "edit")
    await say(teams, SAM, "2")
    await say(teams, SAM, TEXT + " Thank you, St Mary's Church!")
    sent = await say(teams, SAM, "submit")
    assert "Sent for approval: PR-2026-0001" in text_of(sent)
    await teams.deliver()
    updated = [c for c in teams.fake.calls if c.method == "PUT" and APPROVALS in c.path]
    assert "version 2" in str(updated[-1].body)
    assert len(teams.posts(APPROVALS)) == 1  # the same card, replaced


async def requested_with_photo(
    teams: TeamsHarness, photo: bytes, author: TeamsUser = SAM
) -> tuple[str, dict[str, Any]]:
    for person in (PRIYA, SAM):
        await say(teams, person, "hello")
    assert await teams.install_in_team() == 201
    for answer in ["post", "1", TEXT]:
        await say(teams, author, answer)
    url = teams.fake.add_file("class trip.png", photo, "image/png")
    shared = {
        "contentType": FILE_DOWNLOAD_INFO,
        "name": "class trip.png",
        "contentUrl": "https://oakfield.sharepoint.com/personal/sam/class trip.png",
        "content": {"downloadUrl": url, "uniqueId": "u1", "fileType": "png"},
    }
    kept = await teams.replies(author, teams.say(author, "", attachments=[shared]))
    assert "class trip.png" in text_of(kept)
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5"]:
        await say(teams, author, answer)
    assert "Sent for approval: PR-2026-0001" in text_of(await say(teams, author, "submit"))
    await teams.deliver()
    [(card_id, card)] = teams.posts(APPROVALS)
    return card_id, card


async def test_the_photo_is_offered_in_the_approvers_own_chat_and_lands_in_their_onedrive(
    teams: TeamsHarness, upload_target: UploadTarget
) -> None:
    photo = png("the trip")
    card_id, card = await requested_with_photo(teams, photo)
    assert [a["title"] for a in actions(card_of(card))][-1] == "See the photo"
    before = len(teams.sent_to(PRIYA.chat))
    await teams.press_in_channel(
        PRIYA, card_of(card), "See the photo", card_id=card_id, channel=APPROVALS
    )
    note, offer_activity = teams.sent_to(PRIYA.chat)[before:]
    assert "Here is the photo for PR-2026-0001" in text_of([note])
    [offer] = offer_activity["attachments"]
    assert (offer["contentType"], offer["name"]) == (CONSENT, "class trip.png")
    assert offer["content"]["sizeInBytes"] == len(photo)
    assert len(teams.posts(APPROVALS)) == 1  # nothing posted in the channel

    upload = {
        "uploadUrl": upload_target.url("class trip.png"),
        "name": "class trip.png",
        "contentUrl": "https://oakfield-my.sharepoint.com/personal/priya/class trip.png",
        "uniqueId": "2e2f3a4b-0000-4000-8000-000000000002",
        "fileType": "png",
    }
    context = offer["content"]["acceptContext"]
    assert await teams.answer_file_offer(PRIYA, "accept", context, upload) == 200
    [(_, data, _)] = upload_target.uploads
    assert data == photo
    assert list((teams.settings.data_dir / "files-awaiting-consent").iterdir()) == []

    # Accepting the same offer again finds nothing to upload and says how to get it.
    assert await teams.answer_file_offer(PRIYA, "accept", context, upload) == 200
    assert "That offer has expired" in text_of(teams.sent_to(PRIYA.chat)[-1:])
    assert len(upload_target.uploads) == 1


async def test_someone_who_is_not_an_approver_is_offered_no_photo(teams: TeamsHarness) -> None:
    card_id, card = await requested_with_photo(teams, png("the trip"), author=PRIYA)
    before = len(teams.sent_to(SAM.chat))
    await teams.press_in_channel(
        SAM, card_of(card), "See the photo", card_id=card_id, channel=APPROVALS
    )
    offers = [
        a
        for activity in teams.sent_to(SAM.chat)
        for a in activity.get("attachments") or []
        if a["contentType"] == CONSENT
    ]
    assert offers == []
    assert "can't find a post request PR-2026-0001" in text_of(teams.sent_to(SAM.chat)[before:])
    assert list((teams.settings.data_dir / "files-awaiting-consent").glob("*")) == []


async def test_a_deleted_card_is_posted_again_rather_than_updated_for_ever(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    teams.fake.fail_next(card_id, status=404)
    await teams.press_in_channel(
        PRIYA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
    )
    result = await teams.deliver()
    assert result.failed == 0
    (_, first), (_, again) = teams.posts(APPROVALS)
    assert [a["title"] for a in actions(card_of(again))] == ["Mark as published"]
    assert "Approved: ready to publish" in text_of([again])
    assert "Waiting for approval" in text_of([first])


async def test_approve_pressed_on_version_1_does_not_approve_version_2(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams)
    await say(teams, DANA, "hello")
    await say(teams, PRIYA, "approvals")
    listed = teams.latest_card_with(PRIYA, "Approve")  # version 1, in her own chat
    await teams.press_in_channel(
        DANA, card_of(card), "Request changes", card_id=card_id, channel=APPROVALS
    )
    await say(teams, DANA, "Please name the concert venue.")
    await teams.deliver()
    await teams.replies(SAM, teams.press(SAM, "Edit and resubmit"))
    for answer in ["edit", "2", TEXT + " Thank you, St Mary's Church!", "submit"]:
        await say(teams, SAM, answer)
    await teams.deliver()
    before = len(teams.sent_to(PRIYA.chat))

    answer = await teams.press_on(PRIYA, listed, "Approve")
    await teams.press_in_channel(
        PRIYA, card_of(card), "Approve", card_id=card_id, channel=APPROVALS
    )

    replaced = "\n".join(runs(answer["value"]))
    assert "This question has moved on" in replaced
    assert "You chose" not in replaced
    said = text_of(teams.sent_to(PRIYA.chat)[before:])
    assert said.count("version 2 is the one to decide on") == 2
    assert "You approved" not in said
    async with teams.runtime.db.session() as session:
        services = teams.runtime.services(session, teams.runtime.clock())
        school = teams.runtime.settings.directory.school("oakfield")
        assert school is not None
        request = await services.posts.get("PR-2026-0001", school=school, actor=None)
        assert (request.revision, request.status) == (2, "submitted")
        assert await services.posts.approvers_of(request) == []
