"""The register's version changes with every change to a school's accounts, whoever makes it
(storage.models.RegisterVersion, kept by the database's triggers: migration 0017)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from storage import migrate
from storage.db import sync_url

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_engine(sync_url(database_url))
    yield made
    made.dispose()


def record(engine: Engine, school: str, account: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO registered_account (school_id, account_id, name, platform, handle, "
                "link, owners, visibility, recorded_at, recorded_by, comment_deadlines) VALUES "
                "(:school, :account, 'Blog', 'instagram', '@blog', 'https://example.org', "
                "'[]', 'open', :now, 'morgan', true)"
            ),
            {"school": school, "account": account, "now": NOW},
        )


def versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT school_id, version FROM register_version"))
        return {str(school): int(version) for school, version in rows}


def change(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_a_school_with_no_account_ever_recorded_has_no_version(engine: Engine) -> None:
    assert versions(engine) == {}


def test_every_change_to_a_schools_accounts_gives_it_a_new_version(engine: Engine) -> None:
    record(engine, "oakfield", "blog")
    first = versions(engine)
    assert set(first) == {"oakfield"}

    change(engine, "UPDATE registered_account SET name = 'Diary'")
    second = versions(engine)
    assert second["oakfield"] != first["oakfield"]

    record(engine, "elms", "news")
    third = versions(engine)
    assert third["oakfield"] == second["oakfield"]  # another school's change is its own

    change(engine, "UPDATE registered_account SET school_id = 'elms' WHERE account_id = 'blog'")
    fourth = versions(engine)
    assert fourth["oakfield"] != third["oakfield"]  # the school it left
    assert fourth["elms"] != third["elms"]  # and the one it joined

    change(engine, "DELETE FROM registered_account WHERE account_id = 'news'")
    fifth = versions(engine)
    assert fifth["elms"] != fourth["elms"]
    assert fifth["oakfield"] == fourth["oakfield"]


def test_emptying_the_table_at_once_changes_every_schools_version(
    engine: Engine, database_url: str
) -> None:
    """PostgreSQL's TRUNCATE passes row triggers by; SQLite's DELETE without a condition
    would too, were there no trigger on the table (its truncate optimisation)."""
    record(engine, "oakfield", "blog")
    record(engine, "elms", "news")
    before = versions(engine)
    postgresql = database_url.startswith("postgresql")
    change(
        engine, "TRUNCATE registered_account" if postgresql else "DELETE FROM registered_account"
    )
    after = versions(engine)
    assert after["oakfield"] != before["oakfield"]
    assert after["elms"] != before["elms"]


def test_a_database_upgraded_with_accounts_already_recorded_gives_their_schools_a_version(
    engine: Engine, database_url: str
) -> None:
    with migrate._ONE_MIGRATION:
        command.downgrade(migrate._config(database_url), "0016")
    record(engine, "oakfield", "blog")
    record(engine, "oakfield", "news")
    migrate.upgrade(database_url)
    assert set(versions(engine)) == {"oakfield"}
