"""Moving everything encrypted at rest onto the current key, and telling when an old key is unused.

A key is replaced when it may have leaked, or because policy says so. The old key must stay
configured (POLICYBOT_PREVIOUS_KEYS) until nothing it encrypted is left, or that text and those
files could no longer be read; `rotate` rewrites every encrypted value and evidence file under
the current key (encrypting what was stored before any key was set), and `status` counts what
each key still covers, so an administrator knows when the old one can go.

Rotation works in batches, each its own transaction, so a large installation is never locked for
long and an interrupted run can simply be started again. Values are read and written as the
stored text (never decrypted into the ORM), and written back only if they are unchanged since
they were read, so nothing the bot writes meanwhile is overwritten (a changed row is read again
and rotated again, as the bot rewrites only the columns it changes). Evidence files are never
changed in place: a copy is written under the current key, the database row is pointed at it,
and the old file is deleted only after that is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, Table, Text, literal, select, type_coerce, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from dialogs.services.errors import ConfigError
from dialogs.services.privacy.audit import AuditAction, AuditLog
from storage.blobstore import BlobCorrupted, RotatingBlobStore
from storage.crypto import MARK, KeyMissing, Keyring, is_encrypted
from storage.models import Evidence
from storage.types import EncryptedJSON, EncryptedText, keyring_of, utcnow

# Keys belong to the installation, not to a school: without a list of schools, the audit entry
# is recorded under this.
ALL_SCHOOLS = "*"
_ATTEMPTS = 5  # rewrites of one row the bot keeps changing, before giving up on this run
NO_KEY = (
    "No key is configured: set POLICYBOT_EVIDENCE_KEY (and the key it replaces in "
    "POLICYBOT_PREVIOUS_KEYS) before rotating."
)


@dataclass(frozen=True)
class EncryptedColumns:
    """A table with text encrypted at rest, and the key its rows are visited in order of."""

    table: Table
    key: Column[Any]
    columns: tuple[Column[Any], ...]


def encrypted_columns() -> list[EncryptedColumns]:
    """Found from the models, so a column encrypted later is rotated without changing this."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        columns = tuple(
            c for c in table.columns if isinstance(c.type, EncryptedText | EncryptedJSON)
        )
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            raise TypeError(f"{table.name}: rotation needs a single-column primary key")
        found.append(EncryptedColumns(table=table, key=keys[0], columns=columns))
    return found


@dataclass
class RotationResult:
    values_encrypted: int = 0  # stored plain before a key was set, now encrypted
    values_rotated: int = 0  # encrypted before, now under the current key
    values_unreadable: int = 0  # no configured key reads them: left as they are
    files_encrypted: int = 0
    files_rotated: int = 0
    files_current: int = 0  # already under the current key: left alone
    files_unreadable: int = 0  # missing, or no configured key reads them

    @property
    def complete(self) -> bool:
        """Everything is under the current key; the previous keys are no longer needed."""
        return not (self.values_unreadable or self.files_unreadable)

    def summary(self) -> str:
        """Counts only, never contents: this goes into the audit log."""
        return (
            f"values: {self.values_rotated} rotated, {self.values_encrypted} encrypted, "
            f"{self.values_unreadable} unreadable; files: {self.files_rotated} rotated, "
            f"{self.files_encrypted} encrypted, {self.files_current} already current, "
            f"{self.files_unreadable} unreadable"
        )


def _evidence_table() -> Table:
    return SQLModel.metadata.tables[str(Evidence.__tablename__)]


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


async def _page(
    session: AsyncSession, key: Column[Any], columns: Sequence[Any], after: Any, size: int
) -> list[Any]:
    query = select(key, *columns).order_by(key).limit(size)
    if after is not None:
        query = query.where(key > after)
    return list((await session.execute(query)).all())


def _raw(column: Column[Any]) -> Any:
    """The column as stored: its type's decryption is bypassed."""
    return type_coerce(column, Text)


async def _rotate_row(
    session: AsyncSession,
    keyring: Keyring,
    found: EncryptedColumns,
    row: Sequence[Any],
    tally: RotationResult,
) -> None:
    """Rewrite one row's values, only if they are still what was read.

    A row the bot changed meanwhile is read again and retried: the bot rewrites only the
    columns it changes, so the others may still be under an old key.
    """
    raw = [_raw(c) for c in found.columns]
    for _ in range(_ATTEMPTS):
        changes: dict[Column[Any], tuple[str, str]] = {}
        unreadable = 0
        for column, stored in zip(found.columns, row[1:], strict=True):
            if stored is None:
                continue
            try:
                changes[column] = (stored, keyring.rotate(stored))
            except (InvalidToken, KeyMissing):
                unreadable += 1
        done = not changes
        if changes:
            statement = (
                update(found.table)
                .where(found.key == row[0])
                .where(*[_raw(c) == old for c, (old, _) in changes.items()])
                .values({c.name: literal(new, Text) for c, (_, new) in changes.items()})
            )
            done = _rowcount(await session.execute(statement)) == 1
        if done:
            tally.values_unreadable += unreadable
            for old, _ in changes.values():
                if is_encrypted(old):
                    tally.values_rotated += 1
                else:
                    tally.values_encrypted += 1
            return
        again = (await session.execute(select(found.key, *raw).where(found.key == row[0]))).first()
        if again is None:
            return  # deleted meanwhile: nothing left to rotate
        row = again
    raise RuntimeError(f"a row of {found.table.name} kept changing while it was rotated; run again")


async def _rotate_table(
    session: AsyncSession,
    keyring: Keyring,
    found: EncryptedColumns,
    size: int,
    tally: RotationResult,
) -> None:
    after: Any = None
    while rows := await _page(session, found.key, [_raw(c) for c in found.columns], after, size):
        for row in rows:
            await _rotate_row(session, keyring, found, row, tally)
        await session.commit()
        after = rows[-1][0]


async def _rotate_files(
    session: AsyncSession, blobs: RotatingBlobStore, size: int, tally: RotationResult
) -> None:
    table = _evidence_table()
    key, stored_name, encrypted = table.c.id, table.c.stored_name, table.c.encrypted
    after: Any = None
    while rows := await _page(session, key, [stored_name, encrypted], after, size):
        # The copies are written before anything in the database is: a transaction that writes
        # holds SQLite's write lock, and the bot must not wait while files are re-encrypted.
        copies: list[tuple[Any, str, bool, str]] = []
        for evidence_id, name, was_encrypted in rows:
            try:
                copy = await blobs.rotate(name, encrypted=was_encrypted)
            except (BlobCorrupted, FileNotFoundError):
                tally.files_unreadable += 1
                continue
            if copy is None:
                tally.files_current += 1
            else:
                copies.append((evidence_id, name, was_encrypted, copy))
        superseded: list[str] = []
        unneeded: list[str] = []
        for evidence_id, name, was_encrypted, copy in copies:
            moved = await session.execute(
                update(table)
                .where(key == evidence_id, stored_name == name, encrypted == was_encrypted)
                .values(stored_name=copy, encrypted=True)
            )
            if _rowcount(moved) != 1:
                unneeded.append(copy)  # discarded or changed meanwhile: nothing points at it
                continue
            superseded.append(name)
            if was_encrypted:
                tally.files_rotated += 1
            else:
                tally.files_encrypted += 1
        # If this fails the copies are left behind unreferenced (they are encrypted under the
        # current key); deleting them could lose evidence if the commit landed after all.
        await session.commit()
        for name in [*superseded, *unneeded]:
            await blobs.delete(name)
        after = rows[-1][0]


async def rotate(
    session: AsyncSession,
    blobs: RotatingBlobStore,
    *,
    batch: int = 500,
    school_ids: Sequence[str] = (),
    actor_id: str = "command-line",
) -> RotationResult:
    """Rewrite every encrypted value and evidence file under the current key.

    The session must not be inside a transaction: each batch is committed as it is done, so
    an interrupted run keeps what it did, and running it again finishes the rest (values it
    already rewrote are rewritten again, which is harmless; files already under the current
    key are left alone). Values or files that no configured key reads are counted and left
    as they are: a key they need is missing, and rotation must not lose them.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if session.in_transaction():
        raise ValueError("rotate commits batch by batch: give it a session outside a transaction")
    keyring = keyring_of(session.get_bind().dialect)
    if keyring is None or not blobs.encrypts:
        raise ConfigError(NO_KEY)
    tally = RotationResult()
    for found in encrypted_columns():
        await _rotate_table(session, keyring, found, batch, tally)
    await _rotate_files(session, blobs, batch, tally)
    audit = AuditLog(session, utcnow())
    for school_id in school_ids or [ALL_SCHOOLS]:
        audit.record(
            school_id=school_id,
            actor_id=actor_id,
            action=AuditAction.KEYS_ROTATE,
            target_type="keys",
            target_id="encryption",
            detail=tally.summary(),
        )
    await session.commit()
    return tally


@dataclass
class KeyCounts:
    """Where a kind of stored thing stands: an older key can go once `older` is 0 everywhere."""

    plain: int = 0
    current: int = 0
    older: int = 0
    unreadable: int = 0  # no configured key reads it
    missing: int = 0  # files only: the database names a file that is not there

    @property
    def total(self) -> int:
        return self.plain + self.current + self.older + self.unreadable + self.missing


@dataclass
class KeyStatus:
    keys: int
    values: KeyCounts = field(default_factory=KeyCounts)
    files: KeyCounts = field(default_factory=KeyCounts)

    @property
    def older_key_needed(self) -> bool:
        return bool(self.values.older or self.files.older)


def _which_key(stored: str, fernets: Sequence[Fernet]) -> int | None:
    """The index of the key a value is under, or None when none of them is."""
    try:
        token = stored[len(MARK) :].encode("ascii")
    except UnicodeEncodeError:
        return None
    for index, fernet in enumerate(fernets):
        try:
            fernet.extract_timestamp(token)  # checks the authentication tag; decrypts nothing
        except InvalidToken:
            continue
        return index
    return None


def _count(counts: KeyCounts, index: int | None) -> None:
    if index is None:
        counts.unreadable += 1
    elif index == 0:
        counts.current += 1
    else:
        counts.older += 1


async def status(
    session: AsyncSession, blobs: RotatingBlobStore, keys: Sequence[bytes], *, batch: int = 500
) -> KeyStatus:
    """Count, for values and files, how many are plain, under the current key (the first of
    `keys`), under an older one, or readable by none; reads only, in pages."""
    fernets = [Fernet(k) for k in keys]
    found = KeyStatus(keys=len(keys))
    for table in encrypted_columns():
        after: Any = None
        raw = [_raw(c) for c in table.columns]
        while rows := await _page(session, table.key, raw, after, batch):
            for row in rows:
                for stored in row[1:]:
                    if stored is None:
                        continue
                    if not is_encrypted(stored):
                        found.values.plain += 1
                    else:
                        _count(found.values, _which_key(stored, fernets))
            after = rows[-1][0]
    evidence = _evidence_table()
    after = None
    columns = [evidence.c.stored_name, evidence.c.encrypted]
    while rows := await _page(session, evidence.c.id, columns, after, batch):
        for _, name, encrypted in rows:
            try:
                index = await blobs.key_of(name, encrypted=encrypted)
            except BlobCorrupted:
                found.files.unreadable += 1
            except FileNotFoundError:
                found.files.missing += 1
            else:
                if encrypted:
                    _count(found.files, index)
                else:
                    found.files.plain += 1
        after = rows[-1][0]
    return found
