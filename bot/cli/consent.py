"""`policybot consent ...`: import the school's parental consent register, see it, and try it.

The register comes from the school's MIS as CSV and replaces the one before it. Importing it
decides which children may appear in posts, so when `--as` names who is importing, only the
headteacher, a senior leader, the safeguarding lead or an IT administrator may. Children's names
are printed only when asked for (`show --pupils`) or when they were typed (`check`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli.options import as_option, json_option, school_option, whom
from bot.cli.support import allowed_or_refused, echo_json, in_session, settings_or_exit
from dialogs.services.posts.consent import (
    COMMAND_LINE,
    MAX_CONSENT_BYTES,
    ConsentCheck,
    ConsentRegister,
)
from dialogs.services.school.permissions import ImportAction
from dialogs.services.school.platforms import LABELS, Platform, platform_named
from dialogs.services.school.schools import Person, School
from storage.models import ConsentImport, PupilConsent

T = TypeVar("T")


def _in_session(fetch: Callable[[ConsentRegister], Coroutine[Any, Any, T]]) -> T:
    return in_session(lambda services: fetch(services.consent))


def _read(path: Path) -> bytes:
    """The file, or one byte more than the limit: the parser refuses it kindly either way,
    without a huge file being read into memory first."""
    with path.open("rb") as handle:
        return handle.read(MAX_CONSENT_BYTES + 1)


def _school(school_id: str | None, person_id: str | None) -> tuple[School, Person | None]:
    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)
    if person_id is None:
        return school, None
    allowed_or_refused(settings, person, ImportAction.CONSENT, school)
    return school, person


def _when(school: School, moment: datetime) -> str:
    return f"{moment.astimezone(school.tz):%d/%m/%Y %H:%M}"


def _counts(rows: Sequence[PupilConsent], record: ConsentImport) -> dict[str, Any]:
    """How many pupils may appear on each platform, and how many must never be published.

    A pupil marked never to publish is not counted for any platform, whatever else their row
    says: the counts are what a post could actually use.
    """
    return {
        "pupils": len(rows),
        "never_publish": sum(1 for r in rows if r.never_publish),
        "consent": {
            platform: sum(
                1 for r in rows if r.consent.get(platform) is True and not r.never_publish
            )
            for platform in record.platforms
        },
    }


def _label(platform: str) -> str:
    try:
        return LABELS[Platform(platform)]
    except ValueError:
        return platform


def _import_json(record: ConsentImport) -> dict[str, Any]:
    return {
        "id": record.id,
        "file": record.source_name,
        "sha256": record.sha256,
        "imported_at": record.imported_at.isoformat(),
        "imported_by": record.imported_by,
        "pupils": record.pupils,
        "platforms": list(record.platforms),
    }


def _pupils(number: int) -> str:
    return f"{number} pupil" if number == 1 else f"{number} pupils"


def _print_counts(counts: dict[str, Any]) -> None:
    consent: dict[str, int] = counts["consent"]
    click.echo(f"  Platforms covered: {', '.join(_label(p) for p in consent) or 'none'}")
    for platform, number in consent.items():
        click.echo(f"    {_label(platform)}: {number} of {_pupils(counts['pupils'])} may appear")
    click.echo(f"  Never to be published, on any platform: {_pupils(counts['never_publish'])}")


@click.group()
def consent() -> None:
    """The school's parental consent register: which pupils may appear on which platforms."""


@consent.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@school_option()
@as_option(
    help="Who is importing it (recorded; must be the headteacher, a senior leader, the "
    "safeguarding lead or an IT administrator).",
)
@json_option()
def import_register(
    file: Path, school_id: str | None, person_id: str | None, as_json: bool
) -> None:
    """Import FILE, a CSV export from the school's MIS, replacing the register in use.

    The whole file is checked first: if any row has a problem, every problem is listed and
    nothing is imported.
    """
    school, person = _school(school_id, person_id)
    data = _read(file)

    async def store(
        register: ConsentRegister,
    ) -> tuple[ConsentImport, ConsentImport | None, dict[str, Any]]:
        previous = await register.current(school.id)
        record = await register.import_csv(
            school,
            data,
            source_name=file.name,
            imported_by=person.id if person else COMMAND_LINE,
        )
        return record, previous, _counts(await register.pupils(school.id), record)

    record, previous, counts = _in_session(store)
    if as_json:
        echo_json(
            {
                **_import_json(record),
                "never_publish": counts["never_publish"],
                "consent": counts["consent"],
                "replaced": _import_json(previous) if previous else None,
            }
        )
        return
    click.echo(
        f"Imported the consent register for {school.name} from {record.source_name}: "
        f"{_pupils(record.pupils)}."
    )
    _print_counts(counts)
    if previous is not None:
        click.echo(
            f"  It replaces the register imported on {_when(school, previous.imported_at)} "
            f"({previous.source_name}, {_pupils(previous.pupils)}), whose pupils have been deleted."
        )


@consent.command("show")
@school_option()
@click.option("--pupils", "with_pupils", is_flag=True, help="Also list every pupil's consent.")
@json_option()
def show(school_id: str | None, with_pupils: bool, as_json: bool) -> None:
    """Show the register in use: where it came from and how many pupils have consent where."""
    school, _ = _school(school_id, None)

    async def fetch(
        register: ConsentRegister,
    ) -> tuple[ConsentImport | None, Sequence[PupilConsent]]:
        return await register.current(school.id), await register.pupils(school.id)

    record, rows = _in_session(fetch)
    if record is None:
        if as_json:
            echo_json({"school": school.id, "import": None})
            return
        click.echo(
            f"No consent register has been imported for {school.name} yet: use `policybot "
            f"consent import FILE.csv --school {school.id}`."
        )
        return
    counts = _counts(rows, record)
    listed: list[dict[str, Any]] = [
        {
            "name": r.name,
            "year_group": r.year_group,
            "never_publish": r.never_publish,
            "consent": {p: r.consent.get(p) is True for p in record.platforms},
        }
        for r in rows
    ]
    if as_json:
        result: dict[str, Any] = {
            "school": school.id,
            "import": _import_json(record),
            "never_publish": counts["never_publish"],
            "consent": counts["consent"],
        }
        if with_pupils:
            result["pupils"] = listed
        echo_json(result)
        return
    by = (
        "the command line"
        if record.imported_by == COMMAND_LINE
        else school.display_name(record.imported_by)
    )
    click.echo(
        f"{school.name}: consent register imported on {_when(school, record.imported_at)} by {by} "
        f"from {record.source_name} ({_pupils(record.pupils)}; SHA-256 {record.sha256[:12]}…)."
    )
    _print_counts(counts)
    if with_pupils:
        for item in listed:
            year = f" ({item['year_group']})" if item["year_group"] else ""
            if item["never_publish"]:
                said = "NEVER PUBLISH"
            else:
                yes = [_label(p) for p, given in item["consent"].items() if given]
                said = "consent for " + ", ".join(yes) if yes else "no consent"
            click.echo(f"  {item['name']}{year}: {said}")


def _platforms(values: Sequence[str]) -> list[Platform]:
    found: list[Platform] = []
    for value in values:
        platform = platform_named(value)
        if platform is None:
            names = ", ".join(p.value for p in Platform)
            raise click.UsageError(f"{value!r} is not a platform I know (use one of {names}).")
        found.append(platform)
    return found


@consent.command("check")
@school_option()
@click.option(
    "--platform",
    "platform_names",
    multiple=True,
    required=True,
    help="Where the post goes (repeat for several): website, facebook, instagram, x ...",
)
@click.option(
    "--pupil",
    "pupils",
    multiple=True,
    required=True,
    help='A pupil in the post, as staff would type it (repeat for several), e.g. "Amelia Hart '
    '(Year 4)".',
)
@json_option()
def check(
    school_id: str | None, platform_names: tuple[str, ...], pupils: tuple[str, ...], as_json: bool
) -> None:
    """Say what the bot would say about picturing these pupils on these platforms."""
    school, _ = _school(school_id, None)
    platforms = _platforms(platform_names)

    async def consult(register: ConsentRegister) -> ConsentCheck:
        return await register.check(school.id, pupils, platforms)

    result = _in_session(consult)
    if as_json:
        echo_json(
            {
                "blocked": result.blocked,
                "platforms": [p.value for p in platforms],
                "problems": result.problems,
                "cleared": result.cleared,
                "pupils": [
                    {
                        "given": o.given,
                        "status": o.status.value,
                        "pupil": o.pupil,
                        "year_group": o.year_group,
                        "missing": [p.value for p in o.missing],
                        "message": o.message,
                    }
                    for o in result.outcomes
                ],
            }
        )
        return
    where = ", ".join(LABELS[p] for p in platforms)
    if result.blocked:
        click.echo(f"Not cleared for {where}:")
        for problem in result.problems:
            click.echo(f"  - {problem}")
    else:
        click.echo(f"Cleared for {where}.")
    for cleared in result.cleared:
        click.echo(f"  OK: {cleared}")
