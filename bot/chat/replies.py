"""What every reader handler shares: who is asking, in which language, and how an answer is sent.

Handlers stay thin: they read the user and the arguments here, call one service, and hand a
:class:`~bot.chat.reader_texts.Reply` to :func:`send` (a new message) or :func:`edit` (the
message a button sits under).
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest

from bot.chat.context import RelaisContext
from bot.chat.keyboards import inline_keyboard
from bot.chat.reader_texts import Reply
from bot.format.counting import utf16_length
from bot.services.reader_language import reader_language

TEXT_LIMIT = 4096  # https://core.telegram.org/bots/api#sendmessage, in UTF-16 code units


def telegram_user(update: Update) -> User:
    """The user behind a command or a button (reader handlers only run for those)."""
    if update.effective_user is None:
        raise LookupError(f"update {update.update_id} has no user")
    return update.effective_user


async def language(update: Update, context: RelaisContext) -> str:
    user = telegram_user(update)
    return await reader_language(context.app, user.id, user.language_code)


def too_long(update: Update) -> bool:
    """A message longer than Telegram allows can only be forged: answer it, don't process it."""
    message = update.effective_message
    return bool(message and message.text and utf16_length(message.text) > TEXT_LIMIT)


def clipped(text: str) -> str:
    """``text`` within Telegram's limit: an answer that echoes what the reader typed must still send."""
    if utf16_length(text) <= TEXT_LIMIT:
        return text
    while utf16_length(text) > TEXT_LIMIT - 1:
        text = text[: len(text) - max(1, (utf16_length(text) - TEXT_LIMIT) // 2)]
    return text + "…"


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    return inline_keyboard(reply.buttons)


async def send(update: Update, reply: Reply) -> Message | None:
    if update.effective_message is None:
        return None
    return await update.effective_message.reply_text(clipped(reply.text), reply_markup=markup(reply))


async def send_text(update: Update, text: str) -> None:
    await send(update, Reply(text))


async def edit(update: Update, reply: Reply) -> None:
    """Replace the text and buttons of the message the pressed button sits under."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_text(clipped(reply.text), reply_markup=markup(reply))
    except BadRequest as exc:
        if "not modified" not in str(exc):  # the same page pressed twice: nothing to change
            raise


def words(args: Sequence[str] | None) -> list[str]:
    return [word for word in (args or ()) if word.strip("#,")]
