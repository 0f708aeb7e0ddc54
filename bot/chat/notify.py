"""Telling an author, in the chat, that one of their publications went dead — with a retry button.

``notify_dead`` is what the worker's give-up path calls (or a job after it): it reads the
publication, finds who wrote the post in the chat (``posts.author_user_id``) and sends the
platform's reason in plain words (the classification of bot/publish/classify.py is kept in
``last_error``: "Telegram: …", "Mastodon 422 …", "gave up after N attempts: …").
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat import callbacks
from bot.i18n import t
from bot.services.context import Services
from bot.store.models import Publication, PublicationState


@dataclass(frozen=True, slots=True)
class DeadNotice:
    author_user_id: int
    post_id: int
    title: str
    channel: str
    reason: str  # the platform's words, as classified and scrubbed


async def dead_notice(app: Services, publication_id: int) -> DeadNotice | None:
    """What to tell whom about a dead publication; None when nobody wrote it in the chat or it is not dead."""
    async with app.sessions() as session:
        publication = await session.get(Publication, publication_id)
        if publication is None or publication.state != PublicationState.DEAD:
            return None
        post = publication.post
        if post.author_user_id is None or post.deleted_at is not None:
            return None
        return DeadNotice(post.author_user_id, post.id, post.title, publication.channel.name,
                          publication.last_error or "—")


def plain_reason(reason: str, lang: str | None) -> str:
    """The classified error in words an author understands, the platform's own text after it."""
    lowered = reason.lower()
    if "forbidden" in lowered or " 401 " in lowered or " 403 " in lowered or "unauthorized" in lowered:
        kind = t("dead_reason_forbidden", lang)
    elif "not found" in lowered or " 404 " in lowered:
        kind = t("dead_reason_not_found", lang)
    elif "gave up after" in lowered:
        kind = t("dead_reason_unreachable", lang)
    else:
        kind = t("dead_reason_rejected", lang)
    return f"{kind} ({reason})"


async def notify_dead(app: Services, bot: Bot, publication_id: int) -> bool:
    """Tell the post's author that ``publication_id`` went dead; True when a message was sent."""
    notice = await dead_notice(app, publication_id)
    if notice is None:
        return False
    lang = app.settings.default_language
    button = InlineKeyboardButton(t("button_retry", lang), callback_data=callbacks.data("retry", notice.post_id))
    await bot.send_message(notice.author_user_id, t("dead_notice", lang, id=notice.post_id, title=notice.title,
                                                    channel=notice.channel, reason=plain_reason(notice.reason, lang)),
                           reply_markup=InlineKeyboardMarkup([[button]]))
    return True
