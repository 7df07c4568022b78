"""Unfinished reports: kept, reminded about once, then expired with a last message."""

from __future__ import annotations

from sqlmodel import select

from bot.jobs.drafts import run_draft_sweep
from bot.runtime import Runtime
from dialogs.drafts import DraftSweep
from dialogs.services.messages import MessageKind
from storage.models import AuditEntry, Conversation, Evidence
from tests.conftest import Clock
from tests.support import HAPPY_PATH, Person, file, png, text_of


async def test_a_draft_is_reminded_once_then_expires_with_its_files(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("", file("shot.png", png()))

    clock.advance(hours=23)
    assert await run_draft_sweep(runtime) == DraftSweep()

    clock.advance(hours=2)
    assert await run_draft_sweep(runtime) == DraftSweep(reminded=1)
    reminder = await sam.inbox()
    assert [m.title for m in reminder] == ["You have an unfinished report of online abuse"]
    assert "will be deleted on" in reminder[0].text

    clock.advance(hours=24)
    assert await run_draft_sweep(runtime) == DraftSweep()  # reminded once only

    clock.advance(hours=24 * 6)
    assert await run_draft_sweep(runtime) == DraftSweep(expired=1)
    expired = await sam.inbox()
    assert "has been deleted" in text_of(expired)
    async with runtime.db.session() as session:
        assert (await session.execute(select(Evidence))).first() is None
        conversation = (await session.execute(select(Conversation))).scalar_one()
        actions = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
    assert conversation.state is None
    assert "draft.expire" in actions
    assert (await sam.say("hello"))[-1].kind is MessageKind.MENU


async def test_coming_back_after_a_reminder_resets_the_clock(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:3]:
        await sam.say(answer)
    clock.advance(hours=25)
    assert (await run_draft_sweep(runtime)).reminded == 1
    await sam.say("Instagram")
    clock.advance(hours=24 * 6)
    # Six days after the last answer: not expired, and reminded again for the new idle spell.
    assert await run_draft_sweep(runtime) == DraftSweep(reminded=1)
    assert "question" in text_of(await sam.open())
