"""register_version: a token each school's register of accounts changes with, kept by the
database's own triggers, so a turn reads the register again only when it has changed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A new random token, not a count: a process that has seen one database's register never takes
# another's (a test database made again, a restore) for the same version.
_SQLITE_RANDOM = "random()"
_POSTGRES_RANDOM = "(floor(random() * 9007199254740991))::bigint"


def upgrade() -> None:
    op.create_table(
        "register_version",
        sa.Column("school_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("school_id"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Every statement below is put together from this module's constants alone.
    token = _POSTGRES_RANDOM if postgresql else _SQLITE_RANDOM
    # Schools whose register already has rows start with a version of their own.
    op.execute(
        "INSERT INTO register_version (school_id, version) "  # noqa: S608
        f"SELECT school_id, {token} FROM registered_account GROUP BY school_id"
    )
    if postgresql:
        op.execute(
            f"""
            CREATE FUNCTION register_changed() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'TRUNCATE' THEN
                    UPDATE register_version SET version = {token};
                    RETURN NULL;
                END IF;
                IF TG_OP <> 'INSERT' THEN
                    INSERT INTO register_version (school_id, version)
                    VALUES (OLD.school_id, {token})
                    ON CONFLICT (school_id) DO UPDATE SET version = EXCLUDED.version;
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    INSERT INTO register_version (school_id, version)
                    VALUES (NEW.school_id, {token})
                    ON CONFLICT (school_id) DO UPDATE SET version = EXCLUDED.version;
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """  # noqa: S608
        )
        op.execute(
            "CREATE TRIGGER register_changed AFTER INSERT OR UPDATE OR DELETE "
            "ON registered_account FOR EACH ROW EXECUTE FUNCTION register_changed()"
        )
        op.execute(
            "CREATE TRIGGER register_emptied AFTER TRUNCATE ON registered_account "
            "FOR EACH STATEMENT EXECUTE FUNCTION register_changed()"
        )
        return
    bump = (
        "INSERT INTO register_version (school_id, version) VALUES ({row}.school_id, "  # noqa: S608
        f"{token}) ON CONFLICT (school_id) DO UPDATE SET version = excluded.version;"
    )
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        body = " ".join(bump.format(row=row) for row in rows)
        op.execute(
            f"CREATE TRIGGER register_{event.lower()} AFTER {event} ON registered_account "
            f"FOR EACH ROW BEGIN {body} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS register_changed ON registered_account")
        op.execute("DROP TRIGGER IF EXISTS register_emptied ON registered_account")
        op.execute("DROP FUNCTION IF EXISTS register_changed()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS register_{event}")
    op.drop_table("register_version")
