"""Time to list a queue of 10,000 publications, against a bare ``SELECT count(*)`` of them.

    python bench/queue_listing.py [--database URL] [--queued N]

Fills one slotted channel with N pending publications (set-based inserts: enqueue's own
cost is bench/queue_enqueue.py's figure), then times the service behind `relais queue`:
the first page (``--limit 50``, what a person reads) and the whole queue, each the best
of ten runs. The baseline, measured in the same run, counts the same rows with one
``SELECT count(*)``. Default database: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time as clock
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from report import emit
from sqlalchemy import func, insert, select

from bot.app import App
from bot.services import publishing
from bot.settings import load_settings
from bot.store import db
from bot.store.models import Channel, Post, Publication, PublicationState

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
CHANNELS = [{"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo",
             "slots": ["09:00", "12:30", "18:00"]}]
RUNS = 10


async def fill(app: App, queued: int) -> None:
    """``queued`` posts, each pending on the channel, one slot (8 h) apart."""
    async with app.sessions.begin() as session:
        channel_id = await session.scalar(select(Channel.id).where(Channel.name == "esante-telegram"))
        posts = [{"source": "bench", "source_key": str(n), "title": f"#Bench n°{n} : l’#IA au quotidien",
                  "status": "queued"} for n in range(queued)]
        await session.execute(insert(Post), posts)
        ids = (await session.scalars(select(Post.id).where(Post.source == "bench").order_by(Post.id))).all()
        await session.execute(insert(Publication), [
            {"post_id": post_id, "channel_id": channel_id, "state": PublicationState.PENDING,
             "due_at": NOW + timedelta(hours=8 * n), "next_attempt_at": NOW + timedelta(hours=8 * n),
             "idempotency_key": f"bench-{post_id}"}
            for n, post_id in enumerate(ids)
        ])


async def best_of(work: Callable[[], Awaitable[Any]]) -> float:
    """Best wall time of RUNS calls, in milliseconds."""
    best = float("inf")
    for _ in range(RUNS):
        began = clock.perf_counter()
        await work()
        best = min(best, clock.perf_counter() - began)
    return best * 1000


async def count_queued(app: App) -> int:
    async with app.sessions() as session:
        query = select(func.count()).select_from(Publication).where(Publication.state == PublicationState.PENDING)
        return int(await session.scalar(query) or 0)


async def main(url: str, queued: int) -> None:
    settings = load_settings(None, env={}, database_url=url, channels=CHANNELS)
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
    await app.sync_channels()
    await fill(app, queued)
    [listed] = await publishing.queue_listing(app, NOW, limit=None)
    assert listed.total == len(listed.entries) == await count_queued(app) == queued
    baseline = await best_of(lambda: count_queued(app))
    page = await best_of(lambda: publishing.queue_listing(app, NOW, limit=50))
    whole = await best_of(lambda: publishing.queue_listing(app, NOW, limit=None))
    print(f"database: {engine.dialect.name}; {queued} queued publications; best of {RUNS}, ms")
    print(f"{'what':<34} {'ms':>9} {'ratio':>7}")
    print(f"{'SELECT count(*) (baseline)':<34} {baseline:>9.2f} {1:>7.1f}")
    print(f"{'relais queue --limit 50':<34} {page:>9.2f} {page / baseline:>7.1f}")
    print(f"{f'relais queue --limit {queued}':<34} {whole:>9.2f} {whole / baseline:>7.1f}")
    for figure, what, ms in (("queue.listing.page", "--limit 50", page), ("queue.listing.all", f"--limit {queued}", whole)):
        emit(figure, f"`relais queue {what}` over {queued:,} queued", ms, "ms", baseline=baseline,
             baseline_label="SELECT count(*)", database=engine.dialect.name, queued=queued)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: temporary SQLite file)")
    parser.add_argument("--queued", type=int, default=10_000, help="publications on the queue (default 10000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args.queued))
