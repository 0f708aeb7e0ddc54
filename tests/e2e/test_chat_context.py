"""Chat handlers reach the App through python-telegram-bot's typed context (issue 8 item 5)."""

from __future__ import annotations

import pytest
from telegram import Update
from telegram.ext import CommandHandler

from bot.app import App, build_chat_application
from bot.chat.context import RelaisContext


def command(text: str, user_id: int = 4242) -> dict:
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        "chat": {"id": user_id, "type": "private", "first_name": "Camille"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Camille", "language_code": "fr"}}}


async def test_handlers_get_a_relais_context_bound_between_post_init_and_post_shutdown(relais: App, sandbox) -> None:
    seen: list[tuple[type, App]] = []

    async def probe(update: Update, context: RelaisContext) -> None:
        seen.append((type(context), context.app))

    application = build_chat_application(relais)
    application.add_handler(CommandHandler("probe", probe), group=-1)
    await application.initialize()
    try:
        assert application.post_init is not None and application.post_shutdown is not None
        await application.post_init(application)
        await application.process_update(Update.de_json(command("/probe"), application.bot))
        assert seen == [(RelaisContext, relais)]
        assert seen[0][1].settings.channels  # services and settings, typed, from the handler
    finally:
        await application.shutdown()
        await application.post_shutdown(application)
    released = RelaisContext(application)
    with pytest.raises(RuntimeError, match="post_init binds the App"):
        _ = released.app
