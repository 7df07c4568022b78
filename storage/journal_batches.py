"""A burst of journal entries made durable by one file and one sync (storage.journal).

An input is acknowledged only once it is durable. Kept file by file, each entry costs its own
open, write, sync, rename and close, and under a burst those add up to seconds: measured with
the 10x burst of bench/turns.py, a group of 500 entries took the journal's writer 1.5 s (0.85 ms
of its CPU each, with or without the syncs, as the event loop and the load share the cores), and
every acknowledgement in the group waited for all of it.

So a group is first written as one batch file: every entry's bytes, exactly as its own file
will hold them, behind its name, synced and renamed into place, and its folder synced. That is
when the writers hear back. A running server's turns take the entries from memory while the
batch stands for them (storage.group_commit); an entry is put at its own place only when its
turn cannot finish or it is rewritten (synced on its own then), or by `write_group`, which puts
each entry at its place (written and renamed, not synced) straight away. The batch file stays
until every entry it holds is done, set aside, or rewritten, and is then deleted.

If the process stops in between, an entry's own file may be missing, or (after a power cut)
empty or torn. Whoever opens the journal next puts every entry of a batch left by a process that
has gone back at its place, synced, and only then deletes the batch. An entry that had in fact
been taken comes back too, and is taken again: its delivery id makes that a no-op, exactly as
when a removal (`Journal.done`, not synced) is lost in a crash.

A batch file: `pbj-batch1\\n`, then for each entry its name and its bytes, each preceded by its
length (4 bytes, big-endian).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

BATCH_SUFFIX = ".batch"
_MAGIC = b"pbj-batch1\n"
_LENGTH = struct.Struct(">I")


def encode_batch(records: Sequence[tuple[str, bytes]]) -> bytes:
    """The batch file's bytes for (entry name, entry file bytes) pairs."""
    parts = [_MAGIC]
    for name, data in records:
        raw_name = name.encode("ascii")
        parts += [_LENGTH.pack(len(raw_name)), raw_name, _LENGTH.pack(len(data)), data]
    return b"".join(parts)


def decode_batch(data: bytes) -> list[tuple[str, bytes]]:
    """The (entry name, entry file bytes) pairs of a batch file; ValueError if it is not one
    or is cut short (a batch is renamed into place only once synced, so a damaged one is the
    disk's doing)."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a journal batch")
    records: list[tuple[str, bytes]] = []
    at = len(_MAGIC)
    while at < len(data):
        name, at = _field(data, at)
        body, at = _field(data, at)
        decoded = name.decode("ascii")
        if "/" in decoded or decoded.startswith("."):
            raise ValueError("a journal batch names a place outside its folder")
        records.append((decoded, body))
    return records


def _field(data: bytes, at: int) -> tuple[bytes, int]:
    if at + _LENGTH.size > len(data):
        raise ValueError("a journal batch is cut short")
    (length,) = _LENGTH.unpack_from(data, at)
    start = at + _LENGTH.size
    if start + length > len(data):
        raise ValueError("a journal batch is cut short")
    return data[start : start + length], start + length


class Coverage:
    """This process's batch files, and the entries each still stands for (entries whose own
    files are not synced). Changed from the journal's writer threads and the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch_of: dict[str, Path] = {}
        self._left: dict[Path, set[str]] = {}

    def cover(self, batch: Path, names: Iterable[str]) -> None:
        with self._lock:
            left = self._left.setdefault(batch, set())
            for name in names:
                left.add(name)
                self._batch_of[name] = batch
            if not left:
                del self._left[batch]

    def release(self, names: Iterable[str]) -> list[Path]:
        """The entries no longer need their batch (gone, or synced on their own): the
        batches now standing for nothing, to delete."""
        emptied: list[Path] = []
        with self._lock:
            if not self._batch_of:
                return emptied
            for name in names:
                batch = self._batch_of.pop(name, None)
                if batch is None:
                    continue
                left = self._left.get(batch)
                if left is None:
                    continue
                left.discard(name)
                if not left:
                    del self._left[batch]
                    emptied.append(batch)
        return emptied

    def covers(self, name: str) -> bool:
        """Whether a batch of this process still stands for the entry."""
        with self._lock:
            return name in self._batch_of

    def names(self) -> list[str]:
        """Every entry a batch of this process still stands for."""
        with self._lock:
            return list(self._batch_of)

    def tracks(self, batch: Path) -> bool:
        with self._lock:
            return batch in self._left
