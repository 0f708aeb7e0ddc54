"""What the outbox sends to a reader: a claimed delivery row → its Telegram render.

:func:`render_delivery` reads what it needs in a session (the CLI, tests, one row at a time).
:class:`DeliveryRenderer` is the worker's ``Deliveries.render`` for fan-outs of thousands of
rows (issue 12): the claim has already loaded each row's post and reader, the post is rendered
once (not once per reader), and the tags each reader follows among the post's are read for all
of the post's followers in one query, kept ``FOLLOWERS_TTL`` seconds. What that cache decides
is only which « Ne plus suivre #Tag » buttons a notification shows — who is notified was
decided by the fan-out rows — and a reader missing from it (a follow made after it was read)
is looked up alone, so a stale entry costs at most a button for a tag just unfollowed
(pressing it again is harmless).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.base import NO_VALUE

from bot.format.model import Article, Profile, TelegramRender
from bot.format.notification import DigestEntry, FollowedTag, Notification, digest_render, notification_render
from bot.format.telegram import render_telegram
from bot.services.context import Services
from bot.settings import Settings
from bot.store.models import Delivery, DeliveryKind, DigestItem, Follow, Post, PostTag, Subscriber, Tag

FOLLOWERS_TTL = 30.0  # seconds a post's followers → followed tags map is reused
POSTS_KEPT = 8  # posts whose maps are kept at once (a fan-out is one post at a time, mostly)
NOTIFICATION_PROFILE = "notifications"  # [profiles.notifications] in the configuration, when set


def notification_profile(settings: Settings) -> Profile:
    """``[profiles.notifications]`` when configured, else the Telegram defaults."""
    chosen = settings.profiles.get(NOTIFICATION_PROFILE)
    return Profile.from_settings("telegram", chosen) if chosen else Profile(platform="telegram")


def _followed_query(post_id: int) -> Select[int, int, str]:
    """(follower, tag id, tag) for each of the post's tags and each of its followers, in post order."""
    return (select(Follow.subscriber_id, Tag.id, Tag.display).join(PostTag, PostTag.tag_id == Tag.id)
            .join(Follow, Follow.tag_id == Tag.id).where(PostTag.post_id == post_id)
            .order_by(Follow.subscriber_id, PostTag.position))


async def _followed_tags(session: AsyncSession, post_id: int, subscriber_id: int) -> list[FollowedTag]:
    query = _followed_query(post_id).where(Follow.subscriber_id == subscriber_id)
    return [FollowedTag(tag_id, display) for _, tag_id, display in (await session.execute(query)).all()]


async def _digest_entries(session: AsyncSession, delivery_id: int) -> list[DigestEntry]:
    query = (select(Post.title, Post.url).join(DigestItem, DigestItem.post_id == Post.id)
             .where(DigestItem.delivery_id == delivery_id, Post.deleted_at.is_(None)).order_by(DigestItem.position))
    return [DigestEntry(title, url) for title, url in (await session.execute(query)).all()]


async def render_delivery(session: AsyncSession, delivery: Delivery, profile: Profile) -> tuple[int, Notification]:
    """(Telegram chat id, what to send) for one delivery row."""
    subscriber = await session.get_one(Subscriber, delivery.subscriber_id)
    if delivery.kind == DeliveryKind.DIGEST:
        return subscriber.telegram_user_id, digest_render(await _digest_entries(session, delivery.id), subscriber.language)
    post = await session.get_one(Post, delivery.post_id)
    followed = await _followed_tags(session, post.id, subscriber.id)
    return subscriber.telegram_user_id, notification_render(Article.from_post(post), subscriber.language, profile, followed)


async def notification_for(app: Services, delivery_id: int) -> tuple[int, Notification]:
    """:func:`render_delivery` in its own session (the CLI, tests)."""
    async with app.sessions() as session:
        delivery = await session.get_one(Delivery, delivery_id)
        return await render_delivery(session, delivery, notification_profile(app.settings))


def _loaded(row: Any, name: str) -> Any:
    """A relationship the claim already loaded, or None (never a lazy load on a detached row)."""
    value = inspect(row).attrs[name].loaded_value
    return None if value is NO_VALUE else value


class DeliveryRenderer:
    """The worker's ``Deliveries.render`` (see the module's docstring for what is cached)."""

    def __init__(self, app: Services, *, clock: Callable[[], float] = time.monotonic,
                 ttl: float = FOLLOWERS_TTL) -> None:
        self._app, self._clock, self._ttl = app, clock, ttl
        self.profile = notification_profile(app.settings)
        self._post_render = functools.lru_cache(maxsize=POSTS_KEPT)(self._render_post)
        self._followers: dict[int, asyncio.Task[tuple[float, dict[int, list[FollowedTag]]]]] = {}
        self.reads = 0  # followers maps read (tests: one per post and TTL, not one per reader)

    def _render_post(self, article: Article) -> TelegramRender:
        return render_telegram(article, self.profile)

    async def __call__(self, delivery: Delivery) -> TelegramRender:
        post, subscriber = _loaded(delivery, "post"), _loaded(delivery, "subscriber")
        if delivery.kind == DeliveryKind.DIGEST or post is None or subscriber is None:
            async with self._app.sessions() as session:
                return (await render_delivery(session, delivery, self.profile))[1].render
        article = Article.from_post(post)
        followed = await self._followed(post.id, subscriber.id)
        return notification_render(article, subscriber.language, self.profile, followed,
                                   rendered=self._post_render(article)).render

    async def _followed(self, post_id: int, subscriber_id: int) -> list[FollowedTag]:
        loading = self._followers.get(post_id)
        if loading is not None and loading.done() and (loading.exception() is not None
                                                       or self._clock() - loading.result()[0] > self._ttl):
            loading = None
        if loading is None:  # one read per post, shared by every lane asking meanwhile
            if len(self._followers) >= POSTS_KEPT:
                self._followers.pop(next(iter(self._followers)))
            loading = self._followers[post_id] = asyncio.ensure_future(self._read_followers(post_id))
        _, followers = await asyncio.shield(loading)
        found = followers.get(subscriber_id)
        if found is not None:
            return found
        async with self._app.sessions() as session:  # followed since the map was read
            return await _followed_tags(session, post_id, subscriber_id)

    async def _read_followers(self, post_id: int) -> tuple[float, dict[int, list[FollowedTag]]]:
        read_at = self._clock()
        followers: dict[int, list[FollowedTag]] = {}
        async with self._app.sessions() as session:
            rows = (await session.execute(_followed_query(post_id))).all()
        for subscriber_id, tag_id, display in rows:
            followers.setdefault(subscriber_id, []).append(FollowedTag(tag_id, display))
        self.reads += 1
        return read_at, followers
