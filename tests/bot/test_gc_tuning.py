"""What `policybot serve` does with garbage collection once it has started (bot.gc_tuning)."""

from __future__ import annotations

import gc
import weakref

from bot.gc_tuning import freeze_start_up


class Node:
    other: Node | None = None


def test_start_up_garbage_is_collected_and_what_lives_on_is_left_out_of_collections() -> None:
    kept = Node()
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    try:
        freeze_start_up()
        assert gone() is None
        assert not any(o is kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())
