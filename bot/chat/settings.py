"""``/settings``: instant notifications or one daily digest at an hour the reader picks (in the
configured time zone), the language, pause and resume — one message, edited as buttons are pressed.

Button data is ``o:<what>:<value>`` (o for options; the readers' buttons use f/uf/tp/stop,
search ``s:``, authoring ``a:``), parsed strictly by :func:`parse_option`: anything else is
answered as a stale button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.chat import reader_texts
from bot.chat.callbacks import Button
from bot.chat.context import RelaisContext
from bot.chat.reader_texts import Reply
from bot.chat.replies import edit, send, telegram_user
from bot.i18n import t
from bot.services import readers
from bot.services.readers import LANGUAGES, Reader
from bot.store.models import NotificationMode

PREFIX = "o"
_OPTION = re.compile(r"o:(?:(?P<mode>m):(?P<mode_value>i|d)|(?P<hour>h):(?P<hour_value>1?[0-9]|2[0-3])"
                     r"|(?P<lang>l):(?P<lang_value>fr|en)|(?P<pause>p):(?P<pause_value>[01]))")
HOURS_PER_ROW = 6


@dataclass(frozen=True, slots=True)
class Option:
    """One settings button: ``what`` is m (mode: i/d), h (digest hour), l (language), p (pause 1/0)."""

    what: str
    value: str

    def data(self) -> str:
        return f"{PREFIX}:{self.what}:{self.value}"


def parse_option(data: str | None) -> Option | None:
    match = _OPTION.fullmatch(data or "")
    if match is None:
        return None
    what = next(name for name in ("mode", "hour", "lang", "pause") if match[name])
    return Option(match[what], match[f"{what}_value"])


def _button(label: str, option: Option, chosen: bool = False) -> Button:
    return Button(("✓ " if chosen else "") + label, option.data())


def settings_keyboard(reader: Reader, lang: str) -> tuple[tuple[Button, ...], ...]:
    instant = reader.mode is NotificationMode.INSTANT
    digest = reader.mode is NotificationMode.DIGEST
    modes = (_button(t("settings_instant_button", lang), Option("m", "i"), instant),
             _button(t("settings_digest_button", lang), Option("m", "d"), digest))
    languages = tuple(_button(t("language_name", code), Option("l", code), code == reader.language) for code in LANGUAGES)
    pause = _button(t("settings_resume_button", lang), Option("p", "0")) if reader.paused \
        else _button(t("settings_pause_button", lang), Option("p", "1"))
    return modes, languages, (pause,)


def settings_screen(reader: Reader) -> Reply:
    lang = reader.language
    return Reply(reader_texts.settings_reply(reader, lang).text, settings_keyboard(reader, lang))


def hours_screen(reader: Reader, timezone: str) -> Reply:
    """The 24 hours, six a row, the reader's current digest hour ticked."""
    lang = reader.language
    buttons = [_button(t("settings_hour_button", lang, hour=hour), Option("h", str(hour)), hour == reader.digest_hour)
               for hour in range(24)]
    rows = tuple(tuple(buttons[i:i + HOURS_PER_ROW]) for i in range(0, 24, HOURS_PER_ROW))
    return Reply(t("settings_hour_prompt", lang, timezone=timezone), rows)


async def settings_command(update: Update, context: RelaisContext) -> None:
    user = telegram_user(update)
    await send(update, settings_screen(await readers.reader(context.app, user.id, user.language_code)))


async def _apply(update: Update, context: RelaisContext, option: Option) -> Reader:
    """The one settings change a button asks for."""
    user = telegram_user(update)
    app = context.app
    if option.what == "m":
        return await readers.change_settings(app, user.id, mode=NotificationMode.INSTANT,
                                             telegram_language=user.language_code)
    if option.what == "h":
        return await readers.change_settings(app, user.id, mode=NotificationMode.DIGEST, digest_hour=int(option.value),
                                             telegram_language=user.language_code)
    if option.what == "l":
        return await readers.change_settings(app, user.id, language=option.value, telegram_language=user.language_code)
    return await readers.change_settings(app, user.id, paused=option.value == "1", telegram_language=user.language_code)


async def on_option(update: Update, context: RelaisContext) -> None:
    query = update.callback_query
    assert query is not None
    option = parse_option(query.data)
    user = telegram_user(update)
    if option is None:
        reader = await readers.reader(context.app, user.id, user.language_code)
        await query.answer(t("button_stale", reader.language), show_alert=True)
        return
    if option == Option("m", "d"):  # a digest needs an hour first: show them
        reader = await readers.reader(context.app, user.id, user.language_code)
        await query.answer()
        await edit(update, hours_screen(reader, context.app.settings.timezone))
        return
    reader = await _apply(update, context, option)
    await query.answer(t("settings_saved", reader.language))
    await edit(update, settings_screen(reader))


def register(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("settings", settings_command,
                                           filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(on_option, pattern=rf"^{PREFIX}:"))
