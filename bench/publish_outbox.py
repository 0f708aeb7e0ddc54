"""Outbox cost per publication: claim → send → record, each in its own transaction.

The platform is an instant in-process target (limits off, no network), so what is measured
is our bookkeeping: publications per second and CPU milliseconds per publication through
``run_once``. Baseline in the same run: the least any outbox must do — one UPDATE per
publication marking it sent, all in one transaction, with no claim and no per-item commit.

    PYTHONPATH=. /work/main/.venv/bin/python bench/publish_outbox.py [N] [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from report import emit
from sqlalchemy import text, update

from bot.publish.targets import Job
from bot.publish.worker import run_once
from bot.store import db
from bot.store.models import Channel, Platform, Post, Publication, PublicationState

NOW = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sent:
    remote_id: str
    remote_url: str | None = None


class InstantTarget:
    async def prepare(self, now: datetime) -> None:
        return None

    async def send(self, job: Job, render: object, now: datetime) -> Sent:
        return Sent(str(job.publication_id))

    async def edit(self, job: Job, render: object, now: datetime) -> None:
        return None

    async def delete(self, job: Job, now: datetime) -> bool:
        return True


async def fill(sessions, n: int) -> None:
    async with sessions.begin() as session:
        channel = Channel(name="canal", platform=Platform.TELEGRAM, target="@canal_esante")
        session.add(channel)
        await session.flush()
        posts = [Post(source="bench", source_key=str(i), title=f"#Santé : article {i}") for i in range(n)]
        session.add_all(posts)
        await session.flush()
        session.add_all(Publication(post_id=p.id, channel_id=channel.id, due_at=NOW, next_attempt_at=NOW,
                                    idempotency_key=f"bench-{p.id}") for p in posts)


async def fresh(url: str, name: str):
    if url.startswith("sqlite"):
        url = url.replace("bench.db", f"{name}.db")
    engine = db.create_engine(url)
    if url.startswith("postgresql"):
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade(engine)
    return engine, db.session_factory(engine)


async def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    return time.perf_counter() - wall, time.process_time() - cpu


async def bench(url: str, n: int) -> None:
    engine, sessions = await fresh(url, "outbox")
    await fill(sessions, n)

    async def outbox() -> None:
        while (await run_once(sessions, NOW, worker_id="bench", publishers={"canal": InstantTarget()},
                              render=lambda p: p.post.title, limit=100)).sent:
            pass

    ours = await timed(outbox)
    await engine.dispose()

    engine, sessions = await fresh(url, "baseline")
    await fill(sessions, n)

    async def baseline() -> None:
        async with sessions.begin() as session:
            for i in range(1, n + 1):
                await session.execute(update(Publication).where(Publication.id == i)
                                      .values(state=PublicationState.SENT, remote_id=str(i), sent_at=NOW))

    base = await timed(baseline)
    await engine.dispose()

    print(f"database: {url.split('://')[0]}, publications: {n}")
    print(f"{'':28} {'pub/s':>10} {'CPU ms/pub':>11}")
    print(f"{'outbox (run_once)':28} {n / ours[0]:10.0f} {1000 * ours[1] / n:11.3f}")
    print(f"{'baseline (bare UPDATEs)':28} {n / base[0]:10.0f} {1000 * base[1] / n:11.3f}")
    print(f"{'outbox ÷ baseline time':28} {ours[0] / base[0]:10.1f}")
    emit("outbox.cpu", "outbox `run_once`, instant target: CPU per publication", 1000 * ours[1] / n, "ms",
         baseline=1000 * base[1] / n, baseline_label="bare UPDATE … SET state='sent'", database=url.split("://")[0],
         publications=n)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(bench(url, n))


if __name__ == "__main__":
    main()
