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
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.chat import access, authoring, inline, manage, readers, search, settings, stats
from bot.chat.context import RelaisContext
from bot.chat.menu import help_text
from bot.chat.replies import language
from bot.i18n import t
from bot.services import access as access_service

log = logging.getLogger(__name__)


def user_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


async def help_command(update: Update, context: RelaisContext) -> None:
    """The reader commands; an author also sees theirs, an admin theirs too."""
    if update.effective_message:
        lang = await language(update, context)
        text = help_text(lang)
        user = update.effective_user
        if user is not None:
            section = access.help_section(await access_service.access_of(context.app, user.id), lang)
            text = f"{text}\n\n{section}" if section else text
        await update.effective_message.reply_text(text)


# -- what no handler above took: answered with a hint, or ignored (issue 9 item 6) ------------------

async def unknown_command(update: Update, context: RelaisContext) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(t("chat_unknown_command", await language(update, context)))


async def not_a_command(update: Update, context: RelaisContext) -> None:
    """Plain text, stickers, photos, documents… in a private chat: say what the bot understands."""
    message = update.effective_message
    if message:
        lang = await language(update, context)
        await message.reply_text(t("chat_plain_text", lang) if message.text else t("chat_not_text", lang))


async def in_a_group(update: Update, context: RelaisContext) -> None:
    """A command in a group: say once, per group, to write in private; then stay silent."""
    if context.chat_data is None or context.chat_data.get("told_private") or update.effective_message is None:
        return
    context.chat_data["told_private"] = True
    await update.effective_message.reply_text(t("chat_private_only", user_language(update), bot=context.bot.username))


async def stale_button(update: Update, context: RelaisContext) -> None:
    """A button whose data no handler knows (garbage, an unknown prefix)."""
    if update.callback_query:
        await update.callback_query.answer(t("button_stale", await language(update, context)), show_alert=True)


def update_context(update: object) -> dict[str, object]:
    """What to log about an update: its id, kind, chat type and command — never its text."""
    if not isinstance(update, Update):
        return {"update": type(update).__name__}
    found: dict[str, object] = {"update_id": update.update_id,
                                "kind": next((k for k in Update.ALL_TYPES if getattr(update, k, None)), "unknown")}
    if update.effective_chat:
        found["chat_type"] = update.effective_chat.type
    message = update.effective_message
    if message and message.text and message.text.startswith("/"):
        found["command"] = message.text.split(maxsplit=1)[0].split("@")[0][:33]
    if update.callback_query and update.callback_query.data:
        found["button"] = update.callback_query.data.split(":")[0][:8]
    return found


async def on_error(update: object, context: RelaisContext) -> None:
    """The one error handler: log with the update's context, tell the user something went wrong."""
    details = " ".join(f"{key}={value}" for key, value in update_context(update).items())
    log.error("handler failed (%s): %s", details, type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query:
        await update.callback_query.answer(t("chat_internal_error", user_language(update)), show_alert=True)
    elif update.effective_message and update.effective_chat and update.effective_chat.type == "private":
        await update.effective_message.reply_text(t("chat_internal_error", user_language(update)))


def add_handlers(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    """Every command this bot answers, the fallbacks (last: the first handler that matches wins),
    and the one error handler."""
    authoring.register(application)  # first: the /new conversation owns the author's next messages
    manage.register(application)
    access.register(application)
    readers.register(application)
    settings.register(application)
    application.add_handler(CommandHandler("help", help_command, filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE))
    application.add_handler(CommandHandler("stats", stats.stats))
    application.add_handlers([*search.handlers(), *inline.handlers()])
    add_fallbacks(application)
    application.add_error_handler(on_error)


def add_fallbacks(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(private & (filters.TEXT | filters.ATTACHMENT), not_a_command))
    application.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.COMMAND,
                                           in_a_group))
    application.add_handler(CallbackQueryHandler(stale_button))
