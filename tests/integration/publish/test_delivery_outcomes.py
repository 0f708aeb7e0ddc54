"""Delivery outcomes in batches: written on size and on age (injected clock), and a crash before a
write repeats that batch once per reader, never more (docs/reliability.md)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from publish_support import NOW, make_delivery, make_post, make_subscriber
from sqlalchemy import select

from bot.format import Article, Profile, render_telegram
from bot.format.model import TelegramRender
from bot.publish import outbox
from bot.publish.outbox import DELIVERIES
from bot.publish.outcomes import DeliveryOutcomes, OutcomeBatching
from bot.publish.targets import DeliveryJob, DeliveryTarget
from bot.publish.telegram_lean import LeanTelegramSender, SentMessage
from bot.publish.worker import Deliveries, run_once
from bot.sandbox import TelegramSandbox
from bot.store.models import Delivery, DeliveryState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Timer:
    """An injected sleep that returns only when the test fires it."""

    def __init__(self) -> None:
        self.fired = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        await self.fired.wait()


class Lean:
    """The delivery target's publisher: the lean sender, as TelegramPublisher uses it."""

    def __init__(self, sender: LeanTelegramSender) -> None:
        self.sender = sender

    async def send(self, chat: str, render: TelegramRender) -> SentMessage:
        return await self.sender.send(chat, render, bot_username="relais_sandbox_bot")


@pytest.fixture
async def lean(sandbox: TelegramSandbox) -> AsyncIterator[Lean]:
    sender = LeanTelegramSender(sandbox.token, base_url=sandbox.base_url)
    await sender.start()
    yield Lean(sender)
    await sender.stop()


def notification(delivery: Delivery) -> TelegramRender:
    return render_telegram(Article.from_post(delivery.post), Profile(platform="telegram"))


async def readers_notified(sessions, sandbox, count: int) -> list[int]:
    readers = [sandbox.add_user(6100 + n, f"Lectrice {n}").id for n in range(count)]
    async with sessions.begin() as session:
        post = await make_post(session, "#SantéMentale : l’#IA écoute, « sans juger »\u00a0! 🧠")
        for reader in readers:
            await make_delivery(session, post, await make_subscriber(session, telegram_user_id=reader))
    return readers


async def states(sessions) -> list[DeliveryState]:
    async with sessions() as session:
        return list((await session.scalars(select(Delivery.state).order_by(Delivery.id))).all())


async def claimed(sessions, worker: str, n: int) -> list[Delivery]:
    async with sessions.begin() as session:
        return await outbox.claim_due(session, NOW, worker, n, kind=DELIVERIES)


async def claimed_rows(sessions, count: int) -> list[Delivery]:
    """``count`` readers notified of one post, their rows claimed (``sending``) by worker w1."""
    async with sessions.begin() as session:
        post = await make_post(session)
        for _ in range(count):
            await make_delivery(session, post, await make_subscriber(session))
    return await claimed(sessions, "w1", count)


async def test_a_batch_is_written_when_full(sessions, engine) -> None:
    rows = await claimed_rows(sessions, 3)
    outcomes = DeliveryOutcomes(engine, NOW, OutcomeBatching(size=3, delay=60), clock=Clock(), sleep=Timer())
    await outcomes.add(rows[0].id, "11", lane="reader 0")
    await outcomes.add(rows[1].id, "12", lane="reader 1")
    assert await states(sessions) == [DeliveryState.SENDING] * 3 and outcomes.pending == 2
    await outcomes.add(rows[2].id, "13", lane="reader 2")
    assert await states(sessions) == [DeliveryState.SENT] * 3
    assert (outcomes.pending, outcomes.flushes, outcomes.recorded) == (0, 1, 3)


async def test_a_batch_is_written_when_its_oldest_outcome_is_old_enough(sessions, engine) -> None:
    rows = await claimed_rows(sessions, 3)
    clock, timer = Clock(), Timer()
    outcomes = DeliveryOutcomes(engine, NOW, OutcomeBatching(size=50, delay=0.1), clock=clock, sleep=timer)
    await outcomes.add(rows[0].id, "11", lane="reader 0")
    clock.now = 0.099
    await outcomes.add(rows[1].id, "12", lane="reader 1")
    assert outcomes.pending == 2
    clock.now = 0.1  # an outcome arriving once the batch is due writes it
    await outcomes.add(rows[2].id, "13", lane="reader 2")
    assert outcomes.pending == 0 and await states(sessions) == [DeliveryState.SENT] * 3


async def test_the_timer_writes_a_batch_nobody_adds_to(sessions, engine) -> None:
    [row] = await claimed_rows(sessions, 1)
    timer = Timer()
    outcomes = DeliveryOutcomes(engine, NOW, OutcomeBatching(size=50, delay=0.1), clock=Clock(), sleep=timer)
    await outcomes.add(row.id, "11", lane="reader 0")
    assert await states(sessions) == [DeliveryState.SENDING]
    timer.fired.set()
    for _ in range(1000):  # the timer's write awaits the database: yield until it is done
        if outcomes.flushes:
            break
        await asyncio.sleep(0.01)
    assert await states(sessions) == [DeliveryState.SENT]


async def test_a_reader_sends_again_only_once_its_last_outcome_is_written(sessions, engine) -> None:
    rows = await claimed_rows(sessions, 2)
    timer = Timer()
    outcomes = DeliveryOutcomes(engine, NOW, OutcomeBatching(size=50, delay=0.1), clock=Clock(), sleep=timer)
    await outcomes.add(rows[0].id, "11", lane="reader 1")
    await asyncio.wait_for(outcomes.settled("reader 2"), 5)  # nothing unwritten for another reader: no wait
    waiting = asyncio.create_task(outcomes.settled("reader 1"))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # its outcome is still in the buffer: a kill now would repeat it
    timer.fired.set()
    await asyncio.wait_for(waiting, 5)
    assert await states(sessions) == [DeliveryState.SENT, DeliveryState.SENDING]
    await outcomes.add(rows[1].id, "12", lane="reader 1")  # the next one goes in a new batch
    assert outcomes.pending == 1 and outcomes.flushes == 1


async def test_a_crash_before_the_write_repeats_the_batch_once_per_reader(sessions, engine, sandbox, lean) -> None:
    readers = await readers_notified(sessions, sandbox, 6)
    target = DeliveryTarget(lean)
    # The first worker sends four notifications, buffers their outcomes, and is killed.
    rows = await claimed(sessions, "killed", 4)
    outcomes = DeliveryOutcomes(engine, NOW, OutcomeBatching(size=50, delay=60), clock=Clock(), sleep=Timer())
    for row in rows:
        sent = await target.send(DeliveryJob.of(row), notification(row), NOW)
        await outcomes.add(row.id, sent.remote_id, lane=f"reader {row.subscriber_id}")
    assert outcomes.pending == 4  # never written: the process dies here
    assert Counter(await states(sessions)) == {DeliveryState.SENDING: 4, DeliveryState.PENDING: 2}

    later = NOW + timedelta(minutes=11)  # past the claim timeout: recovery retries the batch
    report = await run_once(sessions, later, worker_id="restarted", publishers={}, render=notification,
                            deliveries=Deliveries(target, notification))
    assert (report.recovered, report.delivered, report.dead) == (4, 6, 0)
    assert await states(sessions) == [DeliveryState.SENT] * 6
    per_reader = Counter(reader for reader in readers for _ in sandbox.messages(reader))
    assert sorted(per_reader.values()) == [1, 1, 2, 2, 2, 2]  # the lost batch once more, each reader once
    again = await run_once(sessions, later + timedelta(minutes=1), worker_id="restarted", publishers={},
                           render=notification, deliveries=Deliveries(target, notification))
    assert again.delivered == 0 and sum(len(sandbox.messages(r)) for r in readers) == 10
