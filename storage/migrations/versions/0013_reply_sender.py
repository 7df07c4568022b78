"""a reply its own turn is sending names the process sending it; ids are never reused

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt so that ids are never reused (AUTOINCREMENT), as PostgreSQL's sequence never
        # reuses them: a sent reply is remembered by its row's id until the row is deleted.
        with op.batch_alter_table(
            "notification", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.add_column(_sender())
        return
    with op.batch_alter_table("notification") as batch:
        batch.add_column(_sender())


def _sender() -> sa.Column[str]:
    return sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("sender")
