"""Posts, channel sends and readers for the reader and notification tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from services_support import NOW
from sqlalchemy import func, select

from bot.app import App
from bot.domain.posts import NewPost, PostStatus
from bot.services import readers
from bot.store import repository
from bot.store.models import Channel, Delivery, NotificationMode, Publication, PublicationState, Subscriber


async def add_post(app: App, title: str, tags: Sequence[str], *, status: PostStatus = PostStatus.PUBLISHED,
                   published_at: datetime | None = NOW, url: str | None = "auto", deleted: bool = False) -> int:
    key = f"{title}|{','.join(tags)}"
    link = f"https://esante.example/{abs(hash(key)) % 10**8}" if url == "auto" else url
    new = NewPost(source="https://esante.example/feed", source_key=key, title=title, url=link,
                  body_html=f"<p>{title} — l’article complet, avec des « guillemets » 🩺.</p>", tags=tuple(tags),
                  status=status, published_at=published_at)
    async with app.sessions.begin() as session:
        post = await repository.add_post(session, new)
        if deleted:
            post.deleted_at = NOW
        return post.id


async def send_on(app: App, post_id: int, channel: str, at: datetime = NOW) -> None:
    """Stand in for the worker: the post went out on ``channel``."""
    async with app.sessions.begin() as session:
        channel_id = await session.scalar(select(Channel.id).where(Channel.name == channel))
        session.add(Publication(post_id=post_id, channel_id=channel_id, state=PublicationState.SENT, sent_at=at,
                                remote_id="1", idempotency_key=f"{post_id}-{channel}"))


async def add_reader(app: App, user_id: int, tags: Sequence[str], *, mode: NotificationMode = NotificationMode.INSTANT,
                     hour: int | None = None, paused: bool = False, active: bool = True) -> int:
    await readers.follow(app, user_id, tags)
    await readers.change_settings(app, user_id, mode=mode, digest_hour=hour, paused=paused)
    async with app.sessions.begin() as session:
        row = await session.scalar(select(Subscriber).where(Subscriber.telegram_user_id == user_id))
        assert row is not None
        row.active = active
        return row.id


async def deliveries(app: App) -> list[tuple[int, int]]:
    """(post id, subscriber id) of every delivery, sorted."""
    async with app.sessions() as session:
        return sorted((d.post_id, d.subscriber_id) for d in (await session.scalars(select(Delivery))).all())


async def count(app: App, model: type) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


LATER = NOW + timedelta(hours=1)
