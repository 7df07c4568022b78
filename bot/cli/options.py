"""The options many `policybot` commands share, declared once so that they mean the same
everywhere: --school (which school), --as (who is acting) and --json (print data as JSON).

Declaring an option reads nothing: --school and --as are resolved against the configuration by
`whom` and `school_and_actor` when the command runs, so `policybot --help` and `policybot ask
--policy FILE` never load the configuration (tests/bot/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.cli.support import settings_or_exit

if TYPE_CHECKING:
    from bot.config import Settings
    from dialogs.services.school.schools import Person, School

F = TypeVar("F", bound=Callable[..., Any])

WHICH_SCHOOL = "Which school (needed only when the configuration has several)."


def school_option(*, help: str = WHICH_SCHOOL) -> Callable[[F], F]:
    """--school SCHOOL_ID, passed as `school_id` (None when not given). Most commands mean "the
    only school" without it (see `whom`); a few say in their help what they do instead."""
    return click.option("--school", "school_id", help=help)


def as_option(
    *,
    help: str = "Who is acting (a person id from the configuration).",
    required: bool = False,
    dest: str = "person_id",
) -> Callable[[F], F]:
    """--as PERSON_ID, passed as `dest` (`person_id` unless the command's own argument is
    already a person id). Required where the services check that person's role."""
    return click.option("--as", dest, required=required, help=help)


def json_option(*, help: str = "Print the result as JSON.") -> Callable[[F], F]:
    """--json, passed as `as_json`: data for scripts instead of sentences."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def whom(settings: Settings, person_id: str | None, school_id: str | None) -> tuple[School, Person]:
    """The school and the person --school and --as name. Without --school: the school of the
    person named by --as, or the only school; with several and no way to choose, a usage error
    listing them. Without --as: the school's first listed person."""
    directory = settings.directory
    if school_id:
        school = directory.school(school_id)
        if school is None:
            raise click.UsageError(f"There is no school {school_id!r} in the configuration.")
        schools = [school]
    elif person_id:
        schools = directory.schools_of(person_id) or list(directory.schools)
    else:
        schools = list(directory.schools)
    if len(schools) > 1:
        names = ", ".join(s.id for s in schools)
        raise click.UsageError(f"Please choose a school with --school ({names}).")
    school = schools[0]
    if person_id is None:
        return school, school.people[0]
    person = school.person(person_id)
    if person is None:
        raise click.UsageError(f"There is no person {person_id!r} at {school.name}.")
    return school, person


def school_and_actor(school_id: str | None, person_id: str | None) -> tuple[School, Person | None]:
    """The school a command is about, and who runs it: None without --as, which is whoever
    administers the server (everything visible, acting as the command line)."""
    school, person = whom(settings_or_exit(), person_id, school_id)
    return school, person if person_id else None
