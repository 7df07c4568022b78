"""`policybot backup` and `policybot restore`: the whole installation in one archive, and back.

The archive (storage.backup) holds the database's rows, the evidence files as stored and a
manifest of their hashes; it holds no key, so the keys are backed up apart from it (README,
"Backups"). A restore goes into an empty installation, checks everything before it writes
anything, and ends by checking the audit log's chain, as `policybot audit verify` does.

Exit codes, as every command's: 1 when the archive is not as it was written (or a backup could
not include a file the database refers to, or the restored audit log is not intact), 2 when the
set-up must change first (a key that is not configured, another schema revision, an
installation that is not empty, an archive name already taken).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from bot.cli.options import json_option
from bot.cli.support import ExitCode, echo_json, exit_with, run, settings_or_exit
from bot.runtime import Runtime, audit_key
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_chain import ALL_SCHOOLS, AuditChain, Verification
from storage import migrate
from storage.audit_anchor_file import AnchorFile
from storage.backup import (
    UNKNOWN_KEY,
    BackupResult,
    Refusal,
    RestoreRefused,
    RestoreResult,
    restore,
    take_backup,
)
from storage.db import Database

COMMAND_LINE = "command-line"
# A refusal's exit code: the archive's own problem, or something to set up differently.
_REFUSED = {
    Refusal.ARCHIVE: ExitCode.PROBLEM,
    Refusal.NOT_EMPTY: ExitCode.USAGE,
    Refusal.REVISION: ExitCode.USAGE,
    Refusal.KEYS: ExitCode.USAGE,
}


def app_version() -> str:
    try:
        return importlib.metadata.version("policybot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (a new file; a name ending .gz or .tgz is compressed).",
)
@json_option()
def backup(out: Path, as_json: bool) -> None:
    """Write the database, the evidence files and a manifest of their hashes to one archive
    (encrypted things stay encrypted; no key goes in it)."""
    if out.exists():
        exit_with(ExitCode.USAGE, f"{out} already exists; choose a new file name.")
    if not out.parent.is_dir():
        exit_with(ExitCode.USAGE, f"{out.parent} is not a directory.")
    settings = settings_or_exit()

    async def work(runtime: Runtime) -> BackupResult:
        result = await take_backup(
            runtime.db.engine,
            runtime.blobs,
            out,
            keys=settings.keys,
            app_version=app_version(),
            now=runtime.clock(),
        )
        async with runtime.db.session() as session:
            AuditLog(session, runtime.clock()).record(
                school_id=ALL_SCHOOLS,
                actor_id=COMMAND_LINE,
                action=AuditAction.BACKUP_TAKE,
                target_type="backup",
                target_id=out.name,
                detail=_counted(result.manifest.tables, result.manifest.evidence_files),
            )
        return result

    result = run(work, settings)
    manifest = result.manifest
    unreadable = manifest.value_keys.get(UNKNOWN_KEY, 0) + manifest.file_keys.get(UNKNOWN_KEY, 0)
    if as_json:
        echo_json(
            {
                "archive": str(result.path),
                "schema_revision": manifest.schema_revision,
                "app_version": manifest.app_version,
                "created_at": manifest.created_at,
                "tables": {name: info.rows for name, info in manifest.tables.items()},
                "evidence_files": manifest.evidence_files,
                "value_keys": manifest.value_keys,
                "file_keys": manifest.file_keys,
                "missing_files": result.missing_files,
            }
        )
    else:
        click.echo(
            f"Backup written to {result.path}: "
            f"{_counted(manifest.tables, manifest.evidence_files)}, schema revision "
            f"{manifest.schema_revision}."
        )
        used = sorted({*manifest.value_keys, *manifest.file_keys} - {UNKNOWN_KEY})
        if used:
            click.echo(
                f"Encrypted with the keys {', '.join(used)} (ids, not keys): keep those keys, "
                "and the audit key, apart from this archive."
            )
    if unreadable:
        click.echo(
            f"{_plural(unreadable, 'value or file', 'values or files')} in it no configured key "
            "can read: a key they were encrypted with is missing (`policybot keys status`).",
            err=True,
        )
    if result.missing_files:
        missing = len(result.missing_files)
        exit_with(
            ExitCode.PROBLEM,
            f"{_plural(missing, 'evidence file')} the database refers to "
            f"{'was' if missing == 1 else 'were'} not in the evidence store, so the backup "
            f"does not have {'it' if missing == 1 else 'them'}.",
        )


def _counted(tables: dict[str, Any], files: int) -> str:
    rows = sum(info.rows for info in tables.values())
    return (
        f"{_plural(rows, 'row')} in {_plural(len(tables), 'table')}, "
        f"{_plural(files, 'evidence file')}"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Restore into an installation that is not empty: everything in its database is "
    "replaced (evidence files the backup does not have are left where they are).",
)
@click.option(
    "--owner-url",
    envvar="DATABASE_OWNER_URL",
    help="PostgreSQL: restore as this role, which owns the tables (needed to move the id "
    "sequences on, and for --replace) [env: DATABASE_OWNER_URL].",
)
@json_option()
def restore_command(archive: Path, replace: bool, owner_url: str | None, as_json: bool) -> None:
    """Restore an archive made by `policybot backup` into an empty installation, after checking
    its hashes, its schema revision and the keys; then check the audit log's chain."""
    settings = settings_or_exit()
    if owner_url and settings.uses_embedded_database:
        raise click.UsageError("--owner-url (DATABASE_OWNER_URL) is for PostgreSQL.")
    anchor = AnchorFile(settings.audit_anchor_file)

    async def work(runtime: Runtime) -> tuple[RestoreResult, Verification] | RestoreRefused:
        owner = Database(owner_url) if owner_url else None
        try:
            result = await restore(
                (owner or runtime.db).engine,
                runtime.blobs,
                archive,
                evidence_keys=settings.keys,
                audit_key_id=audit_key(settings).key_id,
                code_revision=migrate.head_revision() or "",
                replace=replace,
            )
        except RestoreRefused as refused:
            return refused
        finally:
            if owner is not None:
                await owner.dispose()
        async with runtime.db.session() as session:
            now = runtime.clock()
            verification = await AuditChain(session, now).verify(anchor)
            AuditLog(session, now).record(
                school_id=ALL_SCHOOLS,
                actor_id=COMMAND_LINE,
                action=AuditAction.BACKUP_RESTORE,
                target_type="backup",
                target_id=archive.name,
                detail=f"{_counted(result.manifest.tables, result.files)}; audit log "
                + ("intact" if verification.ok else "NOT intact"),
            )
        return result, verification

    outcome = run(work, settings)
    if isinstance(outcome, RestoreRefused):
        exit_with(_REFUSED[outcome.reason], f"{outcome.message}\nNothing was restored.")
    result, verification = outcome
    manifest = result.manifest
    if as_json:
        echo_json(
            {
                "archive": str(archive),
                "created_at": manifest.created_at,
                "schema_revision": manifest.schema_revision,
                "tables": {name: info.rows for name, info in manifest.tables.items()},
                "evidence_files": result.files,
                "files_left": result.files_left,
                "replaced": result.replaced,
                "audit": asdict(verification),
            }
        )
    else:
        click.echo(
            f"Restored {archive.name} (taken {manifest.created_at}): "
            f"{_counted(manifest.tables, result.files)}."
        )
        if result.files_left:
            click.echo(
                f"{_plural(result.files_left, 'evidence file')} already in the store, not in "
                "the backup, were left where they are."
            )
        if verification.ok:
            checked = _plural(verification.checked, "entry", "entries")
            click.echo(f"The audit log is intact: {checked} checked.")
    if not verification.ok:
        exit_with(
            ExitCode.PROBLEM,
            f"The restored audit log is NOT intact. {verification.problem} "
            "(`policybot audit verify` explains more.)",
        )
