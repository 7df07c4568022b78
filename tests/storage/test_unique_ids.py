"""Journal names and request ids: unique in this process, and not shared with a forked child."""

from __future__ import annotations

import multiprocessing
import re

from storage.unique_ids import unique_hex


def _child_ids(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([unique_hex() for _ in range(3)])


def test_ids_are_32_hex_digits_and_never_repeat() -> None:
    ids = [unique_hex() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_a_forked_child_gives_ids_its_parent_does_not() -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    child = context.Process(target=_child_ids, args=(queue,))
    before = unique_hex()
    child.start()
    from_child = queue.get(timeout=10)
    child.join(timeout=10)
    after = [unique_hex() for _ in range(3)]
    assert {i[:16] for i in from_child} != {before[:16]}  # drawn again in the child
    assert not set(from_child) & {before, *after}
