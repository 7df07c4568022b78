"""Refusals in Microsoft Teams, through Bot Framework activities into the real adapter.

Someone the rules refuse is told so in their own chat as soon as they press a button, in the
words they were told before, and never asked a question first; each refused press leaves one
entry in the audit log.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.services.privacy.audit import AuditAction
from storage.models import AuditEntry, Case, Conversation, PostRequest
from tests.channels.teams.harness import APPROVALS, JO, PRIYA, TeamsHarness, card_of, text_of
from tests.channels.teams.test_teams_posts import requested, say
from tests.channels.teams.test_teams_report import reported_and_posted


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


async def test_a_moderator_pressing_reject_is_refused_at_once_and_not_asked_for_a_reason(
    teams: TeamsHarness,
) -> None:
    await say(teams, JO, "hello")
    card_id, card = await requested(teams)
    before = len(teams.sent_to(JO.chat))
    await teams.press_in_channel(JO, card_of(card), "Reject", card_id=card_id, channel=APPROVALS)
    shown = text_of(teams.sent_to(JO.chat)[before:])
    assert "Only approvers can approve, reject or ask for changes to a post." in shown
    assert "What is the reason" not in shown
    assert await dialog_of(teams.runtime, "jo") is None

    # What Jo types next is not taken for a reason, and refused again: Jo is not held.
    after = await say(teams, JO, "It is not school news.")
    assert "Only approvers" not in text_of(after)
    async with teams.runtime.db.session() as session:
        assert (await session.execute(select(PostRequest))).scalar_one().status == "submitted"

    [entry] = await refusals(teams.runtime)
    assert (entry.school_id, entry.actor_id) == ("oakfield", "jo")
    assert entry.detail == "PR-2026-0001 post.decide (role)"


async def test_the_author_pressing_reject_on_their_own_post_is_refused_at_once(
    teams: TeamsHarness,
) -> None:
    card_id, card = await requested(teams, author=PRIYA)
    before = len(teams.sent_to(PRIYA.chat))
    await teams.press_in_channel(PRIYA, card_of(card), "Reject", card_id=card_id, channel=APPROVALS)
    shown = text_of(teams.sent_to(PRIYA.chat)[before:])
    assert "another approver must" in shown
    assert "What is the reason" not in shown
    [entry] = await refusals(teams.runtime)
    assert entry.detail == "PR-2026-0001 post.decide (own_request)"


async def test_a_case_button_pressed_by_someone_who_is_not_a_lead_is_refused_and_recorded(
    teams: TeamsHarness,
) -> None:
    card_id, card = await reported_and_posted(teams)  # Jo has talked to the bot
    for title in ("Acknowledge", "Add note"):
        before = len(teams.sent_to(JO.chat))
        await teams.press_in_channel(JO, card_of(card), title, card_id=card_id)
        [refusal] = teams.sent_to(JO.chat)[before:]
        assert (
            "Only the designated safeguarding lead or their deputy can act on reports. "
            "Nothing has been changed." in text_of([refusal])
        )
    async with teams.runtime.db.session() as session:
        assert (await session.execute(select(Case))).scalar_one().status == "new"
    entries = await refusals(teams.runtime)
    assert [(e.actor_id, e.target_type, e.detail) for e in entries] == [
        ("jo", "case", "CB-2026-0001 case.handle (role)"),
        ("jo", "case", "CB-2026-0001 case.handle (role)"),
    ]
