"""The audit log's chain: checking it, and removing its old start under retention.

Entries are sealed in the transaction that writes them (storage.audit_sealing): each seal is an
HMAC, under a key the database does not hold, over its entry and the seal before it. Whoever
controls the database can switch its triggers off, but cannot make a seal: an entry changed,
removed or slipped in after it was sealed breaks the chain at that point, an entry without a
seal was written outside policybot, and `verify` names the first entry where it breaks.
Removing the newest entries together with their seals leaves a shorter chain that is whole;
the anchor file, which keeps the chain's head outside the database, shows that too.

Retention removes only a prefix of the chain, and leaves a record of where the rest starts
(the position and hash of the last seal it removed) sealed with the key. A record of removal
without that seal is not believed, so a row slipped into `audit_pruning` to get past the
triggers no longer hides anything.

Checking and pruning exclude each other (a walk that read part of the chain before a prune and
the rest after it would report a gap that is not there); sealing goes on while the chain is
checked. Whoever takes both locks takes the pruning lock first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dialogs.services.errors import InvalidRequest
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_anchor import compare_with_anchor
from storage.audit_anchor_file import AnchorFile, retention_line
from storage.audit_key import AuditKey
from storage.audit_sealing import (
    GENESIS,
    EntryContent,
    anchor_later,
    content_of,
    entry_columns,
    keying_payload_of,
    keying_rows,
    lock_chain,
    require_sealing,
    retention_payload,
    seal_hash,
    seal_now,
    unkeyed_seal_hash,
    written_by,
)
from storage.db import lock_for_writing
from storage.models import AuditAnchor, AuditEntry, AuditPruning, AuditSeal

__all__ = ["GENESIS", "AuditChain", "EntryContent", "Verification", "seal_hash"]

log = logging.getLogger(__name__)

PRUNE_LOCK_KEY: Final = 0x706F6C_6172  # "pol" "ar": checking (shared) and pruning (alone)
ALL_SCHOOLS: Final = "*"  # the school of entries about the whole installation's log
_WALK_BATCH: Final = 1000
_REMOVE_BATCH: Final = 1000
_ANCHOR_BATCH: Final = 1000


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain; `problem` is written for the person who asked.

    `anchored` is the newest chain position the anchor file records, when one was compared;
    `anchor_unreadable` counts its lines that could not be read.
    """

    ok: bool
    checked: int
    first_broken_entry_id: int | None
    problem: str
    unsealed: int
    anchored: int | None = None
    anchor_unreadable: int = 0


@dataclass(frozen=True)
class _Seal:
    seq: int
    entry_id: int
    prev_hash: str
    hash: str
    entry: EntryContent | None  # None when the sealed entry is no longer there


@dataclass(frozen=True)
class _Start:
    """Where the chain is recorded to start: just after `through`, whose seal's hash was
    `hash`; `removed_on` is the day retention removed it (None: nothing was removed)."""

    through: int
    hash: str
    removed_on: datetime | None


@dataclass(frozen=True)
class _Walked:
    checked: int
    first: int | None  # the first and last chain positions found
    last: int | None


class _Broken(Exception):
    def __init__(self, entry_id: int | None, problem: str) -> None:
        super().__init__(problem)
        self.entry_id = entry_id
        self.problem = problem


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _retention_payload_of(record: Any) -> dict[str, object]:
    return retention_payload(
        through=record.removed_through_seq,
        last_hash=record.last_hash,
        removed=record.removed,
        at=record.at,
        actor_id=record.actor_id,
    )


def _forged_removal(record: Any) -> str:
    return (
        f"The record of removing chain positions up to {record.removed_through_seq} on "
        f"{record.at:%d/%m/%Y} was not made by policybot (it does not carry the audit key's "
        "seal): entries were removed outside retention."
    )


class AuditChain:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    @property
    def _key(self) -> AuditKey:
        return require_sealing(self._session).key

    # -- locks ---------------------------------------------------------------------------

    async def _hold_against_pruning(self) -> None:
        """Keep retention out until this unit of work ends (other checks may run alongside)."""
        if self._postgresql:
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": PRUNE_LOCK_KEY}
            )
        else:
            await lock_for_writing(self._session)

    async def _hold_for_pruning(self) -> None:
        """Wait until nobody else checks or prunes, and keep them out until this unit of work
        ends; on SQLite the write lock does that, and keeps sealers out too."""
        if self._postgresql:
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK_KEY}
            )
        else:
            await lock_for_writing(self._session)

    @property
    def _postgresql(self) -> bool:
        return self._session.get_bind().dialect.name == "postgresql"

    # -- checking ------------------------------------------------------------------------

    async def verify(self, anchor: AnchorFile | None = None) -> Verification:
        """Walk the chain from its start and report the first place it does not hold; with an
        anchor file, also that the chain still reaches, unchanged, every head it records."""
        await self._hold_against_pruning()
        # Read no further in the file than it went before the walk: heads added meanwhile
        # belong to seals the walk may not have reached.
        upto = anchor.size() if anchor is not None else 0
        result, walked = await self._verify()
        if not result.ok or anchor is None:
            return result
        return await self._compare(anchor, upto, result, walked)

    async def _verify(self) -> tuple[Verification, _Walked]:
        key = self._key
        try:
            keyed_from, start = await self._start(key)
        except _Broken as unbelieved:
            refused = Verification(False, 0, unbelieved.entry_id, unbelieved.problem, 0)
            return refused, _Walked(0, None, None)

        def hash_of(seal: _Seal, entry: EntryContent) -> str:
            if keyed_from is not None and seal.seq >= keyed_from:
                return seal_hash(key, seal.prev_hash, seal.seq, entry)
            return unkeyed_seal_hash(seal.prev_hash, seal.seq, entry)

        unsealed = await self._unsealed()
        checked, first, previous = 0, None, None
        async for seal in self._walk():
            if previous is None:
                first = seal.seq
                broken = self._check_start(seal, start)
            else:
                broken = self._check_link(seal, previous, hash_of)
            if broken is None:
                broken = self._check_content(seal, hash_of)
            if broken is not None:
                entry_id, problem = broken
                walked = _Walked(checked, first, seal.seq)
                return Verification(False, checked, entry_id, problem, len(unsealed)), walked
            checked += 1
            previous = seal
        walked = _Walked(checked, first, previous.seq if previous else None)
        if keyed_from is None:
            # Not keyed yet: entries earlier versions had not sealed are sealed with the next
            # entry written, and until then nothing can show whether they were changed.
            return Verification(True, checked, None, "", len(unsealed)), walked
        if previous is None:
            problem = (
                f"The audit log is empty, but it held sealed entries from chain position "
                f"{start.through + 1} on: they were removed outside retention."
            )
            return Verification(False, 0, None, problem, len(unsealed)), walked
        if unsealed:
            problem = (
                f"Entry #{unsealed[0]} has no seal: it was written into the audit log outside "
                "policybot."
            )
            return Verification(False, checked, unsealed[0], problem, len(unsealed)), walked
        return Verification(True, checked, None, "", 0), walked

    async def _start(self, key: AuditKey) -> tuple[int | None, _Start]:
        """Where the keyed chain begins (None: it has not begun) and where the chain starts.

        Once it is keyed, only records sealed with the key count, except the records of
        removals made before it was keyed, which its own record vouches for.
        """
        rows = await self._session.run_sync(keying_rows)
        keying = [row for row in rows if key.made(keying_payload_of(row), row.mac)]
        for row in rows:
            if row not in keying:
                raise _Broken(
                    None,
                    f"The record of where the keyed audit chain begins, dated {row.at:%d/%m/%Y}, "
                    "was not made by policybot (it does not carry the audit key's seal).",
                )
        removals = (
            await self._session.execute(
                select(AuditAnchor.__table__).order_by(  # type: ignore[attr-defined]
                    col(AuditAnchor.removed_through_seq), col(AuditAnchor.id)
                )
            )
        ).all()
        if not keying:
            last = removals[-1] if removals else None
            if last is None:
                return None, _Start(0, GENESIS, None)
            return None, _Start(last.removed_through_seq, last.last_hash, last.at)
        begun = keying[0]
        start = _Start(begun.start_through_seq, begun.start_hash, None)
        for record in removals:
            if record.mac is None:
                if record.removed_through_seq > begun.start_through_seq:
                    raise _Broken(None, _forged_removal(record))
                continue  # made before the key: the record of the beginning covers it
            if not key.made(_retention_payload_of(record), record.mac):
                raise _Broken(None, _forged_removal(record))
            if record.removed_through_seq >= start.through:
                start = _Start(record.removed_through_seq, record.last_hash, record.at)
        return begun.keyed_from_seq, start

    async def _unsealed(self) -> list[int]:
        """Ids of the entries with no seal, oldest first, leaving out this unit of work's own
        (sealed when it commits)."""
        own = written_by(self._session)
        result = await self._session.execute(
            select(col(AuditEntry.id))
            .outerjoin(AuditSeal, col(AuditSeal.entry_id) == col(AuditEntry.id))
            .where(col(AuditSeal.seq).is_(None))
            .order_by(col(AuditEntry.id))
        )
        return [
            entry_id
            for entry_id in result.scalars()
            if entry_id is not None and entry_id not in own
        ]

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
                    *entry_columns("e_"),
                )
                .select_from(AuditSeal)
                .outerjoin(AuditEntry, col(AuditEntry.id) == col(AuditSeal.entry_id))
                .where(col(AuditSeal.seq) > after)
                .order_by(col(AuditSeal.seq))
                .limit(_WALK_BATCH)
            )
            rows = result.all()
            for row in rows:
                entry = content_of(row, "e_") if row.e_id is not None else None
                yield _Seal(row.seq, row.entry_id, row.prev_hash, row.hash, entry)
            if len(rows) < _WALK_BATCH:
                return
            after = rows[-1].seq

    def _check_start(self, seal: _Seal, start: _Start) -> tuple[int, str] | None:
        """The first seal must be the first position, or the one just after what retention
        recorded removing, and must follow the hash recorded with it."""
        expected = start.through + 1
        if seal.seq > expected:
            return seal.entry_id, (
                f"The audit log starts at entry #{seal.entry_id} (chain position {seal.seq}), "
                f"but nothing records the removal of positions {expected} to {seal.seq - 1}: "
                "entries before it were removed outside retention."
            )
        if seal.seq < expected:
            removed_on = start.removed_on or self._now
            return seal.entry_id, (
                f"Entry #{seal.entry_id} (chain position {seal.seq}) is in the audit log, but "
                f"retention recorded removing positions up to {start.through} "
                f"on {removed_on:%d/%m/%Y}: entries were put back after they were removed."
            )
        if seal.prev_hash != start.hash:
            where = (
                f"the last entry removed by retention on {start.removed_on:%d/%m/%Y}"
                if start.removed_on
                else "the start of the log"
            )
            return seal.entry_id, (
                f"Entry #{seal.entry_id}, the first in the chain, does not follow {where}: "
                "its seal or the start of the chain was altered."
            )
        return None

    @staticmethod
    def _check_link(
        seal: _Seal, previous: _Seal, hash_of: Callable[[_Seal, EntryContent], str]
    ) -> tuple[int, str] | None:
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
        if seal.entry is not None and hash_of(seal, seal.entry) == seal.hash:
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
    def _check_content(
        seal: _Seal, hash_of: Callable[[_Seal, EntryContent], str]
    ) -> tuple[int, str] | None:
        if seal.entry is None:
            return seal.entry_id, (
                f"Entry #{seal.entry_id} was removed after it was sealed (its seal, chain "
                f"position {seal.seq}, is still there)."
            )
        if hash_of(seal, seal.entry) != seal.hash:
            return seal.entry_id, f"Entry #{seal.entry_id} was changed after it was sealed."
        return None

    # -- the anchor file -----------------------------------------------------------------

    async def _compare(
        self, anchor: AnchorFile, upto: int, walked_ok: Verification, walked: _Walked
    ) -> Verification:
        """The chain, which verified, against the anchor file (`privacy.audit_anchor`)."""
        compared = await compare_with_anchor(
            self._session, anchor, upto, first=walked.first, last=walked.last
        )
        return Verification(
            compared.problem is None,
            walked_ok.checked if compared.problem is None or compared.truncated else 0,
            compared.entry_id,
            compared.problem or "",
            walked_ok.unsealed,
            compared.anchored,
            compared.unreadable,
        )

    # -- retention -----------------------------------------------------------------------

    async def prune(self, before: datetime, actor_id: str) -> int:
        """Remove the entries older than `before` from the start of the chain; returns how
        many went.

        Only a prefix goes, so the rest still verifies from the record left behind; the prefix
        stops at the first entry not older than `before`, so nothing newer is ever removed even
        when entries were sealed out of time order. The record of the removal is written and
        sealed first, so the newest seal always stays. A chain that does not verify is left
        alone: removing its start could remove the evidence.
        """
        if before.tzinfo is None:
            raise ValueError("prune needs an aware datetime")
        await self._hold_for_pruning()
        checked, _ = await self._verify()
        if not checked.ok:
            raise InvalidRequest(
                f"The audit log is not intact, so no entries were removed. {checked.problem}"
            )
        await self._session.run_sync(lock_chain)  # no seal lands between choosing and removing
        through = await self._prunable_through(before)
        if through is None:
            return 0
        last_hash = (
            await self._session.execute(
                select(col(AuditSeal.hash)).where(col(AuditSeal.seq) == through)
            )
        ).scalar_one()
        removed = int(
            (
                await self._session.execute(
                    select(func.count()).select_from(AuditSeal).where(col(AuditSeal.seq) <= through)
                )
            ).scalar_one()
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
        await seal_now(self._session)
        mac = self._key.mac(
            retention_payload(
                through=through,
                last_hash=last_hash,
                removed=removed,
                at=self._now,
                actor_id=actor_id,
            )
        )
        if self._postgresql:
            await self._session.execute(
                text("SELECT audit_prune(:through, :hash, :removed, :at, :actor, :mac)"),
                {
                    "through": through,
                    "hash": last_hash,
                    "removed": removed,
                    "at": self._now,
                    "actor": actor_id,
                    "mac": mac,
                },
            )
        else:
            await self._remove_on_sqlite(through, last_hash, removed, actor_id, mac)
        anchor_later(
            self._session,
            retention_line(
                through=through, last_hash=last_hash, removed=removed, at=self._now, mac=mac
            ),
        )
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

    async def _remove_on_sqlite(
        self, through: int, last_hash: str, removed: int, actor_id: str, mac: str
    ) -> None:
        """What `audit_prune` does on PostgreSQL. In a savepoint: if anything fails, the flag
        row goes with it even if the caller carries on and commits, so the triggers are never
        left open."""
        async with self._session.begin_nested():
            flag = AuditPruning()
            self._session.add(flag)
            await self._session.flush()
            gone = await self._remove_through(through)
            await self._session.execute(delete(AuditPruning).where(col(AuditPruning.id) == flag.id))
            self._session.expunge(flag)
            if gone != removed:
                raise RuntimeError("the audit chain changed while it was being pruned")
            self._session.add(
                AuditAnchor(
                    at=self._now,
                    removed_through_seq=through,
                    last_hash=last_hash,
                    removed=removed,
                    actor_id=actor_id,
                    mac=mac,
                )
            )

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
