"""Every command checks the database against ``db.HEAD_REVISION`` without loading Alembic: the
constant must name the head Alembic finds in the migration files."""

from bot.store import db


def test_the_head_constant_is_the_migrations_head() -> None:
    assert db.head_revision() == db.HEAD_REVISION
