"""One render path: a channel, a post and the limits to honour → what the platform is sent.

The outbox worker (``make_render``, wired by ``bot.app``) and ``relais render`` both call
``render_for``, so a preview is the message that goes out. Mastodon limits are the
instance's own (``GET /api/v2/instance``, DESIGN rule 7) when known, else Mastodon's
defaults; ``StatusLimits.source`` says which, for the person reading a preview.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.format import Article, MastodonRender, Profile, TelegramRender, render_mastodon, render_telegram
from bot.format.model import MASTODON_MAX_CHARACTERS, MASTODON_URL_LENGTH
from bot.settings import ProfileSettings, Settings

Render = TelegramRender | MastodonRender
PlatformName = Literal["telegram", "mastodon"]
LIVE_LIMITS_TIMEOUT = 2.0  # seconds; a preview must not hang on an instance that is down


@dataclass(frozen=True, slots=True)
class RenderChannel:
    """What rendering needs to know about one channel (no token, no chat)."""

    name: str
    platform: PlatformName
    profile: Profile
    instance_url: str | None = None  # Mastodon: where the live limits come from


@dataclass(frozen=True, slots=True)
class StatusLimits:
    """A Mastodon instance's status limits and where they came from."""

    max_characters: int = MASTODON_MAX_CHARACTERS
    url_length: int = MASTODON_URL_LENGTH
    source: str = "default"  # "default", or "live <instance URL>"

    @property
    def is_live(self) -> bool:
        return self.source != "default"


DEFAULT_LIMITS = StatusLimits()


def render_channels(settings: Settings) -> list[RenderChannel]:
    """The configured channels, or one default Telegram and one default Mastodon channel."""
    configured = [
        RenderChannel(c.name, c.platform,
                      Profile.from_settings(c.platform, settings.profile_for(c), visibility=c.visibility),
                      c.instance_url)
        for c in settings.channels
    ]
    return configured or [
        RenderChannel("telegram", "telegram", Profile.from_settings("telegram", ProfileSettings())),
        RenderChannel("mastodon", "mastodon", Profile.from_settings("mastodon", ProfileSettings())),
    ]


def render_for(channel: RenderChannel, post: Any, limits: StatusLimits | None = None) -> Render:
    """The render of ``post`` (an ``Article``, a ``NewPost`` or a stored ``Post``) for ``channel``."""
    article = post if isinstance(post, Article) else Article.from_post(post)
    if channel.platform == "telegram":
        return render_telegram(article, channel.profile)
    limits = limits or DEFAULT_LIMITS
    return render_mastodon(article, channel.profile, max_characters=limits.max_characters,
                           url_length=limits.url_length)


RENDER_CACHE_SIZE = 256  # (post content, profile, limits) renders kept: a post going out on every channel


def make_render(settings: Settings, limits_of: Callable[[str], StatusLimits | None]) -> Callable[[Any], Render]:
    """publication → its render, for the worker. ``limits_of(channel name)``: the live Mastodon
    limits its publisher last read, or None. Channels are built once, not per publication.

    A post is rendered once per distinct profile and limits, not once per channel: the key is
    the post's content as rendering reads it (``Article``, immutable and hashable), so a post
    edited meanwhile is a new key and never gets a stale render."""
    channels = {channel.name: channel for channel in render_channels(settings)}
    profiles: list[RenderChannel] = []  # one representative channel per distinct (platform, profile)
    shared: dict[str, int] = {}
    for channel in channels.values():
        same = next((i for i, seen in enumerate(profiles)
                     if (seen.platform, seen.profile) == (channel.platform, channel.profile)), None)
        if same is None:
            profiles.append(channel)
            same = len(profiles) - 1
        shared[channel.name] = same

    @functools.lru_cache(maxsize=RENDER_CACHE_SIZE)
    def cached(article: Article, profile: int, limits: StatusLimits | None) -> Render:
        return render_for(profiles[profile], article, limits)

    def render(publication: Any) -> Render:
        name = publication.channel.name
        return cached(Article.from_post(publication.post), shared[name], limits_of(name))

    return render


# --- live instance limits --------------------------------------------------------------------

def limits_from_instance(instance: Mapping[str, Any], source: str) -> StatusLimits:
    """``/api/v2/instance`` → its status limits (https://docs.joinmastodon.org/entities/Instance/)."""
    statuses = instance["configuration"]["statuses"]
    return StatusLimits(int(statuses["max_characters"]), int(statuses["characters_reserved_per_url"]), source)


async def live_limits(instance_url: str, client: httpx.AsyncClient) -> StatusLimits | None:
    """The instance's own limits, or None when it cannot be reached or answers nonsense."""
    url = instance_url.rstrip("/") + "/api/v2/instance"
    try:
        response = await client.get(url)
        response.raise_for_status()
        return limits_from_instance(response.json(), f"live {instance_url}")
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


async def limits_for(channels: list[RenderChannel], *, timeout: float = LIVE_LIMITS_TIMEOUT,
                     transport: httpx.AsyncBaseTransport | None = None) -> dict[str, StatusLimits]:
    """Channel name → the limits to render with: live where the instance answers, else the defaults."""
    wanted = [c for c in channels if c.platform == "mastodon" and c.instance_url]
    found: dict[str, StatusLimits] = {c.name: DEFAULT_LIMITS for c in channels if c.platform == "mastodon"}
    if not wanted:
        return found
    async with httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=True) as client:
        answers = await asyncio.gather(*(live_limits(c.instance_url or "", client) for c in wanted))
    found.update({c.name: limits for c, limits in zip(wanted, answers, strict=True) if limits is not None})
    return found


__all__ = ["DEFAULT_LIMITS", "Render", "RenderChannel", "StatusLimits", "limits_for", "make_render",
           "render_channels", "render_for"]
