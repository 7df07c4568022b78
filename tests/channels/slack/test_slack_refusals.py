"""Refusals in Slack, through signed requests into the real Bolt app against FakeSlack.

Someone the rules refuse is told so, in the words they were told before, and each refused press
leaves one entry in the audit log.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.services.audit import AuditAction
from storage.models import AuditEntry, Case, Conversation, PostRequest
from tests.channels.slack.harness import SAFEGUARDING, SlackHarness, dm
from tests.channels.slack.test_slack_interactions import (
    REFERENCE,
    button_value,
    ephemerals_after,
    open_case,
    texts,
)

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
