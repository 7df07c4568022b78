"""Ids no other id of this process, nor of another process, has: 32 hex digits.

A random part drawn once per process (and again in a forked child, which would otherwise give
its parent's ids) and a count. A fresh uuid4 for each id asks the kernel for random bytes every
time, and under a burst each such call on the event loop may wait for the interpreter's lock as
it returns: journal names and request ids are made for every message that arrives.
"""

from __future__ import annotations

import itertools
import os
import uuid

__all__ = ["unique_hex"]

_random_part = uuid.uuid4().hex[:16]
_count = itertools.count()


def _draw_again() -> None:
    global _random_part
    _random_part = uuid.uuid4().hex[:16]


os.register_at_fork(after_in_child=_draw_again)


def unique_hex() -> str:
    return f"{_random_part}{next(_count):016x}"
