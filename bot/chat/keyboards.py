"""Button data (bot.chat.callbacks.Button) to python-telegram-bot's inline keyboard: the one edge
where our pure buttons become the library's objects (handlers and the delivery sender share it)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.callbacks import Button


def inline_keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """One keyboard row per row of buttons; None when there is no button at all."""
    keyboard = [[InlineKeyboardButton(b.label, callback_data=b.callback_data) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None
