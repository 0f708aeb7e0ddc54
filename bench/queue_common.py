"""Shared set-up of the queue benchmarks: a migrated database, channels and a pre-filled queue.

The queue is filled with bulk INSERTs (posts, then one pending publication per slot), not
through ``enqueue``: the benches time enqueue at a given queue length, not the filling.
Imported by ``bench/queue_*.py`` (run as scripts, so ``bench/`` is on ``sys.path``).
"""

from __future__ import annotations

import time as clock
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text

from bot.app import App
from bot.schedule.slots import slot_times
from bot.settings import load_settings
from bot.store import db
from bot.store.models import Channel, Platform, Post, PostStatus, Publication, PublicationState

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
# Every half hour: 10,000 queued posts then span 209 days, inside slots.MAX_SEARCH_DAYS (400).
SLOTS = [f"{h:02}:{m:02}" for h in range(24) for m in (0, 30)]
CHUNK = 500  # rows per INSERT statement while filling (SQLite's bound-parameter limit)


def channel_config(n: int, *, slots: list[str] | None = None) -> dict[str, Any]:
    return {"name": f"esante-{n}", "platform": "telegram", "chat": f"@esante_{n}",
            "slots": SLOTS if slots is None else slots}


async def fresh_database(url: str | None, folder: str, name: str) -> str:
    """A database URL with nothing in it: a new SQLite file in ``folder``, or ``url`` with its schema DROPPED."""
    if url is None:
        return f"sqlite+aiosqlite:///{folder}/{name}.db"
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return url


async def open_bench(url: str, channels: list[dict[str, Any]]) -> App:
    """A migrated database with ``channels`` in the configuration and in the channels table."""
    settings = load_settings(None, env={}, database_url=url, channels=channels)
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
    async with app.sessions.begin() as session:
        rows = [{"name": c["name"], "platform": Platform.TELEGRAM, "target": c["chat"], "enabled": True,
                 "paused": False} for c in channels]
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(Channel), rows[start:start + CHUNK])
    return app


async def new_posts(app: App, source: str, count: int) -> list[int]:
    """``count`` draft posts (bulk INSERT); their ids in order."""
    rows = [{"source": source, "source_key": str(n), "title": f"#Bench n°{n} : l’#IA", "status": PostStatus.DRAFT}
            for n in range(count)]
    async with app.sessions.begin() as session:
        for start in range(0, count, CHUNK):
            await session.execute(insert(Post), rows[start:start + CHUNK])
        query = select(Post.id).where(Post.source == source).order_by(Post.id)
        return list((await session.scalars(query)).all())


async def fill_queue(app: App, channel: str, length: int, *, source: str = "fill") -> None:
    """``length`` queued posts on ``channel``, one per successive slot from NOW (a dense queue)."""
    if length == 0:
        return
    post_ids = await new_posts(app, source, length)
    dues = slot_times(next(c for c in app.settings.channels if c.name == channel).slots, app.settings.tz, NOW, length)
    async with app.sessions.begin() as session:
        channel_id = await session.scalar(select(Channel.id).where(Channel.name == channel))
        rows = [{"post_id": pid, "channel_id": channel_id, "state": PublicationState.PENDING, "due_at": due,
                 "next_attempt_at": due, "idempotency_key": f"bench-{pid}-{channel_id}"}
                for pid, due in zip(post_ids, dues, strict=True)]
        for start in range(0, length, CHUNK):
            await session.execute(insert(Publication), rows[start:start + CHUNK])
        await session.execute(Post.__table__.update().where(Post.source == source).values(status=PostStatus.QUEUED))
    async with app.engine.begin() as conn:  # committed: PostgreSQL's ANALYZE is transactional
        # what autovacuum does soon after a bulk load: without statistics PostgreSQL's planner
        # takes the 10,000-row queue for a 2-row one and sorts it instead of reading the index backwards
        await conn.execute(text("ANALYZE"))


async def per_call_ms(calls: list[Callable[[], Awaitable[object]]]) -> float:
    """Mean milliseconds of wall time per awaited call, run one after the other."""
    began = clock.perf_counter()
    for call in calls:
        await call()
    return (clock.perf_counter() - began) * 1000 / len(calls)
