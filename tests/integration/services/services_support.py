"""Constants and small helpers shared by the service tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.schedule.slots import local_to_utc
from bot.settings import Settings, load_settings
from bot.store import db
from bot.store.models import Publication, PublicationState

# Monday 4 May 2026, 08:00 in Paris (CEST).
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
ADMIN, AUTHOR, READER = 1001, 2002, 3003

CHANNELS: list[dict[str, Any]] = [
    {"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo", "slots": ["09:00", "12:30", "18:00"]},
    {"name": "sante-mentale", "platform": "telegram", "chat": "@sante_mentale_fr", "tags": ["Santé mentale"]},
    {"name": "archive", "platform": "telegram", "chat": "@archive_esante", "enabled": False},
]


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(date(2026, 5, day), time(hour, minute), ZoneInfo("Europe/Paris"))


async def publications(app: App, post_id: int) -> dict[str, Publication]:
    """channel name → the post's publication there."""
    async with app.sessions() as session:
        rows = (await session.scalars(select(Publication).where(Publication.post_id == post_id))).unique().all()
        return {p.channel.name: p for p in rows}


async def set_state(app: App, publication_id: int, state: PublicationState, **values: Any) -> None:
    """Stand in for the worker: move a publication to ``state``."""
    async with app.sessions.begin() as session:
        await session.execute(update(Publication).where(Publication.id == publication_id)
                              .values(state=state, **values))


def make_settings(database_url: str = "sqlite+aiosqlite://", **overrides: Any) -> Settings:
    return load_settings(None, env={}, database_url=database_url, channels=CHANNELS,
                         access={"admins": [ADMIN], "authors": [AUTHOR]}, **overrides)


def make_app(database_url: str, engine: AsyncEngine, **overrides: Any) -> App:
    return App(settings=make_settings(database_url, **overrides), engine=engine, sessions=db.session_factory(engine))
