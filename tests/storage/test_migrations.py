"""The migrations and the table definitions must describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage import migrate
from storage.db import sync_url


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), SQLModel.metadata
            )
    finally:
        engine.dispose()
    assert differences == []


def test_the_database_reports_itself_up_to_date(database_url: str) -> None:
    assert migrate.is_up_to_date(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()


def test_the_scripts_read_without_alembic_give_alembics_head() -> None:
    """is_up_to_date reads the chain itself to spare short commands alembic's import."""
    assert migrate.plain_chain_head() == migrate.head_revision()


def test_a_database_one_migration_behind_is_out_of_date(database_url: str) -> None:
    with migrate._ONE_MIGRATION:
        command.downgrade(migrate._config(database_url), "-1")

    assert not migrate.is_up_to_date(database_url)
    migrate.upgrade(database_url)
    assert migrate.is_up_to_date(database_url)


def test_an_empty_database_is_out_of_date(tmp_path: Path) -> None:
    assert not migrate.is_up_to_date(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
