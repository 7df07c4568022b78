"""`policybot keys rotate|status`: replacing the key that encrypts report text and evidence.

A key is replaced in steps an administrator can check: the new key becomes
POLICYBOT_EVIDENCE_KEY and the old one moves to POLICYBOT_PREVIOUS_KEYS, `keys rotate` rewrites
everything under the new key, and `keys status` shows when nothing needs the old one any more,
so it can be removed without losing a report.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.options import json_option
from bot.cli.support import ExitCode, echo_json, exit_with, run, settings_or_exit
from bot.runtime import Runtime
from dialogs.services.privacy.key_rotation import (
    NO_KEY,
    KeyCounts,
    KeyStatus,
    RotationResult,
    rotate,
)
from dialogs.services.privacy.key_rotation import status as key_status


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _counts_line(label: str, counts: KeyCounts, *, files: bool) -> str:
    parts = [
        f"{counts.plain} not encrypted",
        f"{counts.current} under the current key",
        f"{counts.older} under an older key",
        f"{counts.unreadable} readable by no configured key",
    ]
    if files:
        parts.append(f"{counts.missing} missing")
    return f"{label}: " + ", ".join(parts)


@click.group()
def keys() -> None:
    """The keys that encrypt report text and evidence files at rest."""


@keys.command("rotate")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Rows per transaction; an interrupted run is safe to start again.",
)
def rotate_keys(batch: int) -> None:
    """Rewrite all encrypted text and evidence files under the current key (and encrypt what
    was stored before a key was set)."""
    settings = settings_or_exit()
    if not settings.keys:
        exit_with(ExitCode.USAGE, NO_KEY)
    schools = [school.id for school in settings.directory.schools]

    async def work(runtime: Runtime) -> RotationResult:
        async with AsyncSession(runtime.db.engine, expire_on_commit=False) as session:
            return await rotate(session, runtime.blobs, batch=batch, school_ids=schools)

    result = run(work, settings)
    click.echo(
        f"Text: {_plural(result.values_rotated, 'value')} rewritten under the current key, "
        f"{_plural(result.values_encrypted, 'unencrypted value')} encrypted."
    )
    click.echo(
        f"Evidence files: {_plural(result.files_rotated, 'file')} rewritten under the current "
        f"key, {_plural(result.files_encrypted, 'unencrypted file')} encrypted, "
        f"{_plural(result.files_current, 'file')} already under it."
    )
    if not result.complete:
        click.echo(
            f"{_plural(result.values_unreadable, 'value')} and "
            f"{_plural(result.files_unreadable, 'file')} could not be read with the configured "
            "keys and were left as they are: keep every previous key configured, and check "
            "`policybot keys status`.",
            err=True,
        )
        exit_with(ExitCode.PROBLEM)
    click.echo("Check `policybot keys status` before removing an old key.")


@keys.command("status")
@json_option()
def show_status(as_json: bool) -> None:
    """How much is not encrypted, under the current key, or under an older key."""
    settings = settings_or_exit()

    async def work(runtime: Runtime) -> KeyStatus:
        async with AsyncSession(runtime.db.engine) as session:
            return await key_status(session, runtime.blobs, settings.keys)

    found = run(work, settings)
    if as_json:
        data: dict[str, Any] = {
            "keys": found.keys,
            "values": asdict(found.values),
            "files": asdict(found.files),
            "older_key_needed": found.older_key_needed,
        }
        del data["values"]["missing"]  # only files can be missing
        echo_json(data)
        return
    if found.keys == 0:
        click.echo("No key is configured (POLICYBOT_EVIDENCE_KEY): nothing new is encrypted.")
    elif found.keys == 1:
        click.echo("Keys: the current key only (no POLICYBOT_PREVIOUS_KEYS).")
    else:
        click.echo(
            f"Keys: the current key and {_plural(found.keys - 1, 'previous key')} "
            "(POLICYBOT_PREVIOUS_KEYS)."
        )
    click.echo(_counts_line("Text", found.values, files=False))
    click.echo(_counts_line("Evidence files", found.files, files=True))
    unreadable = found.values.unreadable + found.files.unreadable
    if unreadable:
        click.echo(
            f"{_plural(unreadable, 'value or file', 'values or files')} cannot be read with "
            "the configured keys: a key they were encrypted with is missing.",
            err=True,
        )
    if found.older_key_needed:
        click.echo("An older key is still needed: run `policybot keys rotate`.")
    elif found.keys > 1 and not unreadable:
        click.echo(
            "Nothing is left under an older key: the previous keys can be removed from "
            "POLICYBOT_PREVIOUS_KEYS."
        )
    if found.keys and (found.values.plain or found.files.plain):
        click.echo("Some things are not encrypted yet: `policybot keys rotate` encrypts them.")
