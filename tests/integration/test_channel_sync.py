"""Syncing channels from the configuration is idempotent under concurrency (issue 11 item 3).

The README's deployment is one updates process and N workers started together; each syncs
the configured channels at start. Several engines (one per would-be process, each with its
own connections) sync the same configuration at once, on a fresh database and again after
a channel is added to the configuration.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import App
from bot.settings import load_settings
from bot.store import db
from bot.store.models import Channel

PROCESSES = 6


def _settings(database_url: str, names: list[str]):
    channels = [{"name": name, "platform": "telegram", "chat": f"@{name}_canal"} for name in names]
    return load_settings(None, env={}, database_url=database_url, channels=channels)


async def _sync_together(database_url: str, names: list[str]) -> list[BaseException | None]:
    settings = _settings(database_url, names)
    engines = [db.create_engine(database_url) for _ in range(PROCESSES)]
    try:
        apps = [App(settings=settings, engine=e, sessions=db.session_factory(e)) for e in engines]
        for app in apps:  # open every pool first, so the syncs really start together
            async with app.engine.connect():
                pass
        return await asyncio.gather(*(app.sync_channels() for app in apps), return_exceptions=True)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_concurrent_syncs_on_a_fresh_database_all_succeed(database_url, engine) -> None:
    for round_ in range(3):  # a race lost once in a few runs must still show up
        names = [f"sante{round_}", f"ia{round_}", f"sommeil{round_}"]
        outcomes = await _sync_together(database_url, names)
        assert outcomes == [None] * PROCESSES
    async with engine.connect() as conn:
        found = (await conn.execute(select(Channel.name))).scalars().all()
    assert sorted(found) == sorted(f"{n}{r}" for r in range(3) for n in ("sante", "ia", "sommeil"))


async def test_a_channel_added_later_is_synced_once_and_edits_follow(database_url, engine) -> None:
    assert await _sync_together(database_url, ["sante"]) == [None] * PROCESSES
    assert await _sync_together(database_url, ["sante", "nouveau"]) == [None] * PROCESSES
    settings = load_settings(None, env={}, database_url=database_url, channels=[
        {"name": "sante", "platform": "mastodon", "instance_url": "https://mastodon.example", "enabled": False},
    ])
    sessions = db.session_factory(engine)
    await App(settings=settings, engine=engine, sessions=sessions).sync_channels()
    async with sessions() as session:
        rows = {c.name: c for c in (await session.scalars(select(Channel))).all()}
    assert set(rows) == {"sante", "nouveau"}
    assert (rows["sante"].platform, rows["sante"].target, rows["sante"].enabled) == (
        "mastodon", "https://mastodon.example", False)
    assert rows["nouveau"].target == "@nouveau_canal" and rows["nouveau"].enabled
