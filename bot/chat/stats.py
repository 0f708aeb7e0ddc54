"""`/stats` in a private chat: the numbers as a short text, then the chart, for authors only.

A thin adapter over :mod:`bot.services.stats` and :mod:`bot.chart` (the same ones
`relais stats` uses). The chart is drawn in a worker thread: matplotlib is CPU-bound and
would hold the event loop for a fraction of a second.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from babel.dates import format_date
from babel.numbers import format_decimal
from telegram import Update

from bot.chat.context import RelaisContext
from bot.errors import Forbidden
from bot.i18n import base_language, t
from bot.services import access
from bot.services import stats as service
from bot.services.access import Action
from bot.services.stats import Stats


def summary_text(result: Stats, language: str | None) -> str:
    """A few lines in the reader's language, numbers and date written the local way."""
    locale = base_language(language)

    def n(value: int) -> str:
        return format_decimal(value, locale=locale)

    lines = [t("stats_heading", locale, date=format_date(result.now.date(), "d MMMM y", locale=locale))]
    lines += [t("stats_window", locale, days=w.days, posts=n(w.posts_published), sent=n(w.publications_sent),
                dead=n(w.publications_dead), deliveries=n(w.deliveries_sent), failed=n(w.deliveries_failed),
                new_readers=n(w.new_readers)) for w in result.windows]
    lines.append(t("stats_queue", locale, publications=n(result.queue_length), posts=n(result.queued_posts)))
    lines.append(t("stats_readers", locale, active=n(result.readers_active), inactive=n(result.readers_inactive)))
    tags = ", ".join(f"#{tag.tag} ({n(tag.followers)})" for tag in result.top_tags)
    lines.append(t("stats_top_tags", locale, tags=tags) if tags else t("stats_no_follows", locale))
    return "\n\n".join(lines)


async def stats(update: Update, context: RelaisContext) -> None:
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    app = context.app
    try:
        await access.require(app, user.id, Action.VIEW_STATS)
    except Forbidden:
        await message.reply_text(t("author_only", user.language_code))
        return
    from bot.chart import stats_png  # matplotlib: loaded on the first /stats only

    result = await service.stats(app, datetime.now(UTC))
    await message.reply_text(summary_text(result, user.language_code))
    png = await asyncio.to_thread(stats_png, result, user.language_code)
    await message.reply_photo(png, filename="relais-stats.png")
