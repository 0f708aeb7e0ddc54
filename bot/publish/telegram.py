"""Send, edit and delete channel posts: sends through the lean sender, the rest through PTB's ``Bot``.

Built from the settings, the publisher sends with ``bot.publish.telegram_lean`` (JSON over
aiohttp, errors already classified: issue 12); edits, deletes and getMe stay on PTB. Given a
``Bot`` and no sender (tests of PTB's own path), it sends through PTB too.

The Bot API base URL comes from the configuration, so a self-hosted Bot API server (or the
sandbox in ``bot.sandbox``) works. Errors are PTB's own exceptions (RetryAfter, TimedOut,
NetworkError, BadRequest, Forbidden…), raised unchanged: ``bot.publish.classify`` decides
once whether they are retried. Only frozen dataclasses leave this module.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message

from bot.format.model import TelegramRender
from bot.publish.telegram_lean import LeanTelegramSender, SentMessage, follow_markup
from bot.settings import Settings

log = logging.getLogger(__name__)

# Bots may delete their messages for 48 hours only: https://core.telegram.org/bots/api#deletemessage
DELETE_WINDOW = timedelta(hours=48)


class TelegramPublisher:
    def __init__(self, bot: Bot, *, bot_username: str | None = None, language: str = "fr",
                 allow_paid_broadcast: bool = False, sender: LeanTelegramSender | None = None) -> None:
        self.bot, self.sender = bot, sender
        self._bot_username = bot_username
        self.language = language
        self.allow_paid_broadcast = allow_paid_broadcast

    @classmethod
    def from_settings(cls, settings: Settings, bot: Bot | None = None) -> TelegramPublisher:
        telegram = settings.telegram
        sender = None
        if bot is None:
            token = settings.require_telegram_token().get_secret_value()
            bot = Bot(token, base_url=telegram.api_base_url)
            sender = LeanTelegramSender(token, base_url=telegram.api_base_url)
        return cls(bot, bot_username=telegram.bot_username, language=settings.default_language,
                   allow_paid_broadcast=telegram.allow_paid_broadcast, sender=sender)

    async def start(self) -> None:
        """Initialize the bot (one getMe) and learn its username for the follow links."""
        await self.bot.initialize()
        if not self._bot_username:
            self._bot_username = self.bot.username
        if self.sender is not None:
            await self.sender.start()

    async def stop(self) -> None:
        if self.sender is not None:
            await self.sender.stop()
        await self.bot.shutdown()

    async def __aenter__(self) -> TelegramPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def bot_username(self) -> str:
        if not self._bot_username:
            raise RuntimeError("TelegramPublisher.start() must run before publishing (bot username unknown)")
        return self._bot_username

    # --- the three operations
    async def send(self, chat: str, render: TelegramRender) -> SentMessage:
        if self.sender is not None:
            return await self.sender.send(chat, render, bot_username=self.bot_username,
                                          allow_paid_broadcast=self.allow_paid_broadcast)
        common: dict[str, Any] = {"parse_mode": render.parse_mode, "reply_markup": self.follow_keyboard(render)}
        if self.allow_paid_broadcast:
            common["allow_paid_broadcast"] = True
        if render.photo:
            message = await self.bot.send_photo(chat, render.photo, caption=render.text, **common)
        else:
            message = await self.bot.send_message(chat, render.text, link_preview_options=_preview(render), **common)
        return SentMessage(str(message.message_id), _message_url(chat, message))

    async def edit(self, chat: str, remote_id: str, render: TelegramRender) -> None:
        """Replace a sent message's text (or caption, for a photo) and keyboard."""
        common: dict[str, Any] = {"chat_id": chat, "message_id": int(remote_id), "parse_mode": render.parse_mode,
                                  "reply_markup": self.follow_keyboard(render)}
        if render.photo:
            await self.bot.edit_message_caption(caption=render.text, **common)
        else:
            await self.bot.edit_message_text(render.text, link_preview_options=_preview(render), **common)

    async def delete(self, chat: str, remote_id: str, sent_at: datetime, now: datetime) -> bool:
        """Delete a sent message; False (and a log line) once Telegram's 48 h window is over."""
        if now - sent_at >= DELETE_WINDOW:
            log.warning("not deleting Telegram message %s in %s: sent %s, more than 48 h ago", remote_id, chat,
                        sent_at.isoformat())
            return False
        return await self.bot.delete_message(chat, int(remote_id))

    # --- pieces
    def follow_keyboard(self, render: TelegramRender) -> InlineKeyboardMarkup | None:
        """The render's buttons as the lean sender sends them (``follow_markup``), as PTB's type."""
        markup = follow_markup(render, self.bot_username)
        return None if markup is None else InlineKeyboardMarkup.de_json(markup, None)


def _preview(render: TelegramRender) -> LinkPreviewOptions | None:
    """LinkPreviewOptions from the render's ``link_preview`` (url, prefer_large_media), if any."""
    preview = render.link_preview
    if preview is None or not preview.url:
        return None
    return LinkPreviewOptions(url=preview.url, prefer_large_media=preview.prefer_large_media or None)


def _message_url(chat: str, message: Message) -> str | None:
    """https://t.me/<channel>/<id> for a public channel; None for a private chat or group."""
    username = message.chat.username or (chat[1:] if chat.startswith("@") else None)
    return f"https://t.me/{username}/{message.message_id}" if username else None
