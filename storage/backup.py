"""Taking a backup of a whole installation, and restoring one into an empty installation.

A backup is one archive (storage.backup_archive): every table's rows in a form any of our
databases reads (storage.backup_database), every evidence file exactly as stored, and a manifest
of hashes. What is encrypted stays encrypted and the archive holds no key: the manifest names the
keys that encrypted things by their ids only, so a restore can say which key is missing before
it writes anything, and the keys are backed up apart from the archive.

A restore checks everything it can before it writes anything: the archive against its manifest,
the schema revision against this version's, the configured keys against the ones the backup
needs, and that the installation is empty. It then writes every row and every file in one
transaction, which a failure takes back whole (with the files it had written).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from storage.backup_archive import (
    EVIDENCE,
    ArchiveReader,
    ArchiveRejected,
    ArchiveWriter,
    Manifest,
    TableInfo,
    evidence_member,
    table_member,
    verified,
    verify_counts,
)
from storage.backup_database import (
    clear,
    data_tables,
    dump_table,
    load_rows,
    lock_for_restore,
    reset_sequences,
    schema_revision,
    snapshot,
    tables_with_rows,
)
from storage.blobstore import ArchivableBlobStore
from storage.crypto import MARK, is_encrypted, key_id, key_index
from storage.models import AuditKeying, Evidence

UNKNOWN_KEY: Final = "unknown"


class Refusal(StrEnum):
    ARCHIVE = "archive"  # the archive is not as its manifest says
    NOT_EMPTY = "not_empty"  # the installation has data, and --replace was not given
    REVISION = "revision"  # the backup's schema, the code's and the database's differ
    KEYS = "keys"  # a key the backup needs is not configured


class RestoreRefused(Exception):
    """Nothing was restored, for `reason`; the message says what to do."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    # Files the database refers to that the store no longer had (removed while the backup ran,
    # or lost before): the backup cannot give them back.
    missing_files: list[str]


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    rows: int
    files: int
    # Files already in the store that the backup does not have (with --replace): left there.
    files_left: int
    replaced: bool


class _KeyCounts:
    """How many values or files each configured key made, by key id."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._fernets = [Fernet(k) for k in keys]
        self._ids = [key_id(k) for k in keys]
        self.counts: Counter[str] = Counter()

    def add(self, token: bytes, *, unknown_too: bool = True) -> None:
        """Count `token` under the key that made it; one no key made counts as unknown, unless
        `unknown_too` is False (a file no row describes may simply not be encrypted)."""
        index = key_index(self._fernets, token)
        if index is not None:
            self.counts[self._ids[index]] += 1
        elif unknown_too:
            self.counts[UNKNOWN_KEY] += 1


async def take_backup(
    engine: AsyncEngine,
    blobs: ArchivableBlobStore,
    out: Path,
    *,
    keys: Sequence[bytes],
    app_version: str,
    now: datetime,
    after_table: Callable[[str], Awaitable[None]] | None = None,
) -> BackupResult:
    """Write the archive to `out` (which must not exist). `keys` are only used to tell which
    key made each encrypted value and file; nothing is decrypted. `after_table` is awaited
    after each table is read (tests write in between, to show the snapshot holds)."""
    values, files = _KeyCounts(keys), _KeyCounts(keys)
    writer = ArchiveWriter(out)
    try:

        def count_value(stored: str) -> None:
            if is_encrypted(stored):
                values.add(stored[len(MARK) :].encode("ascii"))

        tables: dict[str, TableInfo] = {}
        async with snapshot(engine) as connection:
            revision = await schema_revision(connection)
            if revision is None:
                raise ValueError("the database has no schema: there is nothing to back up")
            for of in await data_tables(connection):
                with tempfile.TemporaryFile(dir=out.parent) as spool:
                    tables[of.name] = await dump_table(
                        connection, of, spool, ciphertext=count_value
                    )
                    size = spool.tell()
                    spool.seek(0)
                    writer.add(table_member(of.name), spool, size)
                if after_table is not None:
                    await after_table(of.name)
            evidence = dict(
                (
                    await connection.execute(
                        select(col(Evidence.stored_name), col(Evidence.encrypted))
                    )
                ).all()
            )
            audit_key_ids = sorted(
                set((await connection.execute(select(col(AuditKeying.key_id)))).scalars())
            )
        written = 0
        for name in await blobs.stored_names():
            try:
                data = await blobs.read_stored(name)
            except FileNotFoundError:
                continue  # removed since it was listed (a rotation's old copy, retention)
            encrypted = evidence.get(name)
            if encrypted is not False:  # encrypted, or a file no row describes
                files.add(data, unknown_too=encrypted is True)
            writer.add_bytes(evidence_member(name), data)
            written += 1
        missing = sorted(n for n in evidence if evidence_member(n) not in writer.members)
        manifest = Manifest(
            app_version=app_version,
            schema_revision=revision,
            created_at=now.isoformat(),
            database=engine.dialect.name,
            tables=tables,
            evidence_files=written,
            value_keys=dict(sorted(values.counts.items())),
            file_keys=dict(sorted(files.counts.items())),
            audit_key_ids=audit_key_ids,
        )
        path = writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return BackupResult(path=path, manifest=manifest, missing_files=missing)


async def restore(
    engine: AsyncEngine,
    blobs: ArchivableBlobStore,
    archive: Path,
    *,
    evidence_keys: Sequence[bytes],
    audit_key_id: str,
    code_revision: str,
    replace: bool = False,
) -> RestoreResult:
    """Restore `archive` into the installation behind `engine` and `blobs`; RestoreRefused,
    with nothing written, when any check fails."""
    try:
        manifest = await asyncio.to_thread(verified, archive)
    except ArchiveRejected as exc:
        raise RestoreRefused(Refusal.ARCHIVE, str(exc)) from exc
    _check_revision(manifest, code_revision)
    _check_keys(manifest, evidence_keys, audit_key_id)
    reader = ArchiveReader(archive, manifest)
    written: list[str] = []
    try:
        async with engine.connect() as connection:
            await lock_for_restore(connection)
            if await schema_revision(connection) != code_revision:
                raise RestoreRefused(
                    Refusal.REVISION,
                    "The database's schema is not this version's: run `policybot db upgrade` "
                    "first, then restore.",
                )
            tables = await data_tables(connection)
            _check_tables(manifest, {of.name: [c.name for c in of.columns] for of in tables})
            occupied = await tables_with_rows(connection, tables)
            stored = set(await blobs.stored_names())
            if (occupied or stored) and not replace:
                raise RestoreRefused(Refusal.NOT_EMPTY, _not_empty(occupied, len(stored)))
            if occupied:
                await clear(connection, tables)
            rows = 0
            for of in tables:
                info = manifest.tables[of.name]
                lines = reader.lines(table_member(of.name))
                loaded = await load_rows(connection, of, info.columns, lines)
                verify_counts(of.name, loaded, info.rows)
                rows += loaded
            await reset_sequences(connection, tables)
            names = [m[len(EVIDENCE) :] for m in manifest.members if m.startswith(EVIDENCE)]
            for name in sorted(names):
                data = reader.read(evidence_member(name))
                if name in stored:
                    if await blobs.read_stored(name) != data:
                        raise RestoreRefused(
                            Refusal.NOT_EMPTY,
                            f"The evidence store already has a different file named {name}: "
                            "restore into an empty evidence directory.",
                        )
                    continue
                await blobs.write_stored(name, data)
                written.append(name)
            await connection.commit()
    except ArchiveRejected as exc:
        await _remove(blobs, written)
        raise RestoreRefused(Refusal.ARCHIVE, str(exc)) from exc
    except BaseException:
        await _remove(blobs, written)
        raise
    finally:
        reader.close()
    return RestoreResult(
        manifest=manifest,
        rows=rows,
        files=len(names),
        files_left=len(stored - set(names)),
        replaced=bool(occupied or stored),
    )


async def _remove(blobs: ArchivableBlobStore, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            await blobs.delete(name)


def _check_revision(manifest: Manifest, code_revision: str) -> None:
    if manifest.schema_revision != code_revision:
        raise RestoreRefused(
            Refusal.REVISION,
            f"This backup was taken at schema revision {manifest.schema_revision} (policybot "
            f"{manifest.app_version}), and this version of policybot is at {code_revision}. "
            f"Restore it with policybot {manifest.app_version} into an empty installation, "
            "then install this version and run `policybot db upgrade`.",
        )


def _check_tables(manifest: Manifest, target: dict[str, list[str]]) -> None:
    theirs = {name: sorted(info.columns) for name, info in manifest.tables.items()}
    ours = {name: sorted(columns) for name, columns in target.items()}
    if theirs != ours:
        differ = sorted(set(theirs) ^ set(ours) | {n for n in theirs if theirs[n] != ours.get(n)})
        raise RestoreRefused(
            Refusal.REVISION,
            "The backup's tables are not this database's, although the schema revisions "
            f"match ({', '.join(differ[:5])}): restore with the version that took it.",
        )


def _check_keys(manifest: Manifest, evidence_keys: Sequence[bytes], audit_key_id: str) -> None:
    configured = {key_id(k) for k in evidence_keys}
    needed = {
        k for counts in (manifest.value_keys, manifest.file_keys) for k, n in counts.items() if n
    } - {UNKNOWN_KEY}
    missing = sorted(needed - configured)
    problems = []
    if missing:
        have = ", ".join(sorted(configured)) or "none"
        problems.append(
            f"The backup holds text or files encrypted with keys that are not configured "
            f"(key ids {', '.join(missing)}; configured: {have})."
            " Set POLICYBOT_EVIDENCE_KEY, and POLICYBOT_PREVIOUS_KEYS, to the keys kept with "
            "this backup (`policybot keys status` counts what each configured key reads)."
        )
    if manifest.audit_key_ids and audit_key_id not in manifest.audit_key_ids:
        problems.append(
            f"The backup's audit log is sealed with the audit key {manifest.audit_key_ids[0]}, "
            f"and the configured one is {audit_key_id}: set POLICYBOT_AUDIT_KEY (or "
            "POLICYBOT_AUDIT_KEY_FILE) to the key kept with this backup's installation, or put "
            "that installation's audit.key in the data directory."
        )
    if problems:
        raise RestoreRefused(Refusal.KEYS, " ".join(problems))


def _not_empty(tables: list[str], files: int) -> str:
    held = []
    if tables:
        shown = ", ".join(tables[:5]) + ("…" if len(tables) > 5 else "")
        held.append(f"rows in {len(tables)} tables ({shown})")
    if files:
        held.append(f"{files} evidence files")
    return (
        f"This installation is not empty: it has {' and '.join(held)}. Restore into a new, "
        "empty installation, or add --replace to replace everything in this one (take a "
        "backup of it first)."
    )
