"""Post approval in Slack: asked for in the bot's DM, decided from the card in the approvals
channel, with every follow-up in the approver's own DM."""

from __future__ import annotations

import dataclasses

from bot.config import Settings
from dialogs.services.school.schools import ApprovalRules, Directory
from tests.channels.slack.harness import (
    SlackHarness,
    buttons_of,
    dm,
    slack_harness,
    text_of_calls,
)
from tests.conftest import Clock
from tests.fakes.slack_api import Call, FakeSlack
from tests.support import png

SAM, PRIYA, DANA = "U0SAM", "U0PRIYA", "U0DANA"
APPROVALS = "C0APPROVALS"
TEXT = "Our choir sang beautifully at the town carol concert!"


def button_value(post: Call, label: str) -> str:
    for element in buttons_of(post):
        if element["text"]["text"] == label:
            return str(element["value"])
    raise AssertionError(f"no {label!r} button in {text_of_calls([post])}")


async def requested(slack: SlackHarness, author: str = SAM) -> Call:
    for answer in ["post", "1", TEXT, "skip", "no", "next Friday 3pm", "1, 2", "submit"]:
        await slack.reply_to(author, slack.say(author, answer))
    assert "Sent for approval: PR-2026-0001" in text_of_calls(slack.posts_to(dm(author)))
    result = await slack.deliver()
    assert result.failed == 0
    [card] = slack.posts_to(APPROVALS)
    return card


async def test_the_card_shows_the_post_and_approving_it_answers_in_the_approvers_dm(
    slack: SlackHarness,
) -> None:
    card = await requested(slack)
    assert TEXT in text_of_calls([card])
    replies = await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve")
    )
    assert "You approved PR-2026-0001" in text_of_calls(replies)
    await slack.deliver()
    assert "is approved" in text_of_calls(slack.posts_to(dm(SAM)))
    updates = [c for c in slack.fake.calls_to("chat.update") if c.body.get("channel") == APPROVALS]
    assert updates
    assert "Mark as published" in text_of_calls(updates[-1:])
    assert len(slack.posts_to(APPROVALS)) == 1  # replaced in place, nothing new posted


async def test_request_changes_asks_the_reason_then_the_author_resubmits(
    slack: SlackHarness,
) -> None:
    card = await requested(slack)
    asked = await slack.reply_to(
        PRIYA,
        slack.click(
            PRIYA, button_value(card, "Request changes"), channel=APPROVALS, label="Request changes"
        ),
    )
    assert "What is the reason" in text_of_calls(asked)
    await slack.reply_to(PRIYA, slack.say(PRIYA, "Please name the concert venue."))
    await slack.deliver()
    told = slack.posts_to(dm(SAM))[-1]
    assert "Please name the concert venue." in text_of_calls([told])
    reopened = await slack.reply_to(
        SAM, slack.click(SAM, button_value(told, "Edit and resubmit"), label="Edit and resubmit")
    )
    assert "Check your request to publish a post" in text_of_calls(reopened)
    await slack.reply_to(SAM, slack.say(SAM, "edit"))
    await slack.reply_to(SAM, slack.say(SAM, "2"))
    await slack.reply_to(SAM, slack.say(SAM, TEXT + " Thank you, St Mary's Church!"))
    sent = await slack.reply_to(SAM, slack.say(SAM, "submit"))
    assert "Sent for approval: PR-2026-0001" in text_of_calls(sent)
    await slack.deliver()
    updates = [c for c in slack.fake.calls_to("chat.update") if c.body.get("channel") == APPROVALS]
    assert "version 2" in text_of_calls(updates[-1:])


async def test_the_author_cannot_approve_their_own_post_from_the_channel(
    slack: SlackHarness,
) -> None:
    card = await requested(slack, author=PRIYA)
    replies = await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve")
    )
    assert "another approver must" in text_of_calls(replies)


REGISTER = "Forename,Surname,Year,Website,Facebook,Instagram\nAmelia,Hart,4,Yes,No,No\n"


async def test_a_pupil_without_consent_blocks_the_request_in_the_dm(slack: SlackHarness) -> None:
    school = slack.settings.directory.school("oakfield")
    assert school is not None
    async with slack.runtime.db.session() as session:
        services = slack.runtime.services(session, slack.runtime.clock())
        await services.consent.import_csv(
            school, REGISTER.encode(), source_name="consent.csv", imported_by="morgan"
        )
    for answer in ["post", "2", TEXT, "skip", "yes"]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    blocked = await slack.reply_to(SAM, slack.say(SAM, "Amelia Hart"))
    shown = text_of_calls(blocked)
    assert "Amelia Hart" in shown
    assert "Facebook" in shown
    assert "Who?" in shown  # asked again: nothing is lost, nothing is sent
    assert slack.posts_to(APPROVALS) == []


async def test_a_two_approver_school_needs_both_from_the_channel(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> None:
    school = settings.directory.school("oakfield")
    assert school is not None
    strict = school.model_copy(update={"approvals": ApprovalRules(required=2)})
    two = dataclasses.replace(settings, directory=Directory(schools=(strict,)))
    async with slack_harness(two, clock, fake_slack) as slack:
        card = await requested(slack)
        first = await slack.reply_to(
            PRIYA,
            slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve"),
        )
        assert "needs 1 more approval" in text_of_calls(first)
        again = await slack.reply_to(
            PRIYA,
            slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve"),
        )
        assert "already approved" in text_of_calls(again)
        second = await slack.reply_to(
            DANA,
            slack.click(DANA, button_value(card, "Approve"), channel=APPROVALS, label="Approve"),
        )
        assert "The author has been told" in text_of_calls(second)
        await slack.deliver()
        assert "is approved" in text_of_calls(slack.posts_to(dm(SAM)))


async def requested_with_photo(slack: SlackHarness, photo: bytes) -> Call:
    for answer in ["post", "1", TEXT]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    shared = slack.fake.add_file("FTRIP", name="class trip.png", data=photo, mimetype="image/png")
    await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5", "submit"]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    assert "Sent for approval: PR-2026-0001" in text_of_calls(slack.posts_to(dm(SAM)))
    await slack.deliver()
    [card] = slack.posts_to(APPROVALS)
    return card


async def test_the_photo_is_sent_to_the_approvers_own_dm_not_into_the_channel(
    slack: SlackHarness,
) -> None:
    photo = png("the trip")
    card = await requested_with_photo(slack, photo)
    assert "class trip.png" in text_of_calls([card])
    see = button_value(card, "See the photo")
    replies = await slack.reply_to(
        PRIYA, slack.click(PRIYA, see, channel=APPROVALS, label="See the photo")
    )
    assert "Here is the photo for PR-2026-0001" in text_of_calls(replies)
    [completed] = slack.fake.calls_to("files.completeUploadExternal")
    assert completed.body["channel_id"] == dm(PRIYA)
    assert list(slack.fake.uploads.values()) == [photo]
    [asked] = slack.fake.calls_to("files.getUploadURLExternal")
    assert asked.body["filename"] == "class trip.png"
    # The card in the channel is untouched: its buttons are still there to decide with.
    assert [c for c in slack.fake.calls_to("chat.update") if c.body["channel"] == APPROVALS] == []


async def test_seeing_the_photo_from_the_dm_keeps_the_cards_buttons(slack: SlackHarness) -> None:
    await requested_with_photo(slack, png("the trip"))
    [listed] = await slack.reply_to(PRIYA, slack.say(PRIYA, "approvals"))
    see = button_value(listed, "See the photo")
    message = {"ts": "1700000000.000100", "blocks": listed.body["blocks"], "text": "card"}
    await slack.reply_to(
        PRIYA,
        slack.click(PRIYA, see, channel=dm(PRIYA), label="See the photo", message=message),
    )
    assert len(slack.fake.uploads) == 1
    assert slack.fake.calls_to("chat.update") == []
    approved = await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(listed, "Approve"), channel=dm(PRIYA))
    )
    assert "You approved PR-2026-0001" in text_of_calls(approved)


async def test_a_photo_whose_stored_copy_is_damaged_is_not_sent(slack: SlackHarness) -> None:
    card = await requested_with_photo(slack, png("the trip"))
    for stored in slack.settings.evidence_dir.rglob("*"):
        if stored.is_file():
            stored.chmod(0o600)
            stored.write_bytes(b"something else")
    replies = await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(card, "See the photo"), channel=APPROVALS)
    )
    assert "I couldn't send “class trip.png”" in text_of_calls(replies)
    assert slack.fake.uploads == {}


async def test_a_deleted_card_is_posted_again_rather_than_updated_for_ever(
    slack: SlackHarness,
) -> None:
    card = await requested(slack)
    slack.fake.fail_next("chat.update", error="message_not_found")
    await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve")
    )
    result = await slack.deliver()
    assert result.failed == 0
    first, again = slack.posts_to(APPROVALS)
    assert "Mark as published" in text_of_calls([again])
    assert "Mark as published" not in text_of_calls([first])


async def test_approve_pressed_on_version_1_does_not_approve_version_2(
    slack: SlackHarness,
) -> None:
    card = await requested(slack)
    [listed] = await slack.reply_to(PRIYA, slack.say(PRIYA, "approvals"))  # version 1, in her DM
    await slack.reply_to(
        DANA,
        slack.click(
            DANA, button_value(card, "Request changes"), channel=APPROVALS, label="Request changes"
        ),
    )
    await slack.reply_to(DANA, slack.say(DANA, "Please name the concert venue."))
    await slack.deliver()
    told = slack.posts_to(dm(SAM))[-1]
    await slack.reply_to(
        SAM, slack.click(SAM, button_value(told, "Edit and resubmit"), label="Edit and resubmit")
    )
    for answer in ["edit", "2", TEXT + " Thank you, St Mary's Church!", "submit"]:
        await slack.reply_to(SAM, slack.say(SAM, answer))
    await slack.deliver()

    updates = len(slack.fake.calls_to("chat.update"))
    refused = await slack.reply_to(PRIYA, slack.press(PRIYA, listed, "Approve", ts="1700000005.1"))
    from_channel = await slack.reply_to(
        PRIYA, slack.click(PRIYA, button_value(card, "Approve"), channel=APPROVALS, label="Approve")
    )

    for said in (refused, from_channel):
        assert "version 2 is the one to decide on" in text_of_calls(said)
        assert "You approved" not in text_of_calls(said)
    marked = [
        c for c in slack.fake.calls_to("chat.update")[updates:] if c.body["channel"] == dm(PRIYA)
    ]
    assert [c.body["ts"] for c in marked] == ["1700000005.1"]
    assert "This question has moved on" in text_of_calls(marked)
    async with slack.runtime.db.session() as session:
        services = slack.runtime.services(session, slack.runtime.clock())
        school = slack.runtime.settings.directory.school("oakfield")
        assert school is not None
        request = await services.posts.get("PR-2026-0001", school=school, actor=None)
        assert (request.revision, request.status) == (2, "submitted")
        assert await services.posts.approvers_of(request) == []
