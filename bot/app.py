"""Composition root: build everything from Settings, start, stop.

Nothing else in Relais opens a connection or reads the environment; commands, handlers
and jobs receive what they need from the ``App`` built here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from bot.publish import queue
from bot.settings import Settings
from bot.store import db
from bot.store.models import Platform, Post, Publication
from bot.store.repository import sync_channel

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.publish.render import Render
    from bot.publish.targets import Target

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics = field(default_factory=Metrics)  # this app's own registry (bot.metrics)

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
    """The app over an engine: schema checked, channels synced; driver outages become
    ``DatabaseUnavailable`` (one line) for the caller's work too."""
    engine = db.create_engine(settings.database_url)
    try:
        if check_schema:
            await db.check_schema(engine)
        app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
        async with db.connected(engine):
            if check_schema:
                await app.sync_channels()
            yield app
    finally:
        await engine.dispose()


def run_app(settings: Settings, work: Callable[[App], Awaitable[T]], *, check_schema: bool = True) -> T:
    """What every command does: open the app, run ``work`` with it, close everything."""

    async def main() -> T:
        async with open_app(settings, check_schema=check_schema) as app:
            return await work(app)

    return asyncio.run(main())


async def upgrade_database(database_url: str) -> tuple[str | None, str | None]:
    """Bring the database to the migrations' head (revision before, after)."""
    engine = db.create_engine(database_url)
    try:
        return await db.upgrade(engine)
    finally:
        await engine.dispose()


def build_chat_application(app: App) -> Application[Any, Any, Any, Any, Any, Any]:
    """The python-telegram-bot Application that receives updates, over this App.

    Handlers get a typed ``RelaisContext`` (``context.app``); the App is bound to the
    Application in ``post_init`` and released in ``post_shutdown``, PTB's hooks for the
    resources handlers use (``bot.runtime`` drives the lifecycle, so it calls them too).
    """
    from telegram.ext import Application

    from bot.chat.application import add_handlers
    from bot.chat.context import CONTEXT_TYPES
    from bot.chat.menu import set_menu
    from bot.chat.persistence import DatabasePersistence

    async def bind(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.bot_data.app = app
        await set_menu(application.bot)  # Telegram's command menu, French and English

    async def release(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.bot_data.app = None

    settings = app.settings
    application = (
        Application.builder()
        .token(settings.require_telegram_token().get_secret_value())
        .base_url(settings.telegram.api_base_url)
        .context_types(CONTEXT_TYPES)
        .persistence(DatabasePersistence(app.sessions))  # a /new draft survives a restart
        .post_init(bind)
        .post_shutdown(release)
        .build()
    )
    add_handlers(application)
    return application


def make_render(settings: Settings, targets: dict[str, Target]) -> Callable[[Publication], Render]:
    """The worker's render: publication → ``render_for`` its channel, with the live limits
    its Mastodon publisher last read from the instance (Mastodon's defaults until then)."""
    from bot.publish import render as rendering
    from bot.publish.targets import MastodonTarget

    def limits_of(name: str) -> rendering.StatusLimits | None:
        target = targets.get(name)
        limits = target.publisher.limits if isinstance(target, MastodonTarget) else None
        if limits is None:
            return None
        return rendering.StatusLimits(limits.max_characters, limits.characters_reserved_per_url, "live")

    return rendering.make_render(settings, limits_of)
