"""The formatter: a post and a channel profile in, a Telegram or Mastodon render out.

Pure: no network, no database, no clock. See ``render_telegram`` and ``render_mastodon``.
"""

from bot.format.mastodon import render_mastodon
from bot.format.model import Article, LinkPreview, MastodonRender, Profile, TelegramRender
from bot.format.telegram import render_telegram

__all__ = [
    "Article",
    "LinkPreview",
    "MastodonRender",
    "Profile",
    "TelegramRender",
    "render_mastodon",
    "render_telegram",
]
