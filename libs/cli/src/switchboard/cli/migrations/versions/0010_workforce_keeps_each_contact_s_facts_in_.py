"""workforce keeps each contact's facts, in any order

A contact's events reach workforce on several topics, so in no set order: the track now keeps
each fact (first queueing, answer, hang-up, wrap-up) and the interval's figures follow from them.
A track counted in full before (`closed`) gets the earliest times its old figures allow, so a late
duplicate changes nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 15:55:51.628578
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


UTC_TIME = sqlmodel.sql.sqltypes.UTCDateTime()
KNOWN_ONCE_QUEUED = (
    ("queue_id", sa.VARCHAR(length=64)),
    ("channel", sa.VARCHAR(length=16)),
    ("slot", UTC_TIME),
    ("queued_at", UTC_TIME),
)
"""A track may now begin with an answer or a wrap-up: these are empty until its queueing."""


def upgrade() -> None:
    with op.batch_alter_table("wf_contact", schema=None) as batch_op:
        batch_op.alter_column("assigned_at", new_column_name="answered_at")
        batch_op.add_column(sa.Column("waited_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("abandoned_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("wrapped_at", UTC_TIME, nullable=True))
        for name, kind in KNOWN_ONCE_QUEUED:
            batch_op.alter_column(name, existing_type=kind, nullable=True)
    op.execute(
        "UPDATE wf_contact SET wrapped_at = answered_at WHERE closed AND answered_at IS NOT NULL"
    )
    op.execute(
        "UPDATE wf_contact SET abandoned_at = queued_at WHERE closed AND answered_at IS NULL"
    )
    with op.batch_alter_table("wf_contact", schema=None) as batch_op:
        batch_op.drop_column("closed")


def downgrade() -> None:
    with op.batch_alter_table("wf_contact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE wf_contact SET closed = TRUE"
        " WHERE wrapped_at IS NOT NULL AND answered_at IS NOT NULL"
        " OR abandoned_at IS NOT NULL AND answered_at IS NULL"
    )
    op.execute("DELETE FROM wf_contact WHERE queued_at IS NULL")
    with op.batch_alter_table("wf_contact", schema=None) as batch_op:
        batch_op.alter_column("closed", server_default=None)
        batch_op.drop_column("wrapped_at")
        batch_op.drop_column("abandoned_at")
        batch_op.drop_column("waited_seconds")
        batch_op.alter_column("answered_at", new_column_name="assigned_at")
        for name, kind in KNOWN_ONCE_QUEUED:
            batch_op.alter_column(name, existing_type=kind, nullable=False)
