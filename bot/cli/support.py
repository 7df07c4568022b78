"""What every `policybot` command needs: settings, a ready database, and errors as exit codes
(`ExitCode`, the one convention every command follows; the README's "Exit codes" lists it).

Imported by every command, including the ones that never open the database (`policybot ask
--policy FILE`), so the database layer, the runtime and the services are imported by the
functions that use them, not here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from dialogs.services.errors import ConfigError, NotFound, NotPermitted, PolicybotError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Runtime
    from dialogs.services.container import Services
    from dialogs.services.school.permissions import Action
    from dialogs.services.school.schools import Person, School

T = TypeVar("T")


class ExitCode(IntEnum):
    """How every `policybot` command ends, for scripts and monitoring."""

    DONE = 0
    # A check found a problem (`audit verify`, `people check`, `journal status`, `deliveries`,
    # `keys rotate` leaving something unreadable), or the services could not do what was asked
    # (closing a report without its outcome, a file that is not a policy).
    PROBLEM = 1
    # The command line needs changing before the command can run: click's own usage errors, a
    # --school or --as the configuration does not have, an invalid configuration, a database
    # that cannot be reached, a missing key, a file that is already there.
    USAGE = 2
    # Refused or not found: the services said this person may not, or found no record by that
    # reference that this person can see (a report, a comment, a question, a person).
    REFUSED = 3


def exit_with(code: ExitCode, message: str | None = None) -> NoReturn:
    """End the command with `code`, saying why on standard error first."""
    if message is not None:
        click.echo(message, err=True)
    raise SystemExit(int(code))


def settings_or_exit() -> Settings:
    from bot.config import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        exit_with(ExitCode.USAGE, exc.message)


@contextmanager
def unreachable_database_exits(setting: str = "DATABASE_URL") -> Iterator[None]:
    """A database that cannot be reached is a configuration problem: say so, exit 2."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        exit_with(ExitCode.USAGE, f"Cannot reach the database in {setting} ({type(exc).__name__}).")


def prepared_runtime(settings: Settings) -> Runtime:
    from bot.runtime import build_runtime, prepare_database

    try:
        prepare_database(settings)
        return build_runtime(settings)
    except ConfigError as exc:
        exit_with(ExitCode.USAGE, exc.message)


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
        exit_with(ExitCode.REFUSED, exc.message)
    except PolicybotError as exc:
        exit_with(ExitCode.PROBLEM, exc.message)
    except KeyMissing:
        exit_with(
            ExitCode.USAGE,
            "Some records are encrypted with a key that is not configured. Set "
            "POLICYBOT_EVIDENCE_KEY to the current key, and any older ones in "
            "POLICYBOT_PREVIOUS_KEYS.",
        )


def in_session(fetch: Callable[[Services], Coroutine[Any, Any, T]]) -> T:
    """Do one command's work in one transaction on a prepared runtime; the caller prints after
    the commit, so nothing is reported as done that did not land."""

    async def go(runtime: Runtime) -> T:
        async with runtime.db.session() as session:
            return await fetch(runtime.services(session, runtime.clock()))

    return run(go)


def allowed_or_refused(settings: Settings, person: Person, action: Action, school: School) -> None:
    """A command's own check of --as, made before it reads anything: refused with
    ExitCode.REFUSED and recorded in the audit log like every refusal (the refusal ends a unit
    of work of its own; see dialogs.services.privacy.refusals)."""
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
        exit_with(ExitCode.REFUSED, exc.message)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
