"""The real AsyncIOScheduler with Relais' jobs: start-up order, slot wake, misfires.

APScheduler runs on the wall clock; these tests only wait for things to happen (with a
generous hang guard), never assert how fast. What each job is and when it next fires is
tested without the scheduler, from the job specs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.schedule.scheduler import (
    CATCH_UP_JOB,
    SLOT_WAKE_JOB,
    SWEEP_JOB,
    Every,
    JobSpec,
    Once,
    Wake,
    build_scheduler,
    next_wake,
    relais_jobs,
    slot_or_due,
)
from bot.settings import FeedSettings, Settings, load_settings

HANG_GUARD = 20.0  # seconds: only a hung scheduler takes this long


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + HANG_GUARD
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)

PARIS = ZoneInfo("Europe/Paris")


def settings_with_slot(slot_at: datetime) -> Settings:
    return load_settings(
        None, env={},
        channels=[
            {"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo",
             "slots": [slot_at.astimezone(PARIS).time()]},
            {"name": "immediate", "platform": "telegram", "chat": "@esante_direct"},
        ],
        feeds=[{"name": "esante-blog", "url": "https://esante.example/feed/", "interval_minutes": 15}],
    )


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime]] = []

    def job(self, name: str) -> Callable[..., Any]:
        async def record(*args: Any) -> None:
            self.calls.append((name, args[-1]))

        return record

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def wait_for(self, name: str, count: int) -> None:
        await eventually(lambda: self.names().count(name) >= count, f"{name} ran {self.names().count(name)} times")


async def run_scheduler(settings: Settings, recorder: Recorder, clock: Callable[[], datetime],
                        **extra: Any) -> AsyncIOScheduler:
    async def poll(feed: FeedSettings, now: datetime) -> None:
        recorder.calls.append((f"poll:{feed.name}", now))

    jobs = relais_jobs(settings, sweep=recorder.job("sweep"), poll=poll, catch_up=recorder.job("catch-up"), **extra)
    scheduler = build_scheduler(jobs, clock=clock, timezone=settings.tz)
    scheduler.start()
    return scheduler


async def stop(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop


async def test_start_up_catches_up_first_then_sweeps_polls_and_wakes_on_the_slot() -> None:
    def clock() -> datetime:
        return datetime.now(UTC)

    slot_at = clock() + timedelta(seconds=0.4)
    recorder = Recorder()
    scheduler = await run_scheduler(settings_with_slot(slot_at), recorder, clock)
    try:
        await recorder.wait_for("sweep", 1)
        names = recorder.names()
        assert names.index("catch-up") < names.index("sweep")  # policy applied before sending
        assert "poll:esante-blog" in names
        await recorder.wait_for("sweep", 2)  # the slot wake, long before the 30 s interval
        wake_now = [now for name, now in recorder.calls if name == "sweep"][1]
        assert slot_at <= wake_now
        await eventually(lambda: scheduler.get_job(SLOT_WAKE_JOB).next_run_time > slot_at + timedelta(hours=1),
                         "the slot wake was not re-armed")
        rearmed = scheduler.get_job(SLOT_WAKE_JOB).next_run_time.astimezone(PARIS)
        assert rearmed.time() == slot_at.astimezone(PARIS).time().replace(microsecond=rearmed.microsecond)
        assert rearmed.date() == (slot_at.astimezone(PARIS) + timedelta(days=1)).date()
        assert scheduler.get_job("poll:esante-blog").trigger.interval == timedelta(minutes=15)
        assert scheduler.get_job("outbox-sweep").trigger.interval == timedelta(seconds=30)
        for job in scheduler.get_jobs():
            assert job.misfire_grace_time is None and job.coalesce and job.max_instances == 1
        assert recorder.names().count("catch-up") == 1
    finally:
        await stop(scheduler)


async def test_a_slot_wake_missed_by_seconds_still_runs_and_does_not_loop() -> None:
    """APScheduler's default 1 s grace would skip this wake; ours runs it, late, once."""

    def lagging_clock() -> datetime:  # as if the loop had been blocked for 10 s
        return datetime.now(UTC) - timedelta(seconds=10)

    slot_at = lagging_clock() + timedelta(seconds=0.1)  # ~9.9 s in the past for APScheduler
    recorder = Recorder()
    scheduler = await run_scheduler(settings_with_slot(slot_at), recorder, lagging_clock)
    try:
        await recorder.wait_for("sweep", 2)
        await eventually(lambda: scheduler.get_job(SLOT_WAKE_JOB).next_run_time > datetime.now(UTC) + timedelta(hours=1),
                         "the slot wake was not re-armed for tomorrow")
        assert recorder.names().count("sweep") == 2  # re-armed for tomorrow, not re-fired in a loop
    finally:
        await stop(scheduler)


async def test_next_due_from_the_database_wakes_earlier_than_a_slot() -> None:
    def clock() -> datetime:
        return datetime.now(UTC)

    soon = clock() + timedelta(seconds=0.2)

    async def next_due(now: datetime) -> datetime | None:
        return soon if now < soon else None

    recorder = Recorder()
    scheduler = await run_scheduler(settings_with_slot(clock() + timedelta(hours=3)), recorder, clock,
                                    next_due=next_due)
    try:
        await recorder.wait_for("sweep", 2)
        assert [now for name, now in recorder.calls if name == "sweep"][1] >= soon
    finally:
        await stop(scheduler)


async def test_failing_job_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def broken_sweep(now: datetime) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database is locked")

    recorder = Recorder()
    settings = settings_with_slot(datetime.now(UTC) + timedelta(seconds=0.15))
    scheduler = build_scheduler(relais_jobs(settings, sweep=broken_sweep, poll=recorder.job("poll")),
                                clock=lambda: datetime.now(UTC), timezone=settings.tz)
    scheduler.start()
    try:
        await eventually(lambda: calls >= 2, "the slot wake did not come after a failed sweep")
        assert calls == 2  # the start-up sweep failed, the slot wake still came
        assert "scheduled job outbox-sweep failed" in caplog.text
    finally:
        await stop(scheduler)


async def test_shutdown_during_a_long_sweep_is_not_logged_as_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.schedule.scheduler")
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_sweep(now: datetime) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    recorder = Recorder()
    scheduler = build_scheduler(relais_jobs(load_settings(None, env={}), sweep=long_sweep, poll=recorder.job("poll")),
                                clock=lambda: datetime.now(UTC))
    scheduler.start()
    await asyncio.wait_for(started.wait(), HANG_GUARD)
    await stop(scheduler)
    await asyncio.wait_for(cancelled.wait(), HANG_GUARD)
    await eventually(lambda: "stopped by shutdown" in caplog.text, "no shutdown line")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_next_wake_is_the_earliest_slot_of_enabled_channels() -> None:
    now = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    settings = load_settings(None, env={}, channels=[
        {"name": "a", "platform": "telegram", "chat": "@esante_a", "slots": ["18:00"]},
        {"name": "b", "platform": "telegram", "chat": "@esante_b", "slots": ["12:30"]},
        {"name": "c", "platform": "telegram", "chat": "@esante_c", "slots": ["08:30"], "enabled": False},
    ])
    assert next_wake(settings, now) == datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    assert next_wake(load_settings(None, env={}), now) is None


def test_building_needs_the_running_loop() -> None:
    async def nothing(*_: Any) -> None:
        return None

    with pytest.raises(RuntimeError, match="running event loop"):
        build_scheduler(relais_jobs(load_settings(None, env={}), sweep=nothing, poll=nothing),
                        clock=lambda: datetime.now(UTC))


async def test_catch_up_at_start_runs_against_the_database(database_url: str, engine) -> None:
    """Wired as `relais run` will: the real queue.catch_up in its own transaction."""
    import functools

    from sqlalchemy import select

    from bot.app import App
    from bot.publish import queue
    from bot.schedule.scheduler import in_transaction
    from bot.store import db
    from bot.store.models import Publication
    from bot.store.repository import NewPost, add_post

    now = datetime.now(UTC)
    settings = load_settings(None, env={}, database_url=database_url, channels=[
        {"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo", "slots": ["09:00", "18:00"]}])
    app = App(settings=settings, engine=engine, sessions=db.session_factory(engine))
    await app.sync_channels()
    async with app.sessions.begin() as session:
        post = await add_post(session, NewPost(source="test", source_key="1", title="#IA : l’oubli"))
        [publication] = await queue.enqueue(session, post, now - timedelta(days=3), settings=settings)
    missed = publication.due_at
    recorder = Recorder()
    jobs = relais_jobs(
        settings, sweep=recorder.job("sweep"), poll=recorder.job("poll"),
        catch_up=in_transaction(app.sessions, functools.partial(queue.catch_up, settings=settings)),
        next_due=in_transaction(app.sessions, queue.next_due_at),
    )
    scheduler = build_scheduler(jobs, clock=lambda: datetime.now(UTC), timezone=settings.tz)
    scheduler.start()
    try:
        await recorder.wait_for("sweep", 1)
        async with app.sessions() as session:
            row = await session.scalar(select(Publication))
        assert row.due_at > now > missed  # re-slotted to the next free slot, never dropped
        assert row.due_at.astimezone(PARIS).strftime("%H:%M") in {"09:00", "18:00"}
        assert scheduler.get_job(SLOT_WAKE_JOB).next_run_time == row.due_at
    finally:
        await stop(scheduler)


def test_relais_jobs_are_specs_built_from_the_configuration() -> None:
    settings = settings_with_slot(datetime(2026, 5, 4, 7, 0, tzinfo=UTC))
    recorder = Recorder()
    jobs = relais_jobs(settings, sweep=recorder.job("sweep"), poll=recorder.job("poll"),
                       catch_up=recorder.job("catch-up"))
    assert [(job.name, type(job.trigger)) for job in jobs] == [
        (CATCH_UP_JOB, Once), (SWEEP_JOB, Every), ("poll:esante-blog", Every), (SLOT_WAKE_JOB, Wake)]
    assert jobs[1].trigger == Every(30) and jobs[2].trigger == Every(15 * 60)


async def test_the_slot_wake_picks_the_earlier_of_the_next_slot_and_the_next_due_time() -> None:
    now = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    settings = settings_with_slot(datetime(2026, 5, 4, 7, 0, tzinfo=UTC))  # 09:00 Paris = 07:00 UTC
    slot = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)

    async def due_soon(at: datetime) -> datetime | None:
        return at + timedelta(minutes=5)

    async def due_later(at: datetime) -> datetime | None:
        return at + timedelta(hours=5)

    async def broken(at: datetime) -> datetime | None:
        raise RuntimeError("database is locked")

    assert await slot_or_due(settings)(now) == slot
    assert await slot_or_due(settings, due_soon)(now) == now + timedelta(minutes=5)
    assert await slot_or_due(settings, due_later)(now) == slot
    assert await slot_or_due(settings, broken)(now) == slot  # a database hiccup never loses the slot wake


async def test_start_up_jobs_run_in_order_before_any_other_job() -> None:
    calls: list[str] = []

    def job(name: str):
        async def run(now: datetime) -> None:
            calls.append(name)

        return run

    async def never(now: datetime) -> None:
        return None

    jobs = [JobSpec("every", Every(3600), job("every")), JobSpec("first", Once(), job("first")),
            JobSpec("second", Once(), job("second")), JobSpec("wake", Wake(lambda now: never(now)), job("wake"))]
    scheduler = build_scheduler(jobs, clock=lambda: datetime.now(UTC))
    scheduler.start()
    try:
        await eventually(lambda: "every" in calls, "the interval job never ran")
        assert calls == ["first", "second", "every"]  # a Wake whose function names no time is not armed
        assert scheduler.get_job("wake") is None
    finally:
        await stop(scheduler)
