"""APScheduler 3.11 wiring: it only *wakes* workers; the database holds every state.

``build_scheduler`` takes a list of job specs — a name, a trigger, and a coroutine factory
that receives ``now`` from the injected clock — and knows nothing of what the jobs do.
Triggers: ``Once`` (at start, in list order, before any other job runs), ``Every`` (an
interval, first run right after the start-up jobs) and ``Wake`` (a date job re-armed after
each run at the time its function names). ``relais_jobs`` is the list `relais run` uses:

* ``catch-up`` — once at start; re-slots what was missed during downtime, so nothing overdue
  is sent before the policy has run;
* ``outbox-sweep`` — every ``schedule.sweep_seconds``; it claims pending rows and retries
  alike (``outbox.claim_due``), so one job serves both;
* ``poll:<feed>`` — one per configured feed, every ``interval_minutes``;
* ``slot-wake`` — a sweep at the next posting slot of any channel (or the next due time in
  the database), so a 09:00 slot is sent at 09:00 and not up to ``sweep_seconds`` later.

The job store is a MemoryJobStore: jobs are rebuilt from the configuration at every start
and never pickled (APScheduler's job stores must not be shared between processes:
https://apscheduler.readthedocs.io/en/3.x/userguide.html#choosing-the-right-job-store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
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
Work = Callable[[datetime], Awaitable[Any]]
Poll = Callable[[FeedSettings, datetime], Awaitable[Any]]
NextTime = Callable[[datetime], Awaitable[datetime | None]]

SWEEP_JOB = "outbox-sweep"
CATCH_UP_JOB = "catch-up"
SLOT_WAKE_JOB = "slot-wake"
START_UP_JOB = "start-up"

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


@dataclass(frozen=True, slots=True)
class Once:
    """Run once at start, before every other job (start-up jobs run in list order)."""


@dataclass(frozen=True, slots=True)
class Every:
    """Run every ``seconds``, first right after the start-up jobs."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Wake:
    """Run at ``next_at(now)``, then again at ``next_at(that time)``…; None: not armed."""

    next_at: NextTime


Trigger = Once | Every | Wake


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    trigger: Trigger
    run: Work  # called with the injected clock's `now`


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


def slot_or_due(settings: Settings, next_due: NextTime | None = None) -> NextTime:
    """The next slot of any channel, or the database's next due time when it comes first.

    ``next_due(now)`` returns the earliest due time in the database, so posts scheduled at an
    exact time or shared now also wake the sweep on time.
    """

    async def next_at(now: datetime) -> datetime | None:
        wake = next_wake(settings, now)
        if next_due is None:
            return wake
        try:
            due = await next_due(now)
        except Exception:  # the slot wake must survive a database hiccup
            log.exception("cannot read the next due time; waking at the next slot only")
            return wake
        if due is not None and due > now and (wake is None or due < wake):
            return due
        return wake

    return next_at


def relais_jobs(settings: Settings, *, sweep: Work, poll: Poll, catch_up: Work | None = None,
                next_due: NextTime | None = None) -> list[JobSpec]:
    """The jobs of `relais run`'s worker role (see the module docstring)."""
    jobs = [JobSpec(CATCH_UP_JOB, Once(), catch_up)] if catch_up is not None else []
    jobs.append(JobSpec(SWEEP_JOB, Every(settings.schedule.sweep_seconds), sweep))
    jobs += [JobSpec(f"poll:{feed.name}", Every(feed.interval_minutes * 60), partial(poll, feed))
             for feed in settings.feeds]
    jobs.append(JobSpec(SLOT_WAKE_JOB, Wake(slot_or_due(settings, next_due)), sweep))
    return jobs


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


def build_scheduler(jobs: Sequence[JobSpec], *, clock: Clock, timezone: tzinfo | str = UTC) -> AsyncIOScheduler:
    """An AsyncIOScheduler on the running loop with ``jobs``; call ``.start()`` on it."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("build_scheduler must be called from the running event loop") from None
    scheduler = AsyncIOScheduler(event_loop=loop, timezone=timezone, jobstores={"default": MemoryJobStore()},
                                 job_defaults=dict(JOB_DEFAULTS))

    def now_for(spec: JobSpec) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return await spec.run(clock())

        return run

    async def arm(spec: JobSpec, next_at: NextTime, after: datetime | None = None) -> None:
        # strictly after the time just served, even if `clock` lags APScheduler's clock
        when = await next_at(max(clock(), after) if after is not None else clock())
        if when is None:
            return

        async def run_then_rearm() -> None:
            try:
                await spec.run(clock())
            finally:
                await arm(spec, next_at, after=when)

        scheduler.add_job(_guarded(spec.name, run_then_rearm), DateTrigger(when.astimezone(UTC)), id=spec.name,
                          name=spec.name, replace_existing=True)
        log.debug("%s armed for %s", spec.name, when.isoformat())

    async def start_up() -> None:
        for spec in jobs:
            if isinstance(spec.trigger, Once):  # a failed one is logged; the others still start
                await _guarded(spec.name, now_for(spec))()
        for spec in jobs:
            if isinstance(spec.trigger, Every):  # first run now that the start-up jobs are done
                scheduler.modify_job(spec.name, next_run_time=datetime.now(UTC))
            elif isinstance(spec.trigger, Wake):
                await arm(spec, spec.trigger.next_at)

    for spec in jobs:
        if isinstance(spec.trigger, Every):
            # paused (no next run time) until the start-up jobs are done
            scheduler.add_job(_guarded(spec.name, now_for(spec)), IntervalTrigger(seconds=spec.trigger.seconds),
                              id=spec.name, name=spec.name, next_run_time=None)
    scheduler.add_job(_guarded(START_UP_JOB, start_up), DateTrigger(datetime.now(UTC)), id=START_UP_JOB,
                      name=START_UP_JOB)
    return scheduler
