"""Posts written, edited, deleted and read by hand (CLI today, the chat next).

A post written by hand follows the rules of an imported entry: the same HTML sanitizing,
the same tags (inline ``#hashtags`` of the title first, then the given tags, then the body's
hashtags — :func:`bot.ingest.entry.entry_tags`), and, stored as queued, the same enqueue
hook (:func:`bot.services.publishing.enqueue_hook`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.posts import NewPost, PostStatus
from bot.errors import UsageError
from bot.ingest import html
from bot.ingest.hashtags import entry_tags
from bot.publish import outbox
from bot.services.context import Services
from bot.services.publishing import ChannelOutcome, Outcome, queue_created
from bot.store import repository
from bot.store.models import Channel, Post, Publication, PublicationState

SOURCE = "manual"


@dataclass(frozen=True, slots=True)
class PostView:
    """A stored post as adapters show it."""

    id: int
    source: str
    source_key: str
    status: PostStatus
    title: str
    url: str | None
    author: str | None
    language: str
    tags: tuple[str, ...]
    published_at: datetime | None
    scheduled_at: datetime | None
    image_url: str | None
    summary: str
    body_html: str

    @classmethod
    def of(cls, post: Post) -> PostView:
        return cls(post.id, post.source, post.source_key, post.status, post.title, post.url, post.author,
                   post.language, tuple(t.display for t in post.tags), post.published_at, post.scheduled_at,
                   post.image_url, post.summary, post.body_html)


@dataclass(frozen=True, slots=True)
class CreatedPost:
    post: PostView
    channels: tuple[ChannelOutcome, ...] = ()  # where it was queued (a queued or scheduled post)

    @property
    def queued_on(self) -> tuple[ChannelOutcome, ...]:
        return tuple(c for c in self.channels if c.outcome is Outcome.QUEUED)


@dataclass(frozen=True, slots=True)
class EditedPost:
    post: PostView
    changed: bool  # False: the edit changed nothing readers see
    edits_requested: int  # sent messages that will be edited to the new version
    edited_on: tuple[str, ...] = ()  # the channels those messages are on, in channel order


@dataclass(frozen=True, slots=True)
class PostPage:
    posts: tuple[PostView, ...]
    total: int  # every post not deleted, whatever the filter


def _body(body: str) -> tuple[str, str, str]:
    """(sanitized HTML, Markdown, plain text) of a body typed as HTML or plain text, as ingest does."""
    clean = html.sanitize(body)
    return clean, html.to_markdown(clean), html.to_text(clean)


def _new_post(title: str, url: str | None, body: str, tags: Sequence[str], language: str,
              status: PostStatus, author: str | None) -> NewPost:
    title = title.strip()
    if not title:
        raise UsageError("a post needs a title")
    clean, markdown, text = _body(body)
    key = hashlib.sha256(f"{title}\x00{url}\x00{body}".encode()).hexdigest()[:32]
    return NewPost(source=SOURCE, source_key=key, title=title, url=url, author=author, language=language,
                   body_html=clean, body_markdown=markdown, tags=entry_tags(title, tags, text), status=status)


async def create(app: Services, title: str, *, now: datetime, url: str | None = None, body: str = "",
                 tags: Sequence[str] = (), language: str | None = None, status: PostStatus = PostStatus.DRAFT,
                 at: datetime | None = None, author: str | None = None) -> CreatedPost:
    """Store a post written by hand; queued → on the queue like an imported entry, scheduled → at ``at``."""
    if (status == PostStatus.SCHEDULED) != (at is not None):
        raise UsageError("a scheduled post needs a time, and only a scheduled post takes one")
    new = _new_post(title, url, body, tags, language or app.settings.default_language, status, author)
    async with app.sessions.begin() as session:
        if await repository.find_post(session, SOURCE, new.source_key):
            raise UsageError("an identical post already exists")
        post = await repository.add_post(session, new)
        channels: tuple[ChannelOutcome, ...] = ()
        if status in (PostStatus.QUEUED, PostStatus.SCHEDULED):
            channels = await queue_created(session, app.settings, post, now, at=at)
        return CreatedPost(PostView.of(post), channels)


async def edit(app: Services, post_id: int, *, now: datetime, title: str | None = None, body: str | None = None,
               tags: Sequence[str] | None = None) -> EditedPost:
    """Change a post's title, body or tags; its sent messages follow (edited by the worker).

    Hashtags are read again from the new title and body. ``tags`` replaces the post's other
    tags; without it they are kept.
    """
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        new_title = post.title if title is None else title.strip()
        if not new_title:
            raise UsageError("a post needs a title")
        clean, markdown, text = _body(body) if body is not None else (post.body_html, post.body_markdown,
                                                                       html.to_text(post.body_html))
        kept = [t.display for t in post.tags] if tags is None else list(tags)
        displays = entry_tags(new_title, kept, text)
        digest = NewPost(source=post.source, source_key=post.source_key, title=new_title, url=post.url,
                         body_html=clean, image_url=post.image_url, image_alt=post.image_alt,
                         tags=displays).computed_hash()
        if digest == post.content_hash:
            return EditedPost(PostView.of(post), changed=False, edits_requested=0)
        post.title, post.body_html, post.body_markdown = new_title, clean, markdown
        post.content_hash, post.updated_at = digest, now
        await repository.set_post_tags(session, post, displays)
        await session.flush()
        edits = await outbox.request_edits(session, [post.id])
        return EditedPost(PostView.of(post), changed=True, edits_requested=edits,
                          edited_on=await _sent_on(session, post.id))


async def _sent_on(session: AsyncSession, post_id: int) -> tuple[str, ...]:
    """Channels where the post's message is out (or going out): the ones an edit reaches."""
    query = (select(Channel.name).join(Publication, Publication.channel_id == Channel.id)
             .where(Publication.post_id == post_id,
                    Publication.state.in_((PublicationState.SENT, PublicationState.SENDING)))
             .order_by(Channel.id))
    return tuple((await session.scalars(query)).all())


async def delete(app: Services, post_id: int, *, now: datetime) -> PostView:
    """Soft-delete a post: unsent publications never go out, sent messages are deleted by the worker."""
    async with app.sessions.begin() as session:
        return PostView.of(await repository.delete_post(session, post_id, now))


async def get(app: Services, post_id: int) -> PostView:
    async with app.sessions() as session:
        return PostView.of(await repository.get_post(session, post_id))


async def list_posts(app: Services, *, status: PostStatus | None = None, limit: int = 50) -> PostPage:
    """Posts not deleted, newest first."""
    async with app.sessions() as session:
        posts = await repository.list_posts(session, status=status, limit=limit)
        return PostPage(tuple(PostView.of(p) for p in posts), await repository.count_posts(session))
