"""Telling an author, in the chat, that one of their publications went dead — with a retry button.

``notify_dead`` is what the worker's give-up path calls (or a job after it): it reads the
publication, finds who wrote the post in the chat (``posts.author_user_id``) and sends the
platform's reason in plain words (the classification of bot/publish/classify.py is kept in
``last_error``: "Telegram: …", "Mastodon 422 …", "gave up after N attempts: …").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.chat import author_callbacks as callbacks
from bot.i18n import t
from bot.services import feeds
from bot.services.access import list_authors
from bot.services.context import Services
from bot.store.models import AuthorRole, Publication, PublicationState, Subscriber

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


def plain_feed_error(error: str | None, lang: str | None) -> str:
    """A poll's recorded error (bot/ingest/fetch.py's words) as an admin understands it, the raw text after it."""
    lowered = (error or "").lower()
    status = re.search(r"\bhttp (\d{3})\b", lowered)
    if "timed out" in lowered:
        kind = t("feed_error_timeout", lang)
    elif status and status.group(1) in ("404", "410"):
        kind = t("feed_error_gone", lang)
    elif status and status.group(1) in ("401", "403"):
        kind = t("feed_error_forbidden", lang)
    elif status and status.group(1).startswith("5"):
        kind = t("feed_error_server", lang)
    elif "connect" in lowered or "name resolution" in lowered:
        kind = t("feed_error_unreachable", lang)
    else:
        kind = t("feed_error_unreadable", lang)
    return f"{kind} ({error})" if error else kind


async def _admin_languages(app: Services) -> dict[int, str | None]:
    """Every admin (configuration and database) and their language when they are also a reader."""
    admins = [a.user_id for a in await list_authors(app) if a.role == AuthorRole.ADMIN]
    if not admins:
        return {}
    async with app.sessions() as session:
        rows = (await session.execute(select(Subscriber.telegram_user_id, Subscriber.language)
                                      .where(Subscriber.telegram_user_id.in_(admins)))).all()
    known: dict[int, str] = {user_id: language for user_id, language in rows}
    return {user_id: known.get(user_id) for user_id in admins}


def failing_feed_text(feed: feeds.FailingFeed, lang: str | None, app: Services) -> str:
    tz = app.settings.tz
    when = "%Y-%m-%d %H:%M %Z"
    next_attempt = feed.next_attempt.astimezone(tz).strftime(when) if feed.next_attempt else "—"
    return t("feed_failing_notice", lang, name=feed.name, url=feed.url,
             since=feed.failing_since.astimezone(tz).strftime(when), failures=feed.failures,
             reason=plain_feed_error(feed.last_error, lang), next=next_attempt)


async def notify_failing_feeds(app: Services, bot: Bot, now: datetime) -> int:
    """Tell every admin, once per failure streak, about each feed failing for a day; the messages sent.

    A blocked admin is logged and the others are still told. A feed is marked told when one
    admin got the message or when every failure was the admin's (blocked…); when Telegram
    did not answer at all, the next run tries again.
    """
    failing = await feeds.failing_feeds_to_tell(app, now)
    if not failing:
        return 0
    admins = await _admin_languages(app)
    if not admins:  # kept untold: an admin added later hears of it at the next sweep
        return 0
    sent, told = 0, []
    for feed in failing:
        reached = await _tell_admins(bot, admins, feed, app)
        sent += reached.sent
        if reached.sent or not reached.unreachable:
            told.append(feed.id)
    await feeds.mark_told(app, told, now)
    return sent


@dataclass(slots=True)
class _Reached:
    sent: int = 0
    unreachable: int = 0  # Telegram did not take it (network, flood wait): the next run tries again


async def _tell_admins(bot: Bot, admins: dict[int, str | None], feed: feeds.FailingFeed, app: Services) -> _Reached:
    reached = _Reached()
    for user_id, lang in admins.items():
        try:
            await bot.send_message(user_id, failing_feed_text(feed, lang, app))
            reached.sent += 1
        except (Forbidden, BadRequest) as exc:  # blocked the bot, never started it…: the others are still told
            log.warning("could not tell admin %s that feed %s is failing: %s", user_id, feed.name, exc)
        except TelegramError as exc:  # timed out, flood wait, no network: not the admin's doing
            reached.unreachable += 1
            log.warning("Telegram did not take the notice to admin %s about feed %s: %s", user_id, feed.name, exc)
    return reached
