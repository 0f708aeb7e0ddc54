"""Reader deliveries through the worker: real PTB against the Telegram sandbox, rows inserted directly.

The fan-out that writes delivery rows comes later; this drives the outbox half of it: claim,
send to the reader's private chat on the deliveries' budget, record, retry or give up.
"""

from __future__ import annotations

import random

import pytest
from publish_support import NOW, make_delivery, make_post, make_subscriber
from sqlalchemy import select

from bot.format import Article, Profile, render_telegram
from bot.publish.targets import DeliveryTarget
from bot.publish.worker import Deliveries, run_once
from bot.store.models import Delivery, DeliveryState
from bot.tdlib import hashtags, parse_html

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def notification(delivery: Delivery):
    return render_telegram(Article.from_post(delivery.post), Profile(platform="telegram"))


async def test_deliveries_reach_readers_and_a_blocked_reader_is_given_up(sessions, sandbox, publisher) -> None:
    readers = [sandbox.add_user(5100 + n, f"Lecteur {n}").id for n in range(3)]
    sandbox.block(readers[2])
    async with sessions.begin() as session:
        post = await make_post(session, "L’#IA à l’hôpital : « un outil, pas un médecin »\u00a0! 🩺")
        for reader in readers:
            await make_delivery(session, post, await make_subscriber(session, telegram_user_id=reader))
    deliveries = Deliveries(DeliveryTarget(publisher), notification)
    report = await run_once(sessions, NOW, worker_id="w1", publishers={}, render=notification,
                            deliveries=deliveries, rng=random.Random(1))
    assert (report.delivered, report.dead, report.sent) == (2, 1, 0)
    [error] = report.errors
    assert error.kind == "delivery" and "blocked" in error.message and not error.retrying
    async with sessions() as session:
        sent = notification((await session.scalars(select(Delivery))).unique().first())
    plain, _ = parse_html(sent.text)  # TDLib reads the notification as Telegram will
    assert "#IA" in hashtags(plain)
    for reader in readers[:2]:
        [message] = sandbox.messages(reader)
        assert message.text == plain
    async with sessions() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).unique().all()
    assert [row.state for row in rows] == [DeliveryState.SENT, DeliveryState.SENT, DeliveryState.DEAD]
    assert rows[0].remote_id == str(sandbox.messages(readers[0])[0].message_id)
    again = await run_once(sessions, NOW, worker_id="w1", publishers={}, render=notification,
                           deliveries=deliveries)
    assert again.delivered == 0 and all(len(sandbox.messages(r)) == 1 for r in readers[:2])  # never twice
