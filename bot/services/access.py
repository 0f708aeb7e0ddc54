"""Who may do what: the one place that answers "may this Telegram user do X".

Rights come from two places. The configuration names the bootstrap users
(``access.admins``, ``access.authors``): they cannot be revoked from the database, only by
editing the file. Grants made later (``relais authors grant``, or an admin in the chat)
are rows of the ``authors`` table. A user's role is the higher of the two; anyone else is a
reader and may do none of the actions below.

``by`` names who asks for a grant or a revoke: a Telegram user id (checked: admins only), or
:data:`OPERATOR` for the person at the terminal, who already holds the configuration and
the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Forbidden, NotFound, UsageError
from bot.services.context import Services
from bot.settings import Settings
from bot.store.models import Author, AuthorRole

OPERATOR: Final = None
MAX_USER_ID = 2**53  # Telegram: user ids fit in 52 bits (https://core.telegram.org/bots/api#user)


class Action(enum.StrEnum):
    WRITE = "write"  # write and edit posts
    PUBLISH = "publish"  # queue, move, withdraw, retry publications
    VIEW_STATS = "view_stats"
    MANAGE_AUTHORS = "manage_authors"  # grant and revoke


RIGHTS: Final[dict[AuthorRole, frozenset[Action]]] = {
    AuthorRole.AUTHOR: frozenset({Action.WRITE, Action.PUBLISH, Action.VIEW_STATS}),
    AuthorRole.ADMIN: frozenset(Action),
}
_RANK = {None: 0, AuthorRole.AUTHOR: 1, AuthorRole.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Access:
    user_id: int
    role: AuthorRole | None  # None: a reader
    from_config: AuthorRole | None = None  # the part no database change can take away
    name: str | None = None

    def allows(self, action: Action) -> bool:
        return self.role is not None and action in RIGHTS[self.role]


@dataclass(frozen=True, slots=True)
class Change:
    access: Access  # the user's access after the call
    changed: bool  # False: it already was so


def _config_role(settings: Settings, user_id: int) -> AuthorRole | None:
    if user_id in settings.access.admins:
        return AuthorRole.ADMIN
    return AuthorRole.AUTHOR if user_id in settings.access.authors else None


def _higher(a: AuthorRole | None, b: AuthorRole | None) -> AuthorRole | None:
    return a if _RANK[a] >= _RANK[b] else b


async def _row(session: AsyncSession, user_id: int) -> Author | None:
    return await session.scalar(select(Author).where(Author.telegram_user_id == user_id))


def _access(settings: Settings, user_id: int, row: Author | None) -> Access:
    config = _config_role(settings, user_id)
    return Access(user_id, _higher(config, row.role if row else None), config, row.name if row else None)


async def _checked(session: AsyncSession, settings: Settings, by: int | None, user_id: int) -> None:
    if not 0 < user_id < MAX_USER_ID:
        raise UsageError(f"{user_id} is not a Telegram user id")
    if by is not None and not _access(settings, by, await _row(session, by)).allows(Action.MANAGE_AUTHORS):
        raise Forbidden("only an admin may grant or revoke rights")


async def access_of(app: Services, user_id: int) -> Access:
    """The user's role and where it comes from."""
    async with app.sessions() as session:
        return _access(app.settings, user_id, await _row(session, user_id))


async def can(app: Services, user_id: int, action: Action) -> bool:
    """May this Telegram user do ``action``?"""
    return (await access_of(app, user_id)).allows(action)


async def require(app: Services, user_id: int, action: Action) -> Access:
    """The user's access, or Forbidden when it does not allow ``action``."""
    access = await access_of(app, user_id)
    if not access.allows(action):
        raise Forbidden(f"user {user_id} may not {action.value.replace('_', ' ')}")
    return access


async def grant(app: Services, user_id: int, role: AuthorRole = AuthorRole.AUTHOR, *, by: int | None,
                name: str | None = None) -> Change:
    """Give ``user_id`` the ``role`` (idempotent); ``by`` must be an admin or the operator."""
    async with app.sessions.begin() as session:
        await _checked(session, app.settings, by, user_id)
        row = await _row(session, user_id)
        before = _access(app.settings, user_id, row)
        if row is None:
            if _RANK[before.from_config] >= _RANK[role]:
                return Change(before, changed=False)  # the configuration already gives as much
            row = Author(telegram_user_id=user_id, role=role, name=name)
            session.add(row)
        elif row.role == role and (name is None or row.name == name):
            return Change(before, changed=False)
        else:
            row.role, row.name = role, name if name is not None else row.name
        await session.flush()
        return Change(_access(app.settings, user_id, row), changed=True)


async def revoke(app: Services, user_id: int, *, by: int | None) -> Change:
    """Take back what the database grants ``user_id``; rights from the configuration stay."""
    async with app.sessions.begin() as session:
        await _checked(session, app.settings, by, user_id)
        row = await _row(session, user_id)
        config = _config_role(app.settings, user_id)
        if row is None:
            if config is not None:
                key = "admins" if config == AuthorRole.ADMIN else "authors"
                raise UsageError(f"user {user_id} is {config.value} by the configuration (access.{key}): "
                                 "remove them from the file")
            raise NotFound(f"user {user_id} is neither an author nor an admin")
        await session.delete(row)
        await session.flush()
        return Change(_access(app.settings, user_id, None), changed=True)


async def list_authors(app: Services) -> list[Access]:
    """Every author and admin, from the configuration and the database, by user id."""
    async with app.sessions() as session:
        rows = {r.telegram_user_id: r for r in (await session.scalars(select(Author))).all()}
    ids = sorted({*app.settings.access.admins, *app.settings.access.authors, *rows})
    return [_access(app.settings, user_id, rows.get(user_id)) for user_id in ids]
