"""host leases, and the journal entries taken over from hosts whose lease ran out

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "host_lease",
        sa.Column("host_id", text(length=100), nullable=False),
        sa.Column("renewed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("host_id"),
    )
    op.create_index("ix_host_lease_expires_at", "host_lease", ["expires_at"])
    op.create_table(
        "journal_adoption",
        sa.Column("entry", text(length=255), nullable=False),
        sa.Column("host_id", text(length=100), nullable=False),
        sa.Column("adopted_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index("ix_journal_adoption_adopted_at", "journal_adoption", ["adopted_at"])


def downgrade() -> None:
    op.drop_index("ix_journal_adoption_adopted_at", table_name="journal_adoption")
    op.drop_table("journal_adoption")
    op.drop_index("ix_host_lease_expires_at", table_name="host_lease")
    op.drop_table("host_lease")
