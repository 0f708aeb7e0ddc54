"""feed_sources: failing_since and failure_notified_at (admins told once per failure streak)

Revision ID: 0007_feed_alerts
Revises: 0005_queue
Create Date: 2026-11-30 02:30:00

``failing_since`` is the first failed poll after a success (cleared by the next success);
``failure_notified_at`` is when the admins were told about the current streak.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision = '0007_feed_alerts'
down_revision = '0005_queue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_sources") as batch_op:
        batch_op.add_column(sa.Column("failing_since", bot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failure_notified_at", bot.store.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_sources") as batch_op:
        batch_op.drop_column("failure_notified_at")
        batch_op.drop_column("failing_since")
