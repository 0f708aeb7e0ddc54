"""Creating a post's delivery rows (the fan-out) as readers grow: set-based against row by row.

    python bench/fanout_rows.py [--database URL] [--readers 1000 10000 30000]

For each reader count N (every reader follows one of the post's tags, one in ten is paused),
the script times ``notify.fan_out_due`` (one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
per batch of subscriber ids) against the baseline measured in the same run: load the
matching readers and add one ORM ``Delivery`` per reader. Prints milliseconds, the ratio,
and the peak Python memory of each (tracemalloc), which stays flat for the set-based path.
Only the database rows: sending them is the outbox's (bench/publish_*.py).
Default database: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time as clock
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from report import emit  # noqa: E402
from sqlalchemy import delete, exists, insert, select, update  # noqa: E402

from bot.app import App  # noqa: E402
from bot.services import notify  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.models import (  # noqa: E402
    Channel,
    Delivery,
    Follow,
    Post,
    PostTag,
    Publication,
    PublicationState,
    Subscriber,
)
from bot.store.repository import NewPost, add_post  # noqa: E402

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
CHANNELS = [{"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo"}]


async def reset(app: App) -> None:
    async with app.sessions.begin() as session:
        await session.execute(delete(Delivery))
        await session.execute(update(Post).values(fanned_out_at=None))


async def measured(app: App, work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(milliseconds, peak MiB allocated by Python): two runs, as tracemalloc slows Python code down."""
    began = clock.perf_counter()
    await work()
    elapsed = (clock.perf_counter() - began) * 1000
    await reset(app)
    tracemalloc.start()
    await work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    await reset(app)
    return elapsed, peak


async def row_by_row(app: App, post_id: int) -> None:
    async with app.sessions.begin() as session:
        follows = exists().where(Follow.subscriber_id == Subscriber.id, Follow.tag_id == PostTag.tag_id,
                                 PostTag.post_id == post_id)
        readers = (await session.scalars(select(Subscriber).where(Subscriber.active.is_(True),
                                                                  Subscriber.paused.is_(False), follows))).all()
        session.add_all(Delivery(post_id=post_id, subscriber_id=r.id, created_at=NOW, next_attempt_at=NOW) for r in readers)


async def readers(app: App, count: int, tag_id: int) -> None:
    async with app.sessions.begin() as session:
        await session.execute(delete(Subscriber))
        rows = [{"telegram_user_id": 10**6 + i, "language": "fr", "notification_mode": "instant", "active": True,
                 "paused": i % 10 == 0, "created_at": NOW} for i in range(count)]
        await session.execute(insert(Subscriber), rows)
        ids = (await session.scalars(select(Subscriber.id))).all()
        await session.execute(insert(Follow), [{"subscriber_id": i, "tag_id": tag_id, "created_at": NOW} for i in ids])


async def main(url: str, counts: list[int]) -> None:
    settings = load_settings(None, env={}, database_url=url, channels=CHANNELS)
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
    await app.sync_channels()
    async with app.sessions.begin() as session:
        post = await add_post(session, NewPost(source="bench", source_key="1", title="L’#IA en #santé", tags=("IA", "santé")))
        post_id, tag_id = post.id, post.post_tags[0].tag_id
        channel = await session.scalar(select(Channel.id))
        session.add(Publication(post_id=post_id, channel_id=channel, state=PublicationState.SENT, sent_at=NOW,
                                idempotency_key="bench"))
    print(f"database: {engine.dialect.name}; one post, every reader follows #IA, 1 in 10 paused")
    print(f"{'readers':>8} {'row by row ms':>14} {'MiB':>6} {'set-based ms':>13} {'MiB':>6} {'speed-up':>9}")
    for count in counts:
        await readers(app, count, tag_id)
        base_ms, base_mib = await measured(app, lambda: row_by_row(app, post_id))
        ms, mib = await measured(app, lambda: notify.fan_out_due(app, NOW))
        print(f"{count:>8} {base_ms:>14.0f} {base_mib:>6.1f} {ms:>13.0f} {mib:>6.1f} {base_ms / ms:>8.1f}×")
        emit(f"fanout_rows.{count}", f"delivery rows for {count:,} readers (set-based fan-out)", ms, "ms",
             baseline=base_ms, baseline_label="row by row (ORM)", database=engine.dialect.name, readers=count,
             peak_mib=round(mib, 1), baseline_peak_mib=round(base_mib, 1))
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: temporary SQLite file)")
    parser.add_argument("--readers", type=int, nargs="+", default=[1_000, 10_000, 30_000], help="reader counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args.readers))
