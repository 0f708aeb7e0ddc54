"""Telling an author, in the chat, that one of their publications went dead — with a retry button.

``notify_dead`` is what the worker's give-up path calls (or a job after it): it reads the
publication, finds who wrote the post in the chat (``posts.author_user_id``) and sends the
platform's reason in plain words (the classification of bot/publish/classify.py is kept in
``last_error``: "Telegram: …", "Mastodon 422 …", "gave up after N attempts: …").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.chat import author_callbacks as callbacks
from bot.i18n import t
from bot.services.context import Services
from bot.store.models import Publication, PublicationState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadNotice:
    author_user_id: int
    post_id: int
    title: str
    channel: str
    reason: str  # the platform's words, as classified and scrubbed
    undeleted_url: str | None = None  # a delete that failed (e.g. Telegram's 48 h window): the message to remove by hand
    undeleted: bool = False


async def dead_notice(app: Services, publication_id: int) -> DeadNotice | None:
    """What to tell whom about a dead publication; None when nobody wrote it in the chat or it is not dead."""
    async with app.sessions() as session:
        publication = await session.get(Publication, publication_id)
        if publication is None or publication.state != PublicationState.DEAD:
            return None
        post = publication.post
        if post.author_user_id is None:
            return None
        undeleted = publication.remote_id is not None  # dead after it was sent: a delete that failed
        if post.deleted_at is not None and not undeleted:
            return None
        return DeadNotice(post.author_user_id, post.id, post.title, publication.channel.name,
                          publication.last_error or "—", publication.remote_url, undeleted)


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
    """Tell the post's author that ``publication_id`` went dead; True when a message was sent.

    A send that failed comes with a retry button; a delete that failed (the message is still
    there) names the message to remove by hand. Never raises for Telegram: an author who
    blocked the bot is logged, and the worker carries on.
    """
    notice = await dead_notice(app, publication_id)
    if notice is None:
        return False
    lang = app.settings.default_language
    if notice.undeleted:
        text = t("undeleted_notice", lang, id=notice.post_id, title=notice.title, channel=notice.channel,
                 reason=plain_reason(notice.reason, lang), url=notice.undeleted_url or "—")
        markup = None
    else:
        text = t("dead_notice", lang, id=notice.post_id, title=notice.title, channel=notice.channel,
                 reason=plain_reason(notice.reason, lang))
        button = InlineKeyboardButton(t("button_retry", lang), callback_data=callbacks.data("retry", notice.post_id))
        markup = InlineKeyboardMarkup([[button]])
    try:
        await bot.send_message(notice.author_user_id, text, reply_markup=markup)
    except TelegramError as exc:
        log.warning("could not tell author %s about publication %s (%s): %s", notice.author_user_id, publication_id,
                    notice.reason, exc)
        return False
    return True
