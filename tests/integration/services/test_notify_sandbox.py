"""Reader notifications end to end: fan-out rows, the outbox worker, the real python-telegram-bot,
the Bot API emulator. The notification carries its « Ne plus suivre » button; a reader who blocked
the bot (403) is marked inactive at the first refusal and their waiting deliveries are never tried;
a digest goes out as one message; nothing is sent twice."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from readers_support import add_post, add_reader, send_on
from services_support import NOW
from sqlalchemy import select

from bot.app import App
from bot.chat.callbacks import Action, parse
from bot.publish.targets import DeliveryTarget, Render
from bot.publish.telegram import TelegramPublisher
from bot.publish.worker import Deliveries, WorkerReport, run_once
from bot.sandbox import TelegramSandbox
from bot.services import notify, readers
from bot.services.delivery_render import DeliveryRenderer
from bot.store.models import Delivery, DeliveryState, NotificationMode, Publication

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
TITLE = "L’#anxiété au travail : 5 conseils « simples » 🧘"


def no_publication(publication: Publication) -> Render:
    raise AssertionError(f"no channel here, yet {publication!r} was rendered")


async def deliver(app: App, publisher: TelegramPublisher, now: datetime = NOW) -> WorkerReport:
    deliveries = Deliveries(DeliveryTarget(publisher), DeliveryRenderer(app), notify.blocked_hook(app))
    return await run_once(app.sessions, now, worker_id="w1", publishers={}, render=no_publication,
                          deliveries=deliveries, rng=random.Random(1))


async def states(app: App) -> dict[tuple[int, int], DeliveryState]:
    async with app.sessions() as session:
        return {(d.post_id, d.subscriber_id): d.state for d in (await session.scalars(select(Delivery))).all()}


async def test_notifications_reach_readers_once_and_a_blocked_reader_is_given_up(
        app: App, sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    post = await add_post(app, TITLE, ["anxiété", "travail"])
    second = await add_post(app, "Le #travail hybride et l’#anxiété 💼", ["travail", "anxiété"])
    reader = await add_reader(app, 5001, ["anxiété", "travail"])
    blocked = await add_reader(app, 5002, ["#Anxiete"])
    sandbox.add_user(5001)
    sandbox.add_user(5002, "Lou")
    sandbox.block(5002)
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)

    report = await deliver(app, publisher)
    assert (report.delivered, report.dead) == (1, 1)
    [message] = sandbox.messages(5001)
    assert message.text is not None and "anxiété au travail" in message.text  # the sandbox parsed the HTML
    row = message.reply_markup["inline_keyboard"][0]  # type: ignore[index]
    assert [b["text"] for b in row] == ["Ne plus suivre #anxiété", "Ne plus suivre #travail"]
    assert all(parse(b["callback_data"]).action is Action.UNFOLLOW for b in row)  # type: ignore[union-attr]
    assert not (await readers.reader(app, 5002)).active  # at the first refusal

    await send_on(app, second, "esante-telegram")
    await notify.fan_out_due(app, NOW)  # the blocked reader gets no new row
    again = await deliver(app, publisher)
    assert (again.delivered, again.dead) == (1, 0) and len(sandbox.messages(5001)) == 2
    assert await states(app) == {(post, reader): DeliveryState.SENT, (post, blocked): DeliveryState.DEAD,
                                 (second, reader): DeliveryState.SENT}
    assert (await deliver(app, publisher)).delivered == 0  # never twice
    assert sandbox.messages(5002) == []


async def test_a_digest_goes_out_as_one_message(app: App, sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    posts = [await add_post(app, f"Article n°{n} sur l’#IA & la « santé »", ["IA"]) for n in range(3)]
    await add_reader(app, 5003, ["IA"], mode=NotificationMode.DIGEST, hour=10)
    sandbox.add_user(5003)
    for post in posts:
        await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    assert (await deliver(app, publisher)).claimed == 0  # nothing for a digest reader yet
    at_10 = NOW + timedelta(hours=2)  # 10:00 in Paris
    await notify.digest_due(app, at_10)
    assert (await deliver(app, publisher, at_10)).delivered == 1
    [message] = sandbox.messages(5003)
    assert message.text is not None and message.text.splitlines()[0] == "3 nouveaux articles pour vous"
    assert (await deliver(app, publisher, at_10)).delivered == 0
