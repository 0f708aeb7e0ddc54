"""The python-telegram-bot Application that receives updates, with its handlers.

Handlers are thin adapters (``async def cmd(update, context) -> None``) over services;
the App is reachable as ``context.bot_data["app"]``. One error handler logs what a handler
raised and tells the user something went wrong, in their language.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.app import App
from bot.chat import inline, search
from bot.i18n import t

log = logging.getLogger(__name__)


def user_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(t("chat_welcome", user_language(update)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(t("chat_help", user_language(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handler failed: %s", context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text(t("chat_internal_error", user_language(update)))


def build_application(app: App) -> Application:
    settings = app.settings
    token = settings.require_telegram_token().get_secret_value()
    application = Application.builder().token(token).base_url(settings.telegram.api_base_url).build()
    application.bot_data["app"] = app
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handlers([*search.handlers(), *inline.handlers()])
    application.add_error_handler(on_error)
    return application
