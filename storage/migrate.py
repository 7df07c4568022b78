"""Schema migrations, run by `policybot db upgrade` and on first start of the embedded default."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

from storage.db import sync_url

_MIGRATIONS = Path(__file__).with_name("migrations")


def _config(url: str | URL) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option(
        "sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema up to `revision`, inside one transaction where the database allows."""
    command.upgrade(_config(url), revision)


def revision(url: str | URL, message: str) -> None:
    """Write a new migration by comparing the tables with the database (for developers)."""
    command.revision(_config(url), message=message, autogenerate=True)


def current_revision(url: str | URL) -> str | None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config("sqlite://")).get_current_head()


def is_up_to_date(url: str | URL) -> bool:
    return current_revision(url) == head_revision()
