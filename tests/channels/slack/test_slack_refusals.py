"""Refusals in Slack, through signed requests into the real Bolt app against FakeSlack.

Someone the rules refuse is told so as soon as they press a button, in the words they were told
before, and never asked a question first (a reason they would type in vain, held by a dialog
they could only leave by typing cancel); each refused press leaves one entry in the audit log.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.services.privacy.audit import AuditAction
from storage.models import AuditEntry, Case, Conversation, PostRequest
from tests.channels.slack.harness import SAFEGUARDING, SlackHarness, dm, text_of_calls
from tests.channels.slack.test_slack_interactions import (
    REFERENCE,
    button_value,
    ephemerals_after,
    open_case,
    texts,
)
from tests.channels.slack.test_slack_posts import APPROVALS, requested
from tests.channels.slack.test_slack_posts import button_value as post_button

SAM, JO, PRIYA = "U0SAM", "U0JO", "U0PRIYA"


async def refusals(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == AuditAction.ACCESS_REFUSED.value)
            .order_by(col(AuditEntry.id))
        )
        return list(result.scalars().all())


async def dialog_of(runtime: Runtime, person_id: str) -> str | None:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(Conversation).where(Conversation.person_id == person_id)
        )
        return next((c.dialog for c in result.scalars().all() if c.dialog), None)


async def post_status(runtime: Runtime) -> str:
    async with runtime.db.session() as session:
        return (await session.execute(select(PostRequest))).scalar_one().status


async def test_a_moderator_pressing_reject_is_refused_at_once_and_not_asked_for_a_reason(
    slack: SlackHarness,
) -> None:
    card = await requested(slack)
    replies = await slack.reply_to(
        JO, slack.click(JO, post_button(card, "Reject"), channel=APPROVALS, label="Reject")
    )
    shown = text_of_calls(replies)
    assert "Only approvers can approve, reject or ask for changes to a post." in shown
    assert "What is the reason" not in shown
    assert await dialog_of(slack.runtime, "jo") is None  # nothing waits for an answer

    # What Jo types next is not taken for a reason, and refused again: Jo is not held.
    after = await slack.reply_to(JO, slack.say(JO, "It is not school news."))
    assert "Only approvers" not in text_of_calls(after)
    assert await post_status(slack.runtime) == "submitted"

    [entry] = await refusals(slack.runtime)
    assert (entry.school_id, entry.actor_id) == ("oakfield", "jo")
    assert entry.detail == "PR-2026-0001 post.decide (role)"
    assert "not school news" not in entry.detail


async def test_the_author_pressing_request_changes_on_their_own_post_is_refused_at_once(
    slack: SlackHarness,
) -> None:
    card = await requested(slack, author=PRIYA)
    replies = await slack.reply_to(
        PRIYA,
        slack.click(
            PRIYA,
            post_button(card, "Request changes"),
            channel=APPROVALS,
            label="Request changes",
        ),
    )
    shown = text_of_calls(replies)
    assert "another approver must" in shown
    assert "What is the reason" not in shown
    assert await dialog_of(slack.runtime, "priya") is None
    [entry] = await refusals(slack.runtime)
    assert entry.detail == "PR-2026-0001 post.decide (own_request)"


async def test_a_case_button_pressed_by_someone_who_is_not_a_lead_is_refused_and_recorded(
    slack: SlackHarness,
) -> None:
    card = await open_case(slack)
    for label in ("Acknowledge", "Add note"):
        before = len(slack.fake.calls_to("chat.postEphemeral"))
        status = await slack.click(
            JO, button_value(card, label), channel=SAFEGUARDING, message={"ts": "1.1"}
        )
        assert status == 200
        [refusal] = await ephemerals_after(slack, before)
        assert (refusal.body["channel"], refusal.body["user"]) == (SAFEGUARDING, JO)
        assert (
            "Only the designated safeguarding lead or their deputy can act on reports. "
            "Nothing has been changed." in texts(refusal)
        )
    assert slack.fake.calls_to("views.open") == []  # no form was opened for Jo
    async with slack.runtime.db.session() as session:
        assert (await session.execute(select(Case))).scalar_one().status == "new"
    entries = await refusals(slack.runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("jo", "case", f"{REFERENCE} case.handle (role)"),
        ("jo", "case", f"{REFERENCE} case.handle (role)"),
    ]
    assert "useless" not in " ".join(e.detail for e in entries)
    assert dm(JO) not in {c.body.get("channel") for c in slack.fake.calls_to("chat.postMessage")}
