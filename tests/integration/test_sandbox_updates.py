"""Injected updates reach a real python-telegram-bot Application through getUpdates."""

from __future__ import annotations

import asyncio

import pytest
import telegram
from aiohttp import web
from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.error import Conflict
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, InlineQueryHandler

from bot.sandbox import TelegramSandbox


async def _until(condition, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_application_receives_commands_callbacks_and_inline_queries(sandbox: TelegramSandbox) -> None:
    seen: list[tuple[str, object]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(("start", tuple(context.args or ())))
        await update.effective_chat.send_message("Bienvenue ! Vous suivez désormais #IA.")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(("callback", update.callback_query.data))
        await update.callback_query.answer("C’est noté")

    async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(("inline", update.inline_query.query))
        result = InlineQueryResultArticle("1", "Therabot", InputTextMessageContent("#Therabot : un #chatbot"))
        await update.inline_query.answer([result], cache_time=0)

    app = Application.builder().token(sandbox.token).base_url(sandbox.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(InlineQueryHandler(inline))
    camille = sandbox.add_user(7001, "Camille", username="camille_s")
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        sandbox.inject_message(camille, "/start follow_ia")
        await _until(lambda: len(sandbox.messages(7001)) == 1)
        welcome = sandbox.last_message(7001)
        sandbox.inject_callback_query(camille, "follow:ia", message=welcome)
        sandbox.inject_inline_query(camille, "therabot")
        await _until(lambda: len(sandbox.callback_answers) == 1 and len(sandbox.inline_answers) == 1)
        await app.updater.stop()
        await app.stop()
    assert seen == [("start", ("follow_ia",)), ("callback", "follow:ia"), ("inline", "therabot")]
    assert welcome.text.startswith("Bienvenue") and welcome.message_id == 2  # after Camille's /start
    assert sandbox.callback_answers[0].params["text"] == "C’est noté"
    assert sandbox.inline_answers[0].params["results"][0]["title"] == "Therabot"
    assert sandbox.state.updates == []  # every update was confirmed by the next offset


async def test_offsets_limits_and_answering_twice(sandbox: TelegramSandbox) -> None:
    for number in range(5):
        sandbox.inject_message(8001, f"message {number}")
    async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        first = await bot.get_updates(limit=2)
        assert [u.message.text for u in first] == ["message 0", "message 1"]
        again = await bot.get_updates(limit=2)
        assert again == first  # not confirmed yet
        rest = await bot.get_updates(offset=first[-1].update_id + 1)
        assert [u.message.text for u in rest] == ["message 2", "message 3", "message 4"]
        assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()
        command = sandbox.inject_message(8001, "/aide")
        (update,) = await bot.get_updates(offset=rest[-1].update_id + 1)
        assert update.update_id == command["update_id"]
        assert update.message.entities[0].type == "bot_command"
        query = sandbox.inject_callback_query(8001, "x")["callback_query"]["id"]
        assert await bot.answer_callback_query(query)
        with pytest.raises(telegram.error.BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(query)


async def test_long_poll_waits_for_an_update(sandbox: TelegramSandbox) -> None:
    async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        polling = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert not polling.done()
        sandbox.inject_message(8002, "Bonjour")
        (update,) = await asyncio.wait_for(polling, 2)
        assert update.message.text == "Bonjour"


async def test_a_second_poller_gets_409_conflict(sandbox: TelegramSandbox) -> None:
    async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as first, \
            telegram.Bot(sandbox.token, base_url=sandbox.base_url) as second:
        older = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        newer = asyncio.create_task(second.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(older, 2)
        sandbox.inject_message(8003, "Pour le plus récent")
        (update,) = await asyncio.wait_for(newer, 2)
        assert update.message.text == "Pour le plus récent"


async def test_webhook_delivers_with_secret_and_blocks_get_updates(sandbox: TelegramSandbox) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
            assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-relais")
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            sandbox.inject_message(8004, "/start")
            await _until(lambda: len(received) == 1)
            info = await bot.get_webhook_info()
            assert info.url.endswith("/hook") and info.pending_update_count == 0
            assert await bot.delete_webhook()
            assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()
    secret, update = received[0]
    assert secret == "s3cret-relais" and update["message"]["text"] == "/start"
