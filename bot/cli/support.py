"""What every `policybot` command needs: settings, a ready database, and errors as exit codes.

Imported by every command, including the ones that never open the database (`policybot ask
--policy FILE`), so the database layer, the runtime and the services are imported by the
functions that use them, not here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dialogs.services.errors import ConfigError, NotFound, NotPermitted, PolicybotError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Runtime
    from dialogs.services.container import Services
    from dialogs.services.school.permissions import Action
    from dialogs.services.school.schools import Person, School

T = TypeVar("T")


def settings_or_exit() -> Settings:
    from bot.config import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(exc.message, err=True)
        raise SystemExit(2) from exc


@contextmanager
def unreachable_database_exits(setting: str = "DATABASE_URL") -> Iterator[None]:
    """A database that cannot be reached is a configuration problem: say so, exit 2."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        click.echo(f"Cannot reach the database in {setting} ({type(exc).__name__}).", err=True)
        raise SystemExit(2) from exc


def prepared_runtime(settings: Settings) -> Runtime:
    from bot.runtime import build_runtime, prepare_database

    try:
        prepare_database(settings)
        return build_runtime(settings)
    except ConfigError as exc:
        click.echo(exc.message, err=True)
        raise SystemExit(2) from exc


def run(work: Callable[[Runtime], Coroutine[Any, Any, T]], settings: Settings | None = None) -> T:
    """Run one command's async work on a prepared runtime; domain errors become exit codes."""
    import asyncio

    from storage.crypto import KeyMissing

    runtime = prepared_runtime(settings or settings_or_exit())

    async def main() -> T:
        try:
            await runtime.load_people()
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except (NotFound, NotPermitted) as exc:
        click.echo(exc.message, err=True)
        raise SystemExit(3) from exc
    except PolicybotError as exc:
        click.echo(exc.message, err=True)
        raise SystemExit(1) from exc
    except KeyMissing as exc:
        click.echo(
            "Some records are encrypted with a key that is not configured. Set "
            "POLICYBOT_EVIDENCE_KEY to the current key, and any older ones in "
            "POLICYBOT_PREVIOUS_KEYS.",
            err=True,
        )
        raise SystemExit(2) from exc


def in_session(fetch: Callable[[Services], Coroutine[Any, Any, T]]) -> T:
    """Do one command's work in one transaction on a prepared runtime; the caller prints after
    the commit, so nothing is reported as done that did not land."""

    async def go(runtime: Runtime) -> T:
        async with runtime.db.session() as session:
            return await fetch(runtime.services(session, runtime.clock()))

    return run(go)


def allowed_or_usage_error(
    settings: Settings, person: Person, action: Action, school: School
) -> None:
    """A command's own check of --as, made before it reads anything: refused as a usage error,
    as these commands always were, and recorded in the audit log like every refusal (the
    refusal ends a unit of work of its own; see dialogs.services.privacy.refusals)."""
    import asyncio

    from dialogs.services.school.permissions import may, require

    if may(person, action, school=school):
        return
    runtime = prepared_runtime(settings)

    async def attempt() -> None:
        try:
            async with runtime.db.session():
                require(person, action, school=school)
        finally:
            await runtime.close()

    try:
        asyncio.run(attempt())
    except NotPermitted as exc:
        raise click.UsageError(exc.message) from exc


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def whom(settings: Settings, person_id: str | None, school_id: str | None) -> tuple[School, Person]:
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
