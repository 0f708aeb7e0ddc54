"""Fixtures for the service tests: an ``App`` on the real test database (SQLite, or PostgreSQL
when RELAIS_TEST_DATABASE_URL is set), three channels and the configuration's bootstrap users."""

from __future__ import annotations

import pytest
from services_support import make_app
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App


@pytest.fixture
async def app(database_url: str, engine: AsyncEngine) -> App:
    relais = make_app(database_url, engine)
    await relais.sync_channels()
    return relais
