"""generic outbox: deliveries get the claim columns publications have

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 00:30:00

The unique (post_id, subscriber_id) constraint on deliveries already exists since 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', bot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', bot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('remote_id', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('remote_id')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('due_at')
