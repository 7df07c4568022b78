"""`policybot comments list|show|answer` and `policybot calendar import|show`: comments on the
official accounts and the school calendar their deadlines are counted in, for moderators,
administrators and scripts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bot.cli.options import as_option, json_option, school_and_actor, school_option, whom
from bot.cli.support import echo_json, in_session, settings_or_exit
from dialogs.services.comments.card import STATUS_LABELS, CommentStatus, CommentVerb, account_text
from dialogs.services.comments.term_dates import parse_term_dates
from dialogs.services.container import Services
from dialogs.services.errors import PolicybotError
from dialogs.services.school.schools import School
from storage.models import Comment, SchoolClosure

MAX_ICS_BYTES = 1024 * 1024
_HOW = {
    "acknowledged": CommentVerb.ACKNOWLEDGE,
    "replied": CommentVerb.REPLIED,
    "hidden": CommentVerb.HIDE,
    "not-needed": CommentVerb.NOT_NEEDED,
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _summary(comment: Comment, school: School) -> dict[str, Any]:
    return {
        "reference": comment.reference,
        "account": comment.account_id,
        "status": comment.status,
        "received_at": comment.received_at.isoformat(),
        "due_at": _iso(comment.due_at),
        "first_response_at": _iso(comment.first_response_at),
        "breached": comment.breached,
        "handled_by": comment.handled_by,
    }


@click.group()
def comments() -> None:
    """Comments on the school's official accounts and their deadlines."""


@comments.command("list")
@school_option()
@as_option(help="List as this person (a moderator).")
@click.option("--open", "open_only", is_flag=True, help="Only comments still waiting.")
@json_option()
def list_comments(
    school_id: str | None, person_id: str | None, open_only: bool, as_json: bool
) -> None:
    """List comments, oldest first."""
    school, person = school_and_actor(school_id, person_id)

    async def fetch(services: Services) -> list[Comment]:
        return list(
            await services.comments.list_for(school=school, actor=person, open_only=open_only)
        )

    rows = in_session(fetch)
    if as_json:
        echo_json([_summary(c, school) for c in rows])
        return
    if not rows:
        click.echo("No comments.")
    for c in rows:
        due = f"{c.due_at.astimezone(school.tz):%d/%m/%Y %H:%M}" if c.due_at else "no deadline"
        click.echo(
            f"{c.reference}  {STATUS_LABELS[CommentStatus(c.status)]:<22} due {due:<16} "
            f"{account_text(c, school)}"
        )


@comments.command("show")
@click.argument("reference")
@school_option()
@as_option(help="Show it as this person may see it.")
@json_option()
def show(reference: str, school_id: str | None, person_id: str | None, as_json: bool) -> None:
    """Show one comment with what was said and how it was answered."""
    school, person = school_and_actor(school_id, person_id)

    async def fetch(services: Services) -> Comment:
        return await services.comments.get(reference, school=school, actor=person)

    comment = in_session(fetch)
    data = {
        **_summary(comment, school),
        "author": comment.author,
        "text": comment.text,
        "link": comment.link,
        "source": comment.source,
        "reason": comment.reason,
    }
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        if value not in (None, ""):
            click.echo(f"{key.replace('_', ' ').capitalize()}: {value}")


@comments.command("answer")
@click.argument("reference")
@as_option(required=True, help="The moderator answering it.")
@click.option("--how", type=click.Choice(sorted(_HOW)), required=True, help="What was done.")
@click.option("--reason", help="For hidden: the reason given publicly.")
@school_option()
def answer(
    reference: str, person_id: str, how: str, reason: str | None, school_id: str | None
) -> None:
    """Record that a comment was answered (stops its clock and its reminders)."""
    school, person = whom(settings_or_exit(), person_id, school_id)

    async def act(services: Services) -> str:
        handled = await services.comments.act(
            reference, school=school, actor=person, verb=_HOW[how], reason=reason
        )
        return handled.message

    click.echo(in_session(act))


@click.group()
def calendar() -> None:
    """The school's closures, for deadlines counted in school days."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@school_option()
@click.option(
    "--terms",
    is_flag=True,
    help="The file's events are the terms; the gaps between them are the closures. "
    "(Without this, each event is a closure: a holiday, a half term or an INSET day.)",
)
@as_option(help="Who is importing (for the audit log).")
def import_calendar(file: Path, school_id: str | None, terms: bool, person_id: str | None) -> None:
    """Import closures from an iCalendar (.ics) file of term dates, replacing earlier imports."""
    school, person = school_and_actor(school_id, person_id)
    if file.stat().st_size > MAX_ICS_BYTES:
        raise click.UsageError(f"{file.name} is larger than 1 MB; is it a term dates file?")
    try:
        closures = parse_term_dates(file.read_bytes(), as_terms=terms, tz=school.tz)
    except PolicybotError as exc:
        raise click.UsageError(exc.message) from exc
    importer = person.id if person else "command-line"

    async def store(services: Services) -> int:
        return await services.comments.replace_closures(
            school, closures, source=file.name, actor_id=importer
        )

    count = in_session(store)
    click.echo(f"Imported {count} closure{'s' if count != 1 else ''} for {school.name}.")
    if school.comments.calendar != "school_days":
        click.echo(
            "Note: this school's deadlines count working days, so closures are not used until "
            'its [schools.comments] calendar is "school_days".'
        )


@calendar.command("show")
@school_option()
@json_option()
def show_calendar(school_id: str | None, as_json: bool) -> None:
    """List the school's closures: from its configuration and from imported term dates."""
    school, _ = school_and_actor(school_id, None)

    async def fetch(services: Services) -> list[SchoolClosure]:
        return await services.comments.imported_closures(school)

    imported = in_session(fetch)
    rows = [
        {"from": c.first.isoformat(), "to": c.last.isoformat(), "name": c.name, "source": "config"}
        for c in school.comments.closures
    ] + [
        {"from": c.first.isoformat(), "to": c.last.isoformat(), "name": c.name, "source": c.source}
        for c in imported
    ]
    rows.sort(key=lambda r: r["from"])
    if as_json:
        echo_json({"calendar": school.comments.calendar, "closures": rows})
        return
    click.echo(f"Deadlines count {school.comments.calendar.replace('_', ' ')}.")
    for r in rows:
        click.echo(f"  {r['from']} to {r['to']}  {r['name']}  ({r['source']})")
