"""`policybot audit verify|show|export`: show that the audit log is as it was written, and read
it, for administrators, auditors and monitoring scripts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from bot.cli.options import as_option, json_option, school_option, whom
from bot.cli.support import ExitCode, echo_json, exit_with, run, settings_or_exit
from bot.runtime import Runtime
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_chain import ALL_SCHOOLS, AuditChain, Verification
from storage.audit_anchor_file import AnchorFile

COMMAND_LINE = "command-line"


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


@click.group()
def audit() -> None:
    """The audit log's tamper-evident chain."""


@audit.command("verify")
@click.option(
    "--anchor",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The anchor file to compare the log with (default: POLICYBOT_AUDIT_ANCHOR, or the "
    "one in the data directory), e.g. a copy kept on another machine.",
)
@json_option()
def verify(anchor: Path | None, as_json: bool) -> None:
    """Check that no audit entry was changed, removed or inserted after it was sealed, and
    that the newest entries the anchor file records are still there (exit code 1 if not)."""
    settings = settings_or_exit()
    anchor_file = AnchorFile(anchor or settings.audit_anchor_file)

    async def work(runtime: Runtime) -> Verification:
        async with runtime.db.session() as session:
            now = runtime.clock()
            result = await AuditChain(session, now).verify(anchor_file)
            # That the log was checked, and what was found, is itself worth keeping.
            AuditLog(session, now).record(
                school_id=ALL_SCHOOLS,
                actor_id=COMMAND_LINE,
                action=AuditAction.AUDIT_VERIFY,
                target_type="audit_log",
                target_id=str(result.first_broken_entry_id or ""),
                detail=_detail(result),
            )
        return result

    result = run(work, settings)
    if as_json:
        echo_json(asdict(result))
    else:
        _explain(result, anchor_file)
    if not result.ok:
        exit_with(ExitCode.PROBLEM)


def _detail(result: Verification) -> str:
    if result.ok:
        return f"intact, {result.checked} checked"
    where = f" at entry #{result.first_broken_entry_id}" if result.first_broken_entry_id else ""
    return f"broken{where}, {result.checked} checked before it"


def _explain(result: Verification, anchor: AnchorFile) -> None:
    if result.ok:
        click.echo(f"The audit log is intact: {_entries(result.checked)} checked.")
    else:
        click.echo(f"The audit log is NOT intact. {result.problem}")
        if result.checked == 1:
            click.echo("The entry before it is intact.")
        elif result.checked:
            click.echo(f"The {result.checked} entries before it are intact.")
    if result.anchored is not None and result.ok:
        click.echo(
            f"It reaches chain position {result.anchored}, the newest the anchor file "
            f"{anchor.path} records."
        )
    elif result.anchored is None and result.ok and result.checked:
        click.echo(
            f"The anchor file {anchor.path} records nothing, so the removal of the newest "
            "entries could not be checked."
        )
    if result.anchor_unreadable:
        click.echo(
            f"{result.anchor_unreadable} {'line' if result.anchor_unreadable == 1 else 'lines'}"
            " of the anchor file could not be read (cut short when the machine stopped, or "
            "changed by hand) and were left out."
        )
    if result.unsealed and result.ok:
        click.echo(
            f"{_entries(result.unsealed).capitalize()} written before this version are not "
            "sealed yet, so not checked: they are sealed with the next entry written."
        )


@audit.command("show")
@as_option(required=True, help="The DPO or Headteacher reading it.")
@click.option("--target", help="Only entries about one record, e.g. case:<id> or person:sam.")
@click.option("--limit", default=50, show_default=True, help="How many of the newest entries.")
@json_option(help="Print the entries as JSON.")
@school_option()
def show(
    person_id: str, target: str | None, limit: int, as_json: bool, school_id: str | None
) -> None:
    """The newest audit entries: who did what to which record, and when (never what anyone
    wrote). Reading the log is itself recorded."""
    _read(person_id, school_id, target, limit, as_json, None)


@audit.command("export")
@as_option(required=True, help="The data protection officer.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@school_option()
def export(person_id: str, out: Path, school_id: str | None) -> None:
    """Every entry of the school's audit log, as JSON lines, for an auditor."""
    if out.exists():
        raise click.UsageError(f"{out} already exists; choose a new file name.")
    _read(person_id, school_id, None, None, False, out)


def _read(
    person_id: str,
    school_id: str | None,
    target: str | None,
    limit: int | None,
    as_json: bool,
    out: Path | None,
) -> None:
    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)
    target_type, _, target_id = (target or "").partition(":")

    async def work(runtime: Runtime) -> list[dict[str, str | int | None]]:
        async with runtime.db.session() as session:
            entries = await AuditLog(session, runtime.clock()).read(
                school_id=school.id,
                actor=person,
                target_type=target_type or None,
                target_id=target_id or None,
                limit=limit,
                export=out is not None,
            )
            return [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor_id,
                    "action": e.action,
                    "target": f"{e.target_type}:{e.target_id}",
                    "detail": e.detail,
                }
                for e in entries
            ]

    rows = run(work, settings)
    if out is not None:
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        out.chmod(0o600)
        click.echo(f"Wrote {_entries(len(rows))} to {out}.")
    elif as_json:
        echo_json(rows)
    else:
        for r in rows:
            click.echo(
                f"{r['at']}  {r['actor']:<14} {r['action']:<18} {r['target']}  {r['detail']}"
            )
