"""The reader commands in a private chat: /start (deep-link follow), /follow, /unfollow,
/following, /tags, /latest, /stop, and the buttons they show (``f:``, ``uf:``, ``tp:``, ``stop:``).

Each handler parses the update, calls one service of ``bot.services.readers``, and sends the
answer ``bot.chat.reader_texts`` makes of its result. Bad input is answered, never raised:
missing words get the usage line, forged text or buttons a clear word (issue 9 item 6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.chat import reader_texts
from bot.chat.callbacks import Action, Callback, parse
from bot.chat.context import RelaisContext
from bot.chat.reader_texts import Reply, _follow_button, _unfollow_button
from bot.chat.replies import edit, language, send, send_text, telegram_user, too_long, words
from bot.errors import NotFound, UsageError
from bot.i18n import t
from bot.services import readers
from bot.services.readers import MAX_TAGS_PER_CALL, Outcome, TagResult

TAGS_PER_PAGE = 8
LATEST = 5


async def start(update: Update, context: RelaisContext) -> None:
    """``/start [payload]``: make or wake the reader; a channel post's follow link follows its tag."""
    user = telegram_user(update)
    payload = context.args[0] if context.args else None
    started = await readers.start(context.app, user.id, user.language_code, payload)
    lang = started.reader.language
    if started.followed is None:  # no payload, or an unknown or stale one: the normal welcome
        await send_text(update, t("chat_welcome", lang))
    else:
        await send(update, reader_texts.deep_link_reply(started.followed, lang))


async def _tag_words(update: Update, context: RelaisContext, usage: Callable[[str], str]) -> tuple[list[str], str] | None:
    """The words of /follow or /unfollow and the reader's language; None once bad input is answered."""
    lang = await language(update, context)
    found = words(context.args)
    if too_long(update):
        await send_text(update, t("input_too_long", lang))
    elif not found:
        await send_text(update, usage(lang))
    elif len(found) > MAX_TAGS_PER_CALL:
        await send_text(update, t("too_many_tags", lang, limit=MAX_TAGS_PER_CALL))
    else:
        return found, lang
    return None


async def follow(update: Update, context: RelaisContext) -> None:
    """``/follow TAG…``: several at once; unknown ones get the closest tags as buttons."""
    parsed = await _tag_words(update, context, lambda lang: t("usage_follow", lang))
    if parsed is None:
        return
    found, lang = parsed
    user = telegram_user(update)
    try:
        results = await readers.follow(context.app, user.id, found, user.language_code)
    except UsageError:  # "a, b, c" split further by the service
        await send_text(update, t("too_many_tags", lang, limit=MAX_TAGS_PER_CALL))
        return
    await send(update, reader_texts.follow_reply(results, lang))


async def unfollow(update: Update, context: RelaisContext) -> None:
    parsed = await _tag_words(update, context, lambda lang: t("usage_unfollow", lang))
    if parsed is None:
        return
    found, lang = parsed
    try:
        results = await readers.unfollow(context.app, telegram_user(update).id, found)
    except UsageError:
        await send_text(update, t("too_many_tags", lang, limit=MAX_TAGS_PER_CALL))
        return
    await send(update, reader_texts.unfollow_reply(results, lang))


async def following(update: Update, context: RelaisContext) -> None:
    lang = await language(update, context)
    tags = await readers.following(context.app, telegram_user(update).id)
    await send(update, reader_texts.following_reply(tags, lang))


async def _tags_reply(update: Update, context: RelaisContext, offset: int, lang: str) -> Reply:
    page = await readers.tags_page(context.app, telegram_user(update).id, offset=offset, limit=TAGS_PER_PAGE)
    return reader_texts.tags_reply(page, lang)


async def tags(update: Update, context: RelaisContext) -> None:
    lang = await language(update, context)
    await send(update, await _tags_reply(update, context, 0, lang))


async def latest(update: Update, context: RelaisContext) -> None:
    """``/latest [TAG]``: the last posts, with their links."""
    lang = await language(update, context)
    asked = " ".join(words(context.args)) or None
    if too_long(update):
        await send_text(update, t("input_too_long", lang))
        return
    try:
        posts = await readers.latest(context.app, asked, limit=LATEST)
    except NotFound:
        await send_text(update, t("reader_unknown_tag", lang, tag=asked))
        return
    await send(update, reader_texts.latest_reply(posts, lang, tag="#" + asked.lstrip("#") if asked else None))


async def stop(update: Update, context: RelaisContext) -> None:
    """``/stop`` asks first; the button erases (see :func:`on_button`)."""
    lang = await language(update, context)
    await send(update, reader_texts.stop_confirmation(telegram_user(update).id, lang))


# -- buttons ---------------------------------------------------------------------------------------

def _flipped(message: Message, pressed: str, result: TagResult, lang: str) -> InlineKeyboardMarkup | None:
    """The message's keyboard with the pressed follow button turned into unfollow, or back."""
    if message.reply_markup is None or result.tag is None:
        return None
    following_now = result.outcome in (Outcome.FOLLOWED, Outcome.ALREADY)
    new = (_unfollow_button if following_now else _follow_button)(result.tag, lang)
    replacement = InlineKeyboardButton(new.label, callback_data=new.callback_data)
    rows = [[replacement if b.callback_data == pressed else b for b in row] for row in message.reply_markup.inline_keyboard]
    return InlineKeyboardMarkup(rows)


async def _toggle(update: Update, context: RelaisContext, callback: Callback, lang: str) -> None:
    query, user = update.callback_query, telegram_user(update)
    assert query is not None
    if callback.action is Action.FOLLOW:
        result = await readers.follow_tag(context.app, user.id, callback.value, user.language_code)
        reply = reader_texts.follow_reply([result], lang)
    else:
        result = await readers.unfollow_tag(context.app, user.id, callback.value)
        reply = reader_texts.unfollow_reply([result], lang)
    if result.outcome is Outcome.UNKNOWN:  # a tag since removed, or a forged id
        await query.answer(t("button_stale", lang), show_alert=True)
        return
    await query.answer(reply.text[:200])  # a callback answer holds 200 characters
    if isinstance(query.message, Message):
        keyboard = _flipped(query.message, query.data or "", result, lang)
        if keyboard is not None and keyboard != query.message.reply_markup:
            await query.edit_message_reply_markup(keyboard)


async def _confirm_stop(update: Update, context: RelaisContext, callback: Callback, lang: str) -> None:
    query, user_id = update.callback_query, telegram_user(update).id
    assert query is not None
    if callback.value != user_id:  # a forwarded or forged confirmation: not theirs to press
        await query.answer(t("button_not_yours", lang), show_alert=True)
        return
    erased = await readers.stop(context.app, user_id)
    await query.answer()
    await edit(update, reader_texts.stop_reply(erased, lang))


async def on_button(update: Update, context: RelaisContext) -> None:
    """``f:`` ``uf:`` ``tp:`` ``stop:`` buttons; anything the parser refuses is a stale button."""
    query = update.callback_query
    assert query is not None
    lang = await language(update, context)
    callback = parse(query.data)
    if callback is None:
        await query.answer(t("button_stale", lang), show_alert=True)
    elif callback.action is Action.TAGS_PAGE:
        await query.answer()
        await edit(update, await _tags_reply(update, context, callback.value, lang))
    elif callback.action is Action.STOP:
        await _confirm_stop(update, context, callback, lang)
    else:
        await _toggle(update, context, callback, lang)


COMMANDS = {"start": start, "follow": follow, "unfollow": unfollow, "following": following, "tags": tags,
            "latest": latest, "stop": stop}
BUTTONS = r"^(f|uf|tp|stop):"  # the prefixes of bot.chat.callbacks


def register(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    """The reader commands answer in private chats only (groups: see bot.chat.application)."""
    for name, handler in COMMANDS.items():
        application.add_handler(CommandHandler(name, handler, filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(on_button, pattern=BUTTONS))
