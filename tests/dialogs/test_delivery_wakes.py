"""The delivery worker runs for what was queued, and sent replies are forgotten in batches.

A turn sends its own replies (dialogs.services.replies); a delivery round after every turn, to
delete the rows of the replies just sent and look for anything due, cost more than the turn's own
work. So the worker wakes only when a unit of work that queued something for it commits, and the
rows of sent replies are deleted a moment later, many turns' at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from bot.jobs.delivery import DeliveryWorker
from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind
from dialogs.services.notifier import OutboxNotifier
from storage.models import Notification
from tests.dialogs.test_reply_lanes import kept, sam


def said(text: str) -> Message:
    return Message(kind=MessageKind.INFO, text=text)


async def rows(runtime: Runtime) -> list[Notification]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(Notification))).scalars().all())


async def test_the_worker_wakes_for_a_commit_that_queued_and_not_for_others(
    runtime: Runtime,
) -> None:
    worker = DeliveryWorker(runtime, [], every_seconds=3600)
    kicks: list[str] = []
    worker.kick = lambda: kicks.append("kick")  # type: ignore[method-assign]
    worker.start()
    try:
        async with runtime.db.session() as session:
            session.add(Notification(school_id="oakfield", kind="x", message={}))
            session.info["unrelated"] = True  # written, but not through the outbox's notifier
        assert kicks == []
        async with runtime.db.session() as session:
            OutboxNotifier(session, runtime.clock()).notify(
                school_id="oakfield", person_id="sam", kind="case", message=said("Update")
            )
        assert kicks == ["kick"]
        try:
            async with runtime.db.session() as session:
                OutboxNotifier(session, runtime.clock()).notify(
                    school_id="oakfield", person_id="sam", kind="case", message=said("Lost")
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert kicks == ["kick"]  # nothing was queued after all
    finally:
        await worker.stop()
    async with runtime.db.session() as session:
        OutboxNotifier(session, runtime.clock()).notify(
            school_id="oakfield", person_id="sam", kind="case", message=said("After")
        )
    assert kicks == ["kick"]  # a stopped worker is no longer told


async def test_refused_replies_handed_to_the_worker_wake_it(runtime: Runtime) -> None:
    worker = DeliveryWorker(runtime, [], every_seconds=3600)
    kicks: list[str] = []
    worker.kick = lambda: kicks.append("kick")  # type: ignore[method-assign]
    worker.start()
    try:
        who = sam(runtime)
        turn = await kept(runtime, who, "Q2")
        assert kicks == []  # kept for the turn to send: the worker has nothing to do yet

        async def refuse(message: Message) -> None:
            raise ConnectionError("Slack is away")

        assert not await runtime.runner.send_replies(who, turn, refuse)
        assert kicks == ["kick"]
    finally:
        await worker.stop()


async def test_sent_replies_are_forgotten_without_a_delivery_round(runtime: Runtime) -> None:
    who = sam(runtime)
    turn = await kept(runtime, who, "Q2", "Q3")

    async def post(message: Message) -> None:
        pass

    assert await runtime.runner.send_replies(who, turn, post)
    await runtime.runner.settled()
    assert await rows(runtime) == []


async def test_the_replies_of_turns_sent_together_are_forgotten_in_one_transaction(
    runtime: Runtime,
) -> None:
    school = sam(runtime).school
    people = [p for p in school.people][:5]
    turns = []
    for person in people:
        who = sam(runtime)
        who.person = person
        turns.append((who, await kept(runtime, who, f"Q for {person.id}")))
    commits: list[dict[str, Any]] = []
    runtime.db.after_commit.append(commits.append)

    async def post(message: Message) -> None:
        await asyncio.sleep(0)

    sent = await asyncio.gather(*(runtime.runner.send_replies(w, t, post) for w, t in turns))
    assert all(sent)
    await runtime.runner.settled()
    assert len(commits) == 1
    assert await rows(runtime) == []


async def test_a_reply_sent_while_others_are_being_forgotten_is_forgotten_too(
    runtime: Runtime,
) -> None:
    who = sam(runtime)
    first = await kept(runtime, who, "Q2")
    second = await kept(runtime, who, "Q3")
    second = [m for m in second if m.text == "Q3"]

    async def post(message: Message) -> None:
        pass

    assert await runtime.runner.send_replies(who, first, post)
    await asyncio.sleep(0)  # the deletion of the first is under way
    assert await runtime.runner.send_replies(who, second, post)
    await runtime.runner.settled()
    assert await rows(runtime) == []
