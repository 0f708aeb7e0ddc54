"""What readers do in a private chat with the bot: follow tags, read, choose how to be notified, leave.

A reader is a ``subscribers`` row, made on first contact (``/start`` or any command) from the
Telegram user: English when the Telegram language starts with ``en``, French otherwise; the
reader may change it later in the settings. Tags are found by key (``anxiete`` = ``#Anxiété``,
:func:`bot.domain.tags.tag_key`), and also with their spaces dropped, so ``#SantéMentale``
finds the tag ``Santé mentale``. A tag that does not exist gets the closest existing ones.

``stop`` erases the reader (follows, deliveries, settings, the row itself): the only data we
keep about a reader is what they asked for, and they may take it back.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.callbacks import Action, encode
from bot.deeplinks import followed_tag_key
from bot.domain.hashtags import hashtag_body
from bot.domain.posts import PostStatus
from bot.domain.tags import tag_key
from bot.errors import NotFound, UsageError
from bot.services.context import Services
from bot.store.models import Delivery, Follow, NotificationMode, Post, PostTag, Subscriber, Tag

LANGUAGES = ("fr", "en")
SUGGESTIONS = 3
SUGGESTION_CUTOFF = 70  # rapidfuzz WRatio, 0-100: below it a "closest tag" is noise
MAX_TAGS_PER_CALL = 20  # /follow a b c …: more is a paste accident
MAX_PAGE = 50


def language_of(telegram_language: str | None) -> str:
    """The reader's language from Telegram's ``language_code``: English for en*, French otherwise."""
    return "en" if (telegram_language or "").lower().startswith("en") else "fr"


@dataclass(frozen=True, slots=True)
class Reader:
    id: int
    user_id: int
    language: str
    mode: NotificationMode
    digest_hour: int | None
    paused: bool
    active: bool

    @classmethod
    def of(cls, row: Subscriber) -> Reader:
        return cls(row.id, row.telegram_user_id, row.language, row.notification_mode, row.digest_hour, row.paused,
                   row.active)


@dataclass(frozen=True, slots=True)
class TagRef:
    id: int
    display: str

    @property
    def hashtag(self) -> str:
        """``#SantéMentale`` for the tag ``Santé mentale`` (as channel posts write it)."""
        return "#" + (hashtag_body(self.display) or self.display)

    @classmethod
    def of(cls, tag: Tag) -> TagRef:
        return cls(tag.id, tag.display)


class Outcome(enum.StrEnum):
    FOLLOWED = "followed"
    ALREADY = "already"  # followed before this call
    UNFOLLOWED = "unfollowed"
    NOT_FOLLOWED = "not_followed"  # unfollow of a tag the reader did not follow
    UNKNOWN = "unknown"  # no such tag: see suggestions


@dataclass(frozen=True, slots=True)
class TagResult:
    asked: str  # what the reader typed (or the tag id)
    outcome: Outcome
    tag: TagRef | None = None
    suggestions: tuple[TagRef, ...] = ()


@dataclass(frozen=True, slots=True)
class DeepLinkFollow:
    tag: TagRef
    already: bool  # the reader followed it before the tap

    @property
    def undo_data(self) -> str:
        """Callback data of the undo button (``uf:<tag_id>``)."""
        return encode(Action.UNFOLLOW, self.tag.id)


@dataclass(frozen=True, slots=True)
class Started:
    reader: Reader
    created: bool
    reactivated: bool  # had blocked the bot, and is back
    followed: DeepLinkFollow | None = None  # None: no valid follow payload, show the welcome


@dataclass(frozen=True, slots=True)
class TagCount:
    tag: TagRef
    posts: int
    followed: bool


@dataclass(frozen=True, slots=True)
class TagPage:
    tags: tuple[TagCount, ...]
    offset: int
    limit: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class PostLink:
    id: int
    title: str
    url: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Erased:
    follows: int
    deliveries: int
    subscriber: bool  # False: there was no such reader


# -- the subscriber row ---------------------------------------------------------------------------

async def _subscriber(session: AsyncSession, user_id: int) -> Subscriber | None:
    return await session.scalar(select(Subscriber).where(Subscriber.telegram_user_id == user_id))


async def _upsert(session: AsyncSession, user_id: int, telegram_language: str | None) -> tuple[Subscriber, bool]:
    if not 0 < user_id < 2**53:
        raise UsageError(f"{user_id} is not a Telegram user id")
    row = await _subscriber(session, user_id)
    if row is not None:
        return row, False
    row = Subscriber(telegram_user_id=user_id, language=language_of(telegram_language),
                     notification_mode=NotificationMode.INSTANT, active=True, paused=False)
    session.add(row)
    await session.flush()
    return row, True


async def start(app: Services, user_id: int, telegram_language: str | None = None,
                payload: str | None = None) -> Started:
    """``/start [payload]``: make or wake the reader; a valid follow payload follows its tag."""
    async with app.sessions.begin() as session:
        row, created = await _upsert(session, user_id, telegram_language)
        reactivated = not row.active
        row.active = True
        followed = await _follow_payload(session, row, payload) if payload else None
        return Started(Reader.of(row), created, reactivated, followed)


async def _follow_payload(session: AsyncSession, row: Subscriber, payload: str) -> DeepLinkFollow | None:
    key = followed_tag_key(payload)
    tag = await session.scalar(select(Tag).where(Tag.key == key)) if key else None
    if tag is None:
        return None  # stale (the tag is gone) or not a follow link at all
    already = not await _add_follow(session, row.id, tag.id)
    return DeepLinkFollow(TagRef.of(tag), already)


async def reader(app: Services, user_id: int, telegram_language: str | None = None) -> Reader:
    """The reader's settings (made on first contact)."""
    async with app.sessions.begin() as session:
        return Reader.of((await _upsert(session, user_id, telegram_language))[0])


# -- follow and unfollow --------------------------------------------------------------------------

def _compact(key: str) -> str:
    return key.replace(" ", "").replace("_", "")


class _TagIndex:
    """Every tag, found by key or by key without spaces, with fuzzy suggestions over the keys."""

    def __init__(self, tags: Iterable[Tag]) -> None:
        self.by_key: dict[str, Tag] = {tag.key: tag for tag in tags}
        compact: dict[str, Tag] = {}
        for tag in self.by_key.values():
            compact.setdefault(_compact(tag.key), tag)
        self.by_compact_key = compact

    def find(self, raw: str) -> Tag | None:
        key = tag_key(raw)
        if not key:
            return None
        return self.by_key.get(key) or self.by_compact_key.get(_compact(key))

    def suggest(self, raw: str) -> tuple[TagRef, ...]:
        key = tag_key(raw)
        if not key:
            return ()
        found = process.extract(key, list(self.by_key), scorer=fuzz.WRatio, limit=SUGGESTIONS,
                                score_cutoff=SUGGESTION_CUTOFF)
        return tuple(TagRef.of(self.by_key[choice]) for choice, _score, _ in found)


async def _tag_index(session: AsyncSession) -> _TagIndex:
    return _TagIndex((await session.scalars(select(Tag))).all())


def _words(raw_tags: Sequence[str]) -> list[str]:
    """'#Anxiété, ia' 'santé' → ['#Anxiété', 'ia', 'santé'], each once."""
    words = [w for raw in raw_tags for w in raw.replace(",", " ").split() if w.strip("#")]
    if len(words) > MAX_TAGS_PER_CALL:
        raise UsageError(f"at most {MAX_TAGS_PER_CALL} tags at once")
    return list(dict.fromkeys(words))


async def _followed_ids(session: AsyncSession, subscriber_id: int) -> set[int]:
    return set((await session.scalars(select(Follow.tag_id).where(Follow.subscriber_id == subscriber_id))).all())


async def _add_follow(session: AsyncSession, subscriber_id: int, tag_id: int) -> bool:
    """Follow; False when it already was."""
    if tag_id in await _followed_ids(session, subscriber_id):
        return False
    session.add(Follow(subscriber_id=subscriber_id, tag_id=tag_id))
    await session.flush()
    return True


async def _per_word(session: AsyncSession, words: Sequence[str], act: Callable[[Tag], Awaitable[Outcome]]
                    ) -> tuple[TagResult, ...]:
    """``act`` on each word's tag, in the order typed; a word that is no tag gets suggestions."""
    index = await _tag_index(session)
    results = []
    for word in words:
        tag = index.find(word)
        if tag is None:
            results.append(TagResult(word, Outcome.UNKNOWN, suggestions=index.suggest(word)))
        else:
            results.append(TagResult(word, await act(tag), TagRef.of(tag)))
    return tuple(results)


async def follow(app: Services, user_id: int, raw_tags: Sequence[str], telegram_language: str | None = None
                 ) -> tuple[TagResult, ...]:
    """``/follow TAG…``: one result per distinct word, in the order typed."""
    words = _words(raw_tags)
    async with app.sessions.begin() as session:
        row, _ = await _upsert(session, user_id, telegram_language)

        async def add(tag: Tag) -> Outcome:
            return Outcome.FOLLOWED if await _add_follow(session, row.id, tag.id) else Outcome.ALREADY

        return await _per_word(session, words, add)


async def follow_tag(app: Services, user_id: int, tag_id: int, telegram_language: str | None = None) -> TagResult:
    """Follow by tag id (a button); an unknown id is UNKNOWN, never an error."""
    async with app.sessions.begin() as session:
        row, _ = await _upsert(session, user_id, telegram_language)
        tag = await session.get(Tag, tag_id)
        if tag is None:
            return TagResult(str(tag_id), Outcome.UNKNOWN)
        added = await _add_follow(session, row.id, tag.id)
        return TagResult(str(tag_id), Outcome.FOLLOWED if added else Outcome.ALREADY, TagRef.of(tag))


async def _remove_follow(session: AsyncSession, subscriber_id: int, tag_id: int) -> bool:
    result = await session.execute(delete(Follow).where(Follow.subscriber_id == subscriber_id, Follow.tag_id == tag_id))
    return bool(getattr(result, "rowcount", 0))


async def unfollow(app: Services, user_id: int, raw_tags: Sequence[str]) -> tuple[TagResult, ...]:
    """``/unfollow TAG…``: one result per distinct word."""
    words = _words(raw_tags)
    async with app.sessions.begin() as session:
        row = await _subscriber(session, user_id)

        async def remove(tag: Tag) -> Outcome:
            removed = row is not None and await _remove_follow(session, row.id, tag.id)
            return Outcome.UNFOLLOWED if removed else Outcome.NOT_FOLLOWED

        return await _per_word(session, words, remove)


async def unfollow_tag(app: Services, user_id: int, tag_id: int) -> TagResult:
    """Unfollow by tag id (the unfollow and undo buttons)."""
    async with app.sessions.begin() as session:
        row, tag = await _subscriber(session, user_id), await session.get(Tag, tag_id)
        if tag is None:
            return TagResult(str(tag_id), Outcome.UNKNOWN)
        removed = row is not None and await _remove_follow(session, row.id, tag.id)
        return TagResult(str(tag_id), Outcome.UNFOLLOWED if removed else Outcome.NOT_FOLLOWED, TagRef.of(tag))


async def following(app: Services, user_id: int) -> tuple[TagRef, ...]:
    """The tags the reader follows, by display (case- and accent-insensitive)."""
    async with app.sessions() as session:
        query = (select(Tag).join(Follow, Follow.tag_id == Tag.id).join(Subscriber, Subscriber.id == Follow.subscriber_id)
                 .where(Subscriber.telegram_user_id == user_id).order_by(Tag.key))
        return tuple(TagRef.of(tag) for tag in (await session.scalars(query)).all())


# -- reading --------------------------------------------------------------------------------------

def readable() -> ColumnElement[bool]:
    """Posts a reader may see: published (at the source, or out on a channel), not deleted."""
    return Post.deleted_at.is_(None) & ((Post.status == PostStatus.PUBLISHED) | Post.fanned_out_at.is_not(None))


def _page_bounds(offset: int, limit: int) -> None:
    if offset < 0 or not 0 < limit <= MAX_PAGE:
        raise UsageError(f"a page is 1 to {MAX_PAGE} items from offset 0 or more")


async def tags_page(app: Services, user_id: int | None, *, offset: int = 0, limit: int = 10) -> TagPage:
    """The most used tags (readable posts), most first, with whether the reader follows each."""
    _page_bounds(offset, limit)
    count = func.count(PostTag.post_id)
    query = (select(Tag, count).join(PostTag, PostTag.tag_id == Tag.id).join(Post, Post.id == PostTag.post_id)
             .where(readable()).group_by(Tag.id).order_by(count.desc(), Tag.key).offset(offset).limit(limit + 1))
    async with app.sessions() as session:
        rows = (await session.execute(query)).all()
        row = await _subscriber(session, user_id) if user_id is not None else None
        followed = await _followed_ids(session, row.id) if row else set()
    items = tuple(TagCount(TagRef.of(tag), n, tag.id in followed) for tag, n in rows[:limit])
    return TagPage(items, offset, limit, has_more=len(rows) > limit)


async def latest(app: Services, tag: str | None = None, *, limit: int = 5) -> tuple[PostLink, ...]:
    """The last readable posts, newest first; with ``tag``, only those carrying it (NotFound if no such tag)."""
    _page_bounds(0, limit)
    when = func.coalesce(Post.published_at, Post.fanned_out_at, Post.created_at)
    query = select(Post).where(readable()).order_by(when.desc(), Post.id.desc()).limit(limit)
    async with app.sessions() as session:
        if tag is not None:
            found = (await _tag_index(session)).find(tag)
            if found is None:
                raise NotFound(f"no tag {tag!r}")
            query = query.where(Post.id.in_(select(PostTag.post_id).where(PostTag.tag_id == found.id)))
        posts = (await session.scalars(query)).all()
        return tuple(PostLink(p.id, p.title, p.url, p.published_at or p.fanned_out_at) for p in posts)


# -- settings and leaving -------------------------------------------------------------------------

async def change_settings(app: Services, user_id: int, *, mode: NotificationMode | None = None,
                          digest_hour: int | None = None, language: str | None = None,
                          paused: bool | None = None, telegram_language: str | None = None) -> Reader:
    """Change what is given; the digest hour is in ``settings.timezone`` and required for digest mode."""
    if digest_hour is not None and not 0 <= digest_hour <= 23:
        raise UsageError("the digest hour is 0 to 23")
    if language is not None and language not in LANGUAGES:
        raise UsageError(f"language is one of {', '.join(LANGUAGES)}")
    async with app.sessions.begin() as session:
        row, _ = await _upsert(session, user_id, telegram_language)
        if mode is not None:
            row.notification_mode = mode
        if digest_hour is not None:
            row.digest_hour = digest_hour
        if row.notification_mode == NotificationMode.DIGEST and row.digest_hour is None:
            raise UsageError("a daily digest needs an hour (0 to 23)")
        if language is not None:
            row.language = language
        if paused is not None:
            row.paused = paused
        await session.flush()
        return Reader.of(row)


async def stop(app: Services, user_id: int) -> Erased:
    """Unsubscribe from everything and erase the reader: follows, deliveries, settings, the row."""
    async with app.sessions.begin() as session:
        row = await _subscriber(session, user_id)
        if row is None:
            return Erased(0, 0, subscriber=False)
        follows = await session.scalar(select(func.count()).where(Follow.subscriber_id == row.id)) or 0
        deliveries = await session.scalar(select(func.count()).where(Delivery.subscriber_id == row.id)) or 0
        # The foreign keys cascade too (digest_items go with their deliveries); explicit deletes say what goes.
        await session.execute(delete(Follow).where(Follow.subscriber_id == row.id))
        await session.execute(delete(Delivery).where(Delivery.subscriber_id == row.id))
        await session.execute(delete(Subscriber).where(Subscriber.id == row.id))
        return Erased(follows, deliveries, subscriber=True)
