"""What a service needs from the application: its sessions and its settings."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings


class Services(Protocol):
    """Satisfied by :class:`bot.app.App`; tests may pass any object with these two attributes."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def settings(self) -> Settings: ...
