"""publications: index (channel_id, state, due_at) for the queue's last-slot probe

Revision ID: 0005_queue
Revises: 0003_readers
Create Date: 2026-11-30 01:45:00

"Add to queue" reads, per channel, the latest pending publication (ORDER BY due_at DESC
LIMIT 1). With ``state`` inside the index, that probe reads only the channel's pending
rows whatever the planner's statistics say (without statistics, PostgreSQL picked the
``(state, next_attempt_at)`` index and read every pending row of every channel).
"""

from __future__ import annotations

from alembic import op

revision = '0005_queue'
down_revision = '0003_readers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_publications_channel_id_state_due_at'), 'publications',
                    ['channel_id', 'state', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_publications_channel_id_state_due_at'), table_name='publications')
