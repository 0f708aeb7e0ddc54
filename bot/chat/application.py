"""The chat handlers of the python-telegram-bot Application, and how they are registered.

Handlers are thin adapters (``async def cmd(update, context) -> None``) over services; they
reach the App through the typed ``context.app`` (``bot.chat.context``). One error handler
logs what a handler raised and tells the user something went wrong, in their language.
The Application itself is built by the composition root (``bot.app.build_chat_application``).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.chat import access, authoring, inline, manage, search, stats
from bot.chat.context import RelaisContext
from bot.i18n import t

log = logging.getLogger(__name__)


def user_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


async def start(update: Update, context: RelaisContext) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(t("chat_welcome", user_language(update)))


async def help_command(update: Update, context: RelaisContext) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(t("chat_help", user_language(update)))


async def on_error(update: object, context: RelaisContext) -> None:
    log.error("handler failed: %s", context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text(t("chat_internal_error", user_language(update)))


def add_handlers(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    """Every command this bot answers, and the one error handler."""
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    authoring.register(application)
    manage.register(application)
    access.register(application)
    application.add_handler(CommandHandler("stats", stats.stats))
    application.add_handlers([*search.handlers(), *inline.handlers()])
    application.add_error_handler(on_error)
