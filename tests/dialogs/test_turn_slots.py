"""Turns yield to the requests being answered, but never stop (dialogs.turn_slots)."""

from __future__ import annotations

import asyncio

import pytest

from dialogs.turn_slots import TurnSlots


class Turns:
    """Turns that hold their slot until released, recording the order they started in."""

    def __init__(self, slots: TurnSlots) -> None:
        self.slots = slots
        self.started: list[int] = []
        self.release = asyncio.Event()

    async def turn(self, n: int) -> None:
        async with self.slots.slot():
            self.started.append(n)
            await self.release.wait()

    def spawn(self, *numbers: int) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.turn(n)) for n in numbers]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_with_nothing_being_admitted_turns_run_up_to_the_most() -> None:
    slots = TurnSlots(3)
    turns = Turns(slots)
    tasks = turns.spawn(1, 2, 3, 4, 5)
    await settle()
    assert turns.started == [1, 2, 3]
    assert (slots.running, slots.waiting) == (3, 2)
    turns.release.set()
    await asyncio.gather(*tasks)
    assert turns.started == [1, 2, 3, 4, 5]  # in the order they asked
    assert (slots.running, slots.waiting) == (0, 0)


async def test_while_a_request_is_admitted_turns_start_one_at_a_time() -> None:
    slots = TurnSlots(4)
    turns = Turns(slots)
    with slots.admitting():
        tasks = turns.spawn(1, 2, 3)
        await settle()
        assert turns.started == [1]  # one runs, so turns never stop altogether
    await settle()
    assert turns.started == [1, 2, 3]  # the request answered: the rest start at once
    turns.release.set()
    await asyncio.gather(*tasks)


async def test_turns_already_running_finish_and_the_next_waits_for_the_admissions() -> None:
    slots = TurnSlots(4)
    turns = Turns(slots)
    tasks = turns.spawn(1, 2)
    await settle()
    with slots.admitting():
        later = turns.spawn(3)
        await settle()
        assert turns.started == [1, 2]  # two already running: nothing more starts
        turns.release.set()
        await asyncio.gather(*tasks)
        await settle()
        assert turns.started == [1, 2, 3]  # back down to one running: the next may start
    await asyncio.gather(*later)


async def test_a_waiting_turn_cancelled_leaves_no_slot_taken() -> None:
    slots = TurnSlots(1)
    turns = Turns(slots)
    [first, second] = turns.spawn(1, 2)
    await settle()
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert (slots.running, slots.waiting) == (1, 0)
    turns.release.set()
    await first
    assert slots.running == 0


def test_the_share_while_admitting_is_at_least_one_and_at_most_the_most() -> None:
    with pytest.raises(ValueError, match="while_admitting"):
        TurnSlots(2, while_admitting=0)
    with pytest.raises(ValueError, match="while_admitting"):
        TurnSlots(2, while_admitting=3)


async def test_busy_while_a_request_is_admitted_or_turns_wait_for_a_slot() -> None:
    slots = TurnSlots(1)
    turns = Turns(slots)
    assert not slots.busy
    with slots.admitting():
        assert slots.busy
    assert not slots.busy
    tasks = turns.spawn(1)
    await settle()
    assert not slots.busy  # one running turn is not a queue
    tasks += turns.spawn(2)
    await settle()
    assert slots.busy
    turns.release.set()
    await asyncio.gather(*tasks)
    assert not slots.busy
