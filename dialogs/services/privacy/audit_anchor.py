"""The audit chain compared with its anchor file, the record of its head kept outside the
database (storage.audit_anchor_file).

A chain that verifies can still have lost its newest entries, removed together with their
seals, or have been rewritten whole by someone holding the key. The anchor file says how far
the chain went and what its head was at each commit, so:

- the chain must reach the newest position the file records (else the newest entries went);
- every position the file records that the chain still holds must carry the hash recorded
  (else the chain was rewritten from there or before);
- every removal by retention the file records must still be recorded in the database, as it
  was made (else the record was replaced, to cover more than retention removed).

A removal the database records and the file does not is not held against the log: several
machines sharing one database each keep a file of their own, and retention may run on any of
them. The file is read a batch of lines at a time, so a long one is never held in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.audit_anchor_file import AnchoredHead, AnchoredRetention, AnchorFile
from storage.models import AuditAnchor, AuditSeal

_BATCH: Final = 1000


@dataclass(frozen=True)
class Compared:
    """What the comparison found: `problem` is None when the chain agrees with the file."""

    problem: str | None = None
    entry_id: int | None = None
    truncated: bool = False
    anchored: int | None = None  # the newest position the file records
    unreadable: int = 0  # lines that could not be read


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%d/%m/%Y %H:%M} UTC"


@dataclass
class _Reading:
    """What the anchor file says, gathered as it is read."""

    newest: AnchoredHead | None = None
    rewritten: tuple[int, int, AnchoredHead] | None = None  # the lowest position that differs
    retentions: list[AnchoredRetention] = field(default_factory=list)
    unreadable: int = 0


async def compare_with_anchor(
    session: AsyncSession, anchor: AnchorFile, upto: int, *, first: int | None, last: int | None
) -> Compared:
    """Compare the chain, which holds positions `first` to `last` (None: it is empty), with
    the anchor file's lines up to byte `upto`."""
    reading = _Reading()
    batch: list[AnchoredHead] = []
    for line in anchor.read(upto) if anchor.path.exists() else ():
        if line is None:
            reading.unreadable += 1
            continue
        if isinstance(line, AnchoredRetention):
            reading.retentions.append(line)
            continue
        if reading.newest is None or line.seq > reading.newest.seq:
            reading.newest = line
        if first is not None and last is not None and first <= line.seq <= last:
            batch.append(line)
        if len(batch) >= _BATCH:
            await _check_heads(session, batch, reading)
            batch = []
    if batch:
        await _check_heads(session, batch, reading)

    anchored = reading.newest.seq if reading.newest else None
    found = Compared(anchored=anchored, unreadable=reading.unreadable)
    newest = reading.newest
    if newest is not None and (last is None or newest.seq > last):
        ends = (
            f"the audit log ends at chain position {last}"
            if last is not None
            else "the audit log is empty"
        )
        return Compared(
            f"The anchor file records chain position {newest.seq}, sealed {_when(newest.at)}, "
            f"but {ends}: the newest entries were removed.",
            None,
            True,
            anchored,
            reading.unreadable,
        )
    if reading.rewritten is not None:
        seq, entry_id, head = reading.rewritten
        return Compared(
            f"Entry #{entry_id} at chain position {seq} is not the one the anchor file "
            f"recorded there on {_when(head.at)}: the chain was rewritten from there or "
            "before.",
            entry_id,
            False,
            anchored,
            reading.unreadable,
        )
    problem = await _compare_removals(session, reading)
    if problem:
        return Compared(problem, None, False, anchored, reading.unreadable)
    return found


async def _check_heads(
    session: AsyncSession, heads: Sequence[AnchoredHead], reading: _Reading
) -> None:
    found = await session.execute(
        select(col(AuditSeal.seq), col(AuditSeal.hash), col(AuditSeal.entry_id)).where(
            col(AuditSeal.seq).in_({head.seq for head in heads})
        )
    )
    stored = {row.seq: row for row in found}
    for head in heads:
        row = stored.get(head.seq)
        if row is None or row.hash == head.hash:
            continue
        if reading.rewritten is None or head.seq < reading.rewritten[0]:
            reading.rewritten = (head.seq, row.entry_id, head)


async def _compare_removals(session: AsyncSession, reading: _Reading) -> str | None:
    if not reading.retentions:
        return None
    records = await session.execute(
        select(
            col(AuditAnchor.removed_through_seq), col(AuditAnchor.last_hash), col(AuditAnchor.mac)
        ).where(col(AuditAnchor.mac).is_not(None))
    )
    in_database = {(r.removed_through_seq, r.last_hash, r.mac) for r in records}
    for line in reading.retentions:
        if (line.through, line.last_hash, line.mac) not in in_database:
            return (
                f"The anchor file records retention removing chain positions up to "
                f"{line.through} on {_when(line.at)}, but the audit log no longer holds that "
                "record: it was removed or replaced."
            )
    return None
