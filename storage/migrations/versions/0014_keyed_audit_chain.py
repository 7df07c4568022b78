"""the audit chain is keyed; retention records carry the key's seal; on PostgreSQL only the
owner's audit_prune function removes audit entries

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 09:00:00.000000

Seals already in the chain stay as they are (SHA-256): the first transaction that seals with
the key records where the keyed chain begins (audit_keying), and its first keyed seal covers
the hash of the last unkeyed one, so the older seals still verify and cannot be recomputed
unnoticed. Nothing here needs the key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The function the triggers call since 0010, as it was: deletes pass while audit_pruning has a
# row, which anyone allowed to insert one could arrange.
_APPEND_ONLY_0010 = """
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

# Only entries and their seals ever go, and only inside audit_prune (which alone may write to
# audit_pruning once the server runs as a role of its own). The tables are named in the
# function's own schema: a temporary table called audit_pruning must not stand in for it.
_APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('audit_entry', 'audit_seal')
                AND EXISTS (SELECT 1 FROM audit_pruning) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END;
    $$
"""

_PRUNE_ARGUMENTS = "integer, varchar, integer, timestamptz, varchar, varchar"

# Retention's one way to remove entries, run with the owner's rights: the start of the chain
# up to `through`, never its newest seal (so the newest entries cannot be removed this way),
# and only as the caller describes it, with the caller's record of it. The record's seal
# (record_mac) is checked by `policybot audit verify`: the database cannot, as it never holds
# the key.
_PRUNE = """
    CREATE FUNCTION audit_prune(
        through integer,
        expected_hash varchar,
        expected_removed integer,
        pruned_at timestamptz,
        actor varchar,
        record_mac varchar
    ) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
    DECLARE
        newest integer;
        found_hash varchar;
        doomed integer[];
    BEGIN
        SELECT max(seq) INTO newest FROM audit_seal;
        IF newest IS NULL OR through >= newest THEN
            RAISE EXCEPTION 'the newest audit entry is never removed';
        END IF;
        SELECT hash INTO found_hash FROM audit_seal WHERE seq = through;
        SELECT array_agg(entry_id) INTO doomed FROM audit_seal WHERE seq <= through;
        IF found_hash IS DISTINCT FROM expected_hash
                OR coalesce(array_length(doomed, 1), 0) <> expected_removed THEN
            RAISE EXCEPTION 'the audit chain is not as the removal record describes it';
        END IF;
        INSERT INTO audit_pruning DEFAULT VALUES;
        DELETE FROM audit_seal WHERE seq <= through;
        DELETE FROM audit_entry WHERE id = ANY(doomed);
        DELETE FROM audit_pruning;
        INSERT INTO audit_anchor (at, removed_through_seq, last_hash, removed, actor_id, mac)
            VALUES (pruned_at, through, expected_hash, expected_removed, actor, record_mac);
        RETURN expected_removed;
    END;
    $$
"""


def upgrade() -> None:
    op.create_table(
        "audit_keying",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("keyed_from_seq", sa.Integer(), nullable=False),
        sa.Column("start_through_seq", sa.Integer(), nullable=False),
        sa.Column("start_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column(
        "audit_anchor",
        sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_keying_no_{event.lower()} BEFORE {event} ON audit_keying "
                "BEGIN SELECT RAISE(ABORT, 'audit_keying is append-only'); END"
            )
        return
    schema = bind.execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    op.execute(_APPEND_ONLY.format(schema=schema))
    op.execute(
        "CREATE TRIGGER audit_keying_append_only BEFORE UPDATE OR DELETE ON audit_keying "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_keying_no_truncate BEFORE TRUNCATE ON audit_keying "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
    )
    op.execute(_PRUNE.format(schema=schema))
    # Functions may be run by anyone unless told otherwise: this one only by the owner and the
    # server's role (granted by `policybot db upgrade --owner-url`).
    op.execute(f"REVOKE ALL ON FUNCTION audit_prune({_PRUNE_ARGUMENTS}) FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS audit_prune({_PRUNE_ARGUMENTS})")
        op.execute("DROP TRIGGER IF EXISTS audit_keying_append_only ON audit_keying")
        op.execute("DROP TRIGGER IF EXISTS audit_keying_no_truncate ON audit_keying")
        op.execute("ALTER FUNCTION audit_entry_append_only() RESET search_path")
        op.execute(_APPEND_ONLY_0010)
        op.drop_column("audit_anchor", "mac")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_keying_no_{event}")
        # Natively (SQLite 3.35 and later): a rebuilt table would lose its triggers.
        op.execute("ALTER TABLE audit_anchor DROP COLUMN mac")
    op.drop_table("audit_keying")
