"""Composition root: build everything from Settings, start, stop.

Nothing else in Relais opens a connection or reads the environment; commands, handlers
and jobs receive what they need from the ``App`` built here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.publish import queue
from bot.settings import Settings
from bot.store import db
from bot.store.models import Platform, Post
from bot.store.repository import sync_channel

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def enqueue(self) -> Callable[[AsyncSession, Post, datetime], Awaitable[list[queue.Queued]]]:
        """The hook ingest awaits for each new queued post: creates its publications (same transaction)."""
        return partial(queue.enqueue, settings=self.settings)

    async def sync_channels(self) -> None:
        """Mirror configured channels into the channels table (by name)."""
        async with self.sessions.begin() as session:
            for channel in self.settings.channels:
                target = channel.chat if channel.platform == "telegram" else channel.instance_url
                await sync_channel(session, channel.name, Platform(channel.platform), target or "", channel.enabled)


@asynccontextmanager
async def open_app(settings: Settings, *, check_schema: bool = True) -> AsyncIterator[App]:
    engine = db.create_engine(settings.database_url)
    try:
        if check_schema:
            await db.check_schema(engine)
        app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
        if check_schema:
            async with db.connected(engine):
                await app.sync_channels()
        yield app
    finally:
        await engine.dispose()
