"""readers: subscriber settings (pause, digest hour), fan-out mark on posts, digest deliveries

Revision ID: 0003_readers
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision = "0003_readers"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.add_column(sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("digest_hour", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("fanned_out_at", bot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_posts_fanned_out_at"), ["fanned_out_at"], unique=False)
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Enum("post", "digest", name="deliverykind", native_enum=False, length=16),
                                      server_default="post", nullable=False))
        batch_op.add_column(sa.Column("digest_day", sa.Date(), nullable=True))
        batch_op.create_index("uq_deliveries_subscriber_id_digest_day", ["subscriber_id", "digest_day"], unique=True)
    op.create_table(
        "digest_items",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], name=op.f("fk_digest_items_delivery_id_deliveries"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_digest_items_post_id_posts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("delivery_id", "post_id", name=op.f("pk_digest_items")),
    )
    op.create_index(op.f("ix_digest_items_post_id"), "digest_items", ["post_id"], unique=False)
    # Posts already out on a channel were published before readers could follow: no notification
    # storm for the archive on upgrade.
    op.execute("UPDATE posts SET fanned_out_at = (SELECT min(sent_at) FROM publications "
               "WHERE publications.post_id = posts.id AND publications.state IN ('sent', 'deleted')) "
               "WHERE EXISTS (SELECT 1 FROM publications WHERE publications.post_id = posts.id "
               "AND publications.state IN ('sent', 'deleted') AND publications.sent_at IS NOT NULL)")


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_items_post_id"), table_name="digest_items")
    op.drop_table("digest_items")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("uq_deliveries_subscriber_id_digest_day")
        batch_op.drop_column("digest_day")
        batch_op.drop_column("kind")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_fanned_out_at"))
        batch_op.drop_column("fanned_out_at")
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_column("digest_sent_on")
        batch_op.drop_column("digest_hour")
        batch_op.drop_column("paused")
