"""Garbage collection in the server: what start-up built is set aside once it has started.

Why: the server starts with well over a hundred thousand objects that live as long as it does
(the schools and their people, the modules, the policy index, the platforms' clients), and every
full (generation 2) collection walked all of them again, for nothing: about a tenth of a second
each, a pause in whichever turn it fell (bench/turn_cpu.py --freeze). gc.freeze() moves
everything alive when start-up ends into a permanent generation the collector leaves alone; what
turns allocate is collected exactly as before.

The price: a frozen object is freed by reference counting only, so one caught in a reference
cycle after start-up (none of the long-lived objects is meant to be) would be kept. Start-up's own
garbage is collected first, so none of it is frozen.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """Collect start-up's garbage, then set aside everything still alive (see above)."""
    gc.collect()
    gc.freeze()
