"""Journal writes that arrive together share the disk's expensive part (group commit).

An input is acknowledged to the platform only once its journal entry is durable: its data
synced, renamed into place, and the folder synced so the rename survives a power cut
(storage.journal). Under a burst, hundreds of inputs arrive at once; written one by one, each
pays its own hop to a thread and its own folder sync. Here one writer at a time takes every
entry waiting, writes them as one group (`Journal.write_group`: one folder sync for all), and
only then answers each one's writer, so nobody is answered before their entry is on disk.

There is no timer: an entry arriving while nothing is being written is written at once, alone,
exactly as before. Entries that arrive while a group is being written wait for it to finish and
form the next group. bench/journal.py measures both against the write per entry.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.journal import Entry, Journal

_Waiting = tuple[Entry, Path, "asyncio.Future[Path]"]


class GroupCommit:
    """Writes entries to one journal, grouping those that arrive while a write is under way.
    Used from one event loop."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, entry: Entry, path: Path) -> Path:
        """Keep an entry at its place (`Journal.place`), durably: returns once it is on disk,
        or raises what kept it off the disk (then it is not in the journal at all), as
        `Journal.write` does."""
        written: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, path, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await written

    async def _write_waiting(self) -> None:
        """Write every entry waiting, a group at a time, until none is left."""
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    outcomes = await asyncio.to_thread(
                        self.journal.write_group, [(entry, path) for entry, path, _ in group]
                    )
                except Exception as exc:  # not a refusal the group reports: nothing is known
                    outcomes = [exc] * len(group)  # to be on disk, so every writer hears it
                for (_, _, written), outcome in zip(group, outcomes, strict=True):
                    _answer(written, outcome)
                group = []
        finally:
            # Cancelled (the loop is closing): nobody is left waiting for an answer.
            for _, _, written in [*group, *self._waiting]:
                _answer(written, asyncio.CancelledError())
            self._waiting = []


def _answer(written: asyncio.Future[Path], outcome: Path | BaseException) -> None:
    if written.done():  # its writer stopped waiting (cancelled)
        return
    if isinstance(outcome, asyncio.CancelledError):
        written.cancel()
    elif isinstance(outcome, BaseException):
        written.set_exception(outcome)
    else:
        written.set_result(outcome)
