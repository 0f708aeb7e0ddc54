"""Shared fixtures: a real database per test, SQLite always, PostgreSQL when asked.

Set RELAIS_TEST_DATABASE_URL (postgresql+asyncpg://…) to run every database test against
that server instead of SQLite; each test gets the schema dropped and migrated afresh.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.sandbox import TelegramSandbox
from bot.settings import Settings, load_settings, normalize_database_url
from bot.store import db

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("RELAIS_TEST_DATABASE_URL")
CHANNEL = "@sante_numerique"  # the public channel every sandbox fixture has


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if POSTGRES_URL:
        return normalize_database_url(POSTGRES_URL)
    return f"sqlite+aiosqlite:///{tmp_path / 'relais-test.db'}"


async def _reset_postgres(url: str) -> None:
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database (no tables)."""
    if database_url.startswith("postgresql"):
        await _reset_postgres(database_url)
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(empty_engine: AsyncEngine) -> AsyncEngine:
    """An engine on a database migrated to head."""
    await db.upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.session_factory(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(None, env={}, database_url=database_url)


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    """A running emulator (limits off) with one public channel, CHANNEL."""
    async with TelegramSandbox() as running:
        running.add_channel(CHANNEL, "Santé numérique")
        yield running


@asynccontextmanager
async def loopback_http(app) -> AsyncIterator[str]:
    """Serve an aiohttp ``web.Application`` on a free loopback port; yields its base URL."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
