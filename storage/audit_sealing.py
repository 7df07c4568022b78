"""Sealing audit entries in the transaction that writes them.

Every session on a database that has the audit key (storage.db.Database) seals, just before it
commits, the audit entries it wrote: each gets the next position in the chain and an HMAC over
its content and the hash of the seal before it. An entry and its seal land together or not at
all, so there is never an unsealed entry to slip past, and an entry without a seal can only
have been written by someone other than policybot.

Two transactions sealing at once would both follow the same head and fork the chain, so the
chain is locked from reading its head until the commit: on PostgreSQL with a transaction-level
advisory lock, which the next sealer waits for (then, under READ COMMITTED, it reads the head
the first one committed); on SQLite by the write lock, which a transaction that wrote an entry
already holds. Transactions that write the log therefore commit one at a time; the lock is
held only for the sealing and the commit itself.

Once the transaction has committed, the new head goes to the anchor file, outside the database
(storage.audit_anchor_file).

The first transaction to seal with a key records where the keyed chain begins (AuditKeying):
seals before it are the SHA-256 seals of earlier versions, and entries an earlier version had
not sealed yet are sealed then, with the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.pool import NullPool
from sqlmodel import col

from storage.audit_anchor_file import AnchorFile, head_line
from storage.audit_key import AuditKey, canonical
from storage.models import AuditAnchor, AuditEntry, AuditKeying, AuditSeal
from storage.urls import sync_url

SEALING_ATTRIBUTE: Final = "policybot_audit_sealing"
CHAIN_LOCK_KEY: Final = 0x706F6C_6175  # "pol" "au": whoever appends to the chain
GENESIS: Final = "0" * 64  # what the first seal of a never-pruned chain follows
_WRITTEN: Final = "policybot_audit_written"  # ids of the entries this transaction wrote
_HEAD: Final = "policybot_audit_head"  # the head this transaction's last seal made
_ANCHOR_LINES: Final = "policybot_audit_anchor_lines"  # other lines for the anchor file
_KEYED: Final = "policybot_audit_keyed"  # this transaction found the keyed chain begun
_IDS_PER_QUERY: Final = 500


class NoAuditKey(RuntimeError):
    """An audit entry was written through a database without the audit key: it could never be
    sealed, and would be reported as written outside policybot."""


class OtherAuditKey(RuntimeError):
    """The chain is sealed with a key other than the configured one."""

    def __init__(self, key_ids: Sequence[str], configured: str) -> None:
        named = ", ".join(sorted(set(key_ids)))
        super().__init__(
            f"The audit log is sealed with another key (key id {named}) than the one configured "
            f"(key id {configured}): set POLICYBOT_AUDIT_KEY, or POLICYBOT_AUDIT_KEY_FILE, to "
            "the key the log was sealed with."
        )


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


ENTRY_FIELDS: Final = tuple(EntryContent.__dataclass_fields__)


def entry_columns(prefix: str = "") -> list[Any]:
    """Entries are read column by column, never as ORM objects: an object already in the
    session would be returned as it is in memory, not as it is stored, and the stored row is
    what counts."""
    return [col(getattr(AuditEntry, name)).label(prefix + name) for name in ENTRY_FIELDS]


def content_of(row: Any, prefix: str = "") -> EntryContent:
    return EntryContent(**{name: getattr(row, prefix + name) for name in ENTRY_FIELDS})


def utc_text(at: datetime) -> str:
    """Times as UTC with microseconds, so a stored time reads back to the same text on SQLite
    and on PostgreSQL."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def seal_payload(prev_hash: str, seq: int, entry: EntryContent) -> dict[str, object]:
    return {
        "prev_hash": prev_hash,
        "seq": seq,
        "entry_id": entry.id,
        "at": utc_text(entry.at),
        "school_id": entry.school_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
    }


def seal_hash(key: AuditKey, prev_hash: str, seq: int, entry: EntryContent) -> str:
    """The hash a seal at `seq` after `prev_hash` must carry for `entry`: HMAC-SHA256 under the
    audit key of the documented encoding (storage.audit_key.canonical)."""
    return key.mac(seal_payload(prev_hash, seq, entry))


def unkeyed_seal_hash(prev_hash: str, seq: int, entry: EntryContent) -> str:
    """The seals of versions before the key: SHA-256 of the same encoding."""
    return hashlib.sha256(canonical(seal_payload(prev_hash, seq, entry))).hexdigest()


def keying_payload(
    *, keyed_from_seq: int, start_through_seq: int, start_hash: str, key_id: str, at: datetime
) -> dict[str, object]:
    return {
        "kind": "keying",
        "keyed_from_seq": keyed_from_seq,
        "start_through_seq": start_through_seq,
        "start_hash": start_hash,
        "key_id": key_id,
        "at": utc_text(at),
    }


def retention_payload(
    *, through: int, last_hash: str, removed: int, at: datetime, actor_id: str
) -> dict[str, object]:
    """What a record of removal vouches for: which positions went (up to `through`, `removed`
    of them) and the hash the rest of the chain continues from."""
    return {
        "kind": "retention",
        "removed_through_seq": through,
        "last_hash": last_hash,
        "removed": removed,
        "at": utc_text(at),
        "actor_id": actor_id,
    }


@dataclass
class AuditSealing:
    """What a database needs to seal its audit entries: the key, where heads are anchored
    (None: nowhere), and the clock that times the seals.

    `keyed` is set once a committed transaction has found the keyed chain begun with this
    key: that record is never removed by policybot, so it is not looked for again.
    """

    key: AuditKey
    anchor: AnchorFile | None
    clock: Callable[[], datetime]
    keyed: bool = field(default=False, compare=False)


def attach(engine: Engine, sealing: AuditSealing) -> None:
    """Sessions on `engine` seal what they write with `sealing` from now on."""
    setattr(engine, SEALING_ATTRIBUTE, sealing)


def sealing_of(session: Session | AsyncSession) -> AuditSealing | None:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    bind = sync.bind
    engine = bind.engine if isinstance(bind, Connection) else bind
    found = getattr(engine, SEALING_ATTRIBUTE, None)
    return found if isinstance(found, AuditSealing) else None


def require_sealing(session: Session | AsyncSession) -> AuditSealing:
    sealing = sealing_of(session)
    if sealing is None:
        raise NoAuditKey("this database has no audit key, so audit entries cannot be sealed")
    return sealing


# -- the chain, as sealing needs it --------------------------------------------------------


def lock_chain(session: Session) -> None:
    """Keep other sealers out until this transaction ends (see the module's docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def _head(session: Session) -> tuple[int, str]:
    """The position and hash the next seal follows: the last seal, or, when there is none,
    where the chain was last recorded to start, or the very start."""
    last = session.execute(
        select(col(AuditSeal.seq), col(AuditSeal.hash)).order_by(col(AuditSeal.seq).desc()).limit(1)
    ).first()
    if last is not None:
        return int(last.seq), str(last.hash)
    starts: list[tuple[int, str]] = [(0, GENESIS)]
    starts += [
        (int(r.removed_through_seq), str(r.last_hash))
        for r in session.execute(
            select(col(AuditAnchor.removed_through_seq), col(AuditAnchor.last_hash))
            .order_by(col(AuditAnchor.removed_through_seq).desc())
            .limit(1)
        )
    ]
    starts += [
        (int(r.start_through_seq), str(r.start_hash))
        for r in session.execute(
            select(col(AuditKeying.start_through_seq), col(AuditKeying.start_hash))
        )
    ]
    return max(starts, key=lambda start: start[0])


def _keyed_already(session: Session | Connection, key: AuditKey) -> bool:
    """Whether the chain's keyed part has begun, with this key; raises OtherAuditKey if it
    began with another. A row this key did not seal is not taken as the beginning."""
    rows = keying_rows(session)
    if not rows:
        return False
    if any(key.made(keying_payload_of(row), row.mac) for row in rows):
        return True
    raise OtherAuditKey([row.key_id for row in rows], key.key_id)


def refuse_another_key(url: str, key: AuditKey) -> None:
    """Raise OtherAuditKey if the database's audit log is sealed with a key other than `key`:
    checked at start-up, before anything is written."""
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _keyed_already(connection, key)
    finally:
        engine.dispose()


def keying_rows(session: Session | Connection) -> list[Any]:
    """Every row of audit_keying, read as stored (there is one, unless someone added more)."""
    return list(
        session.execute(
            select(
                col(AuditKeying.id),
                col(AuditKeying.at),
                col(AuditKeying.keyed_from_seq),
                col(AuditKeying.start_through_seq),
                col(AuditKeying.start_hash),
                col(AuditKeying.key_id),
                col(AuditKeying.mac),
            ).order_by(col(AuditKeying.id))
        ).all()
    )


def keying_payload_of(row: Any) -> dict[str, object]:
    return keying_payload(
        keyed_from_seq=row.keyed_from_seq,
        start_through_seq=row.start_through_seq,
        start_hash=row.start_hash,
        key_id=row.key_id,
        at=row.at,
    )


def _begin_keyed_chain(session: Session, sealing: AuditSealing) -> None:
    """Record, under the key, where the keyed chain begins and where the chain starts: from
    here on, a record of removal without the key's seal is not believed."""
    legacy_start = session.execute(
        select(col(AuditAnchor.removed_through_seq), col(AuditAnchor.last_hash))
        .order_by(col(AuditAnchor.removed_through_seq).desc())
        .limit(1)
    ).first()
    start = (legacy_start.removed_through_seq, legacy_start.last_hash) if legacy_start else None
    start_through, start_hash = start or (0, GENESIS)
    seq, _ = _head(session)
    now = sealing.clock()
    payload = keying_payload(
        keyed_from_seq=seq + 1,
        start_through_seq=start_through,
        start_hash=start_hash,
        key_id=sealing.key.key_id,
        at=now,
    )
    session.execute(
        insert(AuditKeying).values(
            at=now,
            keyed_from_seq=seq + 1,
            start_through_seq=start_through,
            start_hash=start_hash,
            key_id=sealing.key.key_id,
            mac=sealing.key.mac(payload),
        )
    )


def _unsealed(session: Session, ids: Sequence[int] | None) -> list[EntryContent]:
    """The entries among `ids` (every entry, for None) that have no seal, as stored."""
    query = (
        select(*entry_columns())
        .outerjoin(AuditSeal, col(AuditSeal.entry_id) == col(AuditEntry.id))
        .where(col(AuditSeal.seq).is_(None))
    )
    if ids is None:
        return [content_of(row) for row in session.execute(query.order_by(col(AuditEntry.id)))]
    found: list[EntryContent] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        chunk = ordered[start : start + _IDS_PER_QUERY]
        found += [
            content_of(row) for row in session.execute(query.where(col(AuditEntry.id).in_(chunk)))
        ]
    return sorted(found, key=lambda entry: entry.id)


def seal_written(session: Session) -> int:
    """Seal the entries this transaction wrote that have no seal yet, oldest id first; returns
    how many. The chain stays locked until the transaction ends."""
    written: set[int] = session.info.get(_WRITTEN, set())
    if not written:
        return 0
    sealing = require_sealing(session)
    # Read before the lock, to hold it for as short a time as can be: nobody else seals these.
    entries = _unsealed(session, list(written))
    if not entries:
        return 0
    lock_chain(session)
    if not sealing.keyed:
        if _keyed_already(session, sealing.key):
            session.info[_KEYED] = True
        else:
            _begin_keyed_chain(session, sealing)
            # What earlier versions left unsealed is sealed with the first keyed seals.
            entries = _unsealed(session, None)
    seq, prev_hash = _head(session)
    now = sealing.clock()
    seals: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        digest = seal_hash(sealing.key, prev_hash, seq, entry)
        seals.append(
            {
                "seq": seq,
                "entry_id": entry.id,
                "prev_hash": prev_hash,
                "hash": digest,
                "sealed_at": now,
            }
        )
        prev_hash = digest
    session.execute(insert(AuditSeal), seals)
    session.info[_HEAD] = head_line(seq, prev_hash, now)
    return len(seals)


async def seal_now(session: AsyncSession) -> int:
    """Seal what this transaction has written so far, before it goes on (it would be sealed at
    the commit anyway): for work that needs its own entry in the chain first."""
    await session.flush()
    return await session.run_sync(seal_written)


def anchor_later(session: AsyncSession, line: dict[str, object]) -> None:
    """Append `line` to the anchor file once this transaction has committed."""
    session.sync_session.info.setdefault(_ANCHOR_LINES, []).append(line)


def written_by(session: AsyncSession) -> frozenset[int]:
    """The ids of the audit entries this transaction wrote (sealed or not yet)."""
    return frozenset(session.sync_session.info.get(_WRITTEN, ()))


# -- the session's events --------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_what_cannot_be_sealed(session: Session, _context: UOWTransaction, _: Any) -> None:
    if any(isinstance(o, AuditEntry) for o in session.new):
        require_sealing(session)


@event.listens_for(Session, "after_flush")
def _note_written(session: Session, _context: UOWTransaction) -> None:
    ids = {o.id for o in session.new if isinstance(o, AuditEntry) and o.id is not None}
    if ids:
        session.info.setdefault(_WRITTEN, set()).update(ids)


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its entries are sealed when the whole transaction commits
    session.flush()
    seal_written(session)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    head = session.info.pop(_HEAD, None)
    lines = [*session.info.pop(_ANCHOR_LINES, []), *([head] if head else [])]
    sealing = sealing_of(session)
    if sealing is not None and session.info.pop(_KEYED, False):
        sealing.keyed = True
    if lines and sealing is not None and sealing.anchor is not None:
        sealing.anchor.append(lines)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        for name in (_WRITTEN, _HEAD, _ANCHOR_LINES, _KEYED):
            session.info.pop(name, None)
