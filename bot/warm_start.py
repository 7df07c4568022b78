"""What `policybot serve` does once it has started: build what the first turns would build,
then leave everything start-up built out of garbage collection.

Why build early: the dialogs are imported and the engine built by the first turn, and dateparser
loads its English on the first answer to a "when" question (about a sixth of a second of CPU):
whoever sends the first message or the first date would wait for it. Built now, it is also
frozen with the rest (below) instead of being walked by every full collection.

Why freeze: the server starts with well over a hundred thousand objects that live as long as it
does (the schools and their people, the modules, the policy index, the platforms' clients), and
every full (generation 2) collection walked all of them again, for nothing: about a tenth of a
second each, a pause in whichever turn it fell (bench/turn_cpu.py --freeze). gc.freeze() moves
everything alive when start-up ends into a permanent generation the collector leaves alone; what
turns allocate is collected exactly as before. The price: a frozen object is freed by reference
counting only, so one caught in a reference cycle after start-up (none of the long-lived objects
is meant to be) would be kept. Start-up's own garbage is collected first, so none is frozen.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime


def settle(runtime: Runtime) -> None:
    """Build the dialogs and load dateparser, then freeze what is alive (see above)."""
    from dialogs.when import prepare

    runtime.runner  # noqa: B018 - built here, not in the first turn
    prepare()
    freeze_start_up()


def freeze_start_up() -> None:
    """Collect start-up's garbage, then set aside everything still alive."""
    gc.collect()
    gc.freeze()
