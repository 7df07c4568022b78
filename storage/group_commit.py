"""Journal writes that arrive together share the disk's expensive part (group commit).

An input is acknowledged to the platform only once its journal entry is durable (synced, and
renamed into a folder that is synced, so it survives a power cut: storage.journal). Under a
burst, hundreds of inputs arrive at once; written one by one, each pays its own thread hop,
file, sync and folder sync. Here one writer at a time takes every entry waiting and keeps them
as one batch file (storage.journal_batches: one write, one sync, one folder sync for all), and
only then answers each one's writer, so nobody is answered before their entry is on disk.

The entries of a batch are not then put at their own places: a turn takes its entry from memory,
and the batch stands for it until the turn is saved. Only an entry whose turn does not finish is
written at its place (to wait there for the database, or be set aside: dialogs.inbox), and if the
process stops, the next start puts back every entry its batches hold (Journal.recover_batches).
Placing every entry (a file written and renamed, then removed once its turn was saved) cost a
turn more CPU than keeping the batch, and under a burst it was a quarter of the process's work.

There is no timer: an entry arriving while nothing is being written is written at once, alone,
in its own file, exactly as before. Entries that arrive while a group is being written wait for
it to finish and form the next group. bench/journal.py measures both against the write per
entry.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storage.journal import Entry, Journal, Kept

# An entry waiting to be written: its place, and the future of its writer (answered once the
# entry is durable, and its turn may take it).
_Waiting = tuple[Entry, Path, "asyncio.Future[Path]"]


class GroupCommit:
    """Writes entries to one journal, grouping those that arrive while a write is under way.
    Used from one event loop."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        # A thread of its own for keeping batches: a batch, which acknowledgements wait for,
        # never queues behind other work of the process's shared threads.
        self._keeper = ThreadPoolExecutor(1, thread_name_prefix="journal-keep")

    async def write(self, entry: Entry, path: Path) -> Path:
        """Keep an entry for its place (`Journal.place`), durably: returns once it is on disk
        (alone at that place, or in its group's batch) and its turn may take it, or raises
        what kept it off the disk (then it is not in the journal at all), as `Journal.write`
        does."""
        durable: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, path, durable))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await durable

    async def _write_waiting(self) -> None:
        """Write every entry waiting, a group at a time, until none is left. A group's entries
        are put at their places while the next group is written."""
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                if len(group) == 1:
                    await self._write_alone(group[0])
                else:
                    await self._write_batch(group)
                group = []
        finally:
            # Cancelled (the loop is closing): nobody is left waiting for an answer.
            for _, _, durable in [*group, *self._waiting]:
                _answer(durable, asyncio.CancelledError())
            self._waiting = []

    async def _write_alone(self, waiting: _Waiting) -> None:
        """An entry arriving while nothing is being written: its own file, synced, at once."""
        entry, path, durable = waiting
        try:
            [outcome] = await asyncio.to_thread(self.journal.write_group, [(entry, path)])
        except Exception as exc:  # not a refusal the journal reports: nothing is known to be
            outcome = exc  # on disk, so its writer hears it
        _answer(durable, outcome)

    async def _write_batch(self, group: list[_Waiting]) -> None:
        # Sealed here, on the event loop: it is pure Python work, which a thread would only
        # do while holding the interpreter's lock it would have to win from the loop, entry
        # by entry. The thread does the disk's part, in a handful of system calls.
        outcomes = self.journal.seal([(entry, path) for entry, path, _ in group])
        kept = [outcome for outcome in outcomes if isinstance(outcome, Kept)]
        loop = asyncio.get_running_loop()
        refused: Exception | None
        try:
            refused = await loop.run_in_executor(self._keeper, self.journal.keep_sealed, kept)
        except Exception as exc:  # not a refusal the journal reports: nothing is known to be
            refused = exc  # on disk, so every writer hears it
        if refused is not None:
            outcomes = [refused if isinstance(o, Kept) else o for o in outcomes]
        for (_, _, durable), outcome in zip(group, outcomes, strict=True):
            # Kept: its batch stands for it until its turn is saved.
            _answer(durable, outcome.path if isinstance(outcome, Kept) else outcome)


def _answer(written: asyncio.Future[Path], outcome: Path | BaseException) -> None:
    if written.done():  # its writer stopped waiting (cancelled)
        return
    if isinstance(outcome, asyncio.CancelledError):
        written.cancel()
    elif isinstance(outcome, BaseException):
        written.set_exception(outcome)
    else:
        written.set_result(outcome)
