"""Fixtures for the service tests: an ``App`` on the real test database (SQLite, or PostgreSQL
when RELAIS_TEST_DATABASE_URL is set), three channels and the configuration's bootstrap users."""

from __future__ import annotations

from typing import Any

import pytest
from services_support import ADMIN, AUTHOR, CHANNELS
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.settings import load_settings
from bot.store import db


def make_app(database_url: str, engine: AsyncEngine, **overrides: Any) -> App:
    settings = load_settings(None, env={}, database_url=database_url, channels=CHANNELS,
                             access={"admins": [ADMIN], "authors": [AUTHOR]}, **overrides)
    return App(settings=settings, engine=engine, sessions=db.session_factory(engine))


@pytest.fixture
async def app(database_url: str, engine: AsyncEngine) -> App:
    relais = make_app(database_url, engine)
    await relais.sync_channels()
    return relais
