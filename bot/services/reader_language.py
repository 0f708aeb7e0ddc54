"""The language to answer a reader in, read without creating anything.

Kept apart from ``bot.services.readers`` (which makes a reader on first contact): stale
buttons, ``/help``, ``/tags`` or ``/stop`` must not bring back a reader who erased their data.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.services.context import Services
from bot.services.readers import language_of
from bot.store.models import Subscriber


async def reader_language(app: Services, user_id: int, telegram_language: str | None) -> str:
    """The language the reader chose ('fr' or 'en'), else the one their Telegram language gives."""
    async with app.sessions() as session:
        chosen = await session.scalar(select(Subscriber.language).where(Subscriber.telegram_user_id == user_id))
    return chosen or language_of(telegram_language)
