"""`/stats` through the real python-telegram-bot Application and the sandbox: authors get the
numbers and the chart, a reader one polite refusal and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from services_support import AUTHOR, READER
from telegram.ext import Application, CommandHandler

from bot.app import App
from bot.chat.context import CONTEXT_TYPES
from bot.chat.stats import stats
from bot.sandbox import TelegramSandbox
from bot.services import posts, publishing
from bot.store.models import PostStatus


async def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_stats_answers_authors_with_text_and_chart_and_refuses_readers(app: App, sandbox: TelegramSandbox) -> None:
    now = datetime.now(UTC)
    post = await posts.create(app, "Le #DMP expliqué", now=now, status=PostStatus.QUEUED)
    assert post.queued_on
    application = (Application.builder().token(sandbox.token).base_url(sandbox.base_url)
                   .context_types(CONTEXT_TYPES).build())
    application.bot_data.app = app
    application.add_handler(CommandHandler("stats", stats))
    errors: list[object] = []

    async def record(update: object, context) -> None:  # type: ignore[no-untyped-def]
        errors.append(context.error)

    application.add_error_handler(record)
    camille = sandbox.add_user(AUTHOR, "Camille", language_code="fr")
    lecteur = sandbox.add_user(READER, "Reader", language_code="en")
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        sandbox.inject_message(lecteur, "/stats")
        sandbox.inject_message(camille, "/stats")
        await _until(lambda: (len(sandbox.messages(AUTHOR)) == 2 and len(sandbox.messages(READER)) == 1) or bool(errors))
        await application.updater.stop()
        await application.stop()
    assert errors == []
    text, chart = sandbox.messages(AUTHOR)
    assert text.text.startswith("📊 Statistiques au ")
    assert "Publications en attente\u00a0: 1 (articles\u00a0: 1)" in text.text
    assert "Sur 7 jours" in text.text and "Sur 30 jours" in text.text
    assert chart.photo == "upload:relais-stats.png"
    [refusal] = sandbox.messages(READER)
    assert refusal.text == "Sorry, this command is for the blog's authors only." and refusal.photo is None
    assert (await publishing.queue_listing(app, now, channel="esante-telegram"))[0].total == 1  # nothing moved
