"""Repository functions over an ``AsyncSession``. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.posts import NewPost, PostStatus  # NewPost moved to the domain; still importable from here
from bot.domain.tags import clean_display, tag_key
from bot.errors import NotFound
from bot.store.models import Channel, Platform, Post, PostTag, Tag, utcnow


def tag_spellings(displays: Iterable[str]) -> dict[str, str]:
    """key → display form, in order, one per key; the first display form seen is kept."""
    wanted: dict[str, str] = {}
    for raw in displays:
        display = clean_display(raw)
        key = tag_key(display)
        if key and key not in wanted:
            wanted[key] = display[:200]
    return wanted


IN_CHUNK = 500  # keeps IN (…) lists well under SQLite's and asyncpg's parameter limits


async def tags_by_key(session: AsyncSession, displays: Iterable[str]) -> dict[str, Tag]:
    """key → tag for these spellings, in order, created when missing; the first display form wins."""
    wanted = tag_spellings(displays)
    keys = list(wanted)
    found: dict[str, Tag] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start:start + IN_CHUNK]
        found.update({t.key: t for t in (await session.scalars(select(Tag).where(Tag.key.in_(chunk)))).all()})
    missing = [Tag(key=key, display=display) for key, display in wanted.items() if key not in found]
    if missing:
        session.add_all(missing)
        await session.flush()
        found.update({t.key: t for t in missing})
    return {key: found[key] for key in keys}


async def get_or_create_tags(session: AsyncSession, displays: Iterable[str]) -> list[Tag]:
    """Tags for these spellings, in order, one per key; the first display form seen is kept."""
    return list((await tags_by_key(session, displays)).values())


async def set_post_tags(session: AsyncSession, post: Post, displays: Iterable[str]) -> None:
    tags = await get_or_create_tags(session, displays)
    await post.awaitable_attrs.post_tags  # load the old links so they can be replaced
    post.post_tags = [PostTag(tag_id=tag.id, tag=tag, position=i) for i, tag in enumerate(tags)]


async def add_post(session: AsyncSession, new: NewPost) -> Post:
    post = Post(
        source=new.source,
        source_key=new.source_key,
        url=new.url,
        title=new.title,
        author=new.author,
        language=new.language,
        summary=new.summary,
        body_html=new.body_html,
        body_markdown=new.body_markdown,
        image_url=new.image_url,
        image_alt=new.image_alt,
        content_hash=new.computed_hash(),
        status=new.status,
        published_at=new.published_at,
        published_at_estimated=new.published_at_estimated,
        scheduled_at=new.scheduled_at,
    )
    session.add(post)
    await session.flush()
    await set_post_tags(session, post, new.tags)
    await session.flush()
    return post


async def get_post(session: AsyncSession, post_id: int) -> Post:
    post = await session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound(f"post {post_id} does not exist")
    return post


async def find_post(session: AsyncSession, source: str, source_key: str) -> Post | None:
    return await session.scalar(select(Post).where(Post.source == source, Post.source_key == source_key))


async def list_posts(
    session: AsyncSession,
    status: PostStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Post]:
    query = select(Post).where(Post.deleted_at.is_(None))
    if status is not None:
        query = query.where(Post.status == status)
    query = query.order_by(Post.published_at.desc().nulls_last(), Post.id.desc()).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def count_posts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Post).where(Post.deleted_at.is_(None))) or 0)


async def delete_post(session: AsyncSession, post_id: int, now: datetime | None = None) -> Post:
    """Soft-delete: the row stays so sent messages can be deleted downstream."""
    post = await get_post(session, post_id)
    post.deleted_at = now or utcnow()
    return post


async def sync_channel(session: AsyncSession, name: str, platform: Platform, target: str, enabled: bool) -> Channel:
    """Create or update the channel row that mirrors one configured channel.

    One ``INSERT … ON CONFLICT (name) DO UPDATE``: processes started together (one updates
    process and N workers) each sync the same configuration, and a select-then-insert lets
    two of them insert the same name (issue 11). The row is only written when it differs,
    so a restart does not touch ``updated_at``; ``paused`` is the operator's, never reset.
    """
    now = utcnow()
    statement = _insert(session).values(name=name, platform=platform, target=target, enabled=enabled,
                                        paused=False, created_at=now, updated_at=now)
    changed = statement.excluded
    await session.execute(statement.on_conflict_do_update(
        index_elements=[Channel.name],
        set_={"platform": changed.platform, "target": changed.target, "enabled": changed.enabled, "updated_at": now},
        where=or_(Channel.platform != changed.platform, Channel.target != changed.target,
                  Channel.enabled != changed.enabled),
    ))
    query = select(Channel).where(Channel.name == name).execution_options(populate_existing=True)
    return (await session.scalars(query)).one()


def _insert(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into channels in the session's dialect (both know ``on_conflict_do_update``)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Channel)
    if dialect == "sqlite":
        return sqlite.insert(Channel)
    raise NotImplementedError(f"channel sync has no upsert for the {dialect} dialect")
