"""The audit log's hash chain: sealing entries, checking them, and removing old ones.

The database refuses to change audit entries, but whoever controls the database can switch its
triggers off. The chain makes that visible afterwards: each seal's hash covers its entry's
content and the previous seal's hash, so an entry changed, removed or slipped in after it was
sealed breaks the chain at that point, and `verify` names the first entry where it breaks.

Entries are sealed by a scheduled job rather than as they are written, so the transactions that
write the log never wait for one another; the job seals them in the order it finds them
committed. Retention removes only a prefix of the chain and leaves an anchor (the position and
hash of the last seal it removed) where the rest of the chain starts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dialogs.errors import InvalidRequest
from dialogs.services.audit import AuditAction, AuditLog
from storage.db import lock_for_writing, only_one_at_a_time
from storage.models import AuditAnchor, AuditEntry, AuditPruning, AuditSeal

log = logging.getLogger(__name__)

CHAIN_LOCK_KEY: Final = 0x706F6C_6175  # "pol" "au"
GENESIS: Final = "0" * 64  # what the first seal of a never-pruned chain follows
ALL_SCHOOLS: Final = "*"  # the school of entries about the whole installation's log
SEAL_BATCH: Final = 5000
_WALK_BATCH: Final = 1000
_REMOVE_BATCH: Final = 1000


@dataclass(frozen=True)
class EntryContent:
    """What a seal vouches for: every column of an audit entry, as the database returns it."""

    id: int
    at: datetime
    school_id: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    detail: str


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain; `problem` is written for the person who asked."""

    ok: bool
    checked: int
    first_broken_entry_id: int | None
    problem: str
    unsealed: int


@dataclass(frozen=True)
class _Seal:
    seq: int
    entry_id: int
    prev_hash: str
    hash: str
    entry: EntryContent | None  # None when the sealed entry is no longer there


def seal_hash(prev_hash: str, seq: int, entry: EntryContent) -> str:
    """The hash a seal at `seq` after `prev_hash` must carry for `entry`.

    JSON with sorted keys and no spaces, ASCII only, gives one byte string per content whatever
    the platform or library version; times are UTC with microseconds so a stored time reads
    back to the same text on SQLite and on PostgreSQL.
    """
    payload = {
        "prev_hash": prev_hash,
        "seq": seq,
        "entry_id": entry.id,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "school_id": entry.school_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


# Entries are read column by column, never as ORM objects: an object already in the session
# would be returned as it is in memory, not as it is stored, and the stored row is what counts.
_ENTRY_FIELDS: Final = (
    "id",
    "at",
    "school_id",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "detail",
)


def _entry_columns(prefix: str = "") -> list[Any]:
    return [col(getattr(AuditEntry, name)).label(prefix + name) for name in _ENTRY_FIELDS]


def _content(row: Any, prefix: str = "") -> EntryContent:
    return EntryContent(**{name: getattr(row, prefix + name) for name in _ENTRY_FIELDS})


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


class AuditChain:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    # -- sealing -------------------------------------------------------------------------

    async def seal(self, limit: int = SEAL_BATCH) -> int:
        """Seal up to `limit` unsealed entries, oldest id first; 0 if another process is
        sealing right now (it will have sealed them, or the next run will).

        Two sealers appending at once would both follow the same last seal and fork the chain,
        so only one process seals at a time.
        """
        if not await only_one_at_a_time(self._session, CHAIN_LOCK_KEY):
            return 0
        return await self._seal(limit)

    async def _seal(self, limit: int) -> int:
        seq, prev_hash = await self._head()
        result = await self._session.execute(
            select(*_entry_columns())
            .outerjoin(AuditSeal, col(AuditSeal.entry_id) == col(AuditEntry.id))
            .where(col(AuditSeal.seq).is_(None))
            .order_by(col(AuditEntry.id))
            .limit(limit)
        )
        seals: list[dict[str, Any]] = []
        for row in result.all():
            seq += 1
            entry = _content(row)
            digest = seal_hash(prev_hash, seq, entry)
            seals.append(
                {
                    "seq": seq,
                    "entry_id": entry.id,
                    "prev_hash": prev_hash,
                    "hash": digest,
                    "sealed_at": self._now,
                }
            )
            prev_hash = digest
        if seals:
            await self._session.execute(insert(AuditSeal), seals)
        return len(seals)

    async def _head(self) -> tuple[int, str]:
        """The position and hash the next seal follows: the last seal, or where retention left
        the chain when it removed every seal, or the very start."""
        last = (
            await self._session.execute(
                select(col(AuditSeal.seq), col(AuditSeal.hash))
                .order_by(col(AuditSeal.seq).desc())
                .limit(1)
            )
        ).first()
        if last is not None:
            return last.seq, last.hash
        anchor = await self._latest_anchor()
        if anchor is not None:
            return anchor.removed_through_seq, anchor.last_hash
        return 0, GENESIS

    async def _latest_anchor(self) -> AuditAnchor | None:
        result = await self._session.execute(
            select(AuditAnchor)
            .order_by(col(AuditAnchor.removed_through_seq).desc(), col(AuditAnchor.id).desc())
            .limit(1)
        )
        return result.scalars().first()

    async def _hold_chain(self) -> None:
        """Wait until no other process is sealing or pruning, and keep them out until this
        unit of work ends: a walk that read part of the chain before a prune and the rest
        after it would report a gap that is not there.

        Unlike sealing, checking and pruning must not be skipped, so on PostgreSQL this waits
        for the lock instead of trying it once.
        """
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY}
            )
        else:
            await lock_for_writing(self._session)

    # -- checking ------------------------------------------------------------------------

    async def verify(self) -> Verification:
        """Walk the chain from its start and report the first place it does not hold.

        Entries not sealed yet are counted, not judged: they are sealed within a minute, and
        until then nothing can show whether they were changed.
        """
        await self._hold_chain()
        return await self._verify()

    async def _verify(self) -> Verification:
        unsealed = await self._count_unsealed()
        anchor = await self._latest_anchor()
        start = anchor.removed_through_seq + 1 if anchor else 1
        start_hash = anchor.last_hash if anchor else GENESIS
        checked = 0
        previous: _Seal | None = None
        async for seal in self._walk():
            if previous is None:
                broken = self._check_start(seal, start, start_hash, anchor)
            else:
                broken = self._check_link(seal, previous)
            if broken is None:
                broken = self._check_content(seal)
            if broken is not None:
                entry_id, problem = broken
                return Verification(False, checked, entry_id, problem, unsealed)
            checked += 1
            previous = seal
        return Verification(True, checked, None, "", unsealed)

    async def _count_unsealed(self) -> int:
        result = await self._session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .outerjoin(AuditSeal, col(AuditSeal.entry_id) == col(AuditEntry.id))
            .where(col(AuditSeal.seq).is_(None))
        )
        return int(result.scalar_one())

    async def _walk(self) -> AsyncIterator[_Seal]:
        """Every seal in chain order with its entry as stored now, a batch at a time so a long
        log is never held in memory at once."""
        after = 0
        while True:
            result = await self._session.execute(
                select(
                    col(AuditSeal.seq),
                    col(AuditSeal.entry_id),
                    col(AuditSeal.prev_hash),
                    col(AuditSeal.hash),
                    *_entry_columns("e_"),
                )
                .select_from(AuditSeal)
                .outerjoin(AuditEntry, col(AuditEntry.id) == col(AuditSeal.entry_id))
                .where(col(AuditSeal.seq) > after)
                .order_by(col(AuditSeal.seq))
                .limit(_WALK_BATCH)
            )
            rows = result.all()
            for row in rows:
                entry = _content(row, "e_") if row.e_id is not None else None
                yield _Seal(row.seq, row.entry_id, row.prev_hash, row.hash, entry)
            if len(rows) < _WALK_BATCH:
                return
            after = rows[-1].seq

    def _check_start(
        self, seal: _Seal, start: int, start_hash: str, anchor: AuditAnchor | None
    ) -> tuple[int, str] | None:
        """The first seal must be the first position, or the one just after what retention
        recorded removing, and must follow the hash recorded with it."""
        if seal.seq > start:
            return seal.entry_id, (
                f"The audit log starts at entry #{seal.entry_id} (chain position {seal.seq}), "
                f"but nothing records the removal of positions {start} to {seal.seq - 1}: "
                "entries before it were removed outside retention."
            )
        if seal.seq < start:
            assert anchor is not None
            return seal.entry_id, (
                f"Entry #{seal.entry_id} (chain position {seal.seq}) is in the audit log, but "
                f"retention recorded removing positions up to {anchor.removed_through_seq} "
                f"on {anchor.at:%d/%m/%Y}: entries were put back after they were removed."
            )
        if seal.prev_hash != start_hash:
            where = (
                f"the last entry removed by retention on {anchor.at:%d/%m/%Y}"
                if anchor
                else "the start of the log"
            )
            return seal.entry_id, (
                f"Entry #{seal.entry_id}, the first in the chain, does not follow {where}: "
                "its seal or the start of the chain was altered."
            )
        return None

    def _check_link(self, seal: _Seal, previous: _Seal) -> tuple[int, str] | None:
        """Each seal must be the next position and follow the seal before it."""
        if seal.seq != previous.seq + 1:
            missing = (
                f"position {previous.seq + 1} is"
                if seal.seq == previous.seq + 2
                else f"positions {previous.seq + 1} to {seal.seq - 1} are"
            )
            return seal.entry_id, (
                f"Entries were removed between entry #{previous.entry_id} and entry "
                f"#{seal.entry_id}: chain {missing} missing."
            )
        if seal.prev_hash == previous.hash:
            return None
        if seal.prev_hash == previous.prev_hash:
            # Two seals claiming the same predecessor: the earlier one was slipped in between.
            return previous.entry_id, (
                f"Entry #{previous.entry_id} was inserted into the chain: the entry after it, "
                f"#{seal.entry_id}, was sealed straight after the one before it."
            )
        if seal.entry is not None and seal_hash(seal.prev_hash, seal.seq, seal.entry) == seal.hash:
            # This seal is as it was made, so what it followed has been replaced since.
            return previous.entry_id, (
                f"Entry #{previous.entry_id} or its seal was replaced after it was sealed: "
                f"entry #{seal.entry_id}, sealed after it, no longer follows it."
            )
        return seal.entry_id, (
            f"The seal of entry #{seal.entry_id} was altered: it no longer follows the seal of "
            f"entry #{previous.entry_id} before it."
        )

    @staticmethod
    def _check_content(seal: _Seal) -> tuple[int, str] | None:
        if seal.entry is None:
            return seal.entry_id, (
                f"Entry #{seal.entry_id} was removed after it was sealed (its seal, chain "
                f"position {seal.seq}, is still there)."
            )
        if seal_hash(seal.prev_hash, seal.seq, seal.entry) != seal.hash:
            return seal.entry_id, f"Entry #{seal.entry_id} was changed after it was sealed."
        return None

    # -- retention -----------------------------------------------------------------------

    async def prune(self, before: datetime, actor_id: str) -> int:
        """Remove the sealed entries older than `before` from the start of the chain; returns
        how many went.

        Only a prefix goes, so the rest still verifies from the anchor left behind; the prefix
        stops at the first entry not older than `before`, so nothing newer is ever removed even
        when entries were sealed out of time order. Everything is sealed first, so an entry
        old enough is not kept only because the sealing job had not reached it. A chain that
        does not verify is left alone: removing its start could remove the evidence.
        """
        if before.tzinfo is None:
            raise ValueError("prune needs an aware datetime")
        await self._hold_chain()
        while await self._seal(SEAL_BATCH) == SEAL_BATCH:
            pass
        checked = await self._verify()
        if not checked.ok:
            raise InvalidRequest(
                f"The audit log is not intact, so no entries were removed. {checked.problem}"
            )
        through = await self._prunable_through(before)
        if through is None:
            return 0
        last_hash = (
            await self._session.execute(
                select(col(AuditSeal.hash)).where(col(AuditSeal.seq) == through)
            )
        ).scalar_one()
        # A savepoint: if anything below fails, the flag row goes with it even if the caller
        # carries on and commits, so the triggers are never left open.
        async with self._session.begin_nested():
            flag = AuditPruning()
            self._session.add(flag)
            await self._session.flush()
            removed = await self._remove_through(through)
            await self._session.execute(delete(AuditPruning).where(col(AuditPruning.id) == flag.id))
            self._session.expunge(flag)
            self._session.add(
                AuditAnchor(
                    at=self._now,
                    removed_through_seq=through,
                    last_hash=last_hash,
                    removed=removed,
                    actor_id=actor_id,
                )
            )
        AuditLog(self._session, self._now).record(
            school_id=ALL_SCHOOLS,
            actor_id=actor_id,
            action=AuditAction.AUDIT_PRUNE,
            target_type="audit_log",
            target_id=str(through),
            detail=(
                f"removed {_entries(removed)} older than "
                f"{before.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            ),
        )
        await self._session.flush()
        await self._seal(SEAL_BATCH)  # the record of the removal joins the chain at once
        log.info("audit retention removed %d entries through chain position %d", removed, through)
        return removed

    async def _prunable_through(self, before: datetime) -> int | None:
        """The last position of the longest start of the chain whose entries are all older
        than `before`, or None when there is nothing to remove."""
        first = (await self._session.execute(select(func.min(AuditSeal.seq)))).scalar()
        if first is None:
            return None
        keep_from = (
            await self._session.execute(
                select(func.min(AuditSeal.seq))
                .join(AuditEntry, col(AuditEntry.id) == col(AuditSeal.entry_id))
                .where(col(AuditEntry.at) >= before)
            )
        ).scalar()
        if keep_from is None:
            through = (await self._session.execute(select(func.max(AuditSeal.seq)))).scalar()
        else:
            through = keep_from - 1
        return int(through) if through is not None and through >= first else None

    async def _remove_through(self, through: int) -> int:
        """Delete seals and their entries up to `through`, a batch at a time (seals first: they
        refer to their entries)."""
        removed = 0
        while True:
            ids: Sequence[int] = (
                (
                    await self._session.execute(
                        select(col(AuditSeal.entry_id))
                        .where(col(AuditSeal.seq) <= through)
                        .order_by(col(AuditSeal.seq))
                        .limit(_REMOVE_BATCH)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return removed
            await self._session.execute(
                delete(AuditSeal)
                .where(col(AuditSeal.entry_id).in_(ids))
                .execution_options(synchronize_session=False)
            )
            await self._session.execute(
                delete(AuditEntry)
                .where(col(AuditEntry.id).in_(ids))
                .execution_options(synchronize_session=False)
            )
            removed += len(ids)
