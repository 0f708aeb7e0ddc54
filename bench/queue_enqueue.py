"""Milliseconds per enqueue ("add to queue") as one channel's queue grows, against an empty queue.

    python bench/queue_enqueue.py [--database URL] [--posts 50]

For each queue length (0, 1,000, 10,000) the script fills one slotted channel with a dense
queue (bulk INSERT, one publication per slot), then times ``enqueue`` of ``--posts`` stored
posts in mode "queue", each in its own transaction (as an import does). Prints ms per
enqueue and the ratio to the empty queue measured in the same run. Target (issue 11 item
15): ≤ 2 ms per enqueue at 10,000 queued. Default database: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile

from queue_common import NOW, channel_config, fill_queue, fresh_database, new_posts, open_bench, per_call_ms
from report import at_most, emit

from bot.app import App
from bot.publish.queue import enqueue
from bot.store.models import Post

LENGTHS = (0, 1000, 10_000)


async def enqueue_ms(app: App, source: str, count: int) -> float:
    post_ids = await new_posts(app, source, count)

    async def one(post_id: int) -> None:
        async with app.sessions.begin() as session:
            post = await session.get_one(Post, post_id)
            await enqueue(session, post, NOW, settings=app.settings, mode="queue")

    return await per_call_ms([lambda pid=pid: one(pid) for pid in post_ids])


async def main(url: str | None, folder: str, count: int) -> None:
    print(f"database: {'PostgreSQL' if url else 'SQLite'}\n{'queued':>7} {'ms/enqueue':>11} {'× empty queue':>14}")
    empty: float | None = None
    for length in LENGTHS:
        app = await open_bench(await fresh_database(url, folder, f"queue-{length}"), [channel_config(0)])
        try:
            await fill_queue(app, "esante-0", length)
            await enqueue_ms(app, "warm-up", 5)
            ms = await enqueue_ms(app, "timed", count)
        finally:
            await app.engine.dispose()
        empty = empty or ms
        print(f"{length:>7} {ms:>11.2f} {ms / empty:>14.2f}", flush=True)
        if length:
            emit(f"queue.enqueue.{length}", f"add to queue at {length:,} queued, ms per enqueue", ms, "ms", baseline=empty,
                 baseline_label="the same on an empty queue", target=at_most(2), database="postgresql" if url else "sqlite",
                 posts=count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file); its schema is DROPPED")
    parser.add_argument("--posts", type=int, default=50, help="enqueues timed per queue length")
    args = parser.parse_args()
    print(f"{args.posts} enqueues per row, mode queue, one channel with {len(channel_config(0)['slots'])} slots a day")
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database, folder, args.posts))
