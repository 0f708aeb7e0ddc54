"""Search the archive: what `/search`, inline mode and `relais search` all call.

A blank query lists the latest posts; a query with nothing to look for (``*``, ``"``, only
exclusions, emoji) is answered with an empty page marked ``understood=False``. Drafts and
deleted posts are never returned. See :mod:`bot.domain.search` for the query language and
:mod:`bot.store.search` for the index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.search import Query, fold, parse
from bot.format.model import Article
from bot.services.context import Services
from bot.store import search as index
from bot.store.models import Post, PostTag, Tag

MAX_LIMIT = 50  # Telegram shows at most 50 inline results per answer
MAX_OFFSET = 1000  # deeper pages cost a ranking of everything before them; nobody reads that far
EXCERPT = 160


@dataclass(frozen=True, slots=True)
class SearchHit:
    post_id: int
    title: str
    date: datetime | None  # published (or, never published, created)
    excerpt: str  # plain text, ≤ EXCERPT characters, around the first match or the summary's start
    url: str | None
    tags: tuple[str, ...]  # display forms, in the post's order
    image_url: str | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str
    hits: tuple[SearchHit, ...]
    offset: int
    limit: int
    has_more: bool
    understood: bool = True  # False: nothing to look for in the query (answered, not raised)

    @property
    def next_offset(self) -> int | None:
        return self.offset + len(self.hits) if self.has_more else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


async def search(app: Services, text: str, *, offset: int = 0, limit: int = 10) -> SearchPage:
    """One page of the posts matching ``text``, best first; never raises for what a reader types."""
    offset, limit = min(max(offset, 0), MAX_OFFSET), min(max(limit, 1), MAX_LIMIT)
    query = parse(text)
    async with app.sessions() as session:
        found = await index.find(session, query, offset=offset, limit=limit)
        hits = await _hits(session, found.post_ids, query)
    return SearchPage(text, hits, offset, limit, found.has_more, query.understood)


async def _hits(session: AsyncSession, post_ids: Sequence[int], query: Query) -> tuple[SearchHit, ...]:
    if not post_ids:
        return ()
    rows = (await session.execute(
        select(Post.id, Post.title, Post.published_at, Post.created_at, Post.url, Post.image_url, Post.summary,
               Post.body_markdown).where(Post.id.in_(post_ids))
    )).all()
    tags: dict[int, list[str]] = {}
    links = await session.execute(
        select(PostTag.post_id, Tag.display).join(Tag, Tag.id == PostTag.tag_id)
        .where(PostTag.post_id.in_(post_ids)).order_by(PostTag.post_id, PostTag.position)
    )
    for post_id, display in links:
        tags.setdefault(post_id, []).append(display)
    by_id = {
        row.id: SearchHit(row.id, row.title, row.published_at or row.created_at,
                          excerpt(plain_text(row.summary, row.body_markdown), query.words), row.url,
                          tuple(tags.get(row.id, ())), row.image_url)
        for row in rows
    }
    return tuple(by_id[i] for i in post_ids if i in by_id)


async def articles(app: Services, post_ids: Sequence[int]) -> dict[int, Article]:
    """The posts as the formatter sees them, to share a result as the channel would show it."""
    if not post_ids:
        return {}
    async with app.sessions() as session:
        posts = (await session.scalars(select(Post).where(Post.id.in_(post_ids), Post.deleted_at.is_(None)))).all()
        return {post.id: Article.from_post(post) for post in posts}


# --- excerpts (pure)

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)|\*\*|__|`+|\\(?=[\\`*_{}\[\]()#+\-.!])")
_WORD = re.compile(r"[^\W_]+")


def plain_text(summary: str, markdown: str) -> str:
    """The summary, then the Markdown body without its markup, as one line."""
    body = " ".join(_MARKUP.sub("", _LINK.sub(r"\1", _IMAGE.sub("", markdown))).split())
    summary = " ".join(summary.split())
    if not body or body.startswith(summary[:80]):  # an RSS summary is often the body's first lines
        return body or summary
    return f"{summary} {body}" if summary else body


def excerpt(text: str, words: Sequence[str], width: int = EXCERPT) -> str:
    """≤ ``width`` characters of ``text``: around the first word starting like one of ``words``, else its start."""
    start = 0
    for match in _WORD.finditer(text):
        if any(fold(match.group()).startswith(w) for w in words):
            start = match.start()
            break
    if len(text) <= width:
        return text
    if start > width // 3:  # keep a little context before the match, cut at a space
        space = text.rfind(" ", 0, start - width // 4)
        start = space + 1 if space > 0 else start
    else:
        start = 0
    window = text[start:start + width - 2]
    if start + len(window) < len(text):
        space = window.rfind(" ")
        window = (window[:space] if space > width // 2 else window).rstrip(" ,;:") + "…"
    return ("…" + window) if start else window
