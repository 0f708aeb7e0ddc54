"""The real AsyncIOScheduler with Relais' jobs: start-up order, slot wake, misfires."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.schedule.scheduler import SLOT_WAKE_JOB, build_scheduler, next_wake
from bot.settings import FeedSettings, Settings, load_settings

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

    async def wait_for(self, name: str, count: int, timeout: float = 1.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.names().count(name) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{name} ran {self.names().count(name)} times"
            await asyncio.sleep(0.01)


async def run_scheduler(settings: Settings, recorder: Recorder, clock: Callable[[], datetime],
                        **extra: Any) -> AsyncIOScheduler:
    async def poll(feed: FeedSettings, now: datetime) -> None:
        recorder.calls.append((f"poll:{feed.name}", now))

    scheduler = build_scheduler(
        settings, sweep=recorder.job("sweep"), poll=poll, clock=clock,
        catch_up=recorder.job("catch-up"), **extra,
    )
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
        assert slot_at <= wake_now < slot_at + timedelta(seconds=0.3)
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
        await asyncio.sleep(0.1)
        assert recorder.names().count("sweep") == 2  # re-armed for tomorrow, not re-fired in a loop
        assert scheduler.get_job(SLOT_WAKE_JOB).next_run_time > datetime.now(UTC) + timedelta(hours=1)
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
    scheduler = build_scheduler(settings, sweep=broken_sweep,
                                poll=recorder.job("poll"), clock=lambda: datetime.now(UTC))
    scheduler.start()
    try:
        for _ in range(100):
            if calls >= 2:
                break
            await asyncio.sleep(0.01)
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
    scheduler = build_scheduler(load_settings(None, env={}), sweep=long_sweep,
                                poll=recorder.job("poll"), clock=lambda: datetime.now(UTC))
    scheduler.start()
    await asyncio.wait_for(started.wait(), 2)
    await stop(scheduler)
    await asyncio.wait_for(cancelled.wait(), 2)
    await asyncio.sleep(0.05)
    assert "stopped by shutdown" in caplog.text
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
        build_scheduler(load_settings(None, env={}), sweep=nothing, poll=nothing,
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
    scheduler = build_scheduler(
        settings, sweep=recorder.job("sweep"), poll=recorder.job("poll"),
        clock=lambda: datetime.now(UTC),
        catch_up=in_transaction(app.sessions, functools.partial(queue.catch_up, settings=settings)),
        next_due=in_transaction(app.sessions, queue.next_due_at),
    )
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
