"""What a post will look like on each configured channel, measured: the author's preview.

The same ``render_for`` the worker calls (bot/publish/render.py), with the Mastodon
instance's live limits where it answers, so a preview is the message that goes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.format import MastodonRender, TelegramRender
from bot.publish.render import limits_for, render_channels, render_for
from bot.services.context import Services
from bot.store import repository


@dataclass(frozen=True, slots=True)
class ChannelPreview:
    channel: str
    platform: str
    render: TelegramRender | MastodonRender
    length: int
    limit: int


async def previews(app: Services, post_id: int) -> list[ChannelPreview]:
    """One preview per configured channel (or the default pair), in configuration order."""
    channels = render_channels(app.settings)
    limits = await limits_for(channels)
    async with app.sessions() as session:
        post = await repository.get_post(session, post_id)
        renders = [(c, render_for(c, post, limits.get(c.name))) for c in channels]
    return [ChannelPreview(c.name, c.platform, r, r.length, r.limit) for c, r in renders]
