"""A reader notification made by the fan-out, sent with the real python-telegram-bot to the Bot API
emulator: the render and its unfollow button arrive; a reader who blocked the bot (403) is marked
inactive at the first refusal and their waiting deliveries are never tried again.

The outbox's claim/complete/fail for deliveries is being built on the ``outbox`` branch; here the
test plays the sender with the same calls it will make (render_delivery, send, mark_blocked).
"""

from __future__ import annotations

import telegram
from readers_support import add_post, add_reader, send_on
from services_support import NOW
from sqlalchemy import select

from bot.app import App
from bot.chat.callbacks import Action, parse
from bot.chat.keyboards import inline_keyboard
from bot.errors import PermanentError
from bot.publish.classify import classify
from bot.sandbox import TelegramSandbox
from bot.services import notify, readers
from bot.store.models import Delivery, DeliveryState

TITLE = "L’#anxiété au travail : 5 conseils « simples » 🧘"


async def _send(app: App, bot: telegram.Bot, delivery: Delivery) -> None:
    async with app.sessions() as session:
        chat, note = await notify.render_delivery(session, delivery, notify.notification_profile(app.settings))
    await bot.send_message(chat, note.render.text, parse_mode=note.render.parse_mode,
                           reply_markup=inline_keyboard([note.buttons]))


async def test_a_notification_reaches_the_reader_and_a_blocked_reader_is_marked_inactive(
        app: App, sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    post = await add_post(app, TITLE, ["anxiété", "travail"])
    reader = await add_reader(app, 5001, ["anxiété"])
    blocked = await add_reader(app, 5002, ["#Anxiete", "travail"])
    sandbox.add_user(5001)
    sandbox.add_user(5002, "Lou")
    sandbox.block(5002)
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    async with app.sessions() as session:
        rows = {d.subscriber_id: d for d in (await session.scalars(select(Delivery))).all()}

    await _send(app, bot, rows[reader])
    message = sandbox.last_message(5001)
    assert message.text is not None and "anxiété au travail" in message.text
    button = message.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert button["text"] == "Ne plus suivre #anxiété"
    undo = parse(button["callback_data"])
    assert undo is not None and undo.action is Action.UNFOLLOW

    try:
        await _send(app, bot, rows[blocked])
    except telegram.error.TelegramError as exc:
        assert isinstance(classify(exc), PermanentError)
        assert await notify.mark_blocked(app, blocked, now=NOW) == 1
    else:
        raise AssertionError("the sandbox accepted a message to a user who blocked the bot")
    assert sandbox.messages(5002) == []
    async with app.sessions() as session:
        states = {d.subscriber_id: d.state for d in (await session.scalars(select(Delivery))).all()}
    assert states[blocked] == DeliveryState.DEAD
    back = await readers.start(app, 5002, "fr")  # unblocked, /start: active again
    assert back.reactivated and back.reader.active
