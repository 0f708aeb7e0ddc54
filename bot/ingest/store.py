"""Batched database work for an import: a few queries per thousand entries, not per entry.

Callers own the transaction (``bot.ingest.service`` opens one per source).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.posts import NewPost, PostStatus
from bot.domain.tags import tag_key
from bot.ingest.decide import Action, Decision, Stored
from bot.publish import outbox
from bot.store.models import FeedSource, Post, PostTag, Tag
from bot.store.repository import IN_CHUNK

# The publishing side's hook; what it returns (the publications it made) is not used here.
Enqueue = Callable[[AsyncSession, Post, datetime], Awaitable[object]]
CHUNK = IN_CHUNK
T = TypeVar("T")
_COPIED = ("url", "title", "author", "language", "summary", "body_html", "body_markdown", "image_url",
           "image_alt", "published_at", "published_at_estimated")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def feed_source(session: AsyncSession, name: str, url: str) -> FeedSource:
    """The source's cursor row, created if missing. Two imports of a new source may race to
    create it: ``INSERT … ON CONFLICT DO NOTHING`` then a read lets both go on (issue 11 item 4)."""
    query = select(FeedSource).where(FeedSource.name == name)
    row = await session.scalar(query)
    if row is None:
        dialect = session.get_bind().dialect.name
        upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(upsert(FeedSource).values(name=name, url=url[:2000], failures=0)
                              .on_conflict_do_nothing(index_elements=[FeedSource.name]))
        row = await session.scalar(query)
    assert row is not None  # inserted, or inserted by the import we raced with
    return row


async def stored_hashes(session: AsyncSession, source: str, keys: Sequence[str]) -> dict[str, Stored]:
    found: dict[str, Stored] = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(Post.source_key, Post.id, Post.content_hash)
            .where(Post.source == source, Post.source_key.in_(chunk))
        )
        found.update({key: Stored(id=post_id, content_hash=digest) for key, post_id, digest in rows})
    return found


async def load_posts(session: AsyncSession, ids: Sequence[int]) -> dict[int, Post]:
    posts: dict[int, Post] = {}
    for chunk in _chunks(ids):
        posts.update({p.id: p for p in (await session.scalars(select(Post).where(Post.id.in_(chunk)))).all()})
    return posts


def snapshot(post: Post) -> NewPost:
    """The stored post as a NewPost, for merging an update over it."""
    return NewPost(
        source=post.source, source_key=post.source_key, tags=tuple(t.display for t in post.tags),
        status=post.status, **{name: getattr(post, name) for name in _COPIED},
    )


def _tag_keys(entry: NewPost, tags: dict[str, Tag]) -> list[str]:
    return list(dict.fromkeys(k for k in (tag_key(t) for t in entry.tags) if k in tags))


def _links(entry: NewPost, tags: dict[str, Tag], post_id: int) -> list[PostTag]:
    # post_id set lets SQLAlchemy turn "delete old link + insert same link" into a no-op.
    return [PostTag(post_id=post_id, tag_id=tags[key].id, tag=tags[key], position=i)
            for i, key in enumerate(_tag_keys(entry, tags))]


async def add_posts(session: AsyncSession, decisions: Sequence[Decision], tags: dict[str, Tag],
                    now: datetime, enqueue: Enqueue | None) -> list[Post]:
    """Insert new posts; their tag links go in one executemany, not as ORM objects (the costly part)."""
    posts = [
        Post(source=d.post.source, source_key=d.post.source_key, content_hash=d.post.computed_hash(),
             status=d.post.status, scheduled_at=d.post.scheduled_at, created_at=now, updated_at=now,
             **{name: getattr(d.post, name) for name in _COPIED})
        for d in decisions
    ]
    session.add_all(posts)
    await session.flush()
    links = {post.id: _tag_keys(d.post, tags) for post, d in zip(posts, decisions, strict=True)}
    rows = [{"post_id": post_id, "tag_id": tags[key].id, "position": i}
            for post_id, keys in links.items() for i, key in enumerate(keys)]
    if rows:
        await session.execute(insert(PostTag), rows)
    if enqueue is not None:
        for post in posts:
            if post.status == PostStatus.QUEUED:
                # post.tags readable without a query: the hook filters channels on tags.
                set_committed_value(post, "post_tags", [
                    PostTag(post_id=post.id, tag_id=tags[key].id, tag=tags[key], position=i)
                    for i, key in enumerate(links[post.id])])
                await enqueue(session, post, now)
    return posts


async def update_posts(session: AsyncSession, decisions: Sequence[Decision], posts: dict[int, Post],
                       tags: dict[str, Tag], now: datetime) -> None:
    """Apply changed content; publications already sent are marked for an edit."""
    for decision in decisions:
        assert decision.stored_id is not None  # an UPDATE always names the stored post
        post, entry = posts[decision.stored_id], decision.post
        for name in _COPIED:
            setattr(post, name, getattr(entry, name))
        post.content_hash = entry.computed_hash()
        post.updated_at = now
        post.post_tags = _links(entry, tags, post.id)
    ids = [d.stored_id for d in decisions if d.stored_id is not None]
    for chunk in _chunks(ids):
        await outbox.request_edits(session, chunk)
    await session.flush()


def tag_displays(decisions: Iterable[Decision]) -> list[str]:
    return [tag for d in decisions if d.action != Action.UNCHANGED for tag in d.post.tags]
