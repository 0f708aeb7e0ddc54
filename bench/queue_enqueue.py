"""Cost of `enqueue` as a channel's queue grows, against storing the post alone.

    python bench/queue_enqueue.py [--database URL]

For each queue length N the script fills one slotted channel with N pending
publications, then times storing 50 more posts with and without `enqueue` (add to queue
and share next, which moves the queue). Prints milliseconds per post and the ratio to the
baseline measured in the same run. Default database: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time as clock
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.publish.queue import enqueue
from bot.settings import load_settings
from bot.store import db
from bot.store.repository import NewPost, add_post

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
CHANNELS = [{"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo",
             "slots": ["09:00", "12:30", "18:00"]}]
BATCH = 50


async def timed(app: App, source: str, mode: str | None) -> float:
    began = clock.perf_counter()
    for n in range(BATCH):
        async with app.sessions.begin() as session:
            post = await add_post(session, NewPost(source=source, source_key=str(n),
                                                   title=f"#Bench n°{n} : l’#IA", tags=("IA",)))
            if mode is not None:
                await enqueue(session, post, NOW, settings=app.settings, mode=mode)  # type: ignore[arg-type]
    return (clock.perf_counter() - began) * 1000 / BATCH


async def main(url: str) -> None:
    settings = load_settings(None, env={}, database_url=url, channels=CHANNELS)
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
    await app.sync_channels()
    print(f"database: {engine.dialect.name}; {BATCH} posts per cell; ms per post")
    print(f"{'queue length':>12} {'store only':>11} {'+ queue':>9} {'ratio':>6} {'+ next':>9} {'ratio':>6}")
    counter = 0
    for target in (0, 100, 1000):
        while counter < target:  # grow the queue to the target length
            chunk = min(BATCH, target - counter)
            async with app.sessions.begin() as session:
                for n in range(chunk):
                    post = await add_post(session, NewPost(source="fill", source_key=str(counter + n), title="x"))
                    await enqueue(session, post, NOW, settings=settings)
            counter += chunk
        base = await timed(app, f"base-{target}", None)
        queued = await timed(app, f"queue-{target}", "queue")
        shared = await timed(app, f"next-{target}", "next")
        counter += 2 * BATCH
        print(f"{target:>12} {base:>11.2f} {queued:>9.2f} {queued / base:>6.1f} {shared:>9.2f} {shared / base:>6.1f}")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"))
