"""`policybot sar export|erase PERSON`: subject access requests, for the data protection officer.

The law gives a month to answer; the package gathers everything in one go, for the DPO to
review before anything is released.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.options import as_option, school_option, whom
from bot.cli.support import run, settings_or_exit
from bot.runtime import Runtime
from dialogs.services.privacy.subject_access import Erasure


@click.group()
def sar() -> None:
    """Subject access: export everything held about a person, or erase what may be erased."""


@sar.command("export")
@click.argument("person_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@as_option(required=True, help="The DPO or Headteacher asking.", dest="actor_id")
@click.option("--name", "names", multiple=True, help="Another name they may be written under.")
@school_option()
def export(
    person_id: str, out: Path, actor_id: str, names: tuple[str, ...], school_id: str | None
) -> None:
    """Write a ZIP with everything held about PERSON_ID: data.json, a readable index.html, and
    the files they sent."""
    settings = settings_or_exit()
    school, actor = whom(settings, actor_id, school_id)
    if out.exists():
        raise click.UsageError(f"{out} already exists; choose a new file name.")

    async def work(runtime: Runtime) -> dict[str, int]:
        async with runtime.db.session() as session:
            service = runtime.services(session, runtime.clock()).subject_access
            subject = service.subject(school, person_id, names)
            return await service.export(school, subject, actor=actor, out=out)

    counts = run(work, settings)
    out.chmod(0o600)
    click.echo(f"Wrote {out}: {sum(counts.values())} records about {person_id}.")
    for section, count in counts.items():
        if count:
            click.echo(f"  {section.replace('_', ' ')}: {count}")
    click.echo("Review it before releasing anything: reports may name other people too.")


@sar.command("erase")
@click.argument("person_id")
@as_option(required=True, help="The data protection officer.", dest="actor_id")
@click.option("--confirm", is_flag=True, help="Erase; without it, only say what would go.")
@click.option("--name", "names", multiple=True, help="Another name they may be written under.")
@school_option()
def erase(
    person_id: str, actor_id: str, confirm: bool, names: tuple[str, ...], school_id: str | None
) -> None:
    """Erase what may be erased about PERSON_ID, and say what is kept and why."""
    settings = settings_or_exit()
    school, actor = whom(settings, actor_id, school_id)

    async def work(runtime: Runtime) -> Erasure:
        async with runtime.db.session() as session:
            service = runtime.services(session, runtime.clock()).subject_access
            subject = service.subject(school, person_id, names)
            done = await service.erase(school, subject, actor=actor, confirm=confirm)
        for name in done.files:
            await runtime.blobs.delete(name)
        return done

    done = run(work, settings)
    for line in done.lines:
        if line.erased:
            verb = "Erased" if confirm else "Would erase"
            click.echo(f"{verb}: {line.count} {line.what.lower()} ({line.why})")
        else:
            click.echo(f"Kept: {line.count} {line.what.lower()} ({line.why})")
    if not confirm:
        click.echo("Nothing has been erased yet: run again with --confirm.")
