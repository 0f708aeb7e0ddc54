"""chat state (PTB persistence) and the author of a post written in the chat

Revision ID: 0006_chat_state
Revises: 0004_search
Create Date: 2026-11-30 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision = '0006_chat_state'
down_revision = '0004_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chat_state',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('updated_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'name', 'key', name=op.f('pk_chat_state')),
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_user_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('author_user_id')
    op.drop_table('chat_state')
