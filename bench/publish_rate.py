"""Publications per second and CPU per publication, rate limits off, against the Telegram emulator.

The real path end to end: posts queued "now" on C channels (one publication per channel),
then Relais' worker claims them from the outbox, renders each with the real formatter,
sends it with python-telegram-bot's ``Bot`` through ``TelegramPublisher`` (follow-tag
keyboard, HTML) to ``bot.sandbox`` over loopback HTTP, and records it sent. Limits are off
on both sides (sandbox without limits, ``telegram.rate_limits = false``).

The sandbox runs in a separate process, so the CPU column (``time.process_time()`` of this
process) is Relais' own; the sandbox's CPU is shown apart.

Rows:
  relais run            ``runtime.run_forever(role=worker)``: the scheduler's sweeps, as in production
  relais run --once     ``Publishing.drain()``: sweep after sweep until nothing is due
  bare send_message     baseline, same run: the same PTB ``Bot`` sending the same pre-rendered
                        texts and keyboards, no database, no render — sequentially, and with one
                        task per channel (the worker's own concurrency: channels in parallel)

    /work/main/.venv/bin/python bench/publish_rate.py [--publications 1000] [--channels 10]
                                                      [--database postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from publish_sandbox import (
    SandboxProcess,
    bench_arguments,
    check_all_sent,
    queued_app,
    relais_settings,
    run_bench,
    run_worker_until_sent,
    sandbox_process,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import runtime
from bot.publish.telegram import TelegramPublisher, _preview
from bot.settings import Settings
from bot.store.models import Post, Publication


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    wall: float
    cpu: float
    sandbox_cpu: float


async def measured(name: str, count: int, sandbox: SandboxProcess, work: Callable[[], Awaitable[None]]) -> Row:
    sandbox_cpu = sandbox.cpu_seconds()
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    return Row(name, count, time.perf_counter() - wall, time.process_time() - cpu,
               sandbox.cpu_seconds() - sandbox_cpu)


async def relais_run(settings: Settings, posts: int, sandbox: SandboxProcess) -> Row:
    async with queued_app(settings, posts) as (app, queued):
        row = await measured("relais run (scheduler sweeps)", queued, sandbox,
                             lambda: run_worker_until_sent(app, queued, "bench-run"))
        await check_all_sent(app, queued)
    return row


async def relais_once(settings: Settings, posts: int, sandbox: SandboxProcess) -> Row:
    async with queued_app(settings, posts) as (app, queued):
        async def work() -> None:
            async with AsyncExitStack() as stack:
                publishing = await runtime.open_publishing(stack, app, worker_id="bench-once")
                await publishing.drain()

        row = await measured("relais run --once (drain)", queued, sandbox, work)
        await check_all_sent(app, queued)
    return row


async def bare(settings: Settings, posts: int, sandbox: SandboxProcess) -> list[Row]:
    """The raw API call: the same Bot, texts and keyboards Relais sends, nothing around it."""
    async with queued_app(settings, posts) as (app, queued):
        async with app.sessions() as session:
            publications = (await session.scalars(
                select(Publication).options(selectinload(Publication.channel),
                                            selectinload(Publication.post).selectinload(Post.post_tags))
                .order_by(Publication.id))).all()
            render = runtime.make_render(settings, {})
            calls = [(p.channel.target, render(p)) for p in publications]
    rows = []
    async with TelegramPublisher.from_settings(settings) as publisher:
        bot = publisher.bot
        prepared = [(chat, r.text, publisher.follow_keyboard(r), _preview(r), r.parse_mode) for chat, r in calls]

        async def send(item: tuple) -> None:
            chat, body, keyboard, preview, parse_mode = item
            await bot.send_message(chat, body, parse_mode=parse_mode, reply_markup=keyboard,
                                   link_preview_options=preview)

        async def sequential() -> None:
            for item in prepared:
                await send(item)

        async def per_channel() -> None:
            by_chat: dict[str, list[tuple]] = {}
            for item in prepared:
                by_chat.setdefault(item[0], []).append(item)

            async def one(items: list[tuple]) -> None:
                for item in items:
                    await send(item)

            await asyncio.gather(*(one(items) for items in by_chat.values()))

        rows.append(await measured("bare send_message, sequential", queued, sandbox, sequential))
        rows.append(await measured("bare send_message, task/channel", queued, sandbox, per_channel))
    return rows


def print_table(rows: list[Row], baseline: Row, database: str, channels: int) -> None:
    print(f"database: {database}, channels: {channels}, publications per row: {baseline.count}, "
          "limits off (sandbox in its own process)")
    header = f"{'path':34} {'pub/s':>8} {'CPU ms/pub':>11} {'× bare CPU':>11} {'sandbox CPU ms/msg':>19}"
    print(header)
    print("-" * len(header))
    for row in rows:
        cpu = 1000 * row.cpu / row.count
        print(f"{row.name:34} {row.count / row.wall:8.0f} {cpu:11.2f} "
              f"{row.cpu / baseline.cpu:11.2f} {1000 * row.sandbox_cpu / row.count:19.2f}")


async def main(args: argparse.Namespace) -> None:
    posts = max(1, args.publications // args.channels)
    with tempfile.TemporaryDirectory() as folder, sandbox_process(args.channels) as sandbox:
        def settings_for(name: str) -> Settings:
            url = args.database or f"sqlite+aiosqlite:///{Path(folder) / name}.db"
            return relais_settings(Path(folder), base_url=sandbox.base_url, channels=args.channels,
                                   database_url=url, rate_limits=False, sweep_seconds=args.sweep_seconds)

        bare_rows = await bare(settings_for("bare"), posts, sandbox)
        rows = [await relais_run(settings_for("run"), posts, sandbox),
                await relais_once(settings_for("once"), posts, sandbox), *bare_rows]
        stats = sandbox.stats()
    print_table(rows, bare_rows[0], (args.database or "sqlite").split("://")[0], args.channels)
    print(f"sandbox: {stats['requests'].get('sendmessage', 0)} sendMessage, {stats['rejected_429']} × 429")


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publications", type=int, default=1000, help="per row (rounded to a multiple of channels)")
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--sweep-seconds", type=int, default=None, help="schedule.sweep_seconds (default: Relais')")


if __name__ == "__main__":
    run_bench(main, bench_arguments(__doc__, options))
