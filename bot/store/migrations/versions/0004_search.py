"""full-text search index of posts (FTS5 on SQLite, tsvector + unaccent on PostgreSQL)

Revision ID: 0004_search
Revises: 0002
Create Date: 2026-11-30 01:00:00

Creates ``post_search``, the triggers that keep it in sync with posts, their tags and tag
names, and indexes every post already stored. On PostgreSQL it runs
``CREATE EXTENSION IF NOT EXISTS unaccent``, which needs a superuser (or CREATE on the
database for PostgreSQL 13+'s trusted extensions) the first time. See bot/store/search.py.
The DDL is read from bot.store.search: a later change to the index comes with its own
migration (drop, then create again).
"""

from __future__ import annotations

from alembic import op

from bot.store import search

revision = '0004_search'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create_index(op.get_bind())


def downgrade() -> None:
    search.drop_index(op.get_bind())
