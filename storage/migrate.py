"""Schema migrations, run by `policybot db upgrade` and on first start of the embedded default.

Every command checks that the schema is up to date before it starts. Importing alembic takes
about a tenth of a second (it loads every dialect's DDL support and its templates), so the check
first reads the migrations as the plain chain they are, and the database's stored revision,
without it; only when those do not show an up-to-date schema does alembic decide.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import URL, Engine

from storage.db import sqlite_connections, sync_url
from storage.migration_chain import MIGRATIONS as _MIGRATIONS
from storage.migration_chain import plain_chain_head as plain_chain_head

if TYPE_CHECKING:
    from alembic.config import Config


# The audit log's tables: the server's role may read them and add to them, nothing more.
# Entries go only through retention's audit_prune function, which runs with the owner's rights.
_AUDIT_TABLES = ("audit_entry", "audit_seal", "audit_anchor", "audit_keying")
_PRUNE_FUNCTION = "audit_prune(integer, varchar, integer, timestamptz, varchar, varchar)"


def _config(url: str | URL) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option(
        "sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


# Alembic keeps the migration running now in module-level proxies (alembic.context, op), so
# two migrations in one process at once, from two threads, would undo each other's: one at a time.
_ONE_MIGRATION = threading.Lock()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema up to `revision`, inside one transaction where the database allows."""
    from alembic import command

    with _ONE_MIGRATION:
        command.upgrade(_config(url), revision)


def revision(url: str | URL, message: str) -> None:
    """Write a new migration by comparing the tables with the database (for developers)."""
    from alembic import command

    with _ONE_MIGRATION:
        command.revision(_config(url), message=message, autogenerate=True)


def _engine(url: str | URL) -> Engine:
    """A short-lived engine for a schema check; on SQLite its connections wait for a writer as
    the server's do (storage.db.sqlite_connections)."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    sqlite_connections(engine)
    return engine


def current_revision(url: str | URL) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config("sqlite://")).get_current_head()


def is_up_to_date(url: str | URL) -> bool:
    head = plain_chain_head()
    if head is not None and _stored_revisions(url) == [head]:
        return True
    return current_revision(url) == head_revision()


def _stored_revisions(url: str | URL) -> list[str]:
    """The revisions in alembic's version table (none when the table is not there)."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return []
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return [str(row) for row in rows.scalars()]
    finally:
        engine.dispose()


def grant_server_role(owner_url: str | URL, role: str) -> list[str]:
    """Give the server's role (PostgreSQL) what the bot needs in the schema the owner migrated,
    and nothing that undoes the audit log's protection: it can read and add audit entries but
    not change or delete them, nor open the triggers' way for retention. Being neither owner
    nor superuser, it cannot switch the triggers off or drop them either.

    Run after every upgrade, so tables added since get their grants. Returns what still lets
    the role get past the triggers (it owns tables, or is a superuser), for the administrator.
    """
    engine = create_engine(sync_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            found = connection.execute(
                text(
                    "SELECT quote_ident(current_schema()) AS schema, current_schema() AS bare, "
                    "quote_ident(:role) AS role, "
                    "(SELECT rolsuper FROM pg_roles WHERE rolname = :role) AS superuser"
                ),
                {"role": role},
            ).one()
            if found.superuser is None:
                raise ValueError(f"there is no role {role!r} in this PostgreSQL server")
            schema, grantee = found.schema, found.role
            audit = ", ".join(_AUDIT_TABLES)
            for statement in (
                f"GRANT USAGE ON SCHEMA {schema} TO {grantee}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} "
                f"TO {grantee}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}",
                f"REVOKE ALL ON {audit} FROM {grantee}",
                f"GRANT SELECT, INSERT ON {audit} TO {grantee}",
                f"REVOKE ALL ON audit_pruning FROM {grantee}",
                f"REVOKE ALL ON alembic_version FROM {grantee}",
                f"GRANT SELECT ON alembic_version TO {grantee}",
                f"GRANT EXECUTE ON FUNCTION {_PRUNE_FUNCTION} TO {grantee}",
            ):
                connection.execute(text(statement))
            owned = connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                    "AND tableowner = :role ORDER BY tablename"
                ),
                {"schema": found.bare, "role": role},
            ).scalars()
            owned_tables = list(owned)
    finally:
        engine.dispose()
    problems = []
    if found.superuser:
        problems.append(
            f"{role} is a superuser: it can switch the audit log's triggers off whatever it is "
            "granted. Run the server as a role that is not."
        )
    if owned_tables:
        problems.append(
            f"{role} owns {len(owned_tables)} tables ({', '.join(owned_tables[:3])}…): an "
            "owner can switch their triggers off. Hand them to the owner role once, with "
            f"REASSIGN OWNED BY {role} TO <the owner role>, then run this again."
        )
    return problems
