"""Milliseconds per "share next" on a queue of 1,000, against "add to queue" on the same queue.

    python bench/queue_share_next.py [--database URL] [--queued 1000] [--posts 20]

One channel (half-hourly slots) holds a dense queue of ``--queued`` posts (bulk INSERT, one
per slot), so every "share next" moves the whole queue back by one slot. The script times
``--posts`` enqueues in mode "queue", then ``--posts`` in mode "next", each in its own
transaction. Prints ms per post and the ratio. Target (issue 12): ≤ 5 ms per post at 1,000.
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


async def mode_ms(app: App, mode: str, count: int, source: str) -> float:
    post_ids = await new_posts(app, source, count)

    async def one(post_id: int) -> None:
        async with app.sessions.begin() as session:
            post = await session.get_one(Post, post_id)
            await enqueue(session, post, NOW, settings=app.settings, mode=mode)  # type: ignore[arg-type]

    return await per_call_ms([lambda pid=pid: one(pid) for pid in post_ids])


async def main(url: str | None, folder: str, queued: int, count: int) -> None:
    app = await open_bench(await fresh_database(url, folder, "share-next"), [channel_config(0)])
    try:
        await fill_queue(app, "esante-0", queued)
        await mode_ms(app, "queue", 3, "warm-up")
        queue_ms = await mode_ms(app, "queue", count, "queue")
        next_ms = await mode_ms(app, "next", count, "next")
    finally:
        await app.engine.dispose()
    print(f"database: {'PostgreSQL' if url else 'SQLite'}; {queued} queued; {count} posts per mode")
    print(f"{'mode':<22} {'ms/post':>8} {'× queue':>8}")
    print(f"{'add to queue (base)':<22} {queue_ms:>8.2f} {1:>8.2f}")
    print(f"{'share next':<22} {next_ms:>8.2f} {next_ms / queue_ms:>8.2f}")
    emit("queue.share_next", f"share next at {queued:,} queued, ms per post", next_ms, "ms", baseline=queue_ms,
         baseline_label="add to queue, same queue", target=at_most(5), database="postgresql" if url else "sqlite",
         queued=queued, posts=count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file); its schema is DROPPED")
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database, folder, args.queued, args.posts))
