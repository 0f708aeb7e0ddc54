"""Who may use the author commands in the chat, the one polite refusal, and /grant, /revoke, /authors.

The rule lives in :mod:`bot.services.access`; this module asks it and presents the answer.
Everyone who is not an author or an admin gets one refusal and nothing else happens.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram import MessageOriginUser, Update
from telegram.ext import Application, CommandHandler

from bot.chat.context import RelaisContext
from bot.errors import RelaisError
from bot.i18n import t
from bot.services import access as access_service
from bot.services.access import Access, Action

Handler = Callable[[Update, RelaisContext], Coroutine[Any, Any, Any]]


def language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


def now(context: RelaisContext) -> datetime:
    return context.bot_data.now()


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(text, **kwargs)


async def refuse(update: Update) -> None:
    """The one polite refusal: an alert on a button, a message otherwise."""
    text = t("author_refused", language(update))
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


async def allowed(update: Update, context: RelaisContext, action: Action = Action.WRITE) -> Access | None:
    """The user's access when it allows ``action``; else None, after the refusal."""
    user = update.effective_user
    if user is not None:
        found = await access_service.access_of(context.app, user.id)
        if found.allows(action):
            return found
    await refuse(update)
    return None


def guarded(action: Action = Action.WRITE) -> Callable[[Handler], Handler]:
    """A command handler that only authors (or admins, for MANAGE_AUTHORS) reach."""

    def wrap(handler: Handler) -> Handler:
        async def checked(update: Update, context: RelaisContext) -> Any:
            if await allowed(update, context, action) is None:
                return None
            return await handler(update, context)

        checked.__name__ = handler.__name__
        return checked

    return wrap


def _target_user(update: Update, context: RelaisContext) -> int | None:
    """USER_ID from the arguments, or the author of the forwarded message replied to."""
    if context.args:
        try:
            return int(context.args[0])
        except ValueError:
            return None
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is not None and isinstance(replied.forward_origin, MessageOriginUser):
        return replied.forward_origin.sender_user.id
    return None


async def _change(update: Update, context: RelaisContext, grant: bool) -> None:
    lang, user = language(update), update.effective_user
    target = _target_user(update, context)
    if target is None or user is None:
        await reply(update, t("grant_usage", lang) if grant else t("revoke_usage", lang))
        return
    try:
        if grant:
            change = await access_service.grant(context.app, target, by=user.id)
        else:
            change = await access_service.revoke(context.app, target, by=user.id)
    except RelaisError as exc:
        await reply(update, t("command_failed", lang, reason=str(exc)))
        return
    if not grant:
        await reply(update, t("revoked", lang, user_id=target))
    else:
        await reply(update, t("granted", lang, user_id=target) if change.changed else t("already_author", lang, user_id=target))


@guarded(Action.MANAGE_AUTHORS)
async def grant_command(update: Update, context: RelaisContext) -> None:
    await _change(update, context, grant=True)


@guarded(Action.MANAGE_AUTHORS)
async def revoke_command(update: Update, context: RelaisContext) -> None:
    await _change(update, context, grant=False)


@guarded(Action.MANAGE_AUTHORS)
async def authors_command(update: Update, context: RelaisContext) -> None:
    lang = language(update)
    people = await access_service.list_authors(context.app)
    lines = [t("authors_line", lang, user_id=a.user_id, name=a.name or "—",
               role=t("role_admin", lang) if a.allows(Action.MANAGE_AUTHORS) else t("role_author", lang))
             for a in people]
    await reply(update, "\n".join([t("authors_title", lang), *lines]) if lines else t("authors_none", lang))


def help_section(found: Access, lang: str | None) -> str | None:
    """The author commands for /help: shown only to authors; admins also see theirs."""
    if found.role is None:
        return None
    parts = [t("help_author", lang)]
    if found.allows(Action.MANAGE_AUTHORS):
        parts.append(t("help_admin", lang))
    return "\n".join(parts)


def register(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("grant", grant_command))
    application.add_handler(CommandHandler("revoke", revoke_command))
    application.add_handler(CommandHandler("authors", authors_command))
