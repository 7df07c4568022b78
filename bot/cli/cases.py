"""`policybot cases …`: handling reports from the command line, as a named person.

Every command acts as the person given with --as, and the services check that person's role;
the command line has no back door.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from bot.cli.options import as_option, json_option, school_option, whom
from bot.cli.support import echo_json, run, settings_or_exit
from bot.runtime import Runtime
from dialogs.services.cases.card import actor_name, reporter_name
from dialogs.services.cases.service import (
    EVENT_LABELS,
    STATUS_FOR_REPORTER,
    CaseRecord,
    Status,
    answers_for_display,
    case_summary_json,
    event_text,
)
from dialogs.services.container import Services
from dialogs.services.school.permissions import CaseAction, is_handler, may
from dialogs.services.school.schools import Person, School
from storage.models import Case

Work = Callable[[Services, School, Person], Coroutine[Any, Any, None]]


def _as_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return as_option(required=True, help="Who is acting.")(school_option()(command))


def _act(person_id: str, school_id: str | None, work: Work) -> None:
    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)

    async def go(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            await work(runtime.services(session, runtime.clock()), school, person)

    run(go, settings)


def _full_json(
    record: CaseRecord, school: School, evidence: list[dict[str, Any]], viewer: Person
) -> dict[str, Any]:
    case = record.case
    sees_reporter = may(viewer, CaseAction.SEE_REPORTER, case, school)
    return {
        **case_summary_json(case, school),
        "school": school.id,
        "urgency": case.urgency,
        "police_consideration": case.police_consideration,
        "immediate_danger": case.immediate_danger,
        "reporter": {
            "id": case.reporter_id if sees_reporter else None,
            "name": reporter_name(case, school, viewer),
        },
        "reporter_visibility": case.reporter_visibility,
        "legal_hold": case.legal_hold,
        "assigned_to": (
            {"id": case.assigned_to, "name": school.display_name(case.assigned_to)}
            if case.assigned_to
            else None
        ),
        "outcome": case.outcome,
        "affected": case.affected,
        "affected_name": case.affected_name,
        "platform": case.platform,
        "link": case.link,
        "occurred_at": case.occurred_at.isoformat(),
        "description": case.description,
        "responsible": case.responsible,
        "responsible_name": case.responsible_name,
        "nature": case.nature,
        "hate_characteristics": case.hate_characteristics,
        "evidence": evidence,
        "chronology": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor_id
                if sees_reporter or e.actor_id != case.reporter_id
                else "reporter",
                "kind": e.kind,
                "text": e.text,
                "from_status": e.from_status,
                "to_status": e.to_status,
            }
            for e in record.events
        ],
    }


def _report(case: Case, school: School, as_json: bool, sentence: str) -> None:
    if as_json:
        echo_json({**case_summary_json(case, school), "assigned_to": case.assigned_to})
    else:
        click.echo(sentence)


def _local(school: School, case: Case) -> str:
    return f"{case.created_at.astimezone(school.tz):%d/%m/%Y %H:%M}"


@click.group()
def cases() -> None:
    """Reports of online abuse: list, show, acknowledge, assign, note, status, export."""


@cases.command("list")
@_as_options
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@json_option()
def list_cases(person_id: str, school_id: str | None, status: str | None, as_json: bool) -> None:
    """Every report (safeguarding leads), or your own reports (anyone else)."""

    async def work(services: Services, school: School, person: Person) -> None:
        found = await services.cases.list_for(
            school=school, actor=person, status=Status(status) if status else None
        )
        if as_json:
            rows = [case_summary_json(c, school) for c in found]
            if is_handler(person):
                for row, case in zip(rows, found, strict=True):
                    row.update(
                        urgency=case.urgency,
                        police_consideration=case.police_consideration,
                        assigned_to=case.assigned_to,
                    )
            echo_json(rows)
            return
        if not found:
            click.echo("No reports.")
        for case in found:
            if is_handler(person):
                flag = " POLICE?" if case.police_consideration else ""
                click.echo(
                    f"{case.reference}  {case.status:<13} {case.urgency:<9}{flag}  "
                    f"{_local(school, case)}  assigned: {school.display_name(case.assigned_to)}"
                )
            else:
                click.echo(f"{case.reference}  {STATUS_FOR_REPORTER[Status(case.status)]}")

    _act(person_id, school_id, work)


@cases.command("show")
@_as_options
@click.argument("reference")
@json_option()
def show(person_id: str, school_id: str | None, reference: str, as_json: bool) -> None:
    """One report: everything for leads (audited), its status for its reporter."""

    async def work(services: Services, school: School, person: Person) -> None:
        record: CaseRecord = await services.cases.get(reference, school=school, actor=person)
        case = record.case
        if not may(person, CaseAction.VIEW, case, school):
            summary = case_summary_json(case, school)
            if as_json:
                echo_json(summary)
            else:
                click.echo(f"{case.reference}: {summary['status_for_reporter']}")
            return
        files = await services.evidence.for_case(case.id)
        evidence = [
            {
                "id": f.id,
                "original_name": f.original_name,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
                "received_at": f.received_at.isoformat(),
                "uploaded_by": f.uploaded_by
                if may(person, CaseAction.SEE_REPORTER, case, school)
                or f.uploaded_by != case.reporter_id
                else "reporter",
            }
            for f in files
        ]
        if as_json:
            echo_json(_full_json(record, school, evidence, person))
            return
        click.echo(f"{case.reference}  ({case.status}, urgency {case.urgency})")
        if case.police_consideration:
            click.echo("  Consider contacting the police (nature of the content).")
        click.echo(
            f"  Reported by: {reporter_name(case, school, person)} on {_local(school, case)}"
        )
        if case.legal_hold:
            click.echo(f"  On legal hold: {case.hold_reason}")
        click.echo(f"  Assigned to: {school.display_name(case.assigned_to)}")
        for label, value in answers_for_display(case, school):
            click.echo(f"  {label}: {value}")
        click.echo("  Evidence:")
        for item in evidence:
            click.echo(
                f"    {item['original_name']}  {item['media_type']}  {item['size']} bytes  "
                f"sha256 {item['sha256']}"
            )
        click.echo("  Chronology:")
        for event in record.events:
            at = event.at.astimezone(school.tz).strftime("%d/%m/%Y %H:%M")
            label = EVENT_LABELS.get(event.kind, event.kind)
            who = actor_name(case, event.actor_id, school, person)
            click.echo(f"    {at}  {who}: {label}. {event_text(event)}")

    _act(person_id, school_id, work)


@cases.command("ack")
@_as_options
@json_option()
@click.argument("reference")
def acknowledge(person_id: str, school_id: str | None, reference: str, as_json: bool) -> None:
    """Acknowledge a new report (the reporter is told)."""

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.acknowledge(reference, school=school, actor=person)
        _report(case, school, as_json, f"{case.reference} acknowledged.")

    _act(person_id, school_id, work)


@cases.command("assign")
@_as_options
@json_option()
@click.argument("reference")
@click.option("--to", "to_person", help="A safeguarding lead or deputy (default: you).")
def assign(
    person_id: str, school_id: str | None, reference: str, to_person: str | None, as_json: bool
) -> None:
    """Assign a report to a handler."""

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.assign(
            reference, school=school, actor=person, to_person=to_person
        )
        _report(
            case,
            school,
            as_json,
            f"{case.reference} assigned to {school.display_name(case.assigned_to)}.",
        )

    _act(person_id, school_id, work)


@cases.command("note")
@_as_options
@json_option()
@click.argument("reference")
@click.argument("text")
def note(person_id: str, school_id: str | None, reference: str, text: str, as_json: bool) -> None:
    """Add a note to the chronology (TEXT of - reads it from standard input)."""
    if text == "-":
        text = sys.stdin.read()

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.add_note(reference, school=school, actor=person, text=text)
        _report(case, school, as_json, f"Note added to {case.reference}.")

    _act(person_id, school_id, work)


@cases.command("status")
@_as_options
@json_option()
@click.argument("reference")
@click.argument("status", type=click.Choice([s.value for s in Status if s is not Status.NEW]))
@click.option("--reason", required=True, help="Why: it goes in the chronology.")
@click.option("--outcome", help="Required when closing.")
def change_status(
    person_id: str,
    school_id: str | None,
    reference: str,
    status: str,
    reason: str,
    outcome: str | None,
    as_json: bool,
) -> None:
    """Move a report to a new status, with the reason (the reporter is told)."""

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.change_status(
            reference,
            school=school,
            actor=person,
            status=Status(status),
            reason=reason,
            outcome=outcome,
        )
        _report(case, school, as_json, f"{case.reference} is now {case.status}.")

    _act(person_id, school_id, work)


@cases.command("export")
@_as_options
@json_option()
@click.argument("reference")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
def export(person_id: str, school_id: str | None, reference: str, out: Path, as_json: bool) -> None:
    """Write an evidence pack (ZIP: files, manifest with SHA-256, chronology.html)."""

    async def work(services: Services, school: School, person: Person) -> None:
        try:
            written = await services.cases.export(reference, school=school, actor=person, out=out)
        except FileExistsError as exc:
            raise click.UsageError(f"{out} already exists; choose another name.") from exc
        except FileNotFoundError as exc:
            raise click.UsageError(
                f"The folder {out.parent} does not exist; create it or choose another."
            ) from exc
        if as_json:
            echo_json(
                {
                    "path": str(written.path),
                    "sha256": written.sha256,
                    "all_evidence_verified": written.all_evidence_verified,
                }
            )
            return
        click.echo(f"Evidence pack written to {written.path}")
        click.echo(f"  SHA-256 of the pack: {written.sha256}")
        if written.all_evidence_verified:
            click.echo("  Every evidence file matches the hash recorded when it was received.")
        else:
            click.echo(
                "  WARNING: at least one evidence file does NOT match the hash recorded when it "
                "was received. See chronology.html."
            )

    _act(person_id, school_id, work)


@cases.command("ask")
@_as_options
@click.argument("reference")
@click.argument("question")
def ask(person_id: str, school_id: str | None, reference: str, question: str) -> None:
    """Ask the reporter a question; they answer in their chat, and stay anonymous if they
    reported anonymously."""

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.ask_reporter(
            reference, school=school, actor=person, question=question
        )
        click.echo(f"Your question was sent to the reporter of {case.reference}.")

    _act(person_id, school_id, work)


@cases.command("hold")
@_as_options
@click.argument("reference")
@click.option("--reason", help="Why it must be kept (a claim, an investigation).")
@click.option("--lift", is_flag=True, help="Lift the hold instead.")
def hold(
    person_id: str, school_id: str | None, reference: str, reason: str | None, lift: bool
) -> None:
    """Keep a report past its retention period (legal hold), or lift the hold."""
    if lift == bool(reason):
        raise click.UsageError("Give either --reason (to hold it) or --lift.")

    async def work(services: Services, school: School, person: Person) -> None:
        case = await services.cases.hold(
            reference, school=school, actor=person, reason=None if lift else reason
        )
        state = f"on legal hold: {case.hold_reason}" if case.legal_hold else "no longer on hold"
        click.echo(f"{case.reference} is {state}.")

    _act(person_id, school_id, work)
