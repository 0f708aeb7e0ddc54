"""APScheduler 3.11 wiring: it only *wakes* workers; the database holds every state.

Jobs (all injected callables receive ``now`` from the injected clock):

* ``catch-up`` — once at start; re-slots what was missed during downtime, then wakes the
  sweep so nothing overdue is sent before the policy has run;
* ``outbox-sweep`` — every ``schedule.sweep_seconds``; it claims pending rows and retries
  alike (``outbox.claim_due``), so one job serves both;
* ``poll:<feed>`` — one per configured feed, every ``interval_minutes``, first at start;
* ``slot-wake`` — a date job at the next posting slot of any channel, re-armed after each
  run, so a 09:00 slot is sent at 09:00 and not up to ``sweep_seconds`` later.

The job store is a MemoryJobStore: jobs are rebuilt from the configuration at every start
and never pickled (APScheduler's job stores must not be shared between processes:
https://apscheduler.readthedocs.io/en/3.x/userguide.html#choosing-the-right-job-store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.schedule.slots import next_slot_after
from bot.settings import FeedSettings, Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

Clock = Callable[[], datetime]
Sweep = Callable[[datetime], Awaitable[Any]]
Poll = Callable[[FeedSettings, datetime], Awaitable[Any]]
NextDue = Callable[[datetime], Awaitable[datetime | None]]

SWEEP_JOB = "outbox-sweep"
CATCH_UP_JOB = "catch-up"
SLOT_WAKE_JOB = "slot-wake"

JOB_DEFAULTS = {
    # APScheduler's default misfire_grace_time is 1 s: a job whose run time passed by more
    # than that (event loop busy, machine suspended, clock jump) is *skipped* with only a
    # log line — the silent drop peer bots suffer. None = run however late; with
    # coalesce=True the runs missed meanwhile collapse into one. Our jobs are idempotent
    # sweeps over the database, so a late run is always right and a skipped one never is.
    # https://apscheduler.readthedocs.io/en/3.x/userguide.html#missed-job-executions-and-coalescing
    "misfire_grace_time": None,
    "coalesce": True,
    # One run of a given job at a time: a slow feed or sweep is not stacked on itself.
    "max_instances": 1,
}


def in_transaction(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession, datetime], Awaitable[T]],
) -> Callable[[datetime], Awaitable[T]]:
    """Adapt ``work(session, now)`` (e.g. ``queue.catch_up``) into a job taking ``now``.

    One transaction per run, committed when ``work`` returns, rolled back if it raises.
    """

    async def job(now: datetime) -> T:
        async with sessions.begin() as session:
            return await work(session, now)

    return job


def next_wake(settings: Settings, now: datetime) -> datetime | None:
    """The earliest slot of any enabled channel strictly after ``now`` (None without slots)."""
    candidates = [
        instant
        for channel in settings.channels
        if channel.enabled and channel.slots
        if (instant := next_slot_after(channel.slots, settings.tz, now)) is not None
    ]
    return min(candidates, default=None)


def _guarded(name: str, work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """A job body that logs its failure and lets the next run try again."""

    async def job() -> None:
        try:
            await work()
        except asyncio.CancelledError:
            # Shutdown cancels the job in flight (a sweep working through a backlog, or one
            # waiting for it); the sweep releases what it had not sent. APScheduler would log
            # the cancellation as a failure with a traceback, and swallow it anyway.
            log.info("scheduled job %s stopped by shutdown", name)
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", name)

    job.__name__ = job.__qualname__ = name.replace(":", "_").replace("-", "_")
    return job


def build_scheduler(
    settings: Settings,
    *,
    sweep: Sweep,
    poll: Poll,
    clock: Clock,
    catch_up: Sweep | None = None,
    next_due: NextDue | None = None,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler on the running loop with Relais' jobs; call ``.start()`` on it.

    ``next_due(now)`` (optional) returns the earliest due time in the database, so posts
    scheduled at an exact time or shared now also wake the sweep on time.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("build_scheduler must be called from the running event loop") from None
    scheduler = AsyncIOScheduler(
        event_loop=loop,
        timezone=settings.tz,
        jobstores={"default": MemoryJobStore()},
        job_defaults=dict(JOB_DEFAULTS),
    )
    every = timedelta(seconds=settings.schedule.sweep_seconds)
    start = datetime.now(UTC)  # APScheduler's own times are wall-clock; `clock` is what jobs see

    async def run_sweep() -> None:
        await sweep(clock())

    async def wake_on_slot(slot: datetime) -> None:
        try:
            await sweep(clock())
        finally:
            await arm_slot_wake(after=slot)

    async def arm_slot_wake(after: datetime | None = None) -> None:
        # strictly after the slot just served, even if `clock` lags APScheduler's clock
        now = max(clock(), after) if after is not None else clock()
        wake = next_wake(settings, now)
        if next_due is not None:
            try:
                due = await next_due(now)
            except Exception:  # the slot wake must survive a database hiccup
                log.exception("cannot read the next due time; waking at the next slot only")
                due = None
            if due is not None and due > now and (wake is None or due < wake):
                wake = due
        if wake is None:
            return
        scheduler.add_job(
            _guarded(SLOT_WAKE_JOB, partial(wake_on_slot, wake)), DateTrigger(wake.astimezone(UTC)),
            id=SLOT_WAKE_JOB, name="sweep at the next posting slot", replace_existing=True,
        )
        log.debug("next slot wake at %s", wake.isoformat())

    async def start_up() -> None:
        if catch_up is not None:
            await catch_up(clock())
        # sweep right away (now that the catch-up policy has run), then on the interval
        scheduler.modify_job(SWEEP_JOB, next_run_time=datetime.now(UTC))
        await arm_slot_wake()

    scheduler.add_job(
        _guarded(SWEEP_JOB, run_sweep), IntervalTrigger(seconds=every.total_seconds()),
        id=SWEEP_JOB, name="outbox sweep",
    )
    for feed in settings.feeds:
        scheduler.add_job(
            _guarded(f"poll:{feed.name}", _bind_poll(poll, feed, clock)),
            IntervalTrigger(minutes=feed.interval_minutes), id=f"poll:{feed.name}",
            name=f"poll feed {feed.name}", next_run_time=start,
        )
    scheduler.add_job(_guarded(CATCH_UP_JOB, start_up), DateTrigger(start), id=CATCH_UP_JOB,
                      name="catch-up at start")
    return scheduler


def _bind_poll(poll: Poll, feed: FeedSettings, clock: Clock) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        return await poll(feed, clock())

    return run
