"""`policybot policy ...` and `policybot ask`: the policy owner's and IT admin's tools.

Importing and trying a policy from the command line is how a school checks that the bot reads
its document the way staff would, before anyone relies on an answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.cli.options import as_option, json_option, school_option, whom
from bot.cli.support import (
    ExitCode,
    allowed_or_refused,
    echo_json,
    exit_with,
    in_session,
    settings_or_exit,
)
from dialogs.services.errors import InvalidRequest, PolicybotError
from dialogs.services.policy.answer import PolicyAnswer
from dialogs.services.safeguarding.concern import safeguarding_concern

# `policybot ask --policy FILE` reads, parses and searches one file, and `ask --school ID` reads
# the version in force: the database layer, the school directory, the services and the
# document readers and parser are imported by the commands that use them, so that both start
# in a fraction of a second (tests/bot/test_startup.py).
if TYPE_CHECKING:
    from dialogs.services.container import Services
    from dialogs.services.policy.service import Imported
    from dialogs.services.safeguarding.reply import SafeguardingReply
    from dialogs.services.school.schools import Person, School
    from storage.models import PolicyQuestion, PolicyVersion

T = TypeVar("T")

NOT_IN_POLICY = "The policy doesn't say."


def _read(path: Path) -> bytes:
    from dialogs.services.policy.documents import MAX_POLICY_BYTES

    if path.stat().st_size > MAX_POLICY_BYTES:
        raise click.UsageError(
            f"{path.name} is larger than {MAX_POLICY_BYTES // (1024 * 1024)} MB; is it the policy?"
        )
    return path.read_bytes()


def _school(school_id: str | None, person_id: str | None) -> tuple[School, Person | None]:
    from dialogs.services.school.permissions import ImportAction

    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)
    if person_id is None:
        return school, None
    allowed_or_refused(settings, person, ImportAction.POLICY, school)
    return school, person


def _version_json(row: PolicyVersion, in_force: bool) -> dict[str, Any]:
    return {
        "version": row.version,
        "title": row.title,
        "file": row.source_name,
        "format": row.source_format,
        "sha256": row.sha256,
        "size": row.size,
        "imported_at": row.imported_at.isoformat(),
        "imported_by": row.imported_by,
        "effective_from": row.effective_from.isoformat() if row.effective_from else None,
        "sections": len(row.sections),
        "clauses": sum(len(s["clauses"]) for s in row.sections),
        "in_force": in_force,
    }


@click.group()
def policy() -> None:
    """The school's policy: import versions, see them, and see the questions it left open."""


@policy.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@school_option()
@click.option(
    "--effective-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the new version takes effect (YYYY-MM-DD); until then the previous "
    "version keeps answering.",
)
@as_option(help="Who is importing it (recorded; must be an owner).")
@json_option()
def import_policy(
    file: Path,
    school_id: str | None,
    effective_from: datetime | None,
    person_id: str | None,
    as_json: bool,
) -> None:
    """Import FILE (Markdown, text, Word .docx or PDF) as a new version of the policy."""
    from dialogs.services.policy.documents import read_policy_document
    from dialogs.services.policy.service import COMMAND_LINE

    school, person = _school(school_id, person_id)
    data = _read(file)
    effective: date | None = effective_from.date() if effective_from else None

    try:
        document = read_policy_document(data, file.name)
    except PolicybotError as exc:
        exit_with(ExitCode.PROBLEM, exc.message)

    async def store(services: Services) -> tuple[Imported, PolicyVersion | None]:
        imported = await services.policies.import_document(
            school,
            document,
            data=data,
            source_name=file.name,
            imported_by=person.id if person else COMMAND_LINE,
            effective_from=effective,
        )
        return imported, await services.policies.in_force(school)

    imported, in_force = in_session(store)
    row = imported.version
    if as_json:
        result = _version_json(row, in_force is not None and in_force.id == row.id)
        echo_json({**result, "unchanged": imported.unchanged, "dropped": row.dropped})
        return
    if imported.unchanged:
        click.echo(
            f"{file.name} is the same file as version {row.version} (SHA-256 "
            f"{row.sha256[:12]}…); nothing was imported."
        )
        return
    clauses = sum(len(s.clauses) for s in imported.policy.sections)
    click.echo(
        f"Imported {file.name} ({document.format.value}) as version {row.version} of "
        f"{school.name}'s policy: {len(imported.policy.sections)} sections, {clauses} clauses."
    )
    if row.title:
        click.echo(f"  Title: {row.title}")
    click.echo(f"  SHA-256: {row.sha256}")
    if in_force is not None and in_force.id != row.id and effective:
        click.echo(
            f"  It takes effect on {effective:%d/%m/%Y}; until then version "
            f"{in_force.version} keeps answering."
        )
    for section in imported.policy.sections:
        click.echo(f"  - {section.citation} ({len(section.clauses)})")
    if imported.policy.dropped:
        click.echo(
            f"  Left out as page furniture or sign-off ({len(imported.policy.dropped)} lines):"
        )
        for line in imported.policy.dropped:
            click.echo(f"    {line}")


@policy.command("versions")
@school_option()
@json_option()
def versions(school_id: str | None, as_json: bool) -> None:
    """List every imported version, newest last, and which one is in force."""
    school, _ = _school(school_id, None)

    async def fetch(services: Services) -> tuple[PolicyVersion | None, list[PolicyVersion]]:
        in_force = await services.policies.in_force(school)
        return in_force, list(await services.policies.versions(school.id))

    in_force, rows = in_session(fetch)
    listed = [_version_json(r, in_force is not None and r.id == in_force.id) for r in rows]
    if as_json:
        echo_json(listed)
        return
    if not listed:
        click.echo(f"No policy has been imported for {school.name} yet.")
    for item in listed:
        marker = " (in force)" if item["in_force"] else ""
        effective = f", effective {item['effective_from']}" if item["effective_from"] else ""
        click.echo(
            f"v{item['version']}{marker}: {item['file']} imported {item['imported_at'][:16]} "
            f"by {item['imported_by']}{effective}; {item['sections']} sections; "
            f"sha256 {item['sha256'][:12]}"
        )


@policy.command("gaps")
@school_option()
@json_option()
def gaps(school_id: str | None, as_json: bool) -> None:
    """Questions the policy did not answer, answers marked unhelpful, and questions passed on."""
    from dialogs.services.policy.service import gap_reason, question_ref

    school, _ = _school(school_id, None)

    async def fetch(services: Services) -> tuple[list[PolicyQuestion], int]:
        rows = await services.policies.gaps(school, None)
        return list(rows), await services.policies.count_questions(school.id)

    rows, asked = in_session(fetch)
    listed = [
        {
            "id": question_ref(r.id or 0),
            "asked_at": r.asked_at.isoformat(),
            "question": r.question,
            "why": gap_reason(r),
            "closest": r.citation,
            "confident": r.confident,
            "feedback": r.feedback,
            "passed_on": r.referred_at is not None,
            "answer": r.answer,
            "answered_by": r.answered_by,
        }
        for r in rows
    ]
    if as_json:
        echo_json(listed)
        return
    click.echo(f"{len(listed)} of {asked} questions asked at {school.name} need a look.")
    for item, row in zip(listed, rows, strict=True):
        when = row.asked_at.astimezone(school.tz)
        click.echo(f"\n{item['id']}  {when:%d/%m/%Y %H:%M}  ({item['why']})")
        click.echo(f"  {item['question']}")
        if row.confident and row.citation:
            click.echo(f"  I quoted: {row.citation}")
        if row.answer:
            click.echo(f"  Answered by {school.display_name(row.answered_by)}: {row.answer}")
        elif row.referred_at:
            click.echo(f"  Waiting for an answer: policybot policy answer {item['id']} ...")


@policy.command("answer")
@click.argument("question")
@click.argument("text")
@as_option(required=True, help="The policy owner answering.")
@school_option()
def answer(question: str, text: str, person_id: str, school_id: str | None) -> None:
    """Answer QUESTION (e.g. Q-12) with TEXT; the person who asked is sent the answer."""
    from dialogs.services.policy.service import parse_question_ref, question_ref

    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)
    number = parse_question_ref(question)
    if number is None:
        raise click.UsageError(f"{question!r} is not a question number such as Q-12.")

    async def send(services: Services) -> PolicyQuestion:
        return await services.policies.reply(school, person, number, text)

    row = in_session(send)
    click.echo(
        f"Sent your answer to {school.display_name(row.person_id)} ({question_ref(number)})."
    )


# -- asking from the command line -----------------------------------------------------------


def _answer_json(result: PolicyAnswer, note: str | None) -> dict[str, Any]:
    """`note`: the safeguarding line for a question that could be a worry about a child."""
    return {
        "answer": result.answer if result.confident else _unanswered(note),
        "citation": result.citation,
        "confident": result.confident,
        "passages": [
            {"citation": p.citation, "text": p.text, "score": round(float(p.score), 4)}
            for p in result.passages
        ],
        "safeguarding": False,
        # Not an answer: when the answer is not trusted, the clauses that touch the question.
        "may_help": [{"citation": p.citation, "text": p.brief} for p in result.may_help],
        "child_safety_note": note,
    }


def _unanswered(note: str | None) -> str:
    """What a question the policy does not answer gets: for one that could be a worry about a
    child, the safeguarding lead first, as the chat says it."""
    return f"{note} {NOT_IN_POLICY}" if note else NOT_IN_POLICY


def _safeguarding_json(reply: SafeguardingReply) -> dict[str, Any]:
    """The same shape as an answer: not confident, no citation, nothing searched, and the
    safeguarding reply as the answer."""
    return {
        "answer": reply.plain_text(),
        "citation": "",
        "confident": False,
        "passages": [],
        "safeguarding": True,
        "may_help": [],
        "child_safety_note": None,
    }


def _print_answer(result: PolicyAnswer, note: str | None, owners: str | None = None) -> None:
    """The answer as a person reads it, and the closest passages with their scores for whoever
    is checking the policy; `owners` names who looks after the policy, when a school says, and
    `note` is the safeguarding line for a question that could be a worry about a child."""
    if result.confident:
        click.echo(f"\u201c{result.answer}\u201d\n  ({result.citation})")
        if note:
            click.echo(f"\n{note}")
    else:
        if note:
            click.echo(f"{note}\n")
        click.echo(f"{NOT_IN_POLICY} Nothing in it answers this well enough to quote.")
    if result.may_help:
        click.echo(
            "\nThese parts of the policy come close and may help, but they are not an answer:"
        )
        for passage in result.may_help:
            click.echo(f"  {passage.citation}: \u201c{passage.brief}\u201d")
        who = f"{owners}, who looks after the policy" if owners else "the policy owner"
        click.echo(f"For an answer, ask {who}.")
    if result.passages:
        click.echo("\nClosest passages:")
        for passage in result.passages:
            click.echo(f"  {passage.score:6.2f}  {passage.citation}: {passage.text}")


def _child_safety_note(result: PolicyAnswer, school: School | None) -> str | None:
    if not result.child_safety:
        return None
    from dialogs.services.safeguarding.reply import child_safety_note  # the school directory

    return child_safety_note(school, None)


def _show_safeguarding(reply: SafeguardingReply, as_json: bool) -> None:
    if as_json:
        echo_json(_safeguarding_json(reply))
    else:
        click.echo(reply.plain_text())


@click.command()
@click.argument("question")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer from this file (Markdown, text, .docx or PDF) without importing it.",
)
@school_option(help="Answer from this school's imported policy.")
@click.option("-k", "--passages", "k", default=3, show_default=True, help="Passages to list.")
@json_option(help="Print the answer as JSON.")
def ask(
    question: str, policy_file: Path | None, school_id: str | None, k: int, as_json: bool
) -> None:
    """Answer QUESTION from a policy, as the bot would (the question is not recorded).

    A worry about a child is not searched for: it gets the safeguarding reply, as in the chat.
    """
    if (policy_file is None) == (school_id is None):
        raise click.UsageError("Give exactly one of --policy FILE or --school ID.")
    if not 1 <= k <= 20:
        raise click.UsageError("--passages must be between 1 and 20.")
    concern = safeguarding_concern(question)
    if policy_file is not None:
        if concern is not None:  # no school, so no lead to name: "your school's lead"
            from dialogs.services.safeguarding.reply import safeguarding_reply

            _show_safeguarding(safeguarding_reply(concern, None), as_json)
            return
        from dialogs.services.policy.documents import read_policy_document
        from dialogs.services.policy.search import PolicySearch
        from dialogs.services.policy.sections import parse_policy

        try:
            document = read_policy_document(_read(policy_file), policy_file.name)
        except PolicybotError as exc:
            exit_with(ExitCode.PROBLEM, exc.message)

        result = PolicySearch(parse_policy(document.text, kind=document.kind)).answer(question, k=k)
        note = _child_safety_note(result, None)
        echo_json(_answer_json(result, note)) if as_json else _print_answer(result, note)
        return
    assert school_id is not None
    settings = settings_or_exit()
    school, _ = whom(settings, None, school_id)
    if concern is not None:
        from dialogs.services.safeguarding.reply import safeguarding_reply

        _show_safeguarding(safeguarding_reply(concern, school), as_json)
        return

    async def consult(services: Services) -> PolicyAnswer:
        result, version = await services.policies.consult(school, question, k=k)
        if version is None:
            raise InvalidRequest(
                f"No policy has been imported for {school.name}: use `policybot policy import`."
            )
        return result

    from dialogs.services.policy.stored_answer import consult_stored
    from dialogs.services.school.owners import owner_names

    # Read-only: straight from the database when it is ready, else through the runtime.
    stored = consult_stored(settings.database_url, school, question, k=k, now=datetime.now(UTC))
    result = stored if stored is not None else in_session(consult)
    note = _child_safety_note(result, school)
    if as_json:
        echo_json(_answer_json(result, note))
    else:
        _print_answer(result, note, owner_names(school))
