"""One interface over the platform publishers, so the worker does not care which is which.

The composition root builds ``{channel name: Target}``: a ``TelegramTarget`` around the shared
Telegram publisher for each Telegram channel, a ``MastodonTarget`` per Mastodon account; and
one ``DeliveryTarget`` that sends reader notifications to private chats through the same
Telegram publisher, on the deliveries' share of the rate budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from telegram.error import RetryAfter

from bot.errors import ConfigError, FormatError, RetryableError
from bot.format.model import MastodonRender, TelegramRender
from bot.publish.classify import retry_after_seconds
from bot.publish.mastodon import MastodonPublisher, MediaFetcher, fetch_media, idempotency_key_for
from bot.publish.ratelimit import MastodonLimits, TelegramLimits, Traffic
from bot.publish.render import Render  # what the formatter makes, for one platform or the other
from bot.settings import Settings
from bot.store.models import Delivery, Platform, Publication

T = TypeVar("T")
R = TypeVar("R", TelegramRender, MastodonRender)

# After this many failed attempts, a lead image that still cannot be fetched is left out.
MEDIA_ATTEMPTS = 3
# Mastodon honours an Idempotency-Key for one hour; stop trusting it a little before that.
IDEMPOTENCY_WINDOW = timedelta(minutes=55)


@dataclass(frozen=True, slots=True)
class Job:
    """What a publisher needs to know about one claimed publication."""

    publication_id: int
    post_id: int
    channel: str
    platform: Platform
    target: str
    attempts: int
    idempotency_key: str
    content_version: int
    remote_id: str | None
    sent_at: datetime | None
    # The first attempt happened at or after this (slot time, else row creation).
    first_attempt_not_before: datetime
    # An earlier try may have reached the platform: it failed, or a worker died during it
    # (recovery gives a crashed claim's attempt back but leaves its last_error).
    tried_before: bool = False

    @classmethod
    def of(cls, publication: Publication) -> Job:
        return cls(
            publication_id=publication.id, post_id=publication.post_id, channel=publication.channel.name,
            platform=publication.channel.platform, target=publication.channel.target,
            attempts=publication.attempts, idempotency_key=publication.idempotency_key,
            content_version=publication.content_version, remote_id=publication.remote_id,
            sent_at=publication.sent_at, first_attempt_not_before=publication.due_at or publication.created_at,
            tried_before=publication.attempts > 1 or publication.last_error is not None,
        )


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """What the delivery target needs to know about one claimed delivery."""

    delivery_id: int
    post_id: int
    chat_id: int  # the reader's Telegram user id: a private chat
    attempts: int
    # An earlier try may have reached the reader (it failed, or a worker died during it).
    tried_before: bool = False

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryJob:
        return cls(delivery_id=delivery.id, post_id=delivery.post_id, chat_id=delivery.subscriber.telegram_user_id,
                   attempts=delivery.attempts, tried_before=delivery.attempts > 1 or delivery.last_error is not None)


class Sent(Protocol):
    @property
    def remote_id(self) -> str: ...
    @property
    def remote_url(self) -> str | None: ...


class Target(Protocol):
    async def prepare(self, now: datetime) -> None: ...
    async def send(self, job: Job, render: Render, now: datetime) -> Sent: ...
    async def edit(self, job: Job, render: Render, now: datetime) -> None: ...
    async def delete(self, job: Job, now: datetime) -> bool: ...


class TelegramPublisherLike(Protocol):
    """``bot.publish.telegram.TelegramPublisher`` as the worker uses it."""

    async def send(self, chat: str, render: TelegramRender) -> Sent: ...
    async def edit(self, chat: str, remote_id: str, render: TelegramRender) -> None: ...
    async def delete(self, chat: str, remote_id: str, sent_at: datetime, now: datetime) -> bool: ...


def expect(render: Render, kind: type[R]) -> R:
    """The render a target can send; a render for the other platform is a bug, never sent."""
    if not isinstance(render, kind):
        raise FormatError(f"expected a {kind.__name__}, got a {type(render).__name__}")
    return render


async def paced(limits: TelegramLimits | None, chat: str | int, traffic: Traffic,
                call: Callable[[], Awaitable[T]]) -> T:
    """Wait for the limits, call (timed: the limits count it from its answer); a 429 anyway
    pauses what it names for its retry_after."""
    try:
        if limits is None:
            return await call()
        async with limits.sending(chat, traffic):
            return await call()
    except RetryAfter as exc:  # PTB's path (edits, deletes)
        if limits is not None:
            limits.flooded(chat, retry_after_seconds(exc))
        raise
    except RetryableError as exc:  # the lean sender's path: already classified
        if limits is not None and exc.retry_after is not None:
            limits.flooded(chat, exc.retry_after)
        raise


class TelegramTarget:
    """A Telegram channel or group; waits for the rate limits before each message."""

    def __init__(self, publisher: TelegramPublisherLike, limits: TelegramLimits | None = None) -> None:
        self.publisher, self.limits = publisher, limits

    async def prepare(self, now: datetime) -> None:
        return None

    async def _paced(self, chat: str, call: Callable[[], Awaitable[T]]) -> T:
        return await paced(self.limits, chat, Traffic.PUBLICATION, call)

    async def send(self, job: Job, render: Render, now: datetime) -> Sent:
        message = expect(render, TelegramRender)
        return await self._paced(job.target, lambda: self.publisher.send(job.target, message))

    async def edit(self, job: Job, render: Render, now: datetime) -> None:
        message = expect(render, TelegramRender)
        await self._paced(job.target, lambda: self.publisher.edit(job.target, job.remote_id or "", message))

    async def delete(self, job: Job, now: datetime) -> bool:
        """False when Telegram no longer lets bots delete it (older than 48 h)."""
        return await self._paced(
            job.target, lambda: self.publisher.delete(job.target, job.remote_id or "", job.sent_at or now, now)
        )


class MastodonTarget:
    """A Mastodon account."""

    def __init__(self, publisher: MastodonPublisher) -> None:
        self.publisher = publisher

    async def prepare(self, now: datetime) -> None:
        await self.publisher.refresh_limits(now)

    async def send(self, job: Job, render: Render, now: datetime) -> Sent:
        status = expect(render, MastodonRender)
        # A retry past Mastodon's idempotency window looks for the earlier attempt's status first.
        stale = job.tried_before and now - job.first_attempt_not_before > IDEMPOTENCY_WINDOW
        return await self.publisher.send(
            status, idempotency_key=idempotency_key_for(job.idempotency_key, job.content_version), now=now,
            look_back_since=job.first_attempt_not_before if stale else None,
            wait_for_media=job.attempts <= MEDIA_ATTEMPTS,
        )

    async def edit(self, job: Job, render: Render, now: datetime) -> None:
        await self.publisher.edit(job.remote_id or "", expect(render, MastodonRender), now=now)

    async def delete(self, job: Job, now: datetime) -> bool:
        return await self.publisher.delete(job.remote_id or "")


class DeliveryTarget:
    """Reader notifications: one message to the reader's private chat, on the deliveries' budget.

    The seam between the outbox and the fan-out: whoever creates delivery rows only has to
    say what a notification looks like (the worker's ``delivery_render.DeliveryRenderer``).
    """

    def __init__(self, publisher: TelegramPublisherLike, limits: TelegramLimits | None = None) -> None:
        self.publisher, self.limits = publisher, limits

    async def send(self, job: DeliveryJob, render: TelegramRender, now: datetime) -> Sent:
        chat = str(job.chat_id)
        return await paced(self.limits, chat, Traffic.DELIVERY, lambda: self.publisher.send(chat, render))


def build_targets(settings: Settings, telegram: TelegramPublisherLike | None, *,
                  telegram_limits: TelegramLimits | None = None,
                  mastodon_limits: MastodonLimits | None = None,
                  media_fetcher: MediaFetcher = fetch_media) -> dict[str, Target]:
    """``{channel name: Target}`` for every enabled configured channel. Opens no connection.

    ``media_fetcher`` downloads the images Mastodon posts carry (the demo serves its bundled ones).
    """
    targets: dict[str, Target] = {}
    for channel in settings.channels:
        if not channel.enabled:
            continue
        if channel.platform == "telegram":
            if telegram is None:
                raise ConfigError(f"channel {channel.name!r}: a Telegram channel needs telegram.token")
            targets[channel.name] = TelegramTarget(telegram, telegram_limits)
            continue
        if channel.token is None:
            raise ConfigError(f"channel {channel.name!r}: a Mastodon account needs token_env or token_file")
        token = channel.token.get_secret_value()
        limiter = mastodon_limits.for_token(token) if mastodon_limits is not None and channel.rate_limits else None
        targets[channel.name] = MastodonTarget(
            MastodonPublisher(api_base_url=channel.instance_url or "", access_token=token, limiter=limiter,
                              media_fetcher=media_fetcher)
        )
    return targets
