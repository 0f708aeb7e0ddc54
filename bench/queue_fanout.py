"""Enqueue one post on 10,000 channels, against a bare INSERT of 10,000 publication rows.

    python bench/queue_fanout.py [--database URL] [--channels 10000]

Every channel is configured (half-hourly slots, no tag filter) and already holds one
queued post. The script times ``enqueue`` of one new post in mode "queue" and in mode
"now" (each one transaction, commit included), and as the baseline a bare Core
``INSERT`` executemany of the same number of publication rows (one transaction). Prints
seconds and the ratio to the baseline. Target (issue 12): ≤ 0.5 s for 10,000 targets.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time as clock

from queue_common import NOW, channel_config, fresh_database, new_posts, open_bench
from report import at_most, emit
from sqlalchemy import insert, select

from bot.app import App
from bot.publish.queue import enqueue
from bot.store.models import Channel, Post, Publication, PublicationState


async def enqueue_seconds(app: App, post_id: int, mode: str) -> float:
    began = clock.perf_counter()
    async with app.sessions.begin() as session:
        post = await session.get_one(Post, post_id)
        created = await enqueue(session, post, NOW, settings=app.settings, mode=mode)  # type: ignore[arg-type]
    assert len(created) == len(app.settings.channels), len(created)
    return clock.perf_counter() - began


async def bare_insert_seconds(app: App, post_id: int) -> float:
    async with app.sessions() as session:
        channel_ids = (await session.scalars(select(Channel.id))).all()
    began = clock.perf_counter()
    async with app.sessions.begin() as session:
        await session.execute(insert(Publication.__table__), [
            {"post_id": post_id, "channel_id": cid, "state": PublicationState.PENDING, "due_at": NOW,
             "next_attempt_at": NOW, "idempotency_key": f"bare-{post_id}-{cid}"} for cid in channel_ids])
    return clock.perf_counter() - began


async def main(url: str | None, folder: str, channels: int) -> None:
    app = await open_bench(await fresh_database(url, folder, "fanout"), [channel_config(n) for n in range(channels)])
    try:
        first, queued, shared_now, bare = await new_posts(app, "fanout", 4)
        await enqueue_seconds(app, first, "queue")  # every channel holds one queued post
        rows = [("bare INSERT of the rows (baseline)", await bare_insert_seconds(app, bare)),
                ("enqueue, mode queue", await enqueue_seconds(app, queued, "queue")),
                ("enqueue, mode now", await enqueue_seconds(app, shared_now, "now"))]
    finally:
        await app.engine.dispose()
    print(f"database: {'PostgreSQL' if url else 'SQLite'}; one post on {channels} channels")
    print(f"{'what':<36} {'seconds':>8} {'× bare':>7}")
    for what, seconds in rows:
        print(f"{what:<36} {seconds:>8.3f} {seconds / rows[0][1]:>7.1f}")
    for (what, seconds), mode in zip(rows[1:], ("queue", "now"), strict=True):
        emit(f"queue.fanout.{mode}", f"{what} on {channels:,} channels", seconds, "s", baseline=rows[0][1],
             baseline_label="bare INSERT of the rows", target=at_most(0.5), database="postgresql" if url else "sqlite",
             channels=channels)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file); its schema is DROPPED")
    parser.add_argument("--channels", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database, folder, args.channels))
