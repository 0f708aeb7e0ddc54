"""Inline mode: ``@bot query`` in any chat offers matching posts to share, 20 at a time.

``inline_page`` (the app, a query, Telegram's offset → data) holds the logic;
the handler turns it into ``InlineQueryResultArticle``s: the title, the excerpt as
description, the post's thumbnail, and as the message the post rendered as a channel shows
it (Telegram HTML with its link). An empty query offers the latest posts; a forged offset
offers nothing. https://core.telegram.org/bots/api#answerinlinequery
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Update
from telegram.ext import BaseHandler, InlineQueryHandler

from bot.chat.context import RelaisContext
from bot.format import Profile, render_telegram
from bot.services import search as service
from bot.services.context import Services

PAGE = 20
CACHE_SECONDS = 60  # results change when a post is published; a minute of staleness is fine
PROFILE = Profile(platform="telegram")  # hashtags after the text, "Lire la suite" link: as on a channel


@dataclass(frozen=True, slots=True)
class InlineItem:
    id: str
    title: str
    description: str
    text: str  # Telegram HTML
    preview_url: str | None
    thumbnail_url: str | None


@dataclass(frozen=True, slots=True)
class InlinePage:
    items: tuple[InlineItem, ...]
    next_offset: str  # "" when this is the last page


def _offset(raw: str) -> int | None:
    if not raw:
        return 0
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= service.MAX_OFFSET else None


async def inline_page(app: Services, query: str, offset: str) -> InlinePage:
    start = _offset(offset)
    if start is None:
        return InlinePage((), "")
    page = await service.search(app, query, offset=start, limit=PAGE)
    articles = await service.articles(app, [hit.post_id for hit in page.hits])
    items = []
    for hit in page.hits:
        if hit.post_id not in articles:
            continue
        render = render_telegram(articles[hit.post_id], PROFILE)
        items.append(InlineItem(str(hit.post_id), hit.title or hit.url or "…", hit.excerpt, render.text,
                                render.link_preview.url if render.link_preview else None, hit.image_url))
    return InlinePage(tuple(items), str(page.next_offset) if page.next_offset is not None else "")


def _result(item: InlineItem) -> InlineQueryResultArticle:
    preview = LinkPreviewOptions(url=item.preview_url) if item.preview_url else LinkPreviewOptions(is_disabled=True)
    content = InputTextMessageContent(item.text, parse_mode="HTML", link_preview_options=preview)
    return InlineQueryResultArticle(item.id, item.title[:256], content, description=item.description or None,
                                    thumbnail_url=item.thumbnail_url)


async def answer_inline(update: Update, context: RelaisContext) -> None:
    query = update.inline_query
    if query is None:
        return
    page = await inline_page(context.app, query.query, query.offset)
    await query.answer([_result(item) for item in page.items], cache_time=CACHE_SECONDS,
                       next_offset=page.next_offset)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [InlineQueryHandler(answer_inline)]
