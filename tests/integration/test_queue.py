"""The queue service on a real database: modes, tag filters, idempotency, pause, catch-up."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.errors import NotFound, UsageError
from bot.publish import queue
from bot.schedule.slots import local_to_utc
from bot.settings import Settings, load_settings
from bot.store.models import PostStatus, Publication, PublicationState
from bot.store.repository import NewPost, add_post, delete_post

PARIS_NINE = time(9, 0)
# Monday 4 May 2026, 08:00 in Paris (CEST).
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return local_to_utc(date(2026, 5, day), time(hour, minute), ZoneInfo("Europe/Paris"))


CHANNELS: list[dict[str, Any]] = [
    {"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo", "slots": ["09:00", "12:30", "18:00"]},
    {"name": "esante-mastodon", "platform": "mastodon", "instance_url": "https://mastodon.example",
     "slots": ["09:05", "18:05"]},
    {"name": "sante-mentale", "platform": "telegram", "chat": "@sante_mentale_fr", "tags": ["SANTÉ MENTALE"]},
    {"name": "archive", "platform": "telegram", "chat": "@archive_esante", "enabled": False},
]


@pytest.fixture
async def relais(database_url: str, engine: AsyncEngine) -> App:
    settings = load_settings(None, env={}, database_url=database_url, channels=CHANNELS)
    app = App(settings=settings, engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False))
    await app.sync_channels()
    return app


async def new_post(session: AsyncSession, n: int, *tags: str) -> Any:
    return await add_post(session, NewPost(
        source="test", source_key=f"p{n}", title=f"#Therabot n°{n} : l’#IA écoute « vraiment »",
        url=f"https://esante.example/{n}", tags=tags,
    ))


async def dues(session: AsyncSession, channel: str) -> dict[int, datetime]:
    listing = {c.name: c for c in await queue.queue_listing(session, NOW, _settings(session))}
    return {e.post_id: e.due_at for e in listing[channel].entries}


def _settings(session: AsyncSession) -> Settings:
    return session.info["settings"]


@pytest.fixture
async def session(relais: App) -> Any:
    async with relais.sessions.begin() as session:
        session.info["settings"] = relais.settings
        yield session


async def test_add_to_queue_takes_successive_free_slots_per_channel(session: AsyncSession, relais: App) -> None:
    created = []
    for n in range(4):
        post = await new_post(session, n)
        created.append(await queue.enqueue(session, post, NOW, settings=relais.settings))
    assert all(len(c) == 2 for c in created)  # telegram + mastodon; the tag-filtered one has no match
    assert await dues(session, "esante-telegram") == {
        1: paris(4, 9), 2: paris(4, 12, 30), 3: paris(4, 18), 4: paris(5, 9)}
    assert await dues(session, "esante-mastodon") == {
        1: paris(4, 9, 5), 2: paris(4, 18, 5), 3: paris(5, 9, 5), 4: paris(5, 18, 5)}
    first = created[0][0]
    row = await session.get_one(Publication, first.id)
    assert row.state == first.state == PublicationState.PENDING and row.next_attempt_at == row.due_at == first.due_at
    assert first.idempotency_key == row.idempotency_key
    assert first.idempotency_key.startswith(f"relais-{first.post_id}-{first.channel_id}-")
    post = row.post
    assert post.status == PostStatus.QUEUED and post.scheduled_at == paris(4, 9)


async def test_tag_filter_matches_by_tag_key_and_unslotted_channel_is_due_now(
    session: AsyncSession, relais: App
) -> None:
    post = await new_post(session, 1, "Santé mentale", "IA")
    channels = {p.channel: p for p in await queue.enqueue(session, post, NOW, settings=relais.settings)}
    assert set(channels) == {"esante-telegram", "esante-mastodon", "sante-mentale"}  # not the disabled one
    assert channels["sante-mentale"].due_at == NOW


async def test_enqueue_is_idempotent_and_keeps_the_key(session: AsyncSession, relais: App) -> None:
    post = await new_post(session, 1)
    hook = functools.partial(queue.enqueue, settings=relais.settings)  # how ingest calls it
    first = await hook(session, post, NOW)
    keys = {p.channel_id: p.idempotency_key for p in first}
    assert await hook(session, post, NOW + timedelta(hours=1)) == []
    assert await queue.enqueue(session, post, NOW, settings=relais.settings, mode="next") == []
    rows = (await session.scalars(select(Publication))).unique().all()
    assert {p.channel_id: p.idempotency_key for p in rows} == keys and len(rows) == 2
    assert len(set(keys.values())) == 2


async def test_share_next_takes_the_first_slot_and_pushes_the_queue(session: AsyncSession, relais: App) -> None:
    for n in range(2):
        await queue.enqueue(session, await new_post(session, n), NOW, settings=relais.settings)
    urgent = await new_post(session, 9)
    await queue.enqueue(session, urgent, NOW, settings=relais.settings, mode="next")
    assert await dues(session, "esante-telegram") == {urgent.id: paris(4, 9), 1: paris(4, 12, 30), 2: paris(4, 18)}
    moved = (await session.scalars(select(Publication).where(Publication.post_id == 1))).unique().all()
    assert all(p.next_attempt_at == p.due_at for p in moved)


async def test_share_now_and_schedule_at(session: AsyncSession, relais: App) -> None:
    queued = await new_post(session, 1)
    await queue.enqueue(session, queued, NOW, settings=relais.settings)
    now_post = await new_post(session, 2)
    shared_now = await queue.enqueue(session, now_post, NOW, settings=relais.settings, mode="now")
    assert {p.due_at for p in shared_now} == {NOW}
    at_post = await new_post(session, 3)
    created = await queue.enqueue(session, at_post, NOW, settings=relais.settings, mode="at", at=paris(4, 9))
    assert {p.due_at for p in created} == {paris(4, 9)}
    assert at_post.status == PostStatus.SCHEDULED
    # the queued post sitting on 09:00 made way for the exact-time one, nothing shares a slot
    telegram = await dues(session, "esante-telegram")
    assert telegram[queued.id] == paris(4, 12, 30)
    # a later add-to-queue never lands on a pinned time either
    later = await new_post(session, 4)
    await queue.enqueue(session, later, NOW, settings=relais.settings)
    assert (await dues(session, "esante-telegram"))[later.id] == paris(4, 18)


async def test_bad_requests_are_refused_and_nothing_is_written(session: AsyncSession, relais: App) -> None:
    post = await new_post(session, 1)
    with pytest.raises(UsageError, match="in the past"):
        await queue.enqueue(session, post, NOW, settings=relais.settings, mode="at", at=NOW - timedelta(minutes=1))
    with pytest.raises(UsageError, match="unknown queue mode"):
        await queue.enqueue(session, post, NOW, settings=relais.settings, mode="later")  # type: ignore[arg-type]
    await delete_post(session, post.id, NOW)
    with pytest.raises(UsageError, match="deleted"):
        await queue.enqueue(session, post, NOW, settings=relais.settings)
    assert await session.scalar(select(func.count()).select_from(Publication)) == 0


async def test_catch_up_publishes_within_grace_and_reslots_the_rest(session: AsyncSession, relais: App) -> None:
    sunday = datetime(2026, 5, 3, 5, 0, tzinfo=UTC)
    old = await new_post(session, 1)
    await queue.enqueue(session, old, sunday, settings=relais.settings)  # Sunday 09:00
    recent = await new_post(session, 2)
    await queue.enqueue(session, recent, NOW, settings=relais.settings)  # Monday 09:00 (telegram)
    waiting = await new_post(session, 3)
    await queue.enqueue(session, waiting, NOW, settings=relais.settings)  # Monday 12:30
    after_downtime = paris(4, 9, 30)  # down from Sunday morning until Monday 09:30
    report = await queue.catch_up(session, after_downtime, relais.settings)
    telegram = await dues(session, "esante-telegram")
    assert telegram[recent.id] == paris(4, 9)  # 30 min late, within the 60 min grace: sent late
    assert telegram[old.id] == paris(4, 12, 30)  # a day late: the next free slot, before the queue
    assert telegram[waiting.id] == paris(4, 18)  # pushed back, not dropped
    assert {m.post_id for m in report.moved if m.channel == "esante-telegram"} == {old.id, waiting.id}
    assert len(report.late) == 2  # recent on both platforms (09:00 and 09:05)


async def test_paused_channel_is_untouched_and_resume_reslots_what_it_missed(
    session: AsyncSession, relais: App
) -> None:
    post = await new_post(session, 1)
    await queue.enqueue(session, post, NOW, settings=relais.settings)
    channel = await queue.pause(session, "esante-telegram")
    assert channel.paused
    tomorrow = paris(5, 8)
    report = await queue.catch_up(session, tomorrow, relais.settings)
    assert {m.channel for m in report.moved} == {"esante-mastodon"}
    assert (await dues(session, "esante-telegram"))[post.id] == paris(4, 9)
    report = await queue.resume(session, "esante-telegram", tomorrow, relais.settings)
    assert [(m.channel, m.new_due_at) for m in report.moved] == [("esante-telegram", paris(5, 9))]
    with pytest.raises(NotFound, match="unknown channel 'nope'; known channels: archive"):
        await queue.pause(session, "nope")


async def test_queue_listing_gives_positions_and_local_times(session: AsyncSession, relais: App) -> None:
    for n in range(2):
        await queue.enqueue(session, await new_post(session, n), NOW, settings=relais.settings)
    await queue.pause(session, "esante-mastodon")
    listing = {c.name: c for c in await queue.queue_listing(session, NOW, relais.settings)}
    assert list(listing) == [c["name"] for c in CHANNELS]
    telegram = listing["esante-telegram"]
    assert [(e.position, e.post_id, e.due_local.strftime("%H:%M")) for e in telegram.entries] == [
        (1, 1, "09:00"), (2, 2, "12:30")]
    assert telegram.entries[0].title.startswith("#Therabot n°0")
    assert telegram.entries[0].due_at.tzinfo is UTC and not telegram.entries[0].overdue
    assert listing["esante-mastodon"].paused and not listing["archive"].enabled
    assert listing["sante-mentale"].entries == ()


async def test_next_due_at_skips_paused_channels(session: AsyncSession, relais: App) -> None:
    assert await queue.next_due_at(session, NOW) is None
    await queue.enqueue(session, await new_post(session, 1), NOW, settings=relais.settings)
    assert await queue.next_due_at(session, NOW) == paris(4, 9)
    await queue.pause(session, "esante-telegram")
    assert await queue.next_due_at(session, NOW) == paris(4, 9, 5)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_mix_of_modes_and_downtime_never_shares_a_slot(
    session: AsyncSession, relais: App, seed: int
) -> None:
    import random

    from bot.schedule.slots import is_slot

    rng = random.Random(seed)
    tz = relais.settings.tz
    config = relais.settings.channels[0]
    now = NOW
    for n in range(25):
        now += timedelta(minutes=rng.choice([0, 5, 90, 600, 2000]))
        if rng.random() < 0.2:
            await queue.catch_up(session, now, relais.settings)
        mode = rng.choice(["queue", "queue", "next", "now", "at"])
        at = now + timedelta(hours=rng.randint(1, 48), minutes=7) if mode == "at" else None
        await queue.enqueue(session, await new_post(session, n), now, settings=relais.settings,
                            mode=mode, at=at)  # type: ignore[arg-type]
        rows = (await session.scalars(select(Publication).where(
            Publication.channel.has(name=config.name), Publication.due_at >= now))).unique().all()
        on_slots = [p.due_at for p in rows if is_slot(config.slots, tz, p.due_at)]
        assert len(on_slots) == len(set(on_slots)), f"two posts share a slot after post {n} ({mode})"
        assert all(p.next_attempt_at == p.due_at for p in rows)
    total = await session.scalar(select(func.count()).select_from(Publication).where(
        Publication.channel.has(name=config.name)))
    assert total == 25  # nothing dropped
