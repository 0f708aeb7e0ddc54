"""Engines, sessions and the schema check. Opened by the composition root, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.errors import DatabaseUnavailable, SchemaBehind, StoreError
from bot.logs import mask_credentials

if TYPE_CHECKING:  # Alembic is imported by `db upgrade` only: every other command starts without it (issue 12 item 7)
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# The migrations' head, which every command checks the database against without loading Alembic
# and every migration file; a unit test fails when a new migration does not update it.
HEAD_REVISION = "0007_feed_alerts"


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs and errors."""
    return mask_credentials(url)


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers (search, queue listing) run while a worker writes; busy_timeout
        # turns a short lock into a wait instead of an immediate "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return on_connect


def create_engine(url: str, *, busy_timeout_ms: int = 5000, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The head as Alembic reads it from the migration files (``HEAD_REVISION`` is checked against it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    """What ``alembic_version`` holds (None: a database no migration ran on), as Alembic reads it."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions: list[str] = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(versions) > 1:
        raise StoreError(f"the database has several schema revisions ({', '.join(versions)}): it was not made by relais")
    return versions[0] if versions else None


def _upgrade(connection: Connection, target: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _explain(exc: DBAPIError, url: str) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    # Drivers sometimes echo the DSN; never let a password through.
    text = mask_credentials(text).splitlines()[0]
    return f"database {safe_url(url)} is unavailable: {text}"


@asynccontextmanager
async def connected(engine: AsyncEngine, *, connecting: bool = False) -> AsyncIterator[None]:
    """Translate operational driver errors (cannot connect, locked) into DatabaseUnavailable.

    With ``connecting=True`` (the first contact: schema check, upgrade) every driver error
    means the database cannot be used — unknown database, bad password, refused. Later,
    integrity and programming errors pass through: they are bugs or conflicts, not outages.
    """
    try:
        yield
    except OperationalError as exc:
        raise DatabaseUnavailable(_explain(exc, str(engine.url))) from None
    except DBAPIError as exc:
        if connecting or exc.connection_invalidated or isinstance(exc.orig, OSError):
            raise DatabaseUnavailable(_explain(exc, str(engine.url))) from None
        raise
    except OSError as exc:
        raise DatabaseUnavailable(f"database {safe_url(str(engine.url))} is unavailable: {exc}") from None


async def upgrade(engine: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to ``target``; returns (revision before, revision after)."""
    async with connected(engine, connecting=True), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite migrations recreate tables (Alembic's batch mode): dropping the old table with
            # foreign keys on would cascade-delete every child row (deliveries, publications…).
            # The pragma is a no-op inside a transaction, so it goes first, and is checked after.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                before = await conn.run_sync(_current_revision)
                await conn.run_sync(_upgrade, target)
                after = await conn.run_sync(_current_revision)
                if sqlite and (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first() is not None:
                    raise StoreError("the migration left rows pointing at missing rows; nothing was changed")
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
    return before, after


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to work on a database behind the migrations' head, and say how to fix it."""
    async with connected(engine, connecting=True), engine.connect() as conn:
        current = await conn.run_sync(_current_revision)
    head = HEAD_REVISION
    if current != head:
        state = "empty (no tables)" if current is None else f"at revision {current}"
        raise SchemaBehind(
            f"database {safe_url(str(engine.url))} is {state}, the code expects {head}: run `relais db upgrade`"
        )
