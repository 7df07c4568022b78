"""Schema migrations, run by `policybot db upgrade` and on first start of the embedded default."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL

from storage.db import sync_url

_MIGRATIONS = Path(__file__).with_name("migrations")

# The audit log's tables: the server's role may read them and add to them, nothing more.
# Entries go only through retention's audit_prune function, which runs with the owner's rights.
_AUDIT_TABLES = ("audit_entry", "audit_seal", "audit_anchor", "audit_keying")
_PRUNE_FUNCTION = "audit_prune(integer, varchar, integer, timestamptz, varchar, varchar)"


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
