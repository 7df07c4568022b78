"""staff learned from Slack and Teams: one row per person, joined across platforms by email;
messages held for someone not yet known as staff

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", text(length=64), nullable=False),
        sa.Column("person_id", text(length=64), nullable=False),
        sa.Column("name", text(length=120), nullable=False),
        sa.Column("email", text(length=254), nullable=True),
        sa.Column("slack_user_id", text(length=32), nullable=True),
        sa.Column("teams_user_id", text(length=64), nullable=True),
        sa.Column("learned_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("left_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "person_id"),
        sa.UniqueConstraint("slack_user_id"),
        sa.UniqueConstraint("teams_user_id"),
    )
    op.create_index("ix_staff_member_school_id", "staff_member", ["school_id"])
    op.create_index("ix_staff_member_email", "staff_member", ["email"])
    op.create_table(
        "held_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", text(length=32), nullable=False),
        sa.Column("user_id", text(length=64), nullable=False),
        sa.Column("conversation", text(length=255), nullable=False),
        sa.Column("delivery_id", text(length=128), nullable=True),
        sa.Column("text", storage.types.EncryptedText(), nullable=False),
        sa.Column("files", storage.types.EncryptedJSON(), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    op.create_index("ix_held_message_user_id", "held_message", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_held_message_user_id", table_name="held_message")
    op.drop_table("held_message")
    op.drop_index("ix_staff_member_email", table_name="staff_member")
    op.drop_index("ix_staff_member_school_id", table_name="staff_member")
    op.drop_table("staff_member")
