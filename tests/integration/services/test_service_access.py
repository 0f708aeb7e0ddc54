"""bot.services.access on a real database: bootstrap users from the configuration, grants in the database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from services_support import ADMIN, AUTHOR, READER
from sqlalchemy import func, select

from bot.app import App
from bot.errors import Forbidden, NotFound, UsageError
from bot.services import access
from bot.services.access import RIGHTS, Access, Action
from bot.store.models import Author, AuthorRole

NEWCOMER = 4004


async def test_bootstrap_users_come_from_the_configuration(app: App) -> None:
    assert all([await access.can(app, ADMIN, action) for action in Action])
    assert await access.can(app, AUTHOR, Action.WRITE) and await access.can(app, AUTHOR, Action.PUBLISH)
    assert not await access.can(app, AUTHOR, Action.MANAGE_AUTHORS)
    assert (await access.access_of(app, ADMIN)) == Access(ADMIN, AuthorRole.ADMIN, AuthorRole.ADMIN)


async def test_a_reader_may_do_nothing(app: App) -> None:
    assert not any([await access.can(app, READER, action) for action in Action])
    with pytest.raises(Forbidden, match=f"user {READER} may not write"):
        await access.require(app, READER, Action.WRITE)
    assert (await access.require(app, AUTHOR, Action.WRITE)).role == AuthorRole.AUTHOR


async def test_an_admin_grants_and_granting_twice_changes_nothing(app: App) -> None:
    change = await access.grant(app, NEWCOMER, by=ADMIN, name="Léa")
    assert change.changed and change.access == Access(NEWCOMER, AuthorRole.AUTHOR, None, "Léa")
    assert await access.can(app, NEWCOMER, Action.WRITE)
    again = await access.grant(app, NEWCOMER, by=ADMIN)
    assert not again.changed and again.access.name == "Léa"
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Author)) == 1


async def test_only_admins_grant_and_revoke(app: App) -> None:
    for by in (READER, AUTHOR):
        with pytest.raises(Forbidden, match="only an admin"):
            await access.grant(app, NEWCOMER, by=by)
    await access.grant(app, NEWCOMER, AuthorRole.ADMIN, by=access.OPERATOR)  # the terminal holds every right
    assert (await access.grant(app, READER, by=NEWCOMER)).changed  # an admin granted in the database
    with pytest.raises(Forbidden, match="only an admin"):
        await access.revoke(app, NEWCOMER, by=READER)


async def test_revoke_takes_back_database_grants_only(app: App) -> None:
    await access.grant(app, NEWCOMER, by=ADMIN)
    change = await access.revoke(app, NEWCOMER, by=ADMIN)
    assert change.changed and change.access.role is None
    assert not await access.can(app, NEWCOMER, Action.WRITE)
    with pytest.raises(UsageError, match=r"admin by the configuration \(access.admins\)"):
        await access.revoke(app, ADMIN, by=ADMIN)
    assert await access.can(app, ADMIN, Action.MANAGE_AUTHORS)
    with pytest.raises(NotFound, match=f"user {READER} is neither an author nor an admin"):
        await access.revoke(app, READER, by=ADMIN)


async def test_a_configured_author_promoted_in_the_database_falls_back_to_author(app: App) -> None:
    assert not (await access.grant(app, AUTHOR, by=ADMIN)).changed  # the file already makes them an author
    promoted = await access.grant(app, AUTHOR, AuthorRole.ADMIN, by=ADMIN)
    assert promoted.access.role == AuthorRole.ADMIN and promoted.access.from_config == AuthorRole.AUTHOR
    assert (await access.revoke(app, AUTHOR, by=ADMIN)).access.role == AuthorRole.AUTHOR


async def test_list_merges_configuration_and_database(app: App) -> None:
    await access.grant(app, NEWCOMER, by=ADMIN, name="Léa")
    assert [(a.user_id, a.role) for a in await access.list_authors(app)] == [
        (ADMIN, AuthorRole.ADMIN), (AUTHOR, AuthorRole.AUTHOR), (NEWCOMER, AuthorRole.AUTHOR)]


@pytest.mark.parametrize("user_id", [0, -5, 2**60])
async def test_a_user_id_must_be_a_telegram_one(app: App, user_id: int) -> None:
    with pytest.raises(UsageError, match="is not a Telegram user id"):
        await access.grant(app, user_id, by=ADMIN)


@given(role=st.sampled_from([None, *AuthorRole]), action=st.sampled_from(Action))
def test_rights_grow_with_the_role(role: AuthorRole | None, action: Action) -> None:
    allowed = Access(1, role).allows(action)
    assert allowed == (role is not None and action in RIGHTS[role])
    if allowed:
        assert Access(1, AuthorRole.ADMIN).allows(action)  # an admin may do all an author may
