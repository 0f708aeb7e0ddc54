"""The worker's metric calls on the reader-delivery path: sent, retried (503) and dead (blocked)
notifications each timed under their outcome, the retry counted, against the Telegram sandbox; the lean
sender's classified 429 and 403 counted and reported like PTB's exceptions."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from publish_support import NOW, make_delivery, make_post, make_subscriber

from bot.metrics import Metrics
from bot.publish.targets import DeliveryTarget
from bot.publish.telegram import TelegramPublisher
from bot.publish.worker import Deliveries, run_once
from bot.settings import load_settings
from tests.e2e.test_run_health import parse, value

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
from test_worker_deliveries import notification  # noqa: E402 (the same render as the delivery tests)


async def test_each_notification_is_timed_under_its_outcome(sessions, sandbox, publisher) -> None:
    readers = [sandbox.add_user(5200 + n, f"Lectrice {n}").id for n in range(3)]
    sandbox.block(readers[2])
    sandbox.faults.fail(503, method="sendMessage")  # the first notification meets a 503
    async with sessions.begin() as session:
        post = await make_post(session, "#SantéMentale : l’appli qui écoute « vraiment »\u00a0? 🎧")
        for reader in readers:
            await make_delivery(session, post, await make_subscriber(session, telegram_user_id=reader))
    metrics = Metrics()
    report = await run_once(sessions, NOW, worker_id="w1", publishers={}, render=notification,
                            deliveries=Deliveries(DeliveryTarget(publisher), notification), rng=random.Random(1),
                            metrics=metrics)
    assert (report.delivered, report.retried, report.dead) == (1, 1, 1)

    samples = parse(metrics.exposition().decode())
    outcomes = {outcome: value(samples, "relais_send_seconds_count", platform="telegram", channel="readers",
                               outcome=outcome) for outcome in ("sent", "retry", "dead")}
    assert outcomes == {"sent": 1, "retry": 1, "dead": 1}
    assert value(samples, "relais_retries_total", kind="delivery") == 1
    assert value(samples, "relais_retries_total", kind="publication") == 0
    assert value(samples, "relais_rate_limited_total", platform="telegram") == 0  # a 503 is not a 429



async def test_the_lean_sender_429_is_counted_and_its_403_blocks_the_reader(sessions, sandbox) -> None:
    # The production publisher sends through the lean sender, whose errors are classified answers.
    settings = load_settings(env={"RELAIS_TELEGRAM__TOKEN": sandbox.token,
                                  "RELAIS_TELEGRAM__API_BASE_URL": sandbox.base_url})
    readers = [sandbox.add_user(5300 + n, f"Lectrice {n}").id for n in range(2)]
    sandbox.block(readers[1])
    sandbox.faults.fail(429, method="sendMessage", description="Too Many Requests")  # no retry_after given
    async with sessions.begin() as session:
        post = await make_post(session, "L’#été au jardin : « trop » d’arrosage\u00a0? 🌱")
        subscribers = [await make_subscriber(session, telegram_user_id=reader) for reader in readers]
        for subscriber in subscribers:
            await make_delivery(session, post, subscriber)
    blocked: list[int] = []

    async def on_blocked(subscriber_id: int, now: datetime) -> None:
        blocked.append(subscriber_id)

    metrics = Metrics()
    async with TelegramPublisher.from_settings(settings) as lean:
        assert lean.sender is not None
        report = await run_once(sessions, NOW, worker_id="w1", publishers={}, render=notification,
                                deliveries=Deliveries(DeliveryTarget(lean), notification, on_blocked),
                                rng=random.Random(1), metrics=metrics)
    assert (report.retried, report.dead) == (1, 1)
    assert blocked == [subscribers[1].id]
    samples = parse(metrics.exposition().decode())
    assert value(samples, "relais_rate_limited_total", platform="telegram") == 1
