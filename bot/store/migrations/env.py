"""Alembic environment. Relais passes an open connection (see bot.store.db.upgrade)."""

from __future__ import annotations

from alembic import context

from bot.store.models import Base
from bot.store.search import include_name

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `relais db upgrade`, which opens the connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `relais db upgrade`")
run_migrations_online()
