"""What `policybot serve` does once it has started (bot.warm_start)."""

from __future__ import annotations

import gc
import sys
import weakref

from bot.runtime import Runtime
from bot.warm_start import freeze_start_up, settle


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


def test_the_dialogs_and_dateparser_are_ready_before_the_first_turn(runtime: Runtime) -> None:
    try:
        settle(runtime)
        assert "runner" in runtime.__dict__
        assert "dateparser.date" in sys.modules
    finally:
        gc.unfreeze()
