"""Mastodon publisher over Mastodon.py 2.x. Library dicts stop here: callers get dataclasses.

Mastodon.py is blocking, so every call runs in a thread (``asyncio.to_thread``) with
``ratelimit_method="throw"`` and a 30 s timeout; our own limiter (300 requests / 5 min per
token) spaces the calls before the instance has to refuse them. Failures leave as
``RetryableError``/``PermanentError`` (see ``bot.publish.classify``).

A send carries an ``Idempotency-Key`` built from the publication's key and content version
and reused on every retry; Mastodon remembers it for one hour
(https://docs.joinmastodon.org/methods/statuses/#headers), so past that hour the caller asks
us to look through the account's recent statuses for the text before posting again.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import grapheme
import httpx
from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonNotFoundError, MastodonRatelimitError
from pydantic import SecretStr

from bot.errors import PermanentError, RetryableError
from bot.format.counting import mastodon_length
from bot.format.model import MastodonRender
from bot.publish.classify import classify, scrub
from bot.publish.ratelimit import Pacer

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # Mastodon 4.x image limit; larger files are refused anyway
DEFAULT_DESCRIPTION_LIMIT = 1500
RECENT_STATUSES = 40


@dataclass(frozen=True, slots=True)
class InstanceLimits:
    """From ``GET /api/v2/instance``: what the instance accepts."""

    max_characters: int
    characters_reserved_per_url: int
    description_limit: int
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class SentStatus:
    remote_id: str
    remote_url: str | None


@dataclass(frozen=True, slots=True)
class MediaFile:
    data: bytes
    mime_type: str


MediaFetcher = Callable[[str], Awaitable[MediaFile | None]]


def idempotency_key_for(publication_key: str, content_version: int) -> str:
    """Same publication and content → same key, on every retry (Mastodon caps keys at 255 bytes)."""
    return f"relais-{publication_key}-v{content_version}"[:255]


def status_text(content_html: str) -> str:
    """A status's HTML content (as Mastodon returns it) as text, paragraphs kept."""
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", content_html)
    text = re.sub(r"<br\s*/?>", "\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


async def fetch_media(url: str, *, timeout: float = 30.0) -> MediaFile | None:
    """Download an image to upload; None when it is gone or not an image (post without it)."""
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            async with client.stream("GET", url) as response:
                if response.status_code >= 500:
                    raise RetryableError(f"image {url}: HTTP {response.status_code}")
                mime = response.headers.get("content-type", "").split(";")[0].strip()
                if response.status_code >= 400 or not mime.startswith("image/"):
                    log.warning("image %s skipped: HTTP %s, %s", url, response.status_code, mime or "no type")
                    return None
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_MEDIA_BYTES:
                        log.warning("image %s skipped: larger than %d bytes", url, MAX_MEDIA_BYTES)
                        return None
                return MediaFile(bytes(data), mime)
    except httpx.HTTPError as exc:
        raise RetryableError(scrub(f"image {url}: {type(exc).__name__}: {exc}")) from None


class MastodonPublisher:
    """One Mastodon account: post, edit and delete statuses."""

    def __init__(self, *, api_base_url: str, access_token: SecretStr | str, limiter: Pacer | None = None,
                 request_timeout: float = 30.0, media_fetcher: MediaFetcher = fetch_media,
                 media_wait: float = 60.0, media_poll: float = 1.0,
                 refresh_every: timedelta = timedelta(days=1)) -> None:
        token = access_token.get_secret_value() if isinstance(access_token, SecretStr) else access_token
        # No network here: version_check_mode stays "none".
        self._client = Mastodon(access_token=token, api_base_url=api_base_url, ratelimit_method="throw",
                                request_timeout=request_timeout)
        self.api_base_url = api_base_url
        self._limiter = limiter
        self._fetch_media = media_fetcher
        self._media_wait, self._media_poll = media_wait, media_poll
        self._refresh_every = refresh_every
        self._limits: InstanceLimits | None = None
        self._account_id: Any = None

    def __repr__(self) -> str:
        return f"MastodonPublisher({self.api_base_url!r})"

    async def _call(self, method: Callable[..., T], *args: Any,
                    keep: tuple[type[MastodonError], ...] = (), **kwargs: Any) -> T:
        """Run one API call in a thread, after the limiter; errors in ``keep`` stay unclassified."""
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            return await asyncio.to_thread(partial(method, *args, **kwargs))
        except keep:
            raise
        except MastodonError as exc:
            raise classify(exc, ratelimit_reset_in=self._reset_in(exc)) from None

    def _reset_in(self, exc: MastodonError) -> float | None:
        # After a 429 Mastodon.py has parsed X-RateLimit-Reset (and the Date skew) onto the client.
        reset = getattr(self._client, "ratelimit_reset", None)
        if not isinstance(exc, MastodonRatelimitError) or reset is None:
            return None
        return max(float(reset) - time.time(), 0.0)

    # --- instance limits ---------------------------------------------------------------

    @property
    def limits(self) -> InstanceLimits | None:
        """The last limits read, for the formatter (``max_characters``, ``url_length``)."""
        return self._limits

    async def refresh_limits(self, now: datetime) -> InstanceLimits:
        """Read ``/api/v2/instance`` at start and again once a day; keep the old values on failure."""
        if self._limits is not None and now - self._limits.fetched_at < self._refresh_every:
            return self._limits
        try:
            instance = await self._call(self._client.instance_v2)
        except RetryableError:
            if self._limits is None:
                raise
            log.warning("%r: instance limits not refreshed; keeping those from %s", self, self._limits.fetched_at)
            return self._limits
        config = instance["configuration"]
        media = config.get("media_attachments") or {}
        self._limits = InstanceLimits(
            max_characters=int(config["statuses"]["max_characters"]),
            characters_reserved_per_url=int(config["statuses"]["characters_reserved_per_url"]),
            description_limit=int(media.get("description_limit") or DEFAULT_DESCRIPTION_LIMIT),
            fetched_at=now,
        )
        return self._limits

    def _check_length(self, render: MastodonRender, limits: InstanceLimits) -> None:
        length = mastodon_length(render.status, render.spoiler_text, url_length=limits.characters_reserved_per_url)
        if length > limits.max_characters:
            raise PermanentError(f"status is {length} characters, the instance allows {limits.max_characters}")

    # --- media -------------------------------------------------------------------------

    async def _upload(self, url: str, alt: str | None, limits: InstanceLimits) -> Any | None:
        media = await self._fetch_media(url)
        if media is None:
            return None
        if alt and grapheme.length(alt) > limits.description_limit:
            alt = grapheme.slice(alt, 0, limits.description_limit - 1) + "…"
        attachment = await self._call(self._client.media_post, media.data, mime_type=media.mime_type,
                                      description=alt or None)
        # v2 uploads are processed asynchronously: url stays null until the file is ready.
        deadline = time.monotonic() + self._media_wait
        while attachment.get("url") is None:
            if time.monotonic() >= deadline:
                raise RetryableError(f"media {attachment['id']} still processing after {self._media_wait:g} s")
            await asyncio.sleep(self._media_poll)
            attachment = await self._call(self._client.media, attachment["id"])
        return attachment["id"]

    # --- statuses ----------------------------------------------------------------------

    async def _find_sent(self, render: MastodonRender, since: datetime) -> SentStatus | None:
        """A status with this text posted since ``since`` (an earlier attempt that did go through)."""
        if self._account_id is None:
            self._account_id = (await self._call(self._client.me))["id"]
        recent = await self._call(self._client.account_statuses, self._account_id, limit=RECENT_STATUSES,
                                  exclude_reblogs=True)
        wanted = " ".join(render.status.split())
        for status in recent:
            created = status.get("created_at")
            if created is not None and created < since - timedelta(minutes=1):
                continue
            if " ".join(status_text(status.get("content") or "").split()) == wanted:
                return SentStatus(str(status["id"]), status.get("url"))
        return None

    async def send(self, render: MastodonRender, *, idempotency_key: str, now: datetime,
                   look_back_since: datetime | None = None, wait_for_media: bool = True) -> SentStatus:
        """Post a status. ``look_back_since``: an attempt may have gone through before then,
        longer ago than Mastodon remembers idempotency keys — check the account first.
        ``wait_for_media=False``: an image that still fails (network, 5xx, processing) is left
        out rather than holding the post back any longer — the text matters more."""
        limits = await self.refresh_limits(now)
        self._check_length(render, limits)
        if look_back_since is not None:
            found = await self._find_sent(render, look_back_since)
            if found is not None:
                log.info("%r: status %s already posted by an earlier attempt", self, found.remote_id)
                return found
        media_ids = []
        if render.media_url:
            try:
                media_id = await self._upload(render.media_url, render.media_alt, limits)
            except RetryableError as exc:
                if wait_for_media:
                    raise
                log.warning("%r: posting without the image after repeated failures: %s", self, exc)
                media_id = None
            media_ids = [media_id] if media_id is not None else []
        status = await self._call(
            self._client.status_post, render.status, media_ids=media_ids or None,
            visibility=render.visibility or None, spoiler_text=render.spoiler_text or None,
            language=render.language or None, idempotency_key=idempotency_key,
        )
        return SentStatus(str(status["id"]), status.get("url"))

    async def edit(self, remote_id: str, render: MastodonRender, *, now: datetime) -> SentStatus:
        """Edit text and content warning; attachments are kept as they are."""
        limits = await self.refresh_limits(now)
        self._check_length(render, limits)
        status = await self._call(self._client.status_update, remote_id, render.status,
                                  spoiler_text=render.spoiler_text or "")
        return SentStatus(str(status["id"]), status.get("url"))

    async def delete(self, remote_id: str) -> bool:
        """Delete a status; one that is already gone counts as deleted."""
        try:
            await self._call(self._client.status_delete, remote_id, keep=(MastodonNotFoundError,))
        except MastodonNotFoundError:
            log.info("%r: status %s was already gone", self, remote_id)
        return True
