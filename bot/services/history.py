"""History: what was sent where and when, newest first, with a link to each message.

A publication belongs to the history once it went out (``sent_at`` is set), whether its
message is still there (``sent``) or was deleted later (``deleted``, or ``dead`` when the
delete failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.errors import NotFound, UsageError
from bot.services.context import Services
from bot.store.models import Channel, Platform, Post, Publication

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class SentMessage:
    publication_id: int
    post_id: int
    title: str
    channel: str
    platform: str
    sent_at: datetime  # aware UTC
    state: str  # sent; deleted or dead once the message was taken down (or its delete failed)
    remote_id: str | None
    link: str | None  # None: a private chat, whose messages have no public address


def message_link(platform: str, target: str, remote_id: str | None, remote_url: str | None) -> str | None:
    """The platform's URL when it gave one, else https://t.me/<channel>/<id> for a public @channel."""
    if remote_url:
        return remote_url
    if platform == Platform.TELEGRAM and target.startswith("@") and remote_id:
        return f"https://t.me/{target[1:]}/{remote_id}"
    return None


async def history(app: Services, *, post_id: int | None = None, channel: str | None = None,
                  limit: int = 50) -> list[SentMessage]:
    """The last ``limit`` messages sent (of one post, on one channel), newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT} (got {limit})")
    query = (
        select(Publication.id, Publication.post_id, Post.title, Channel.name, Channel.platform, Channel.target,
               Publication.sent_at, Publication.state, Publication.remote_id, Publication.remote_url)
        .join(Post, Post.id == Publication.post_id)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.sent_at.is_not(None))
        .order_by(Publication.sent_at.desc(), Publication.id.desc())
        .limit(limit)
    )
    async with app.sessions() as session:
        if post_id is not None:
            if await session.scalar(select(Post.id).where(Post.id == post_id)) is None:  # deleted ones have a history
                raise NotFound(f"post {post_id} does not exist")
            query = query.where(Publication.post_id == post_id)
        if channel is not None:
            if await session.scalar(select(Channel.id).where(Channel.name == channel)) is None:
                known = ", ".join(c.name for c in app.settings.channels) or "none configured"
                raise NotFound(f"unknown channel {channel!r}; configured channels: {known}")
            query = query.where(Channel.name == channel)
        rows = (await session.execute(query)).all()
    return [SentMessage(r.id, r.post_id, r.title, r.name, str(r.platform), r.sent_at, str(r.state), r.remote_id,
                        message_link(r.platform, r.target, r.remote_id, r.remote_url)) for r in rows]
