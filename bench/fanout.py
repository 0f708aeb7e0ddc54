"""Fan-out: one post notified to N followers through the worker, the emulator limited to 300 messages/s.

Issue 9's figure, measured on Relais' delivery path: delivery rows for one post and N readers
(created with one ``INSERT … SELECT``, as the fan-out does), then ``bot.publish.worker.run_once``
passes with the reader notifications' target (the lean sender) paced by ``TelegramLimits`` set
to the emulator's overall limit, until every row is sent. The emulator (its own process,
``bench/publish_sandbox.py``) enforces 300/s overall and 1/s per reader and answers 429 beyond.

Each size runs in a fresh child process, so its peak RSS (``ru_maxrss``: the worker's process,
database rows created in SQL, not in Python) is its own. Printed per size:

  rate ÷ limit         achieved notifications/s ÷ 300 (target ≥ 0.95); no channel post goes out
                       meanwhile, so the deliveries may use the publications' reserve too
  429                  answers the emulator gave (target 0)
  duplicates           messages beyond one per reader, and readers missed (target 0)
  peak RSS             MB (target ≤ 200, flat from 1,000 to 10,000 followers)

    .venv/bin/python bench/fanout.py [--followers 1000 10000] [--limit 300] [--database postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from publish_sandbox import (
    FIRST_USER,
    ROOT,
    article,
    fresh_database,
    relais_settings,
    sandbox_process,
)
from report import at_least, at_most, emit
from sqlalchemy import func, insert, literal, select

from bot.app import make_render, open_app
from bot.publish.ratelimit import Rate, TelegramLimits
from bot.publish.targets import DeliveryTarget
from bot.publish.telegram import TelegramPublisher
from bot.publish.worker import Deliveries, run_once
from bot.sandbox import RateLimits
from bot.services.delivery_render import DeliveryRenderer
from bot.store import repository
from bot.store.models import Delivery, DeliveryState, Follow, PostTag, Subscriber


async def create_rows(app, followers: int, now: datetime) -> int:
    """N subscribers following one tag of one post, one pending delivery each (INSERT … SELECT)."""
    async with app.sessions.begin() as session:
        post = await repository.add_post(session, article(1))
        await session.execute(insert(Subscriber), [
            {"telegram_user_id": FIRST_USER + n, "language": "fr", "active": True} for n in range(followers)])
        tag_id = (await session.scalars(select(PostTag.tag_id).where(PostTag.post_id == post.id).limit(1))).one()
        await session.execute(insert(Follow).from_select(  # every reader follows one of its tags, as a fan-out means
            ["subscriber_id", "tag_id", "created_at"], select(Subscriber.id, literal(tag_id), literal(now))))
        await session.execute(insert(Delivery).from_select(
            ["post_id", "subscriber_id", "state", "due_at", "next_attempt_at", "attempts"],
            select(literal(post.id), Subscriber.id, literal(DeliveryState.PENDING.value), literal(now), literal(now),
                   literal(0))))
        return int(await session.scalar(select(func.count()).select_from(Delivery)))


async def child(args: argparse.Namespace) -> dict[str, float]:
    """One size, in this process: the worker's passes until every delivery is sent."""
    folder = Path(args.folder)
    settings = relais_settings(folder, base_url=args.base_url, channels=1, rate_limits=True,
                               database_url=args.database or f"sqlite+aiosqlite:///{folder / 'fanout.db'}")
    await fresh_database(settings.database_url)
    now = datetime.now(UTC)
    async with open_app(settings) as app:
        rows = await create_rows(app, args.followers, now)
        limits = TelegramLimits(overall=Rate(args.limit, 1))
        async with TelegramPublisher.from_settings(settings) as publisher:
            render_notification = DeliveryRenderer(app)  # what `relais run` wires
            deliveries = Deliveries(DeliveryTarget(publisher, limits), render_notification)
            started, cpu = time.perf_counter(), time.process_time()
            delivered = 0
            while delivered < rows:
                report = await run_once(app.sessions, datetime.now(UTC), worker_id="fanout", publishers={},
                                        render=make_render(settings, {}), deliveries=deliveries)
                delivered += report.delivered
                if not report.claimed:
                    await asyncio.sleep(0.2)  # a 429 set a retry time: wait for it
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "wall": wall, "cpu": cpu, "peak_mb": peak_mb}


def run_size(followers: int, limit: int, database: str | None, base_url: str, folder: str) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--followers", str(followers),
               "--limit", str(limit), "--base-url", base_url, "--folder", folder]
    if database:
        command += ["--database", database]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(args: argparse.Namespace) -> None:
    sizes = args.followers
    print(f"fan-out: one post, emulator limit {args.limit}/s overall and 1/s per reader; "
          f"database {(args.database or 'sqlite').split('://')[0]}")
    header = (f"{'followers':>9} {'notif/s':>8} {'÷ limit':>8} {'429':>5} {'dupl.':>6} {'missed':>7} "
              f"{'CPU ms/notif':>13} {'peak RSS MB':>12}")
    print(header)
    print("-" * len(header))
    for followers in sizes:
        limits = RateLimits(overall_per_second=args.limit, private_per_second=1)
        with tempfile.TemporaryDirectory() as folder, sandbox_process(1, limits, users=followers) as sandbox:
            result = run_size(followers, args.limit, args.database, sandbox.base_url, folder)
            stats = sandbox.stats()
            messages = httpx.get(f"{sandbox.control_url}/messages", timeout=120).json()
        per_reader = Counter(m["chat_id"] for m in messages if m["chat_id"] >= FIRST_USER)
        duplicates = sum(n - 1 for n in per_reader.values())
        missed = followers - len(per_reader)
        rate = result["rows"] / result["wall"]
        print(f"{followers:9d} {rate:8.0f} {rate / args.limit:8.2f} {stats['rejected_429']:5d} "
              f"{duplicates:6d} {missed:7d} {1000 * result['cpu'] / result['rows']:13.2f} {result['peak_mb']:12.0f}")
        params = {"database": (args.database or "sqlite").split("://")[0], "followers": followers, "limit": args.limit}
        emit(f"fanout.{followers}.rate", f"fan-out to {followers:,} followers: notifications/s ÷ limit", rate, "notif/s",
             baseline=args.limit, baseline_label="the emulator's limit", target=at_least(0.95, on="ratio"), **params)
        emit(f"fanout.{followers}.correct", f"fan-out to {followers:,} followers: 429, duplicates, readers missed",
             f"{stats['rejected_429']} / {duplicates} / {missed}",
             passed=stats["rejected_429"] == duplicates == missed == 0, **params)
        emit(f"fanout.{followers}.rss", f"fan-out to {followers:,} followers: peak RSS", result["peak_mb"], "MB",
             target=at_most(200), **params)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--limit", type=int, default=300, help="the emulator's overall messages per second")
    parser.add_argument("--database", default=None, help="PostgreSQL URL (emptied!); default: a temporary SQLite")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    parsed = arguments()
    if parsed.child:
        import logging

        logging.basicConfig(level=logging.ERROR)
        parsed.followers = parsed.followers[0]
        print(json.dumps(asyncio.run(child(parsed))))
    else:
        main(parsed)
