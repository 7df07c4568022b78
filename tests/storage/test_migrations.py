"""The migrations and the table definitions must describe the same schema."""

from __future__ import annotations

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
