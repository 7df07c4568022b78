"""Full garbage collections at quiet moments, not in the middle of a burst of requests.

Why: a full (generation 2) collection stops the event loop while it walks every object that
has lived through the younger collections. Start-up's objects are frozen out of it
(bot.warm_start), but under a burst the objects of every input waiting for its turn (its task,
its journal entry, its payload) are walked too: measured under an open-loop burst of 800 Slack
messages a second (bench/README.md, issue 24's fourth round), nine full collections in the burst
and its drain took 13 to 140 ms each (77 ms at the median), and every request arriving during one
waited for it: they were the slowest hundredth of the acknowledgements.

So the interpreter's own trigger for full collections is switched off (its threshold set out
of reach; the young generations are collected exactly as before), and the server runs them
itself: when one is due by the interpreter's own count and nothing is being admitted or waiting
for its turn, or, however busy it is, once `longest_between` seconds have passed with anything
to collect, so memory held by reference cycles stays bounded under a load that never stops.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable

__all__ = ["FullCollections"]

# Out of reach of the count of young collections between two full ones: the interpreter never
# starts a full collection itself while this is set.
_NEVER = 2**30


class FullCollections:
    """Owns the timing of full collections while `run` runs (one per process)."""

    def __init__(
        self,
        busy: Callable[[], bool],
        *,
        check_every: float = 0.25,
        longest_between: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._busy = busy
        self._check_every = check_every
        self._longest_between = longest_between
        self._clock = clock
        self._last = clock()
        # The interpreter's own count of young collections that makes a full one due.
        self._threshold = gc.get_threshold()[2]
        self.collections = 0

    def due(self) -> bool:
        """Whether to collect now. The interpreter's own rule counts younger collections
        since the last full one against the third threshold (10 by default); the same count is
        used here, with the server's quiet as the further condition."""
        young_since = gc.get_count()[2]
        if young_since == 0:
            return False
        if self._clock() - self._last >= self._longest_between:
            return True
        return young_since >= self._threshold and not self._busy()

    def collect(self) -> None:
        gc.collect(2)
        self._last = self._clock()
        self.collections += 1

    async def run(self) -> None:
        """Take the full collections over until cancelled, then give them back."""
        first, second, third = gc.get_threshold()
        gc.set_threshold(first, second, _NEVER)
        try:
            while True:
                await asyncio.sleep(self._check_every)
                if self.due():
                    self.collect()
        finally:
            gc.set_threshold(first, second, third)
