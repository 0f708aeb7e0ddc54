"""Publications per second and CPU per publication, rate limits off, against the Telegram emulator.

The real path end to end: posts queued "now" on C channels (one publication per channel),
then Relais' worker claims them from the outbox, renders each with the real formatter,
sends it with python-telegram-bot's ``Bot`` through ``TelegramPublisher`` (follow-tag
keyboard, HTML) to ``bot.sandbox`` over loopback HTTP, and records it sent. Limits are off
on both sides (sandbox without limits, ``telegram.rate_limits = false``).

The sandbox runs in a separate process, so the CPU column (``time.process_time()`` of this
process) is Relais' own; the sandbox's CPU is shown apart.

Rows (each measured ``--runs`` times, interleaved, printed as min / median / max):
  relais run            ``runtime.run_forever(role=worker)``: the scheduler's sweeps, as in production
  relais run --once     ``Publishing.drain()`` (with ``--once`` only)
  bare send_message     baseline, same run: the same PTB ``Bot`` sending the same pre-rendered
                        texts and keyboards, no database, no render, one task per channel (the
                        worker's own concurrency: channels in parallel, each in order)
  bare lean sender      the same, through ``bot.publish.telegram_lean`` (Relais' send path alone)

The ratio column divides each run's CPU per publication by the bare send_message CPU of the
same run: the machine is shared, so absolute figures drift; ratios hold.

    .venv/bin/python bench/publish_rate.py [--publications 1000] [--channels 10] [--runs 3] [--uvloop]
                                           [--database postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
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
from report import at_least, at_most, emit
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import runtime
from bot.format.model import TelegramRender
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
    """The raw API call: the same texts and keyboards Relais sends, nothing around it, through
    PTB's ``Bot`` and through the lean sender, one task per channel."""
    async with queued_app(settings, posts) as (app, queued):
        async with app.sessions() as session:
            publications = (await session.scalars(
                select(Publication).options(selectinload(Publication.channel),
                                            selectinload(Publication.post).selectinload(Post.post_tags))
                .order_by(Publication.id))).all()
            render = runtime.make_render(settings, {})
            calls = [(p.channel.target, render(p)) for p in publications]
    by_chat: dict[str, list[TelegramRender]] = {}
    for chat, rendered in calls:
        by_chat.setdefault(chat, []).append(rendered)

    async def per_channel(send: Callable[[str, TelegramRender], Awaitable[object]]) -> None:
        async def one(chat: str, items: list[TelegramRender]) -> None:
            for item in items:
                await send(chat, item)

        await asyncio.gather(*(one(chat, items) for chat, items in by_chat.items()))

    async with TelegramPublisher.from_settings(settings) as publisher:
        bot, lean = publisher.bot, publisher.sender
        assert lean is not None

        async def ptb_send(chat: str, r: TelegramRender) -> None:
            await bot.send_message(chat, r.text, parse_mode=r.parse_mode, reply_markup=publisher.follow_keyboard(r),
                                   link_preview_options=_preview(r))

        async def lean_send(chat: str, r: TelegramRender) -> None:
            await lean.send(chat, r, bot_username=publisher.bot_username)

        return [await measured("bare send_message (PTB)", queued, sandbox, lambda: per_channel(ptb_send)),
                await measured("bare lean sender", queued, sandbox, lambda: per_channel(lean_send))]


def spread(values: list[float], form: str) -> str:
    return " / ".join(format(v, form) for v in (min(values), statistics.median(values), max(values)))


def print_table(runs: list[list[Row]], database: str, channels: int, loop: str) -> None:
    """One line per path: pub/s, CPU ms/pub and CPU ÷ bare PTB (per run), as min / median / max."""
    print(f"database: {database}, channels: {channels}, publications per row: {runs[0][0].count}, "
          f"runs: {len(runs)}, loop: {loop}, limits off (sandbox in its own process)")
    header = f"{'path':28} {'pub/s':>20} {'CPU ms/pub':>20} {'CPU ÷ bare PTB':>20} {'sandbox ms/msg':>15}"
    print(header)
    print("-" * len(header))
    for index, name in enumerate(row.name for row in runs[0]):
        rows = [run[index] for run in runs]
        baselines = [next(r for r in run if r.name.startswith("bare send_message")) for run in runs]
        rate = [row.count / row.wall for row in rows]
        cpu = [1000 * row.cpu / row.count for row in rows]
        ratio = [row.cpu / base.cpu for row, base in zip(rows, baselines, strict=True)]
        sandbox_cpu = statistics.median(1000 * row.sandbox_cpu / row.count for row in rows)
        print(f"{name:28} {spread(rate, '.0f'):>20} {spread(cpu, '.2f'):>20} {spread(ratio, '.2f'):>20} "
              f"{sandbox_cpu:15.2f}")


async def main(args: argparse.Namespace) -> None:
    posts = max(1, args.publications // args.channels)
    runs: list[list[Row]] = []
    with tempfile.TemporaryDirectory() as folder, sandbox_process(args.channels) as sandbox:
        def settings_for(name: str) -> Settings:
            url = args.database or f"sqlite+aiosqlite:///{Path(folder) / name}.db"
            return relais_settings(Path(folder), base_url=sandbox.base_url, channels=args.channels,
                                   database_url=url, rate_limits=False, sweep_seconds=args.sweep_seconds)

        for run in range(args.runs):
            rows = [await relais_run(settings_for(f"run{run}"), posts, sandbox)]
            if args.once:
                rows.append(await relais_once(settings_for(f"once{run}"), posts, sandbox))
            rows += await bare(settings_for(f"bare{run}"), posts, sandbox)
            runs.append(rows)
        stats = sandbox.stats()
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print_table(runs, (args.database or "sqlite").split("://")[0], args.channels, loop)
    print(f"sandbox: {stats['requests'].get('sendmessage', 0)} sendMessage, {stats['rejected_429']} × 429")
    relais_rows, ptb_rows = [run[0] for run in runs], [next(r for r in run if r.name.startswith("bare send")) for run in runs]
    params = {"database": (args.database or "sqlite").split("://")[0], "publications": relais_rows[0].count,
              "channels": args.channels, "runs": args.runs, "loop": loop}
    emit("publish.rate", "`relais run`, limits off, publications/s (median)",
         statistics.median(r.count / r.wall for r in relais_rows), "pub/s",
         baseline=statistics.median(r.count / r.wall for r in ptb_rows), baseline_label="bare PTB send_message",
         target=at_least(1000), **params)
    emit("publish.cpu", "`relais run`, limits off, CPU per publication (median)",
         statistics.median(1000 * r.cpu / r.count for r in relais_rows), "ms",
         baseline=statistics.median(1000 * r.cpu / r.count for r in ptb_rows), baseline_label="bare PTB send_message",
         ratio=statistics.median(r.cpu / b.cpu for r, b in zip(relais_rows, ptb_rows, strict=True)),
         target=at_most(1), **params)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publications", type=int, default=1000, help="per row (rounded to a multiple of channels)")
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--sweep-seconds", type=int, default=None, help="schedule.sweep_seconds (default: Relais')")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--once", action="store_true", help="also measure `relais run --once`")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop, as `relais run` does when installed")


if __name__ == "__main__":
    arguments = bench_arguments(__doc__, options)
    if arguments.uvloop and not runtime.use_uvloop():
        raise SystemExit("--uvloop: uvloop is not installed (pip install 'relais[fast]')")
    run_bench(main, arguments)
