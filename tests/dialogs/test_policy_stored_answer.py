"""`policybot ask --school ID` reads the version in force without the runtime when it can
(dialogs.services.policy.stored_answer, storage.policy_in_force): it must answer exactly as
PolicyService.consult does, and leave everything else to it.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import create_engine, text

from bot.runtime import Runtime
from dialogs.services.policy.answer import PolicyAnswer
from dialogs.services.policy.documents import read_policy_document
from dialogs.services.policy.stored_answer import consult_stored
from dialogs.services.school.schools import School
from storage.db import sync_url
from storage.policy_in_force import embedded_file, read_in_force, server_conninfo
from tests.conftest import Clock

QUESTIONS = (
    "Can I post photos of pupils on my own Instagram?",
    "privacy on my profile?",
    "Where can staff park?",
    "how quickly do I have to answer a comment?",
    "I'm worried a pupil is being hurt at home",  # never searched
)

POLICY_V2 = """# Social media policy 2099

## 1 Personal accounts

1.1 Staff must set personal profiles to private and must never accept pupils as friends.

## 2 Official accounts

2.1 Photographs of pupils may only be posted where parental consent covers that platform.
"""

POLICY_V3 = """# Social media policy 2100

## 1 Personal accounts

1.1 Staff must not mention the school on personal profiles.
"""


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


async def consulted(runtime: Runtime, now: datetime, question: str) -> PolicyAnswer:
    async with runtime.db.session() as session:
        answer, _ = await runtime.services(session, now).policies.consult(
            oakfield(runtime), question, k=3
        )
    return answer


async def import_version(
    runtime: Runtime, clock: Clock, text: str, name: str, effective: date | None
) -> None:
    data = text.encode()
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).policies.import_document(
            oakfield(runtime),
            read_policy_document(data, name),
            data=data,
            source_name=name,
            imported_by="dana",
            effective_from=effective,
        )


async def test_it_answers_as_the_service_from_the_version_in_force_each_day(
    runtime: Runtime, clock: Clock
) -> None:
    url = runtime.settings.database_url
    await consulted(runtime, clock(), QUESTIONS[0])  # the configured policy is version 1
    today = clock().date()
    await import_version(runtime, clock, POLICY_V2, "v2.md", today + timedelta(days=2))
    await import_version(runtime, clock, POLICY_V3, "v3.md", today + timedelta(days=5))

    for days in (0, 1, 2, 3, 5, 9):
        now = clock() + timedelta(days=days)
        for question in QUESTIONS:
            stored = consult_stored(url, oakfield(runtime), question, k=3, now=now)
            assert stored == await consulted(runtime, now, question), (days, question)


async def test_when_every_version_waits_the_newest_answers_as_in_the_service(
    runtime: Runtime, clock: Clock
) -> None:
    url = runtime.settings.database_url
    today = clock().date()
    await import_version(runtime, clock, POLICY_V2, "v2.md", today + timedelta(days=3))
    await import_version(runtime, clock, POLICY_V3, "v3.md", today + timedelta(days=7))

    stored = read_in_force(url, "oakfield", today)
    assert stored is not None
    assert stored.version == 2
    assert consult_stored(url, oakfield(runtime), QUESTIONS[1], k=3, now=clock()) == (
        await consulted(runtime, clock(), QUESTIONS[1])
    )


async def test_nothing_imported_yet_is_left_to_the_service(runtime: Runtime, clock: Clock) -> None:
    url = runtime.settings.database_url
    assert consult_stored(url, oakfield(runtime), QUESTIONS[0], k=3, now=clock()) is None

    await consulted(runtime, clock(), QUESTIONS[0])  # the service imports the configured policy

    assert read_in_force(url, "oakfield", clock().date()) is not None
    assert read_in_force(url, "another-school", clock().date()) is None


async def test_a_schema_not_at_the_newest_migration_is_left_to_the_service(
    runtime: Runtime, clock: Clock
) -> None:
    url = runtime.settings.database_url
    await consulted(runtime, clock(), QUESTIONS[0])
    assert read_in_force(url, "oakfield", clock().date()) is not None
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    finally:
        engine.dispose()

    assert read_in_force(url, "oakfield", clock().date()) is None


def test_a_plain_embedded_file_or_a_postgresql_server_is_read() -> None:
    assert embedded_file("sqlite:////srv/policybot/db.sqlite3") is not None
    assert embedded_file("sqlite+aiosqlite:///data/db.sqlite3") is not None
    assert embedded_file("sqlite://") is None
    assert embedded_file("sqlite:///:memory:") is None
    assert embedded_file("sqlite:///db.sqlite3?mode=ro") is None
    assert embedded_file("postgresql://bot@db/policybot") is None
    assert server_conninfo("postgresql+psycopg://bot:p%40ss@db:5432/policybot?sslmode=require") == (
        "postgresql://bot:p%40ss@db:5432/policybot?sslmode=require"
    )
    assert server_conninfo("sqlite:////srv/policybot/db.sqlite3") is None
    missing = "sqlite:////nonexistent/policybot.sqlite3"
    assert read_in_force(missing, "oakfield", date(2026, 11, 21)) is None


def test_a_server_that_cannot_be_reached_is_left_to_the_service() -> None:
    """The service says what is wrong (`Cannot reach the database in DATABASE_URL`)."""
    unreachable = "postgresql://bot@127.0.0.1:9/policybot?connect_timeout=2"
    assert read_in_force(unreachable, "oakfield", date(2026, 11, 21)) is None
