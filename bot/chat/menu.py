"""The commands a reader can use: Telegram's command menu and ``/help`` come from this one list,
so neither can name a command that does not exist (DESIGN.md rule 8).

The menu is set at start-up (``bot.app.build_chat_application``'s post_init) with
``setMyCommands``: French as the default, English for users whose Telegram language is English
(https://core.telegram.org/bots/api#setmycommands).
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.i18n import t

log = logging.getLogger(__name__)


def descriptions(lang: str) -> dict[str, str]:
    """Each reader command and what it does, in the order the menu and /help show them."""
    return {
        "follow": t("command_follow", lang),
        "unfollow": t("command_unfollow", lang),
        "following": t("command_following", lang),
        "tags": t("command_tags", lang),
        "latest": t("command_latest", lang),
        "search": t("command_search", lang),
        "settings": t("command_settings", lang),
        "stop": t("command_stop", lang),
        "help": t("command_help", lang),
    }


MENU_LANGUAGES = {"fr": None, "en": "en"}  # catalog language → setMyCommands language_code (None: default)


def bot_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(command, text) for command, text in descriptions(lang).items()]


def help_text(lang: str) -> str:
    lines = [f"/{command} — {text}" for command, text in descriptions(lang).items()]
    return "\n".join([t("chat_help_heading", lang), *lines, "", t("chat_help_footer", lang)])


async def set_menu(bot: Bot) -> None:
    """Telegram's command menu, in each language; a failure is logged, never fatal (the bot still answers)."""
    try:
        for lang, code in MENU_LANGUAGES.items():
            await bot.set_my_commands(bot_commands(lang), language_code=code)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
