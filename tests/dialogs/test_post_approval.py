"""Asking for approval of a post, through the real runner, as an author and approvers would.

The demo school has three official accounts (website, Facebook, Instagram) and needs one
approval; a consent register is imported for each test that pictures pupils.
"""

from __future__ import annotations

import struct

from sqlmodel import col, select

from bot.channels.shared_files import read_files
from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind
from dialogs.services.posts.card import PostButtonValue, PostStatus, PostVerb, post_card
from storage.blobstore import LocalBlobStore
from storage.models import AuditEntry, Evidence, PostRequest
from tests.conftest import Clock
from tests.support import Person as Chat
from tests.support import file, last_prompt, png, text_of

REGISTER = (
    "Forename,Surname,Year,Website,Facebook,Instagram,Never publish\n"
    "Amelia,Hart,4,Yes,Yes,No,No\n"
    "Noah,Williams,4,Yes,Yes,Yes,No\n"
    "Isla,Brown,3,Yes,Yes,Yes,Yes\n"
)
TEXT = "Year 4 had a wonderful trip to the science museum today!"


async def import_register(runtime: Runtime, clock: Clock) -> None:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).consent.import_csv(
            school, REGISTER.encode(), source_name="consent.csv", imported_by="morgan"
        )


async def requests(runtime: Runtime) -> list[PostRequest]:
    async with runtime.db.session() as session:
        result = await session.execute(select(PostRequest).order_by(col(PostRequest.created_at)))
        return list(result.scalars().all())


def button(messages: list[Message], verb: PostVerb) -> str:
    for message in reversed(messages):
        for b in message.buttons:
            decoded = PostButtonValue.decode(b.value)
            if decoded is not None and decoded.verb is verb:
                return b.value
    raise AssertionError(f"no {verb} button in {text_of(messages)}")


async def up_to_pupils(sam: Chat, accounts: str = "2, 3") -> list[Message]:
    await sam.say("post")
    await sam.say(accounts)
    await sam.say(TEXT)
    await sam.say("", file("class trip.png", png("trip")))
    await sam.say("done")
    return await sam.say("yes")


async def test_a_text_post_goes_to_the_approvers_and_comes_back_approved(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    first = await sam.say("post")
    assert "Which official account" in last_prompt(first).text
    assert [b.label for b in last_prompt(first).buttons][:3] == [
        "Oakfield Primary website (School website)",
        "Oakfield Primary on Facebook (Facebook)",
        "Oakfield Primary on Instagram (Instagram)",
    ]
    await sam.say("1")
    await sam.say(TEXT)
    await sam.say("skip")  # no photos
    await sam.say("no")  # no pupils
    planned = await sam.say("next Friday 3pm")
    assert "confirm each of these" in last_prompt(planned).text
    missing = await sam.say("1")
    assert missing[0].kind is MessageKind.HINT
    assert "Nothing in it identifies a child" in missing[0].text
    summary = await sam.say("1, 2")
    assert last_prompt(summary).kind is MessageKind.SUMMARY
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE
    assert done[-1].title == "Sent for approval: PR-2026-0001"

    priya = Chat(runtime, person_id="priya")
    waiting = await priya.say("approvals")
    assert TEXT in text_of(waiting)
    verbs = [PostButtonValue.decode(b.value) for b in waiting[-1].buttons]
    assert PostVerb.SHOW_MEDIA not in [v.verb for v in verbs if v]  # nothing to see
    said = await priya.press(button(waiting, PostVerb.APPROVE))
    assert "You approved PR-2026-0001" in text_of(said)
    [told] = await sam.inbox()
    assert "is approved" in told.text
    [request] = await requests(runtime)
    assert (request.status, request.accounts, request.pupils) == ("approved", ["website"], [])


async def test_a_pupil_without_consent_for_a_platform_blocks_the_request_there(
    runtime: Runtime, clock: Clock
) -> None:
    await import_register(runtime, clock)
    sam = Chat(runtime)
    await up_to_pupils(sam)
    blocked = await sam.say("Amelia Hart, Noah Williams")
    assert blocked[0].kind is MessageKind.HINT
    assert "Amelia Hart" in blocked[0].text
    assert "Instagram" in blocked[0].text
    assert "Noah" not in blocked[0].text
    never = await sam.say("Isla Brown")
    assert never[0].kind is MessageKind.HINT
    unknown = await sam.say("Oliver Twist")
    assert unknown[0].kind is MessageKind.HINT
    assert "Oliver Twist" in unknown[0].text
    # Noah has consent everywhere: on to the time.
    moved_on = await sam.say("Noah Williams")
    assert "When should it go out" in last_prompt(moved_on).text


async def test_names_in_the_text_are_warned_about_before_submission(
    runtime: Runtime, clock: Clock
) -> None:
    await import_register(runtime, clock)
    sam = Chat(runtime)
    await sam.say("post")
    await sam.say("1")
    warned = await sam.say("Congratulations to Amelia Hart on her reading award!")
    [note] = [m for m in warned if m.kind is MessageKind.REMINDER]
    assert "Amelia Hart" in note.text
    await sam.say("skip")
    await sam.say("no")
    await sam.say("next Friday 3pm")
    await sam.say("1, 2")
    await sam.say("submit")
    [request] = await requests(runtime)
    assert any("Amelia Hart" in w for w in request.warnings)


async def test_request_changes_then_the_author_edits_and_resubmits(
    runtime: Runtime, clock: Clock
) -> None:
    await import_register(runtime, clock)
    sam = Chat(runtime)
    await up_to_pupils(sam, accounts="1, 2")
    await sam.say("Amelia Hart")
    await sam.say("next Friday 3pm")
    await sam.say("1, 2, 3, 4, 5")
    await sam.say("submit")
    [request] = await requests(runtime)
    async with runtime.db.session() as session:
        media = (
            (await session.execute(select(Evidence).where(Evidence.post_request_id == request.id)))
            .scalars()
            .all()
        )
    assert [m.original_name for m in media] == ["class trip.png"]

    dana = Chat(runtime, person_id="dana")
    waiting = await dana.say("approvals")
    asked = await dana.press(button(waiting, PostVerb.REQUEST_CHANGES))
    assert "What is the reason" in last_prompt(asked).text
    await dana.say("Please say it was Year 4B.")
    [told] = await sam.inbox()
    assert "Please say it was Year 4B." in told.text

    reopened = await sam.press(button([told], PostVerb.RESUBMIT))
    summary = last_prompt(reopened)
    assert summary.kind is MessageKind.SUMMARY
    assert TEXT in text_of([summary])
    await sam.say("edit")
    await sam.say("2")  # the text
    await sam.say("Year 4B had a wonderful trip to the science museum today!")
    sent = await sam.say("submit")
    assert sent[-1].kind is MessageKind.DONE
    [request] = await requests(runtime)
    assert (request.revision, request.status) == (2, PostStatus.SUBMITTED.value)
    assert request.text.startswith("Year 4B")
    assert request.pupils == ["Amelia Hart"]


async def test_the_author_cannot_approve_their_own_post_from_the_card(
    runtime: Runtime, clock: Clock
) -> None:
    priya = Chat(runtime, person_id="priya")
    await priya.say("post")
    await priya.say("1")
    await priya.say(TEXT)
    await priya.say("skip")
    await priya.say("no")
    await priya.say("next Friday 3pm")
    await priya.say("1, 2")
    await priya.say("submit")
    waiting = await priya.say("approvals")
    refused = await priya.press(button(waiting, PostVerb.APPROVE))
    assert refused[0].kind is MessageKind.HINT
    assert "another approver must" in refused[0].text
    [request] = await requests(runtime)
    assert request.status == PostStatus.SUBMITTED.value
    sam_refused = await Chat(runtime).press(button(waiting, PostVerb.APPROVE))
    assert "Only approvers" in sam_refused[0].text


async def test_consent_withdrawn_before_sending_keeps_the_request_at_its_summary(
    runtime: Runtime, clock: Clock
) -> None:
    await import_register(runtime, clock)
    sam = Chat(runtime)
    await up_to_pupils(sam, accounts="2")
    await sam.say("Amelia Hart")
    await sam.say("next Friday 3pm")
    await sam.say("1, 2, 3, 4, 5")
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    withdrawn = REGISTER.replace("Amelia,Hart,4,Yes,Yes,No,No", "Amelia,Hart,4,Yes,No,No,No")
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).consent.import_csv(
            school, withdrawn.encode(), source_name="consent.csv", imported_by="morgan"
        )
    refused = await sam.say("submit")
    assert refused[0].kind is MessageKind.HINT
    assert "Amelia Hart" in refused[0].text
    assert "Facebook" in refused[0].text
    assert await requests(runtime) == []
    resumed = await sam.open()
    assert "Check your request to publish a post" in text_of(resumed)


def mp4() -> bytes:
    """A tiny but well-formed MP4: file type, index and media boxes."""

    def box(kind: bytes, payload: bytes = b"") -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
    return ftyp + box(b"moov", box(b"mvhd", b"\x00" * 100)) + box(b"mdat", b"\x00" * 64)


async def test_a_video_goes_with_the_request_and_is_named_on_the_card(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    await sam.say("post")
    await sam.say("2")
    await sam.say(TEXT)
    kept = await sam.say("", file("choir.mp4", mp4()))
    assert "1 file so far" in text_of(kept)
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5", "submit"]:
        await sam.say(answer)
    [request] = await requests(runtime)
    async with runtime.db.session() as session:
        services = runtime.services(session, clock())
        media = await services.posts.media(request)
        school = runtime.settings.directory.school("oakfield")
        assert school is not None
        card = post_card(request, school, media)
    assert [(m.original_name, m.media_type) for m in media] == [("choir.mp4", "video/mp4")]
    assert ("Videos", "choir.mp4") in [(f.label, f.value) for f in card.facts]


async def media_views(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(AuditEntry).where(AuditEntry.action == "post.media_view")
        )
        return list(result.scalars().all())


async def test_approvers_are_given_the_photos_and_videos_and_each_look_is_audited(
    runtime: Runtime, clock: Clock
) -> None:
    photo, video = png("trip"), mp4()
    sam = Chat(runtime)
    await sam.say("post")
    await sam.say("2")
    await sam.say(TEXT)
    await sam.say("", file("class trip.png", photo), file("choir.mp4", video))
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5", "submit"]:
        await sam.say(answer)

    priya = Chat(runtime, person_id="priya")
    waiting = await priya.say("approvals")
    see = button(waiting, PostVerb.SHOW_MEDIA)
    assert [b.label for b in waiting[-1].buttons if b.value == see] == [
        "See the photo and the video"
    ]
    [given] = await priya.press(see)
    assert "Here are the photo and the video for PR-2026-0001" in given.text
    # Both arrived in one message, so either may come first.
    assert sorted((f.name, f.media_type) for f in given.files) == [
        ("choir.mp4", "video/mp4"),
        ("class trip.png", "image/png"),
    ]
    contents = {f.ref.name: f.data for f in await read_files(runtime, given.files)}
    assert contents == {"class trip.png": photo, "choir.mp4": video}
    [viewed] = await media_views(runtime)
    assert (viewed.actor_id, viewed.detail) == ("priya", "PR-2026-0001 2 files")
    assert "science museum" not in viewed.detail  # the audit never repeats the post

    # Looking needs nothing more, so it is done even in the middle of something else.
    await priya.say("post")
    mid = await priya.press(see)
    assert mid[0].files == given.files
    assert "Which official account" in last_prompt(mid).text
    assert len(await media_views(runtime)) == 2


async def test_someone_who_may_not_see_a_request_is_given_none_of_its_photos(
    runtime: Runtime, clock: Clock
) -> None:
    priya = Chat(runtime, person_id="priya")
    await priya.say("post")
    await priya.say("1")
    await priya.say(TEXT)
    await priya.say("", file("class trip.png", png("trip")))
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5", "submit"]:
        await priya.say(answer)
    sam = Chat(runtime)  # staff, not the author, not an approver
    forged = PostButtonValue(PostVerb.SHOW_MEDIA, "PR-2026-0001").encode()
    replies = await sam.press(forged)
    assert "can't find a post request PR-2026-0001" in text_of(replies)
    assert all(not m.files for m in replies)
    assert await media_views(runtime) == []


async def test_a_damaged_copy_is_not_passed_on_as_the_photo(runtime: Runtime, clock: Clock) -> None:
    sam = Chat(runtime)
    for answer in ["post", "1", TEXT]:
        await sam.say(answer)
    await sam.say("", file("class trip.png", png("trip")))
    for answer in ["done", "no", "next Friday 3pm", "1, 2, 3, 4, 5", "submit"]:
        await sam.say(answer)
    async with runtime.db.session() as session:
        [record] = (await session.execute(select(Evidence))).scalars().all()
    assert isinstance(runtime.blobs, LocalBlobStore)
    [stored] = runtime.blobs.root.rglob(record.stored_name)
    stored.chmod(0o600)
    stored.write_bytes(b"not the photo that was sent")
    priya = Chat(runtime, person_id="priya")
    waiting = await priya.say("approvals")
    [given] = await priya.press(button(waiting, PostVerb.SHOW_MEDIA))
    [content] = await read_files(runtime, given.files)
    assert content.data is None


async def test_a_text_post_is_asked_only_the_checks_that_apply_to_words(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    for answer in ["post", "1", TEXT, "skip", "no"]:
        await sam.say(answer)
    asked = last_prompt(await sam.say("next Friday 3pm"))
    assert [b.label for b in asked.buttons if b.value != "done"] == [
        "It is positive and relevant: an achievement, an event or a reminder",
        "Nothing in it identifies a child, unless extra consent covers it",
    ]
    refused = await sam.say("1, 2, 3")
    assert "I didn't recognise “3”" in text_of(refused)


async def test_photos_added_from_the_summary_need_the_photo_checks_before_sending(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    for answer in ["post", "1", TEXT, "skip", "no", "next Friday 3pm", "1, 2"]:
        await sam.say(answer)
    await sam.say("edit")
    await sam.say("3")  # Photos and videos
    await sam.say("", file("class trip.png", png("trip")))
    await sam.say("done")
    refused = await sam.say("submit")
    assert "please confirm the photo checks too" in text_of(refused)
    assert await requests(runtime) == []
    assert "Check your request to publish a post" in text_of(await sam.open())  # kept
    await sam.say("edit")
    checks = last_prompt(await sam.say("6"))  # Checks
    assert len([b for b in checks.buttons if b.value != "done"]) == 5
    await sam.say("1, 2, 3, 4, 5")
    done = await sam.say("submit")
    assert done[-1].title == "Sent for approval: PR-2026-0001"


async def a_text_post_sent_back_and_resubmitted(runtime: Runtime) -> list[Message]:
    """Sam's text post, as version 1's card showed it to Priya; it is then changed and sent
    again as version 2. Returns what Priya was shown of version 1."""
    sam = Chat(runtime)
    for typed in ["post", "1", TEXT, "skip", "no", "next Friday 3pm", "1, 2", "submit"]:
        await sam.say(typed)
    version_1 = await Chat(runtime, person_id="priya").say("approvals")
    dana = Chat(runtime, person_id="dana")
    await dana.press(button(await dana.say("approvals"), PostVerb.REQUEST_CHANGES))
    await dana.say("Please name the museum.")
    [told] = await sam.inbox()
    await sam.press(button([told], PostVerb.RESUBMIT))
    for typed in ["edit", "2", "Year 4 loved the Science Museum in London!", "submit"]:
        await sam.say(typed)
    [request] = await requests(runtime)
    assert (request.revision, request.status) == (2, PostStatus.SUBMITTED.value)
    return version_1


async def test_approve_pressed_on_version_1_does_not_approve_version_2(
    runtime: Runtime,
) -> None:
    version_1 = await a_text_post_sent_back_and_resubmitted(runtime)
    priya = Chat(runtime, person_id="priya")

    refused = await priya.press(button(version_1, PostVerb.APPROVE))

    assert refused[0].kind is MessageKind.MOVED_ON
    assert "version 2" in refused[0].text
    assert "Nothing has been changed" in refused[0].text
    [request] = await requests(runtime)
    assert request.status == PostStatus.SUBMITTED.value
    async with runtime.db.session() as session:
        assert await runtime.services(session, request.updated_at).posts.approvers_of(request) == []
    # Version 2's own card approves it.
    approved = await priya.press(button(await priya.say("approvals"), PostVerb.APPROVE))
    assert "You approved PR-2026-0001" in text_of(approved)


async def test_reject_pressed_on_version_1_asks_no_reason_and_rejects_nothing(
    runtime: Runtime,
) -> None:
    version_1 = await a_text_post_sent_back_and_resubmitted(runtime)
    priya = Chat(runtime, person_id="priya")

    refused = await priya.press(button(version_1, PostVerb.REJECT))
    await priya.say("Not suitable for the website.")

    assert refused[0].kind is MessageKind.MOVED_ON
    assert "version 2" in refused[0].text
    assert "What is the reason" not in text_of(refused)
    [request] = await requests(runtime)
    assert request.status == PostStatus.SUBMITTED.value


async def test_a_reason_for_a_version_changed_meanwhile_is_not_applied(
    runtime: Runtime,
) -> None:
    """Priya pressed Request changes on version 1, and version 2 arrived before her reason."""
    sam = Chat(runtime)
    for typed in ["post", "1", TEXT, "skip", "no", "next Friday 3pm", "1, 2", "submit"]:
        await sam.say(typed)
    priya = Chat(runtime, person_id="priya")
    card = await priya.say("approvals")
    asked = await priya.press(button(card, PostVerb.REQUEST_CHANGES))
    assert "What is the reason" in last_prompt(asked).text
    async with runtime.db.session() as session:
        [request] = await requests(runtime)
        request.revision = 2  # as a resubmission would leave it
        session.add(request)

    refused = await priya.say("Please name the museum.")

    assert "version 2" in text_of(refused)
    [request] = await requests(runtime)
    assert request.status == PostStatus.SUBMITTED.value
