"""A member of staff reports abuse in Slack; the lead handles it from the safeguarding channel."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from sqlmodel import select

from storage.models import Case, Conversation, Evidence, Notification
from tests.channels.slack.harness import (
    SAFEGUARDING,
    SlackHarness,
    buttons_of,
    dm,
    text_of_calls,
)
from tests.support import png

SAM, DANA, JO = "U0SAM", "U0DANA", "U0JO"


async def test_typing_report_in_a_dm_starts_the_report(slack: SlackHarness) -> None:
    posts = await slack.reply_to(SAM, slack.say(SAM, "report"))
    text = text_of_calls(posts)
    assert "I'm sorry this is happening, Sam" in text
    assert "Who is being targeted?" in text
    labels = [b["text"]["text"] for b in buttons_of(posts[-1])]
    assert labels == ["Me", "A colleague", "A pupil", "The school"]


async def file_a_report(slack: SlackHarness, *shots: bytes) -> list[dict[str, object]]:
    """Sam reports through the DM, pressing buttons where a person would; returns the files."""
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    await slack.reply_to(SAM, slack.click(SAM, "Facebook", label="Facebook"))
    await slack.reply_to(SAM, slack.say(SAM, "<https://facebook.com/posts/1|facebook.com/posts/1>"))
    await slack.reply_to(SAM, slack.say(SAM, "yesterday 4pm"))
    await slack.reply_to(
        # As Slack sends it: what was typed is entity-encoded, and a link made in Slack's
        # composer arrives as <address|label>.
        SAM,
        slack.say(
            SAM,
            "A parent wrote &lt;!channel&gt; I am useless &amp; should go. "
            "<https://evil.example|Your bank>",
        ),
    )
    shared = [
        slack.fake.add_file(f"F{i}", name=f"shot{i}.png", data=data, mimetype="image/png")
        for i, data in enumerate(shots, 1)
    ]
    if shared:
        posts = await slack.reply_to(SAM, slack.say(SAM, "", files=shared))
        assert "is saved as evidence" in text_of_calls(posts)
        await slack.reply_to(SAM, slack.click(SAM, "done", label="Done"))
    else:
        await slack.reply_to(SAM, slack.click(SAM, "skip", label="Skip"))
    await slack.reply_to(SAM, slack.click(SAM, "parent", label="A parent or carer"))
    await slack.reply_to(SAM, slack.click(SAM, "skip", label="Skip"))
    await slack.reply_to(SAM, slack.say(SAM, "1, 4"))
    return shared


async def test_a_complete_report_with_screenshots_reaches_the_lead(slack: SlackHarness) -> None:
    first, second = png("one"), png("two")
    await file_a_report(slack, first, second)
    summary = slack.posts_to(dm(SAM))[-1]
    summary_text = text_of_calls([summary])
    # What the person typed is shown, but can never ping a channel or disguise a link.
    assert "A parent wrote &lt;!channel&gt; I am useless &amp; should go." in summary_text
    assert "<!channel>" not in summary_text
    # A disguised link is stored and shown as where it really goes.
    assert "https://evil.example" in summary_text
    assert "Your bank" not in summary_text
    assert "https://facebook.com/posts/1" in summary_text

    done = await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    assert "Report sent: CB-2026-0001" in text_of_calls(done)

    # The files were fetched with the bot token, and kept exactly.
    assert [auth for _, auth in slack.fake.downloads] == [f"Bearer {slack.fake.bot_token}"] * 2
    async with slack.runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        kept = (await session.execute(select(Evidence))).scalars().all()
    assert case.description == (
        "A parent wrote <!channel> I am useless & should go. https://evil.example"
    )
    assert sorted(e.sha256 for e in kept) == sorted(
        hashlib.sha256(d).hexdigest() for d in (first, second)
    )

    result = await slack.deliver()
    assert result.failed == 0
    card = slack.posts_to(SAFEGUARDING)
    assert len(card) == 1
    card_text = text_of_calls(card)
    assert "Report CB-2026-0001" in card_text
    assert "useless" not in card_text  # no description in the channel
    assert not any(b["type"] == "image" for b in card[0].body["blocks"])
    alerts = text_of_calls(slack.posts_to(dm(DANA)))
    assert "New report of online abuse: CB-2026-0001" in alerts


async def test_the_lead_acknowledges_from_the_channel_and_the_reporter_is_told(
    slack: SlackHarness,
) -> None:
    await file_a_report(slack, png())
    await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    await slack.deliver()
    card = slack.posts_to(SAFEGUARDING)[0]
    ack = next(b for b in buttons_of(card) if b["text"]["text"] == "Acknowledge")

    before = len(slack.fake.calls_to("chat.postEphemeral"))
    await slack.click(
        DANA, ack["value"], channel=SAFEGUARDING, message={"ts": card.body.get("ts", "1.1")}
    )
    ephemeral = await slack.fake.wait_for("chat.postEphemeral", count=before + 1)
    assert "You acknowledged CB-2026-0001" in str(ephemeral[-1].body)

    await slack.deliver()
    updates = [
        c for c in slack.fake.calls_to("chat.update") if c.body.get("channel") == SAFEGUARDING
    ]
    assert updates
    assert "Acknowledged" in text_of_calls(updates[-1:])
    assert not any(b["text"]["text"] == "Acknowledge" for b in buttons_of(updates[-1]))
    told = text_of_calls(slack.posts_to(dm(SAM))[-1:])
    assert "Update on your report CB-2026-0001" in told
    assert "Seen by the safeguarding lead" in told


async def test_someone_who_is_not_a_lead_cannot_act_on_a_case(slack: SlackHarness) -> None:
    await file_a_report(slack)
    await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    await slack.deliver()
    card = slack.posts_to(SAFEGUARDING)[0]
    for button in buttons_of(card):
        before = len(slack.fake.calls_to("chat.postEphemeral"))
        await slack.click(JO, button["value"], channel=SAFEGUARDING)
        refusal = await slack.fake.wait_for("chat.postEphemeral", count=before + 1)
        assert refusal[-1].body["user"] == JO
        assert "Nothing has been changed" in str(refusal[-1].body)
    assert slack.fake.calls_to("views.open") == []
    assert slack.fake.calls_to("files.getUploadURLExternal") == []
    async with slack.runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert (case.status, case.assigned_to) == ("new", None)


async def test_forged_or_stale_requests_get_401_and_change_nothing(slack: SlackHarness) -> None:
    import json

    from tests.channels.slack.harness import SECRET
    from tests.fakes.slack_api import signed_headers

    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev1",
            "event": {
                "type": "message",
                "channel": "D0SAM",
                "channel_type": "im",
                "user": SAM,
                "text": "report",
            },
        }
    )
    assert await slack.post(body, headers=signed_headers(body, "not-the-secret")) == 401
    stale = signed_headers(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    assert await slack.post(body, headers=stale) == 401
    assert await slack.post(body, headers={"Content-Type": "application/json"}) == 401
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_a_retried_delivery_is_acted_on_once(slack: SlackHarness) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report", event_id="EvSAME"))
    before = len(slack.posts_to(dm(SAM)))
    assert await slack.say(SAM, "report", event_id="EvSAME") == 200
    await slack.reply_to(SAM, slack.say(SAM, "me", event_id="EvNEXT"))
    posts = slack.posts_to(dm(SAM))[before:]
    assert "Is anyone in immediate danger" in text_of_calls(posts)
    assert "Who is being targeted?" not in text_of_calls(posts)


async def test_rate_limited_replies_are_retried(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await slack.say(SAM, "report")
    # The refused call, the same call again after Retry-After, then the first question.
    await slack.wait_posts(dm(SAM), 2, timeout=10)
    tries = slack.fake.calls_to("chat.postMessage")
    assert [t.refused for t in tries] == [True, False, False]
    assert tries[0].body == tries[1].body
    assert "Who is being targeted?" in text_of_calls(tries[2:])


async def test_a_failed_download_is_explained_and_the_report_carries_on(
    slack: SlackHarness,
) -> None:
    await file_a_report(slack)  # reaches the summary without files
    await slack.reply_to(SAM, slack.click(SAM, "edit", label="Change an answer"))
    await slack.reply_to(SAM, slack.click(SAM, "evidence", label="Screenshots"))
    shared = slack.fake.add_file("FBAD", name="shot.png", data=png(), mimetype="image/png")
    slack.fake.fail_download("FBAD", status=500)
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    text = text_of_calls(posts)
    assert "couldn't fetch “shot.png” from Slack" in text
    assert "Please send your screenshots" in text
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    assert "is saved as evidence" in text_of_calls(posts)


async def test_when_slack_refuses_a_reply_the_answer_is_kept_and_the_reply_sent_later(
    slack: SlackHarness,
) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    # The first try and both automatic retries fail: Slack is down for now.
    slack.fake.fail_next("chat.postMessage", status=500, times=3)
    await slack.say(SAM, "me")
    # Kept in the outbox with the turn; handed to the delivery worker once Slack has refused.
    queued = await wait_until(
        slack, lambda rows: [r for r in rows if r.kind == "reply" and r.sender is None]
    )
    assert len(queued) == 1
    result = await slack.deliver()
    assert result.delivered == 1
    assert "Is anyone in immediate danger" in text_of_calls(slack.posts_to(dm(SAM))[-1:])
    # The answer itself was saved when it arrived.
    posts = await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    assert "Where did it happen?" in text_of_calls(posts)


async def wait_until(
    slack: SlackHarness, probe: Callable[[list[Notification]], list[Notification]]
) -> list[Notification]:
    for _ in range(200):
        async with slack.runtime.db.session() as session:
            found = probe(list((await session.execute(select(Notification))).scalars()))
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("nothing was queued")


async def test_a_lone_surrogate_is_taken_as_a_replacement_character(slack: SlackHarness) -> None:
    """Half of an emoji ("\\ud83d" alone in the JSON) cannot be written anywhere: it is kept
    as U+FFFD, the answer is journaled and taken, and Sam is not asked to send it again."""
    for step in (
        slack.say(SAM, "report"),
        slack.click(SAM, "me", label="Me"),
        slack.press_newest(SAM, "No"),
        slack.click(SAM, "Facebook", label="Facebook"),
        slack.say(SAM, "<https://facebook.com/posts/1>"),
        slack.say(SAM, "yesterday 4pm"),
    ):
        await slack.reply_to(SAM, step)
    posts = await slack.reply_to(SAM, slack.say(SAM, "A parent wrote \ud83d that I am useless."))

    told = text_of_calls(posts)
    assert "send it again" not in told
    assert "screenshots" in told
    async with slack.runtime.db.session() as session:
        [conversation] = (await session.execute(select(Conversation))).scalars().all()
    answers = (conversation.state or {})["answers"]
    assert answers["description"] == "A parent wrote \ufffd that I am useless."
    assert slack.runtime.journal.pending() == []
    assert slack.runtime.journal.failed() == []


async def test_emoji_and_persian_joiners_are_kept_as_typed(slack: SlackHarness) -> None:
    """U+200D joins a family emoji and U+200C keeps the parts of a Persian word apart: both
    are part of what was typed, and the stored answer is exactly that."""
    typed = "They wrote می‌خواهم بروم under 👨‍👩‍👧 and ❤️‍🔥 on my post."
    for step in (
        slack.say(SAM, "report"),
        slack.click(SAM, "me", label="Me"),
        slack.press_newest(SAM, "No"),
        slack.click(SAM, "Facebook", label="Facebook"),
        slack.say(SAM, "<https://facebook.com/posts/1>"),
        slack.say(SAM, "yesterday 4pm"),
    ):
        await slack.reply_to(SAM, step)
    await slack.reply_to(SAM, slack.say(SAM, typed))
    async with slack.runtime.db.session() as session:
        [conversation] = (await session.execute(select(Conversation))).scalars().all()
    assert (conversation.state or {})["answers"]["description"] == typed


async def test_thirteen_files_shared_at_once_get_one_answer_and_are_all_kept(
    slack: SlackHarness,
) -> None:
    """Screenshots are often shared many at a time: the person gets one message that lists
    what was kept (and explains what was not), not one message per file."""
    for step in (
        slack.say(SAM, "report"),
        slack.click(SAM, "me", label="Me"),
        slack.press_newest(SAM, "No"),
        slack.click(SAM, "Facebook", label="Facebook"),
        slack.say(SAM, "<https://facebook.com/posts/1>"),
        slack.say(SAM, "yesterday 4pm"),
        slack.say(SAM, "A parent wrote that I am useless, in thirteen posts."),
    ):
        await slack.reply_to(SAM, step)
    shared = [
        slack.fake.add_file(
            f"F{n}", name=f"shot{n}.png", data=png(f"shot {n}"), mimetype="image/png"
        )
        for n in range(1, 14)
    ]
    refused = slack.fake.add_file(
        "FBAD", name="program.png", data=b"MZ\x90\x00", mimetype="image/png"
    )

    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[*shared, refused]))

    assert len(posts) == 1, [p.body.get("text") for p in posts]
    told = text_of_calls(posts)
    assert "Got 13 files" in told
    for n in range(1, 14):
        assert f"shot{n}.png" in told
    assert "program.png" in told  # refused, and said so in the same message
    assert "13 files so far" in told
    async with slack.runtime.db.session() as session:
        stored = (await session.execute(select(Evidence))).scalars().all()
    assert sorted(e.original_name for e in stored) == sorted(f"shot{n}.png" for n in range(1, 14))


async def test_files_slack_would_not_hand_over_are_explained_in_one_message(
    slack: SlackHarness,
) -> None:
    await file_a_report(slack)  # reaches the summary without files
    await slack.reply_to(SAM, slack.click(SAM, "edit", label="Change an answer"))
    await slack.reply_to(SAM, slack.click(SAM, "evidence", label="Screenshots"))
    shared = [
        slack.fake.add_file(f"FBAD{n}", name=f"shot{n}.png", data=png(), mimetype="image/png")
        for n in range(1, 6)
    ]
    for n in range(1, 6):
        slack.fake.fail_download(f"FBAD{n}", status=500)
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=shared))
    # One explanation for the five, then where the report stands (however many files).
    assert len(posts) <= 3, [p.body.get("text") for p in posts]
    [explained] = [p for p in posts if "couldn't fetch" in text_of_calls([p])]
    for n in range(1, 6):
        assert f"shot{n}.png" in text_of_calls([explained])
