"""A conversation's replies go out once each, in the order their turns made them.

Replies are kept in the outbox with their turn (dialogs/services/replies.py) and sent by the turn
itself, or by the delivery worker when the platform refused or the process stopped. Whoever
sends, the outbox decides what is still to send, so nothing goes twice or out of order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.inbox import Who
from dialogs.services import replies
from dialogs.services.messages import Message, MessageKind
from dialogs.services.outbox import deliver_pending
from storage.conversations import ConversationKey
from storage.models import Notification
from storage.processes import this_process
from tests.dialogs.test_reply_delivery import Reaching


def said(text: str) -> Message:
    return Message(kind=MessageKind.INFO, text=text)


def sam(runtime: Runtime) -> Who:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    person = school.person("sam")
    assert person is not None
    return Who(person=person, school=school, key=ConversationKey("slack", "U0SAM", "DU0SAM"))


async def kept(runtime: Runtime, who: Who, *texts: str) -> list[Message]:
    """A turn's replies as the turn keeps them, before it sends them: its conversation's
    earlier replies still waiting, then its own."""
    lane = replies.Lane(who.school.id, who.person.id, who.key.channel)
    async with runtime.db.session() as session:
        return await replies.keep(
            session, lane, [said(t) for t in texts], runtime.clock(), runtime.runner.lanes
        )


async def waiting(runtime: Runtime) -> list[Notification]:
    async with runtime.db.session() as session:
        rows = (await session.execute(select(Notification))).scalars().all()
    return [r for r in rows if r.delivered_at is None]


async def test_a_turn_sending_after_a_later_one_sends_nothing_twice(runtime: Runtime) -> None:
    who = sam(runtime)
    first = await kept(runtime, who, "Q2", "hint")
    second = await kept(runtime, who, "Q3")
    assert [m.text for m in second] == ["Q2", "hint", "Q3"]  # the earlier turn's still wait
    shown: list[str] = []

    async def post(message: Message) -> None:
        shown.append(message.text)

    # The later turn happens to reach the platform first: it sends the earlier turn's replies
    # before its own, and the earlier turn then finds nothing left to send.
    assert await runtime.runner.send_replies(who, second, post)
    assert await runtime.runner.send_replies(who, first, post)
    assert shown == ["Q2", "hint", "Q3"]
    # Nothing of a delivered reply is kept once the delivery worker's next round has run.
    await runtime.runner.forget_sent()
    assert await waiting(runtime) == []


async def test_what_the_platform_refuses_goes_to_the_worker_in_order(runtime: Runtime) -> None:
    who = sam(runtime)
    turn = await kept(runtime, who, "Q2", "Q3")
    shown: list[str] = []

    async def refuse_the_second(message: Message) -> None:
        if message.text == "Q3":
            raise ConnectionError("Slack is away")
        shown.append(message.text)

    assert not await runtime.runner.send_replies(who, turn, refuse_the_second)
    assert shown == ["Q2"]
    released = [r for r in await waiting(runtime) if r.sender is None]
    assert [(r.id, r.next_attempt_at) for r in released] == [(turn[1].ledger, runtime.clock())]

    slack = Reaching("slack")
    result = await deliver_pending(
        db=runtime.db,
        directory=runtime.settings.directory,
        transports=[slack],
        now=runtime.clock(),
        lanes=runtime.runner.lanes,
    )
    assert result.delivered == 1
    assert slack.sent == [("sam", "Q3")]
    assert await waiting(runtime) == []  # Q2's row went in the same round


async def test_the_worker_leaves_a_turns_replies_to_it_while_it_sends_them(
    runtime: Runtime,
) -> None:
    who = sam(runtime)
    await kept(runtime, who, "Q2")
    slack = Reaching("slack")
    result = await deliver_pending(
        db=runtime.db,
        directory=runtime.settings.directory,
        transports=[slack],
        now=runtime.clock(),
    )
    assert (result.delivered, slack.sent) == (0, [])
    # After the grace (the turn's process stopped, on another host), the worker sends it.
    result = await deliver_pending(
        db=runtime.db,
        directory=runtime.settings.directory,
        transports=[slack],
        now=runtime.clock() + replies.LIVE_GRACE + timedelta(seconds=1),
    )
    assert slack.sent == [("sam", "Q2")]


async def test_a_reply_waits_behind_an_earlier_one_of_its_conversation(runtime: Runtime) -> None:
    who = sam(runtime)
    first = await kept(runtime, who, "Q2")
    await runtime.runner.send_replies(who, first, _refuse)  # refused: now the worker's
    await kept(runtime, who, "Q3")
    async with runtime.db.session() as session:
        # The earlier one is backing off after a failed delivery; the later one is due.
        for row in (await session.execute(select(Notification))).scalars():
            row.next_attempt_at = (
                runtime.clock() + timedelta(hours=1) if row.id == first[0].ledger else None
            )
    slack = Reaching("slack")
    await deliver_pending(
        db=runtime.db,
        directory=runtime.settings.directory,
        transports=[slack],
        now=runtime.clock(),
    )
    assert slack.sent == []  # Q3 never goes before Q2


async def test_replies_a_stopped_process_was_sending_are_released_at_once(
    runtime: Runtime,
) -> None:
    who = sam(runtime)
    await kept(runtime, who, "Q2")
    async with runtime.db.session() as session:
        [row] = (await session.execute(select(Notification))).scalars()
        row.sender = "somewhere-else:12345"  # another host: it may still be sending
    async with runtime.db.session() as session:
        assert await replies.release_orphans(session, runtime.clock()) == 0
    async with runtime.db.session() as session:
        [row] = (await session.execute(select(Notification))).scalars()
        host = this_process().rsplit(":", 1)[0]
        row.sender = f"{host}:{2**22 + 1}"  # this host, a process that is not running
    async with runtime.db.session() as session:
        assert await replies.release_orphans(session, runtime.clock()) == 1
    [row] = await waiting(runtime)
    assert (row.sender, row.next_attempt_at) == (None, runtime.clock())


async def _refuse(message: Message) -> None:
    raise ConnectionError("Slack is away")


def test_a_lane_is_one_persons_conversation_on_one_platform() -> None:
    lane = replies.Lane("oakfield", "sam", "slack")
    assert replies.lane_of("reply", "oakfield", "sam", "slack") == lane
    assert replies.lane_of("case", "oakfield", "sam", "slack") is None
    assert replies.lane_of("reply", "oakfield", None, "slack") is None
    assert replace(lane, platform="teams") != lane


async def test_a_reply_after_the_sent_ones_are_forgotten_is_still_sent(runtime: Runtime) -> None:
    """Sent replies are remembered by their rows' ids until the rows are deleted: a new row
    must never get the id of a deleted one (SQLite would reuse the highest without
    AUTOINCREMENT), or the new reply would be taken for one already sent."""
    who = sam(runtime)
    shown: list[str] = []

    async def post(message: Message) -> None:
        shown.append(message.text)

    for text in ("Q1", "Q2"):
        assert await runtime.runner.send_replies(who, await kept(runtime, who, text), post)
        await runtime.runner.forget_sent()  # the delivery worker's round: the rows are deleted
    assert shown == ["Q1", "Q2"]


async def test_a_sent_reply_not_yet_deleted_is_never_sent_again_however_many_were_sent_since(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen under a 10x burst: the process remembered only the last few thousand replies it
    had sent, and more than that were sent before their rows were deleted, so a later turn of a
    conversation read its earlier, already sent, reply as still owed and sent it again."""
    monkeypatch.setattr(replies, "_REMEMBERED", 2)
    lanes = replies.Lanes()
    now = runtime.clock()
    who = sam(runtime)
    lane = replies.Lane(who.school.id, who.person.id, who.key.channel)

    async def keep(in_lane: replies.Lane, text: str) -> list[Message]:
        async with runtime.db.session() as session:
            return await replies.keep(session, in_lane, [said(text)], now, lanes)

    for message in await keep(lane, "Q1"):
        assert message.ledger is not None
        lanes.sent(message.ledger)
    for n in range(3):  # other people's replies, sent since; no deletion has run yet
        other = replies.Lane(who.school.id, f"person-{n}", who.key.channel)
        for message in await keep(other, f"their Q{n}"):
            assert message.ledger is not None
            lanes.sent(message.ledger)

    assert [m.text for m in await keep(lane, "Q2")] == ["Q2"]
