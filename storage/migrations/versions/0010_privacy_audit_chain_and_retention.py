"""privacy: the audit chain, who may know who reported, conflicts, retention, encrypted drafts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 20:02:10.645432
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Drafts and notifications become text, so they can be encrypted at rest.
_NOW_TEXT = (("conversation", "state", True), ("notification", "message", False))


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_through_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_pruning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_seal",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_entry.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("entry_id"),
    )
    op.add_column(
        "case",
        sa.Column(
            "reporter_visibility",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
            server_default="named",
        ),
    )
    op.add_column(
        "case", sa.Column("excluded", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column(
        "case", sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "case", sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("case", sa.Column("hold_reason", sa.Text(), nullable=True))
    op.add_column(
        "case", sa.Column("anonymised_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, column, nullable in _NOW_TEXT:
        if postgresql:
            op.alter_column(
                table,
                column,
                type_=sa.Text(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::text",
            )
        else:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, type_=sa.Text(), existing_nullable=nullable)
    _append_only(postgresql)


def _append_only(postgresql: bool) -> None:
    """The audit tables refuse changes; rows go only in the retention transaction, which
    holds a row in audit_pruning while it removes them (no other transaction sees that row)."""
    if postgresql:
        op.execute(
            """
            CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND TG_TABLE_NAME <> 'audit_anchor'
                        AND EXISTS (SELECT 1 FROM audit_pruning) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in ("audit_seal", "audit_anchor"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
            )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    for table in ("audit_entry", "audit_seal"):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "  # noqa: S608 (constant names)
            "WHEN NOT EXISTS (SELECT 1 FROM audit_pruning) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
    for table, event in (
        ("audit_seal", "UPDATE"),
        ("audit_anchor", "UPDATE"),
        ("audit_anchor", "DELETE"),
    ):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for table in ("audit_seal", "audit_anchor"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(
            """
            CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_entry is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
    else:
        for name in ("audit_entry_no_delete", "audit_seal_no_delete", "audit_seal_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name in ("audit_anchor_no_update", "audit_anchor_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
        )
    for table, column, nullable in _NOW_TEXT:
        if postgresql:
            op.alter_column(
                table,
                column,
                type_=sa.JSON(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::json",
            )
        else:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, type_=sa.JSON(), existing_nullable=nullable)
    for column in ("anonymised_at", "hold_reason", "legal_hold", "closed_at", "excluded"):
        op.drop_column("case", column)
    op.drop_column("case", "reporter_visibility")
    op.drop_table("audit_seal")
    op.drop_table("audit_pruning")
    op.drop_table("audit_anchor")
