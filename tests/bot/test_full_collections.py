"""Full garbage collections at quiet moments (bot.full_collections)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.full_collections import FullCollections


class Node:
    other: Node | None = None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[None]:
    """Every test leaves the interpreter's thresholds as it found them."""
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def young_collections(count: int) -> None:
    gc.collect(2)  # the count starts from nothing
    for _ in range(count):
        gc.collect(1)  # each one counts towards the next full collection


def test_nothing_is_due_when_no_young_collection_happened_since_the_last_full_one() -> None:
    collections = FullCollections(lambda: False, clock=Clock())
    gc.collect(2)
    assert not collections.due()


def test_a_full_collection_is_due_by_the_interpreters_own_count_when_the_server_is_quiet() -> None:
    collections = FullCollections(lambda: False, clock=Clock())
    young_collections(gc.get_threshold()[2] - 1)
    assert not collections.due()
    gc.collect(1)
    assert collections.due()


def test_while_requests_are_admitted_it_waits_but_no_longer_than_the_longest_gap() -> None:
    clock = Clock()
    busy = True
    collections = FullCollections(lambda: busy, clock=clock, longest_between=60)
    young_collections(50)
    assert not collections.due()
    clock.now += 59
    assert not collections.due()
    clock.now += 1
    assert collections.due()  # however busy: memory held in cycles stays bounded
    collections.collect()
    gc.collect(1)
    assert not collections.due()
    busy = False
    young_collections(50)
    assert collections.due()


def test_a_collection_frees_cycles_and_starts_the_count_again() -> None:
    collections = FullCollections(lambda: False, clock=Clock())
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # only the collector frees a cycle
    gone = weakref.ref(garbage)
    del garbage
    young_collections(3)
    collections.collect()
    assert gone() is None
    assert gc.get_count()[2] == 0
    assert collections.collections == 1


async def test_while_running_only_the_server_starts_full_collections() -> None:
    first, second, third = gc.get_threshold()
    admitting = asyncio.Event()
    admitting.set()
    collections = FullCollections(admitting.is_set, check_every=0.01)
    task = asyncio.create_task(collections.run())
    await asyncio.sleep(0.05)
    # The young generations keep their thresholds; the full one is out of the interpreter's
    # reach.
    assert gc.get_threshold()[:2] == (first, second)
    assert gc.get_threshold()[2] > 1_000_000
    young_collections(third + 5)
    await asyncio.sleep(0.05)
    assert collections.collections == 0  # busy: waits for a quiet moment
    admitting.clear()
    for _ in range(200):
        if collections.collections:
            break
        await asyncio.sleep(0.01)
    assert collections.collections == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.get_threshold() == (first, second, third)  # given back
