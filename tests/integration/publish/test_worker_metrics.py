"""The worker's metric calls on the reader-delivery path: sent, retried (503) and dead (blocked)
notifications each timed under their outcome, the retry counted, against the Telegram sandbox."""

from __future__ import annotations

import random

import pytest
from publish_support import NOW, make_delivery, make_post, make_subscriber

from bot.metrics import Metrics
from bot.publish.targets import DeliveryTarget
from bot.publish.worker import Deliveries, run_once
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
